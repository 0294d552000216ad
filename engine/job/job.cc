#include "engine/job/job.h"

#include "engine/job/job_runner.h"

namespace reshard::engine {
namespace {

// A fresh job's managed targets get a replication password when the spec has
// none (a spec from the API has it already; a restored job keeps what it had).
JobSpec WithReplicationPasswords(JobSpec spec) {
  if (!spec.options.restored) GenerateReplicationPasswords(&spec);
  return spec;
}

}  // namespace

Job::Job(std::string id, JobSpec spec)
    : id_(std::move(id)),
      spec_(WithReplicationPasswords(std::move(spec))),
      runner_(std::make_unique<JobRunner>(id_, spec_)) {}
Job::~Job() = default;
void Job::Start() { runner_->Start(); }
void Job::Cancel() { runner_->Cancel(); }
absl::Status Job::Pause() { return runner_->Pause(); }
absl::Status Job::SetSource(const std::string& address) { return runner_->SetSource(address); }
absl::Status Job::Resume() { return runner_->Resume(); }
absl::Status Job::Cutover(const CutoverOptions& options) { return runner_->StartCutover(options); }
JobStatus Job::Snapshot() const { return runner_->Snapshot(); }
JobStatus Job::WaitForChange(uint64_t seen, absl::Duration timeout) const {
  return runner_->WaitForChange(seen, timeout);
}

}  // namespace reshard::engine
