#include "engine/job/cutover_phase.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/job/job_health.h"
#include "engine/job/stream_phase.h"
#include "engine/job/verify_sampling.h"
#include "engine/link/redis_connection.h"
#include "engine/link/replication_info.h"
#include "engine/link/source_monitor.h"
#include "engine/link/source_pause.h"
#include "engine/rdb/rdb_version.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {
namespace {

using Clock = std::chrono::steady_clock;

constexpr absl::Duration kLagPoll = absl::Milliseconds(20);
constexpr absl::Duration kDrainPoll = absl::Milliseconds(1);
// How often a target that has not yet acknowledged the final offset is asked
// again (REPLCONF GETACK; a target answers each at once).
constexpr auto kGetAckPeriod = std::chrono::milliseconds(5);
// Time kept inside the bound for the promotion and the UNPAUSE.
constexpr absl::Duration kMaxReserve = absl::Milliseconds(100);
// The pause's own timeout is measured from a moment a little before ours
// (the reply's way back): leave this much.
constexpr auto kPauseEdge = std::chrono::milliseconds(2);

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string Names(const std::vector<std::string>& names) {
  return absl::StrJoin(names, ", ", [](std::string* out, const std::string& name) {
    absl::StrAppend(out, "'", name, "'");
  });
}

// A managed target's side connection.
struct Managed {
  size_t index = 0;
  std::unique_ptr<RedisConnection> connection;
};

class Cutover {
 public:
  explicit Cutover(JobContext& job) : job_(job), options_(job.cutover->options) {}

  asio::awaitable<absl::Status> Run() {
    CO_RETURN_IF_ERROR(co_await OpenConnections());
    CO_RETURN_IF_ERROR(co_await WaitForLowLag());
    CO_RETURN_IF_ERROR(co_await PauseSource());
    CO_RETURN_IF_ERROR(co_await Drain());
    CO_RETURN_IF_ERROR(co_await Promote());
    co_await Unpause();
    co_await CountKeys();
    co_return absl::OkStatus();
  }

 private:
  CutoverReport& report() { return *job_.cutover; }

  // Publishes what the cutover does now (only when it changes).
  void Progress(std::string detail) {
    if (job_.state == JobState::kCutover && job_.detail == detail) return;
    job_.SetState(JobState::kCutover, std::move(detail));
  }
  void StepDone(std::string line) {
    report().steps.push_back(line);
    Progress(absl::StrCat("cutover: ", line));
  }

  // An error of a step before the pause: nothing to undo.
  static absl::Status StepError(int step, absl::string_view what, absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat("cutover step ", step, " (", what, "): ", why));
  }

  // The server whose writes the pause must stop: the source, or the master
  // its INFO replication names when the job reads from a replica.
  asio::awaitable<absl::StatusOr<RedisEndpoint>> WriterOfSource() {
    CO_ASSIGN_OR_RETURN(
        std::unique_ptr<RedisConnection> connection,
        co_await RedisConnection::Connect(job_.io.get_executor(), job_.addresses.source, "source",
                                          kConnectTimeout));
    CO_RETURN_IF_ERROR(co_await connection->Authenticate(job_.addresses.source.credentials));
    std::vector<std::string> info = {"INFO", "replication"};
    CO_ASSIGN_OR_RETURN(RespValue reply, co_await connection->Command(std::move(info)));
    connection->Close();
    if (reply.IsError()) co_return job_.addresses.source;
    CO_ASSIGN_OR_RETURN(ReplicationInfo replication, ParseReplicationInfo(reply.str));
    if (replication.role != "slave" || replication.master_host.empty()) {
      co_return job_.addresses.source;
    }
    // The master is reached like the source (its credentials and TLS).
    co_return RedisEndpoint{HostPort{replication.master_host, replication.master_port},
                            job_.addresses.source.credentials, job_.addresses.source.tls};
  }

  // Side connections first: nothing may have to connect while writes wait.
  asio::awaitable<absl::Status> OpenConnections() {
    Progress("cutover step 1: connecting to the source and the managed targets");
    absl::StatusOr<RedisEndpoint> writer = co_await WriterOfSource();
    if (!writer.ok()) co_return StepError(1, "connect to the source", writer.status().message());
    if (writer->address.ToString() != job_.SourceAddress()) {
      Progress(absl::StrCat("cutover step 1: the source ", job_.SourceAddress(),
                            " is a replica: the writes are paused on its master ",
                            writer->address.ToString()));
    }
    report().paused_address = writer->address.ToString();
    absl::StatusOr<std::unique_ptr<SourcePause>> pause =
        co_await SourcePause::Open(job_.io.get_executor(), *writer, kConnectTimeout);
    if (!pause.ok()) co_return StepError(1, "connect to the source", pause.status().message());
    job_.source_pause = std::move(*pause);
    report().pause_mode = std::string(job_.source_pause->mode());
    report().source_version = job_.source_pause->version().ToString();
    for (size_t i = 0; i < job_.spec.targets.size(); ++i) {
      const std::optional<RedisEndpoint>& replica = job_.addresses.replica[i];
      if (!replica.has_value()) continue;
      const std::string& name = job_.spec.targets[i].name;
      absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
          co_await RedisConnection::Connect(job_.io.get_executor(), *replica,
                                            absl::StrCat("target '", name, "'"), kConnectTimeout);
      absl::Status status = connection.status();
      if (status.ok()) status = co_await (*connection)->Authenticate(replica->credentials);
      if (!status.ok()) co_return StepError(1, "connect to the managed targets", status.message());
      managed_.push_back({i, std::move(*connection)});
    }
    co_return absl::OkStatus();
  }

  // Why the job is not ready for the pause yet; empty when it is.
  std::string NotReady() {
    if (job_.paused) return "the job is paused";
    if (job_.reconnecting) return "the job is reconnecting to the source";
    for (size_t i = 0; i < job_.targets.size(); ++i) {
      TargetLinkStatus link = job_.targets[i]->Status();
      TargetState state = TargetStateOf(link);
      if (state != TargetState::kStreaming || job_.held[i] != nullptr) {
        return absl::StrCat("target '", job_.targets[i]->name(), "' is ",
                            AsAbsl(TargetStateName(state)),
                            link.reason.empty() ? "" : absl::StrCat(": ", link.reason));
      }
    }
    // (A source nothing was written to since its replica attached is at 0.)
    if (job_.monitor == nullptr || job_.monitor->polls() == 0) {
      return "the source's offset is not known yet";
    }
    uint64_t master = job_.monitor->master_offset();
    UpstreamAckOffset(job_);  // the targets' applied source offsets, current
    for (size_t i = 0; i < job_.targets.size(); ++i) {
      uint64_t acked = job_.source_acked[i];
      uint64_t lag = master > acked ? master - acked : 0;
      if (lag >= options_.lag_threshold_bytes) {
        return absl::StrCat("target '", job_.targets[i]->name(), "' is ", lag,
                            " bytes behind the source (threshold ", options_.lag_threshold_bytes,
                            ")");
      }
    }
    lag_master_offset_ = master;
    return "";
  }

  // Step 1.
  asio::awaitable<absl::Status> WaitForLowLag() {
    const absl::Time deadline = absl::Now() + options_.lag_wait_timeout;
    Clock::time_point last_getack;
    for (std::string why = NotReady(); !why.empty(); why = NotReady()) {
      if (absl::Now() >= deadline) {
        co_return StepError(
            1, "wait for every target to be under the lag threshold",
            absl::StrCat("after ", absl::FormatDuration(options_.lag_wait_timeout), ", ", why));
      }
      Progress(absl::StrCat("cutover step 1: waiting: ", why));
      // Fresh ACKs make the lag figures current.
      if (Clock::now() - last_getack >= std::chrono::milliseconds(100)) {
        RequestAcks();
        last_getack = Clock::now();
      }
      if (!co_await job_.Sleep(kLagPoll)) co_return absl::CancelledError("cancelled");
    }
    StepDone(absl::StrFormat("1 lag: every target within %d bytes of source offset %d",
                             options_.lag_threshold_bytes, lag_master_offset_));
    co_return absl::OkStatus();
  }

  // Step 2.
  asio::awaitable<absl::Status> PauseSource() {
    absl::StatusOr<uint64_t> offset = co_await job_.source_pause->Pause(options_.max_write_pause);
    pause_start_ = Clock::now();
    pause_end_ = pause_start_ + absl::ToChronoMilliseconds(options_.max_write_pause);
    if (!offset.ok()) {
      co_return co_await Rollback(2, "pause the source's writes", offset.status().message());
    }
    report().final_offset = *offset;
    StepDone(absl::StrFormat("2 pause: CLIENT PAUSE %d %s; final source offset %d",
                             absl::ToInt64Milliseconds(options_.max_write_pause),
                             AsAbsl(job_.source_pause->mode()), *offset));
    co_return absl::OkStatus();
  }

  // REPLCONF GETACK to every streaming target that has not yet applied the
  // final offset: its ACK answers at once.
  void RequestAcks() {
    std::string getack;
    AppendCommand(&getack, {"REPLCONF", "GETACK", "*"});
    for (size_t i = 0; i < job_.targets.size(); ++i) {
      if (report().final_offset > 0 && job_.source_acked[i] >= report().final_offset) continue;
      if (job_.held[i] != nullptr) continue;
      if (job_.targets[i]->phase() == TargetMaster::Phase::kStreaming) {
        job_.targets[i]->AppendStream(getack);
      }
    }
  }

  // Step 3.
  asio::awaitable<absl::Status> Drain() {
    const uint64_t final_offset = report().final_offset;
    const absl::Duration reserve = std::min(kMaxReserve, options_.max_write_pause / 4);
    const Clock::time_point deadline = pause_end_ - absl::ToChronoNanoseconds(reserve);
    const std::string what = absl::StrCat("wait for every target to apply offset ", final_offset);
    Progress(absl::StrCat("cutover step 3: waiting for every target to apply source offset ",
                          final_offset));
    Clock::time_point last_getack;
    while (true) {
      if (job_.finished) co_return absl::CancelledError("cancelled");
      if (job_.state != JobState::kCutover || job_.reconnecting) {
        co_return co_await Rollback(3, what, "the job lost its source link");
      }
      UpstreamAckOffset(job_);
      std::vector<std::string> behind;
      for (size_t i = 0; i < job_.targets.size(); ++i) {
        if (job_.source_acked[i] >= final_offset) continue;
        TargetLinkStatus link = job_.targets[i]->Status();
        TargetState state = TargetStateOf(link);
        if (state != TargetState::kStreaming && state != TargetState::kSpooling) {
          co_return co_await Rollback(
              3, what,
              absl::StrCat("target '", job_.targets[i]->name(), "' is ",
                           AsAbsl(TargetStateName(state)),
                           link.reason.empty() ? "" : absl::StrCat(": ", link.reason)));
        }
        behind.push_back(
            absl::StrCat("'", job_.targets[i]->name(), "' applied ", job_.source_acked[i]));
      }
      if (behind.empty()) break;
      if (Clock::now() >= deadline) {
        co_return co_await Rollback(
            3, what,
            absl::StrCat("not within the ", absl::ToInt64Milliseconds(options_.max_write_pause),
                         " ms write pause: ", absl::StrJoin(behind, ", ")));
      }
      // Once the job has read the final offset, its share follows in the
      // targets' streams: ask for the ACKs that say it was applied.
      if (job_.source.applied_offset >= final_offset &&
          Clock::now() - last_getack >= kGetAckPeriod) {
        RequestAcks();
        last_getack = Clock::now();
      }
      if (!co_await job_.Sleep(kDrainPoll)) co_return absl::CancelledError("cancelled");
    }
    for (size_t i = 0; i < job_.targets.size(); ++i) {
      report().targets[i].source_acked_offset = job_.source_acked[i];
    }
    StepDone(
        absl::StrFormat("3 drain: every target applied source offset %d, %.1f ms into the pause",
                        final_offset, MillisSince(pause_start_)));
    co_return absl::OkStatus();
  }

  // Step 4.
  asio::awaitable<absl::Status> Promote() {
    std::vector<std::string> unmanaged;
    std::vector<std::string> clusters;
    for (size_t i = 0; i < job_.spec.targets.size(); ++i) {
      if (report().targets[i].cluster) {
        clusters.push_back(job_.spec.targets[i].name);
      } else if (!report().targets[i].managed) {
        unmanaged.push_back(job_.spec.targets[i].name);
      }
    }
    if (!options_.promote) {
      StepDone("4 promote: not asked for");
      co_return absl::OkStatus();
    }
    const std::string what = "promote the managed targets";
    std::vector<std::string> names;
    for (Managed& m : managed_) {
      const std::string& name = job_.spec.targets[m.index].name;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(pause_end_ - kPauseEdge -
                                                                        Clock::now());
      if (left.count() <= 0) {
        co_return co_await Rollback(
            4, what,
            absl::StrCat("the write pause bound was reached before '", name, "' was promoted"));
      }
      absl::Duration timeout = absl::Milliseconds(left.count());
      std::vector<std::vector<std::string>> commands = {{"REPLICAOF", "NO", "ONE"},
                                                        {"INFO", "replication"}};
      absl::StatusOr<std::vector<RespValue>> replies =
          co_await m.connection->Pipeline(commands, timeout);
      std::string why;
      if (!replies.ok()) {
        why = std::string(replies.status().message());
      } else if ((*replies)[0].IsError()) {
        why = absl::StrCat("target '", name, "': REPLICAOF NO ONE: ", (*replies)[0].str);
      } else if (std::string role = InfoRole((*replies)[1]); role != "master") {
        why = absl::StrCat("target '", name, "' reports role:", role, " after REPLICAOF NO ONE");
      }
      // Whatever the reply, it may have been promoted.
      promoted_.push_back(m.index);
      if (!why.empty()) co_return co_await Rollback(4, what, why);
      report().targets[m.index].promoted = true;
      names.push_back(name);
    }
    if (Clock::now() + kPauseEdge >= pause_end_) {
      co_return co_await Rollback(
          4, what,
          absl::StrFormat("the promotion ended %.1f ms into the pause, at its %d ms bound: writes "
                          "may have resumed before it",
                          MillisSince(pause_start_),
                          absl::ToInt64Milliseconds(options_.max_write_pause)));
    }
    std::string line = absl::StrCat("4 promote: REPLICAOF NO ONE, role:master on ",
                                    names.empty() ? "no managed target" : Names(names));
    if (!unmanaged.empty()) {
      absl::StrAppend(&line, "; not managed (promote them yourself): ", Names(unmanaged));
    }
    // A cluster's nodes are masters already: --promote has nothing to do there.
    if (!clusters.empty()) {
      absl::StrAppend(&line,
                      "; cluster targets (their masters take writes already): ", Names(clusters));
    }
    StepDone(line);
    co_return absl::OkStatus();
  }

  static std::string InfoRole(const RespValue& info) {
    if (info.type != RespValue::Type::kBulkString && info.type != RespValue::Type::kVerbatim) {
      return info.ToString();
    }
    constexpr std::string_view kRole = "role:";
    size_t at = info.str.find(kRole);
    if (at == std::string::npos) return "(none)";
    size_t end = info.str.find_first_of("\r\n", at);
    return info.str.substr(at + kRole.size(), end - at - kRole.size());
  }

  // Step 5. Never fails: every write is on the targets by now.
  asio::awaitable<void> Unpause() {
    SourcePause& pause = *job_.source_pause;
    const int64_t bound_ms = absl::ToInt64Milliseconds(options_.max_write_pause);
    if (!pause.can_unpause()) {
      report().write_pause_ms = static_cast<double>(bound_ms);
      report().source_left_paused = true;
      StepDone(absl::StrCat("5 unpause: ", pause.version().ToString(),
                            " has no CLIENT UNPAUSE: writes resume when the ", bound_ms,
                            " ms pause times out"));
      co_return;
    }
    if (options_.leave_source_paused) {
      pause.Keep();
      report().write_pause_ms = MillisSince(pause_start_);
      report().source_left_paused = true;
      StepDone(absl::StrFormat(
          "5 unpause: left paused (%.1f ms so far; writes resume at CLIENT UNPAUSE or when the %d "
          "ms pause times out)",
          report().write_pause_ms, bound_ms));
      co_return;
    }
    absl::Status unpaused = co_await pause.Unpause();
    report().write_pause_ms = MillisSince(pause_start_);
    if (!unpaused.ok()) {
      report().write_pause_ms = static_cast<double>(bound_ms);
      report().source_left_paused = true;
      StepDone(absl::StrCat("5 unpause: ", unpaused.message(), "; writes resume when the ",
                            bound_ms, " ms pause times out"));
      co_return;
    }
    StepDone(
        absl::StrFormat("5 unpause: CLIENT UNPAUSE; write pause %.1f ms", report().write_pause_ms));
  }

  // A cluster target's keys per db: the sum over its masters (every one of
  // them must answer, or the count is left out).
  asio::awaitable<void> CountClusterKeys(size_t index) {
    if (index >= job_.cluster_appliers.size() || job_.cluster_appliers[index] == nullptr) co_return;
    const ClusterSpec& spec = *job_.spec.targets[index].cluster;
    std::map<int, uint64_t> sum;
    for (const HostPort& master : job_.cluster_appliers[index]->writer().slot_map().masters()) {
      RedisEndpoint endpoint{master, spec.credentials, spec.tls};
      absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
          co_await RedisConnection::Connect(
              job_.io.get_executor(), endpoint,
              absl::StrCat("target '", job_.spec.targets[index].name, "' node ", master.ToString()),
              kConnectTimeout);
      if (!connection.ok()) co_return;
      if (!(co_await (*connection)->Authenticate(spec.credentials)).ok()) co_return;
      std::vector<std::string> info = {"INFO", "keyspace"};
      absl::StatusOr<RespValue> reply = co_await (*connection)->Command(std::move(info));
      (*connection)->Close();
      if (!reply.ok() || reply->IsError()) co_return;
      absl::StatusOr<std::map<int, uint64_t>> dbs = ParseKeyspaceDbs(reply->str);
      if (!dbs.ok()) co_return;
      for (const auto& [db, keys] : *dbs) sum[db] += keys;
    }
    CutoverTargetReport& target = report().targets[index];
    target.db_keys.assign(sum.begin(), sum.end());
    target.keys = 0;
    for (const auto& [db, keys] : target.db_keys) target.keys += keys;
  }

  // The managed targets' keys per db, for the report (best effort).
  asio::awaitable<void> CountKeys() {
    for (size_t i = 0; i < report().targets.size(); ++i) {
      if (report().targets[i].cluster) co_await CountClusterKeys(i);
    }
    for (Managed& m : managed_) {
      std::vector<std::string> info = {"INFO", "keyspace"};
      absl::StatusOr<RespValue> reply = co_await m.connection->Command(std::move(info));
      if (!reply.ok() || reply->IsError()) continue;
      CutoverTargetReport& target = report().targets[m.index];
      absl::StatusOr<std::map<int, uint64_t>> dbs = ParseKeyspaceDbs(reply->str);
      if (!dbs.ok()) continue;
      target.db_keys.assign(dbs->begin(), dbs->end());
      target.keys = 0;
      for (const auto& [db, keys] : target.db_keys) target.keys += keys;
    }
  }

  // Undoes what was done, the source first: its writes resume at once.
  asio::awaitable<absl::Status> Rollback(int step, absl::string_view what, absl::string_view why) {
    std::string message = absl::StrCat("cutover step ", step, " (", what, "): ", why);
    SourcePause& pause = *job_.source_pause;
    if (pause.held()) {
      const int64_t bound_ms = absl::ToInt64Milliseconds(options_.max_write_pause);
      if (pause.can_unpause()) {
        absl::Status unpaused = co_await pause.Unpause();
        report().write_pause_ms = MillisSince(pause_start_);
        if (unpaused.ok()) {
          absl::StrAppend(&message, "; source unpaused");
        } else {
          absl::StrAppend(&message, "; CLIENT UNPAUSE failed (", unpaused.message(),
                          "): the source unpauses itself ", bound_ms, " ms after the pause");
        }
      } else {
        report().write_pause_ms = static_cast<double>(bound_ms);
        absl::StrAppend(&message, "; the source unpauses itself ", bound_ms,
                        " ms after the pause (no CLIENT UNPAUSE before Redis 6.2)");
      }
    }
    // A target promoted already follows reshardd again (and resyncs).
    std::vector<std::string> repointed;
    for (size_t index : promoted_) {
      for (Managed& m : managed_) {
        if (m.index != index) continue;
        const HostPort& listen = job_.addresses.listen[index];
        std::vector<std::string> replicaof = {"REPLICAOF", listen.host,
                                              std::to_string(listen.port)};
        absl::StatusOr<RespValue> reply = co_await m.connection->Command(std::move(replicaof));
        const std::string& name = job_.spec.targets[index].name;
        if (reply.ok() && !reply->IsError()) {
          repointed.push_back(name);
        } else {
          absl::StrAppend(&message, "; target '", name,
                          "' was promoted and could not be pointed at reshardd again: ",
                          reply.ok() ? reply->str : std::string(reply.status().message()));
        }
      }
    }
    if (!repointed.empty()) {
      absl::StrAppend(
          &message, "; promoted, then pointed at reshardd again (they resync): ", Names(repointed));
    }
    co_return absl::FailedPreconditionError(message);
  }

  JobContext& job_;
  const CutoverOptions options_;
  std::vector<Managed> managed_;
  std::vector<size_t> promoted_;  // targets sent REPLICAOF NO ONE
  uint64_t lag_master_offset_ = 0;
  Clock::time_point pause_start_;
  Clock::time_point pause_end_;
};

}  // namespace

asio::awaitable<absl::Status> RunCutover(JobContext& job) {
  Cutover cutover(job);
  absl::Status status = co_await cutover.Run();
  // Closes the side connection; a pause left for the client switch stays.
  if (job.source_pause != nullptr) job.source_pause.reset();
  co_return status;
}

}  // namespace reshard::engine
