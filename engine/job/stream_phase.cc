#include "engine/job/stream_phase.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
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
    // REPLCONF GETACK *: answer with the offset before this command.
    if (IsGetAck(command)) job.upstream->SendAck(job.source.applied_offset).IgnoreError();
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

asio::awaitable<void> WaitWhilePaused(JobContext& job) {
  job.wake.expires_at(asio::steady_timer::time_point::max());
  asio::error_code ec;
  co_await job.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

asio::awaitable<absl::Status> StreamCommands(JobContext& job) {
  job.SetState(JobState::kStreaming, absl::StrCat("streaming; ", job.source.command_table_note));
  RespParser parser(RespParser::Limits{});
  std::vector<std::string> out(job.targets.size());
  std::vector<Materialization> materialize;
  job.router->set_fail_on_cross_target(job.spec.options.fail_on_cross_target_write);
  job.router->SetAppliedOffset(job.source.applied_offset);
  while (!job.finished) {
    if (job.paused) {
      co_await WaitWhilePaused(job);
      continue;
    }
    // The link (and its buffer) is replaced when it reconnects.
    SocketByteSource& source = job.upstream->source();
    // What arrived from the source arrived now: relative expiries count from here.
    job.router->SetNowMs(absl::ToUnixMillis(absl::Now()));
    std::string_view input = source.Available();
    size_t used = 0;
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
      if (!command.args.empty()) {
        CO_RETURN_IF_ERROR(co_await RouteCommand(job, command, &out, &materialize));
      }
      job.source.applied_offset += consumed;
      job.router->SetAppliedOffset(job.source.applied_offset);
    }
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i].empty()) continue;
      job.targets[i]->AppendStream(out[i]);
      out[i].clear();
    }
    source.Consume(used);
    for (auto& target : job.targets) {
      if (target->Backlogged()) CO_RETURN_IF_ERROR(co_await target->WaitWritable());
    }
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
