#include "engine/job/resync_phase.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/post.hpp"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/status_macros.h"
#include "engine/job/version_policy.h"
#include "engine/rdb/rdb_reader.h"

namespace reshard::engine {
namespace {

// Targets that ask within this of each other share one sync.
constexpr absl::Duration kGatherDelay = absl::Milliseconds(200);
constexpr absl::Duration kMaxBackoff = absl::Seconds(30);

std::vector<size_t> TargetsAwaitingResync(const JobContext& job) {
  std::vector<size_t> out;
  for (size_t i = 0; i < job.targets.size(); ++i) {
    if (job.targets[i]->phase() == TargetMaster::Phase::kResyncing) out.push_back(i);
  }
  return out;
}

std::string Names(const JobContext& job, const std::vector<size_t>& round) {
  std::vector<std::string> names;
  for (size_t i : round) names.push_back(absl::StrCat("'", job.targets[i]->name(), "'"));
  return absl::StrJoin(names, ", ");
}

// Sends target i what was held for it after its snapshot, in chunks, letting
// the stream go on meanwhile (it keeps adding to the held stream until the
// held stream is empty; then the target gets the stream directly). The hold
// lasts until the job has routed the source past the snapshot's offset: what
// comes before it (the snapshot has it) is still dropped.
asio::awaitable<void> SendHeldStream(JobContext& job, size_t i) {
  TargetMaster& target = *job.targets[i];
  HeldStream* held = job.held[i].get();
  const uint64_t snapshot_offset = held->snapshot_offset().value_or(0);
  Spool& bytes = held->bytes();
  while (target.phase() == TargetMaster::Phase::kStreaming &&
         (!bytes.empty() || job.source.routed_offset < snapshot_offset)) {
    if (bytes.empty()) {
      if (!co_await job.Sleep(absl::Milliseconds(10))) co_return;
      if (job.held[i].get() != held) co_return;
      continue;
    }
    absl::StatusOr<std::string_view> front = bytes.Front(1 << 20);
    if (!front.ok()) {
      target.Abandon(
          absl::StrCat("cannot read the stream held for it: ", front.status().message()));
      break;
    }
    size_t n = front->size();
    target.AppendStream(*front);
    bytes.Pop(n);
    co_await asio::post(job.io, asio::use_awaitable);
    // A new round may have replaced it (the target asked again meanwhile).
    if (job.finished || job.held[i].get() != held) co_return;
  }
  if (target.phase() == TargetMaster::Phase::kStreaming && held->last_source_end()) {
    job.offset_maps[i].Record(*held->last_source_end(), target.offset());
  }
  job.held[i].reset();
}

// One second sync for the targets in `round`.
asio::awaitable<absl::Status> ResyncRound(JobContext& job, const std::vector<size_t>& round) {
  UpstreamLink link(job.io.get_executor(), job.addresses.source, job.addresses.listen[0].port);
  CO_RETURN_IF_ERROR(co_await link.Connect(kConnectTimeout));
  if (std::optional<std::string> version = VersionToAnnounce(job.target_versions)) {
    CO_RETURN_IF_ERROR(co_await link.AnnounceVersion(*version));
  }
  // Everything routed before this point is in the snapshot the source is
  // about to take; hold what comes after.
  const uint64_t hold_start = job.source.applied_offset;
  for (size_t i : round) job.held[i] = std::make_unique<HeldStream>(job.SpoolOptions(i, "held"));
  // Copies these targets got before are not in their new streams: a key
  // inside a window is copied again, not counted on (skip_windows.h).
  job.router->StopWindowCover();
  CO_ASSIGN_OR_RETURN(FullResync resync, co_await link.RequestFullSync());
  if (resync.replid != job.source.replid) {
    co_return absl::FailedPreconditionError(absl::StrCat(
        "the source answered with replication id ", resync.replid, ", the job streams ",
        job.source.replid, " (did the source restart or fail over?)"));
  }
  if (resync.offset < hold_start) {
    // It shares a snapshot another replica asked for earlier: that one lacks
    // what this job routed since. A later round gets a fresh one.
    co_return absl::UnavailableError(
        absl::StrCat("the source offered a snapshot at offset ", resync.offset,
                     ", older than the stream already routed (", hold_start, ")"));
  }
  for (size_t i : round) job.held[i]->SetSnapshotOffset(resync.offset);
  CO_ASSIGN_OR_RETURN(RdbFraming framing, co_await link.ReadRdbFraming(kSnapshotStartTimeout));
  std::vector<RdbSplitOutput> outputs;
  for (size_t i : round) {
    job.targets[i]->BeginSnapshot();
    outputs.push_back(RdbSplitOutput{job.filters[i].get(), job.targets[i].get()});
  }
  RdbSplitter splitter(std::move(outputs));
  SocketByteSource& source = link.source();
  const uint64_t rdb_start = source.consumed();
  RdbReader reader(&source, &splitter);
  CO_RETURN_IF_ERROR(WithContext(co_await reader.Run(), "resync snapshot from source: "));
  CO_RETURN_IF_ERROR(co_await link.FinishRdbFraming(framing, source.consumed() - rdb_start));
  link.Close();
  for (size_t i : round) {
    TargetMaster& target = *job.targets[i];
    if (target.phase() != TargetMaster::Phase::kSnapshot) {
      job.held[i].reset();  // it went away meanwhile; it asks again
      continue;
    }
    target.EndSnapshot();
    job.offset_maps[i].Reset(resync.offset, target.offset());
    asio::co_spawn(job.io, SendHeldStream(job, i), asio::detached);
  }
  co_return absl::OkStatus();
}

}  // namespace

asio::awaitable<void> RunTargetResyncs(JobContext& job) {
  absl::Duration backoff = absl::Seconds(1);
  while (!job.finished) {
    if (TargetsAwaitingResync(job).empty()) {
      job.resync_wake.expires_at(asio::steady_timer::time_point::max());
      asio::error_code ec;
      co_await job.resync_wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (!co_await job.Sleep(kGatherDelay)) co_return;
    std::vector<size_t> round = TargetsAwaitingResync(job);
    if (round.empty()) continue;
    absl::Status status = co_await ResyncRound(job, round);
    if (job.finished) co_return;
    if (status.ok()) {
      backoff = absl::Seconds(1);
      continue;
    }
    std::string why = absl::StrCat("resync failed (", status.message(), "); retrying in ",
                                   absl::FormatDuration(backoff));
    for (size_t i : round) {
      job.held[i].reset();
      // A target that got part of a snapshot must start over; one still
      // waiting keeps waiting, with the reason shown.
      job.targets[i]->ResyncFailed(why);
    }
    if (!co_await job.Sleep(backoff)) co_return;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

}  // namespace reshard::engine
