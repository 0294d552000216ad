#include "engine/job/snapshot_phase.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/job/target_phase.h"
#include "engine/job/version_policy.h"
#include "engine/rdb/rdb_reader.h"

namespace reshard::engine {
namespace {

// The source forks and writes (or streams) its snapshot before the payload
// starts; it sends "\n" keepalives meanwhile.
constexpr absl::Duration kSnapshotStartTimeout = absl::Hours(1);

// The RDB version from the snapshot's first 9 bytes, 0 when they name none.
int RdbVersionOfMagic(std::string_view magic) {
  int rdb_version = 0;
  if (magic.substr(0, 5) == "REDIS") {
    absl::SimpleAtoi(AsAbsl(magic.substr(5, 4)), &rdb_version);
  } else if (magic.substr(0, 6) == "VALKEY") {
    absl::SimpleAtoi(AsAbsl(magic.substr(6, 3)), &rdb_version);
  }
  return rdb_version;
}

void MakeRouter(JobContext& job) {
  std::vector<const KeyFilter*> filters;
  std::vector<std::string> names;
  for (size_t i = 0; i < job.filters.size(); ++i) {
    filters.push_back(job.filters[i].get());
    names.push_back(job.spec.targets[i].name);
  }
  job.router = std::make_unique<CommandRouter>(filters, job.source.command_table, names);
  // Targets known to take SET ... PXAT get it when relative expiries are made
  // absolute; the others get SET + PEXPIREAT.
  for (size_t i = 0; i < job.target_versions.size(); ++i) {
    if (!job.target_versions[i].has_value()) continue;
    job.router->SetTargetSupportsPxat(i, AcceptsSetPxat(*job.target_versions[i]));
  }
  int stream_db = job.splitter->source_stream_db();
  job.router->SetSourceDb(stream_db >= 0 ? stream_db : 0);
}

}  // namespace

asio::awaitable<absl::Status> SyncSnapshot(JobContext& job) {
  job.SetState(JobState::kConnecting,
               absl::StrCat("asking source ", job.spec.source.address, " for a full sync"));
  CO_ASSIGN_OR_RETURN(FullResync resync, co_await job.upstream->RequestFullSync());
  job.source.applied_offset = resync.offset;
  job.source.replid = resync.replid;
  job.SetState(JobState::kConnecting, "waiting for the source's snapshot");
  CO_ASSIGN_OR_RETURN(RdbFraming framing,
                      co_await job.upstream->ReadRdbFraming(kSnapshotStartTimeout));
  SocketByteSource& source = job.upstream->source();
  job.snapshot.rdb_total = framing.eof_marked ? 0 : framing.length;
  job.snapshot.rdb_start = source.consumed();
  // The magic says the version: check it before a byte goes to a target.
  CO_RETURN_IF_ERROR(co_await source.Fill(9));
  if (int rdb_version = RdbVersionOfMagic(source.Available().substr(0, 9)); rdb_version > 0) {
    CO_RETURN_IF_ERROR(CheckTargetsCanLoad(job, rdb_version));
    for (auto& target : job.targets) target->set_snapshot_rdb_version(rdb_version);
  }
  job.SetState(JobState::kSyncing, "splitting the snapshot");

  std::vector<RdbSplitTarget> outputs;
  for (size_t i = 0; i < job.targets.size(); ++i) {
    job.targets[i]->BeginSnapshot();
    outputs.push_back(RdbSplitTarget{job.filters[i].get(), job.targets[i].get()});
  }
  job.splitter = std::make_unique<RdbSplitter>(std::move(outputs));
  RdbReader reader(&source, job.splitter.get());
  CO_RETURN_IF_ERROR(WithContext(co_await reader.Run(), "snapshot from source: "));
  uint64_t rdb_bytes = source.consumed() - job.snapshot.rdb_start;
  CO_RETURN_IF_ERROR(co_await job.upstream->FinishRdbFraming(framing, rdb_bytes));
  job.snapshot.rdb_bytes = rdb_bytes;
  for (auto& target : job.targets) target->EndSnapshot();
  MakeRouter(job);
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
