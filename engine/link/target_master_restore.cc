// TargetMaster: the stream on disk (DurableStream) and its restore after a
// restart of reshardd. See target_master.h.

#include "absl/strings/str_cat.h"
#include "engine/link/target_master.h"

namespace reshard::engine {

uint64_t TargetMaster::SendLimit() const {
  uint64_t end = backlog_.end_offset();
  uint64_t recorded = durable_.recorded_end();
  if (recorded >= end) return gate_;
  // Unrecorded stream bytes are the outbox's newest.
  uint64_t unrecorded = end - recorded;
  return std::min(gate_, outbox_.pushed() > unrecorded ? outbox_.pushed() - unrecorded : 0);
}

absl::Status TargetMaster::RestoreStream(std::string replid, uint64_t offset) {
  backlog_.Reset(offset);
  if (absl::Status restored = durable_.Restore(offset); !restored.ok()) {
    RestoreNeedingResync(offset, absl::StrCat("its stream log cannot be read after a restart (",
                                              restored.message(), ")"));
    return restored;
  }
  replid_ = std::move(replid);
  phase_ = Phase::kStreaming;
  snapshot_end_ = outbox_.pushed();
  gate_ = UINT64_MAX;
  waiting_for_first_ack_ = false;
  acked_offset_ = 0;  // nothing acknowledged by a replica of this process yet
  reason_ = absl::StrCat("waiting for it to reconnect after reshardd restarted (its log holds ",
                         durable_.log()->start_offset(), "-", offset, ")");
  return absl::OkStatus();
}

void TargetMaster::RestoreNeedingResync(uint64_t offset, std::string reason) {
  backlog_.Reset(offset);
  durable_.Start(offset).IgnoreError();  // durable().error() says why
  EnterNeedsResync(std::move(reason), /*cut_off=*/false);
}

void TargetMaster::SetRecordedOffset(uint64_t offset) {
  if (offset == durable_.recorded_end()) return;
  durable_.set_recorded_end(offset);
  Pump();
}

bool TargetMaster::continuable() const {
  return phase_ == Phase::kStreaming && durable_.logging() && outbox_.popped() >= snapshot_end_;
}

}  // namespace reshard::engine
