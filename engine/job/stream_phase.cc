#include "engine/job/stream_phase.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/post.hpp"
#include "asio/redirect_error.hpp"
#include "asio/this_coro.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/job/durable_state.h"
#include "engine/job/failover_phase.h"
#include "engine/job/job_health.h"
#include "engine/job/resync_phase.h"
#include "engine/job/source_phase.h"
#include "engine/job/stream_router.h"
#include "engine/resp/resp_parser.h"

namespace reshard::engine {
namespace {

// Stream bytes routed in one turn before what they produced goes out and the
// copy reader has its turn (it routes one batch per turn): a few milliseconds
// of routing, bounding how long a command waits behind the ones read with it,
// and enough that the stream is read ahead of a run of cross-target writes
// whose copies are slower than the source (so commands on other keys pass).
constexpr size_t kRouteTurnBytes = 64 << 10;

bool IsGetAck(const RespCommand& command) {
  return command.args.size() >= 2 && command.args[0].size() == 8 &&
         absl::EqualsIgnoreCase(AsAbsl(command.args[0]), "replconf") &&
         absl::EqualsIgnoreCase(AsAbsl(command.args[1]), "getack");
}

bool IsReplconf(const RespCommand& command) {
  return command.args[0].size() == 8 && absl::EqualsIgnoreCase(AsAbsl(command.args[0]), "replconf");
}

}  // namespace

uint64_t UpstreamAckOffset(JobContext& job) {
  uint64_t ack = job.source.applied_offset;
  for (size_t i = 0; i < job.targets.size(); ++i) {
    const TargetMaster& target = *job.targets[i];
    if (target.loaded()) {
      job.source_acked[i] =
          std::max(job.source_acked[i], job.offset_maps[i].SourceOffsetFor(target.acked_offset()));
    }
    ack = std::min(ack, job.source_acked[i]);
  }
  // The targets' figures are kept either way: the status shows them.
  if (job.spec.options.ack_mode == JobOptions::AckMode::kReceived) ack = job.source.applied_offset;
  job.upstream_acked = std::max(job.upstream_acked, ack);
  return job.upstream_acked;
}

asio::awaitable<absl::Status> StreamCommands(JobContext& job) {
  if (job.paused) {
    // Restored paused: it stays so until resumed.
    for (auto& target : job.targets) target->SetDeliveryPaused(true);
    job.SetState(JobState::kPaused,
                 "paused: reading the source; the targets' streams wait in their spools");
  } else {
    // STREAMING only once every target streams: DEGRADED while a target
    // loads its snapshot. The state is set without publishing it, so that no
    // status says STREAMING before the targets were looked at (a watch would
    // take it for done); RefreshStreamingState publishes whichever it is.
    job.state = JobState::kDegraded;
    RefreshStreamingState(job);
  }
  RespParser parser(RespParser::Limits{});
  job.router->set_fail_on_cross_target(job.spec.options.fail_on_cross_target_write);
  // Every target's stream starts at the snapshot's source offset.
  job.offset_maps.assign(job.targets.size(), OffsetMap());
  job.source_acked.assign(job.targets.size(), 0);
  job.held.resize(job.targets.size());
  for (size_t i = 0; i < job.targets.size(); ++i) {
    job.offset_maps[i].Reset(job.source.applied_offset, job.targets[i]->offset());
  }
  job.router->SetAppliedOffset(job.source.applied_offset);
  job.source.routed_offset = job.source.applied_offset;
  // Replaced when a failover starts the stream again (failover_phase.h).
  auto routing = std::make_unique<StreamRouter>(job);
  asio::co_spawn(job.io, RunTargetResyncs(job), asio::detached);
  RecordJobState(job);
  while (!job.finished) {
    // The link (and its buffer) is replaced when it reconnects. A link that
    // stays silent past the timeout is taken as dead (the source PINGs its
    // replicas every 10 s by default).
    SocketByteSource& source = job.upstream->source();
    source.set_idle_timeout(absl::Milliseconds(job.spec.options.source_timeout_ms));
    // What arrived from the source arrived now: relative expiries count from here.
    job.router->SetNowMs(absl::ToUnixMillis(absl::Now()));
    std::string_view input = source.Available();
    size_t used = 0;
    bool full = false;
    bool turn_over = false;
    job.routing = true;
    while (!(full = routing->full())) {
      if (used >= kRouteTurnBytes) {
        turn_over = true;
        break;
      }
      RespCommand command;
      size_t consumed = 0;
      ParseResult result = parser.Parse(input.substr(used), &consumed, &command);
      if (result == ParseResult::kNeedMore) break;
      if (result == ParseResult::kError) {
        co_return absl::DataLossError(absl::StrCat("stream from source ", job.SourceAddress(),
                                                   " at offset ", job.source.applied_offset, ": ",
                                                   parser.error()));
      }
      used += consumed;
      const uint64_t start = job.source.applied_offset;
      job.source.applied_offset += consumed;
      if (!command.args.empty() && IsReplconf(command)) {
        // REPLCONF GETACK *: answer with what the job acknowledges (at most
        // the offset before this command).
        if (IsGetAck(command)) job.upstream->SendAck(UpstreamAckOffset(job)).IgnoreError();
        continue;
      }
      // A command that waits for key copies is copied: the buffer moves on.
      CO_RETURN_IF_ERROR(routing->Add(command, start, job.source.applied_offset));
    }
    job.routing = false;
    source.Consume(used);
    // Nothing routed waits for the source: a slow target's bytes wait in its
    // outbox, a command waiting for copies in the router.
    CO_RETURN_IF_ERROR(routing->Flush());
    // Recorded before anything of the batch can reach a target (only where
    // nothing waits for copies: the record's offset is the routed one).
    RecordJobState(job);
    if (full) {
      co_await routing->WaitForProgress();
      continue;
    }
    if (turn_over) {
      // The rest of the read is routed once the targets' writers and the
      // copy reader had their turn.
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      continue;
    }
    // A new source asked for (a failover) ends this link; JobRunner::SetSource
    // interrupts a Fill that waits.
    absl::Status filled;
    if (!job.source.pending.has_value()) {
      filled = co_await source.Fill(source.Available().size() + 1);
      if (filled.ok() && !job.source.pending.has_value()) continue;
    }
    if (filled.ok()) filled = absl::UnavailableError("the job's source was moved");
    if (job.finished) co_return absl::CancelledError("cancelled");
    if (filled.code() != absl::StatusCode::kUnavailable) co_return filled;
    job.reconnecting = true;
    absl::StatusOr<bool> continued = co_await ReconnectSource(job, filled);
    if (continued.ok() && !*continued) {
      // The new source does not share the history: nothing waiting of the
      // old stream may reach a target.
      routing.reset();
      // Its reader may be suspended in a Receive: retired, not freed.
      if (job.materializer != nullptr) {
        job.materializer->Interrupt();
        job.retired_materializers.push_back(std::move(job.materializer));
      }
      absl::Status restarted = co_await RestartStreamOnNewHistory(job);
      if (!restarted.ok()) continued = restarted;
      routing = std::make_unique<StreamRouter>(job);
    }
    job.reconnecting = false;
    CO_RETURN_IF_ERROR(continued.status());
    // The source resends from the first command not applied: a command cut
    // in half by the drop starts again from its first byte.
    parser.Reset(job.source.applied_offset);
    if (job.paused) {
      job.SetState(JobState::kPaused, absl::StrCat("paused; reconnected to the source at offset ",
                                                   job.source.applied_offset));
    } else {
      // STREAMING only if every target streams (as at the start).
      job.state = JobState::kDegraded;
      RefreshStreamingState(job);
    }
  }
  co_return absl::CancelledError("cancelled");
}

}  // namespace reshard::engine
