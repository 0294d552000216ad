#include "engine/job/verification.h"

#include <pthread.h>

#include <utility>

#include "absl/time/clock.h"
#include "engine/job/key_verifier.h"

namespace reshard::engine {

std::optional<std::vector<uint64_t>> AppliedSourceOffsets(const JobStatus& status) {
  switch (status.state) {
    case JobState::kStreaming:
    case JobState::kDegraded:
    case JobState::kPaused:
    case JobState::kCutover:
      break;
    default:
      return std::nullopt;
  }
  std::vector<uint64_t> offsets;
  for (const TargetStatus& target : status.targets) offsets.push_back(target.source_acked_offset);
  return offsets;
}

absl::StatusOr<std::unique_ptr<Verification>> Verification::Start(
    JobSpec spec, VerifyOptions options, std::function<void(const VerifyReport&)> on_done) {
  absl::Status valid = CheckVerifyOptions(spec, options);
  if (!valid.ok()) return valid;
  std::unique_ptr<Verification> verification(new Verification());
  Verification* self = verification.get();
  {
    absl::MutexLock lock(&self->mu_);
    self->report_.started = absl::Now();
    self->report_.sample_fraction = options.sample_fraction;
    self->report_.rate_keys_per_second = options.rate_keys_per_second;
    self->report_.source_address = spec.source.address;
  }
  options.cancel = &self->cancel_;
  options.started = self->Snapshot().started;
  options.on_progress = [self](const VerifyReport& report) { self->Publish(report); };
  self->thread_ = std::thread(
      [self, spec = std::move(spec), options = std::move(options), on_done = std::move(on_done)] {
        pthread_setname_np(pthread_self(), "verify");
        absl::StatusOr<VerifyReport> report = VerifyJobData(spec, options);
        VerifyReport final_report;
        if (report.ok()) {
          final_report = std::move(*report);
        } else {
          final_report = self->Snapshot();
          final_report.state = VerifyState::kFailed;
          final_report.error = std::string(report.status().message());
        }
        self->Publish(final_report);
        if (on_done) on_done(final_report);
      });
  return verification;
}

Verification::~Verification() {
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
}

void Verification::Publish(const VerifyReport& report) {
  absl::MutexLock lock(&mu_);
  report_ = report;
}

VerifyReport Verification::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return report_;
}

bool Verification::running() const {
  absl::MutexLock lock(&mu_);
  return report_.state == VerifyState::kRunning;
}

}  // namespace reshard::engine
