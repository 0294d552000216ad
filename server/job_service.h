#pragma once

// JobServiceImpl: the reshard.v1.JobService gRPC handlers. They validate,
// call the JobManager and convert; none waits on a job's I/O. Every Job
// returned has its passwords cleared. With a token, every handler first
// checks the call's bearer token (UNAUTHENTICATED, nothing done, otherwise):
// a new handler starts with the same line as the others, and
// job_service_test calls every method of the service without a token.

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "reshard/v1/job_service.grpc.pb.h"
#include "server/api_token.h"
#include "server/job_manager.h"

namespace reshard::server {

// The gRPC status for an absl::Status (same code, same message).
grpc::Status ToGrpcStatus(const absl::Status& status);

class JobServiceImpl final : public v1::JobService::Service {
 public:
  // `manager` (and `token`, when given) must outlive the service. `token`
  // null: no token is required.
  explicit JobServiceImpl(JobManager* manager, const ApiToken* token = nullptr)
      : manager_(manager), token_(token) {}

  grpc::Status CreateJob(grpc::ServerContext* context, const v1::CreateJobRequest* request,
                         v1::Job* response) override;
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::Job* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override;
  grpc::Status WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::Job>* writer) override;
  grpc::Status PauseJob(grpc::ServerContext* context, const v1::PauseJobRequest* request,
                        v1::Job* response) override;
  grpc::Status ResumeJob(grpc::ServerContext* context, const v1::ResumeJobRequest* request,
                         v1::Job* response) override;
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                         v1::Job* response) override;
  grpc::Status DeleteJob(grpc::ServerContext* context, const v1::DeleteJobRequest* request,
                         google::protobuf::Empty* response) override;
  // Both start the work and answer at once with the job (its
  // last_verification / last_cutover shows the run).
  grpc::Status VerifyJob(grpc::ServerContext* context, const v1::VerifyJobRequest* request,
                         v1::Job* response) override;
  grpc::Status CutoverJob(grpc::ServerContext* context, const v1::CutoverJobRequest* request,
                          v1::Job* response) override;
  grpc::Status UpdateJobSource(grpc::ServerContext* context,
                               const v1::UpdateJobSourceRequest* request,
                               v1::Job* response) override;

 private:
  // OK without a token, else ApiToken::Check.
  grpc::Status Authenticate(const grpc::ServerContext& context) const;

  JobManager* const manager_;
  const ApiToken* const token_;
};

}  // namespace reshard::server
