#include "engine/job/stream_phase.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/job/durable_state.h"
#include "engine/job/job_health.h"
#include "engine/job/resync_phase.h"
#include "engine/job/source_phase.h"
#include "engine/resp/resp_parser.h"

namespace reshard::engine {
namespace {

bool IsGetAck(const RespCommand& command) {
  return command.args.size() >= 2 && command.args[0].size() == 8 &&
         absl::EqualsIgnoreCase(AsAbsl(command.args[0]), "replconf") &&
         absl::EqualsIgnoreCase(AsAbsl(command.args[1]), "getack");
}

bool IsReplconf(const RespCommand& command) {
  return command.args[0].size() == 8 && absl::EqualsIgnoreCase(AsAbsl(command.args[0]), "replconf");
}

// Copies the requested keys from the source and hands them to the router,
// which appends the RESTOREs and DELs to `out`.
asio::awaitable<absl::Status> MaterializeKeys(JobContext& job,
                                              const std::vector<Materialization>& requests,
                                              std::vector<std::string>* out) {
  if (job.materializer == nullptr) {
    job.materializer =
        std::make_unique<KeyMaterializer>(job.io.get_executor(), job.addresses.source);
  }
  CO_ASSIGN_OR_RETURN(MaterializedBatch batch, co_await job.materializer->Fetch(requests));
  for (const auto& [db, key] : batch.keys) {
    job.router->EmitMaterialized(db, key, batch.absolute_ttl, batch.source_offset, out);
  }
  co_return absl::OkStatus();
}

// Routes one command into `out`. `command` points into the upstream buffer:
// nothing reads the link while its keys are materialised.
asio::awaitable<absl::Status> RouteCommand(JobContext& job, const RespCommand& command,
                                           std::vector<std::string>* out,
                                           std::vector<Materialization>* materialize) {
  if (IsReplconf(command)) {
    // REPLCONF GETACK *: answer with what the job acknowledges (at most the
    // offset before this command).
    if (IsGetAck(command)) job.upstream->SendAck(UpstreamAckOffset(job)).IgnoreError();
    co_return absl::OkStatus();
  }
  materialize->clear();
  absl::Status routed = job.router->Route(command, out, materialize);
  if (routed.ok() && !materialize->empty()) {
    routed = co_await MaterializeKeys(job, *materialize, out);
    if (job.finished) co_return absl::CancelledError("cancelled");
  }
  co_return WithContext(routed, absl::StrCat("source offset ", job.source.applied_offset, ": "));
}

// Routes one command, keeping the shares of targets that wait for a resync
// snapshot in their held streams (with the command's end offset).
asio::awaitable<absl::Status> RouteAndHold(JobContext& job, const RespCommand& command,
                                           uint64_t consumed, std::vector<std::string>* out,
                                           std::vector<Materialization>* materialize,
                                           std::vector<HeldStream*>* held_before) {
  const uint64_t start = job.source.applied_offset;
  bool holding = false;
  for (size_t i = 0; i < job.held.size(); ++i) {
    HeldStream* held = job.held[i].get();
    (*held_before)[i] = held;
    if (held == nullptr) continue;
    holding = true;
    if (held->NeedsSelect(start)) job.router->SetTargetDb(i, kUnknownDb);
  }
  if (!command.args.empty()) {
    CO_RETURN_IF_ERROR(co_await RouteCommand(job, command, out, materialize));
  }
  job.source.applied_offset += consumed;
  job.router->SetAppliedOffset(job.source.applied_offset);
  if (!holding) co_return absl::OkStatus();
  for (size_t i = 0; i < job.held.size(); ++i) {
    HeldStream* held = job.held[i].get();
    if (held == nullptr) continue;  // released meanwhile: out[i] follows its held bytes
    // Held from this command on: what it routed before is in the snapshot.
    if (held != (*held_before)[i]) {
      (*out)[i].clear();
      continue;
    }
    if (absl::Status added = held->Add(job.source.applied_offset, (*out)[i]); !added.ok()) {
      job.held[i].reset();
      job.targets[i]->Abandon(absl::StrCat("cannot hold its stream: ", added.message()));
    }
    (*out)[i].clear();
  }
  co_return absl::OkStatus();
}

// After a batch: each streaming target's share is appended, and its offset
// recorded against the source's.
void AppendBatch(JobContext& job, std::vector<std::string>* out) {
  for (size_t i = 0; i < out->size(); ++i) {
    TargetMaster& target = *job.targets[i];
    if (!(*out)[i].empty()) {
      target.AppendStream((*out)[i]);
      (*out)[i].clear();
    }
    if (job.held[i] == nullptr && target.phase() == TargetMaster::Phase::kStreaming) {
      job.offset_maps[i].Record(job.source.applied_offset, target.offset());
    }
  }
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
    job.SetState(JobState::kStreaming, absl::StrCat("streaming; ", job.source.command_table_note));
  }
  RefreshStreamingState(job);  // DEGRADED while a target loads its snapshot
  RespParser parser(RespParser::Limits{});
  std::vector<std::string> out(job.targets.size());
  std::vector<Materialization> materialize;
  job.router->set_fail_on_cross_target(job.spec.options.fail_on_cross_target_write);
  // Every target's stream starts at the snapshot's source offset.
  job.offset_maps.assign(job.targets.size(), OffsetMap());
  job.source_acked.assign(job.targets.size(), 0);
  job.held.resize(job.targets.size());
  for (size_t i = 0; i < job.targets.size(); ++i) {
    job.offset_maps[i].Reset(job.source.applied_offset, job.targets[i]->offset());
  }
  asio::co_spawn(job.io, RunTargetResyncs(job), asio::detached);
  job.router->SetAppliedOffset(job.source.applied_offset);
  RecordJobState(job);
  std::vector<HeldStream*> held_before(job.targets.size());
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
    job.routing = true;
    while (true) {
      RespCommand command;
      size_t consumed = 0;
      ParseResult result = parser.Parse(input.substr(used), &consumed, &command);
      if (result == ParseResult::kNeedMore) break;
      if (result == ParseResult::kError) {
        co_return absl::DataLossError(absl::StrCat("stream from source ", job.spec.source.address,
                                                   " at offset ", job.source.applied_offset, ": ",
                                                   parser.error()));
      }
      used += consumed;
      CO_RETURN_IF_ERROR(
          co_await RouteAndHold(job, command, consumed, &out, &materialize, &held_before));
    }
    AppendBatch(job, &out);
    job.routing = false;
    // Recorded before anything of the batch can reach a target.
    RecordJobState(job);
    source.Consume(used);
    // Nothing waits for a target: a slow one's bytes wait in its outbox.
    absl::Status filled = co_await source.Fill(source.Available().size() + 1);
    if (filled.ok()) continue;
    if (job.finished) co_return absl::CancelledError("cancelled");
    if (filled.code() != absl::StatusCode::kUnavailable) co_return filled;
    job.reconnecting = true;
    absl::Status reconnected = co_await ReconnectSource(job, filled);
    job.reconnecting = false;
    CO_RETURN_IF_ERROR(reconnected);
    // The source resends from the first command not applied: a command cut
    // in half by the drop starts again from its first byte.
    parser.Reset(job.source.applied_offset);
    job.SetState(
        job.paused ? JobState::kPaused : JobState::kStreaming,
        absl::StrCat("streaming; reconnected to the source at offset ", job.source.applied_offset));
  }
  co_return absl::CancelledError("cancelled");
}

}  // namespace reshard::engine
