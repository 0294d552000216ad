#include "engine/job/job_ticker.h"

#include <string>

#include "engine/base/memory_trim.h"
#include "engine/job/durable_state.h"
#include "engine/job/job_health.h"
#include "engine/job/stream_phase.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kTick = absl::Milliseconds(100);

}  // namespace

asio::awaitable<void> RunJobTicker(JobContext& job, std::function<void()> publish) {
  std::string ping;
  AppendCommand(&ping, {"PING"});
  absl::Time last_ack = absl::Now(), last_keepalive = absl::Now(), last_ping = absl::Now();
  absl::Time last_sync = absl::Now();
  const absl::Duration ack_interval = absl::Milliseconds(job.spec.options.ack_interval_ms);
  const absl::Duration ping_interval = absl::Milliseconds(job.spec.options.target_ping_interval_ms);
  while (co_await job.Sleep(kTick)) {
    absl::Time now = absl::Now();
    bool streaming = job.state == JobState::kStreaming || job.state == JobState::kDegraded ||
                     job.state == JobState::kPaused || job.state == JobState::kCutover;
    if (streaming && !job.reconnecting && now - last_ack >= ack_interval) {
      last_ack = now;
      // A failed write shows up as a read error in the stream phase.
      job.upstream->SendAck(UpstreamAckOffset(job)).IgnoreError();
    }
    if (now - last_keepalive >= absl::Seconds(1)) {
      last_keepalive = now;
      for (auto& target : job.targets) target->SendKeepalive();
    }
    if (streaming && now - last_ping >= ping_interval) {
      last_ping = now;
      for (size_t i = 0; i < job.targets.size(); ++i) {
        // Not between the parts of a stream held for a resync.
        if (i < job.held.size() && job.held[i] != nullptr) continue;
        if (job.targets[i]->phase() == TargetMaster::Phase::kStreaming) {
          job.targets[i]->AppendStream(ping);
        }
      }
    }
    // Also when nothing arrives: a target's stream may have become
    // continuable or not (a resync), or the job paused.
    if (streaming) RecordJobState(job);
    if (now - last_sync >= absl::Seconds(1)) {
      last_sync = now;
      SyncDurableState(job);  // appendfsync everysec
    }
    RefreshStreamingState(job);
    TrimFreeMemory(absl::Seconds(10));
    // The acknowledged offsets are current in every status, not only when sent.
    if (streaming && !job.offset_maps.empty()) UpstreamAckOffset(job);
    publish();
  }
}

}  // namespace reshard::engine
