#include "server/job_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/job/job_status.h"
#include "proto/reshard/v1/cutover_convert.h"
#include "proto/reshard/v1/job_spec_convert.h"
#include "proto/reshard/v1/job_status_convert.h"
#include "proto/reshard/v1/verify_convert.h"

namespace reshard::server {
namespace {

// How long one WatchJob wait lasts before it re-checks for a cancelled client
// or a server shutdown.
constexpr absl::Duration kWatchPoll = absl::Milliseconds(200);

v1::Job ViewToProto(const JobView& view) {
  return api::JobToProto(view.id, view.spec, view.status,
                         view.last_verification ? &*view.last_verification : nullptr);
}

grpc::Status Respond(const absl::StatusOr<JobView>& view, v1::Job* response) {
  if (!view.ok()) return ToGrpcStatus(view.status());
  *response = ViewToProto(*view);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status JobServiceImpl::Authenticate(const grpc::ServerContext& context) const {
  return token_ == nullptr ? grpc::Status::OK : token_->Check(context);
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::Status JobServiceImpl::CreateJob(grpc::ServerContext* context,
                                       const v1::CreateJobRequest* request, v1::Job* response) {
  if (grpc::Status denied = Authenticate(*context); !denied.ok()) return denied;
  if (!request->has_spec()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "spec: required");
  }
  absl::StatusOr<engine::JobSpec> spec = api::ValidSpecFromProto(request->spec());
  if (!spec.ok()) return ToGrpcStatus(spec.status());
  return Respond(manager_->Create(request->job_id(), *std::move(spec)), response);
}

grpc::Status JobServiceImpl::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                                    v1::Job* response) {
  if (grpc::Status denied = Authenticate(*context); !denied.ok()) return denied;
  return Respond(manager_->Get(request->id()), response);
}

grpc::Status JobServiceImpl::ListJobs(grpc::ServerContext* context,
                                      const v1::ListJobsRequest* request,
                                      v1::ListJobsResponse* response) {
  if (grpc::Status denied = Authenticate(*context); !denied.ok()) return denied;
  for (const JobView& view : manager_->List()) *response->add_jobs() = ViewToProto(view);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::WatchJob(grpc::ServerContext* context,
                                      const v1::WatchJobRequest* request,
                                      grpc::ServerWriter<v1::Job>* writer) {
  if (grpc::Status denied = Authenticate(*context); !denied.ok()) return denied;
  absl::StatusOr<JobView> view = manager_->Get(request->id());
  if (!view.ok()) return ToGrpcStatus(view.status());
  uint64_t sent_version = 0;
  bool sent_any = false;
  while (true) {
    if (!sent_any || view->status.version != sent_version) {
      if (!writer->Write(ViewToProto(*view))) return grpc::Status::OK;  // client went away
      sent_any = true;
      sent_version = view->status.version;
    }
    if (engine::IsTerminal(view->status.state)) return grpc::Status::OK;
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    if (manager_->shutting_down()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "reshardd is shutting down");
    }
    view = manager_->WaitForChange(request->id(), sent_version, kWatchPoll);
    if (view.status().code() == absl::StatusCode::kNotFound) {
      // The job was there when the watch began: it has been deleted since,
      // whether between two waits or during one.
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("job ", request->id(), " was deleted"));
    }
    if (!view.ok()) return ToGrpcStatus(view.status());
  }
}

grpc::Status JobServiceImpl::PauseJob(grpc::ServerContext* context,
                                      const v1::PauseJobRequest* request, v1::Job* response) {
  if (grpc::Status denied = Authenticate(*context); !denied.ok()) return denied;
  return Respond(manager_->Pause(request->id()), response);
}

grpc::Status JobServiceImpl::ResumeJob(grpc::ServerContext* context,
                                       const v1::ResumeJobRequest* request, v1::Job* response) {
  if (grpc::Status denied = Authenticate(*context); !denied.ok()) return denied;
  return Respond(manager_->Resume(request->id()), response);
}

grpc::Status JobServiceImpl::CancelJob(grpc::ServerContext* context,
                                       const v1::CancelJobRequest* request, v1::Job* response) {
  if (grpc::Status denied = Authenticate(*context); !denied.ok()) return denied;
  return Respond(manager_->Cancel(request->id()), response);
}

grpc::Status JobServiceImpl::DeleteJob(grpc::ServerContext* context,
                                       const v1::DeleteJobRequest* request,
                                       google::protobuf::Empty* response) {
  if (grpc::Status denied = Authenticate(*context); !denied.ok()) return denied;
  return ToGrpcStatus(manager_->Delete(request->id()));
}

grpc::Status JobServiceImpl::VerifyJob(grpc::ServerContext* context,
                                       const v1::VerifyJobRequest* request, v1::Job* response) {
  if (grpc::Status denied = Authenticate(*context); !denied.ok()) return denied;
  absl::StatusOr<JobView> view = manager_->Get(request->id());
  if (!view.ok()) return ToGrpcStatus(view.status());
  absl::StatusOr<engine::VerifyOptions> options = api::VerifyOptionsFromProto(*request, view->spec);
  if (!options.ok()) return ToGrpcStatus(options.status());
  return Respond(manager_->Verify(request->id(), *std::move(options)), response);
}

grpc::Status JobServiceImpl::CutoverJob(grpc::ServerContext* context,
                                        const v1::CutoverJobRequest* request, v1::Job* response) {
  if (grpc::Status denied = Authenticate(*context); !denied.ok()) return denied;
  absl::StatusOr<engine::CutoverOptions> options = api::CutoverOptionsFromProto(*request);
  if (!options.ok()) return ToGrpcStatus(options.status());
  return Respond(manager_->Cutover(request->id(), *options), response);
}

grpc::Status JobServiceImpl::UpdateJobSource(grpc::ServerContext* context,
                                             const v1::UpdateJobSourceRequest* request,
                                             v1::Job* response) {
  if (grpc::Status denied = Authenticate(*context); !denied.ok()) return denied;
  return Respond(manager_->SetSource(request->id(), request->address()), response);
}

}  // namespace reshard::server
