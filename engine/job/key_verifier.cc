#include "engine/job/key_verifier.h"

#include <algorithm>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asio/co_spawn.hpp"
#include "asio/experimental/awaitable_operators.hpp"
#include "asio/io_context.hpp"
#include "asio/redirect_error.hpp"
#include "asio/steady_timer.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/status_macros.h"
#include "engine/job/key_comparison.h"
#include "engine/job/verify_logical.h"
#include "engine/job/verify_sampling.h"
#include "engine/link/redis_connection.h"
#include "engine/link/source_monitor.h"
#include "engine/rdb/rdb_version.h"
#include "engine/route/key_filter.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(5);
// A pipeline of DUMPs of large values may take a while.
constexpr absl::Duration kReplyTimeout = absl::Seconds(60);
constexpr absl::Duration kOffsetPoll = absl::Milliseconds(50);

// One server, with a connection for each of the two passes that read it at
// once (the source pass and the target pass).
struct Server {
  std::string what;  // "source", "target 'a'"
  RedisEndpoint endpoint;
  std::unique_ptr<RedisConnection> main;
  std::unique_ptr<RedisConnection> side;
  std::optional<ServerVersion> version;
};

struct TargetSide {
  std::string name;
  std::unique_ptr<KeyFilter> filter;
  Server server;
};

// A difference seen once; reported only if it still holds once the target
// has applied the source offset at which the source was read.
struct Suspect {
  std::string key;
  size_t target = 0;
  KeyDifference difference;
  uint64_t offset = 0;  // the source's offset when it was read
  KeyRead source;       // what the source held then
};

absl::Status Unexpected(const RedisConnection& connection, std::string_view what,
                        const RespValue& reply) {
  return absl::FailedPreconditionError(
      absl::StrCat(connection.peer(), ": ", absl::string_view(what.data(), what.size()), ": ",
                   reply.IsError() ? reply.str : "unexpected reply " + reply.ToString()));
}

// The cursor and keys of a SCAN reply.
absl::StatusOr<std::pair<std::string, std::vector<std::string>>> ScanReply(
    const RedisConnection& connection, RespValue reply) {
  if (reply.type != RespValue::Type::kArray || reply.elements.size() != 2 ||
      reply.elements[1].type != RespValue::Type::kArray) {
    return Unexpected(connection, "SCAN", reply);
  }
  std::vector<std::string> keys;
  keys.reserve(reply.elements[1].elements.size());
  for (RespValue& key : reply.elements[1].elements) keys.push_back(std::move(key.str));
  return std::make_pair(std::move(reply.elements[0].str), std::move(keys));
}

bool HasExpireTime(const ServerVersion& v) {  // PEXPIRETIME: Redis 7.0, Valkey
  return v.product == "Valkey" || v.major >= 7;
}
bool HasFieldExpiry(const ServerVersion& v) {  // HPEXPIRETIME: Redis 7.4, Valkey 9
  return v.product == "Valkey" ? v.major >= 9 : (v.major > 7 || (v.major == 7 && v.minor >= 4));
}

class Verifier {
 public:
  Verifier(asio::any_io_executor executor, Server source, std::vector<TargetSide> targets,
           const VerifyOptions& options)
      : executor_(std::move(executor)),
        source_(std::move(source)),
        targets_(std::move(targets)),
        options_(options) {}

  asio::awaitable<VerifyReport> Run() {
    report_.started = options_.started == absl::InfinitePast() ? absl::Now() : options_.started;
    report_.sample_fraction = options_.sample_fraction;
    report_.rate_keys_per_second = options_.rate_keys_per_second;
    pace_start_ = absl::Now();
    absl::Status status = co_await RunChecks();
    report_.duration = absl::Now() - report_.started;
    if (status.ok()) {
      report_.state = VerifyState::kDone;
      report_.keys_scanned = std::max(report_.keys_scanned, report_.keys_total);
    } else {
      report_.state = VerifyState::kFailed;
      report_.error = std::string(status.message());
    }
    if (options_.on_progress) options_.on_progress(report_);
    co_return std::move(report_);
  }

 private:
  asio::awaitable<absl::Status> RunChecks() {
    CO_RETURN_IF_ERROR(co_await Open(source_));
    for (TargetSide& target : targets_) CO_RETURN_IF_ERROR(co_await Open(target.server));
    absolute_ = source_.version.has_value() && HasExpireTime(*source_.version);
    for (const TargetSide& target : targets_) {
      absolute_ =
          absolute_ && target.server.version.has_value() && HasExpireTime(*target.server.version);
    }
    std::set<int> dbs;
    CO_ASSIGN_OR_RETURN(auto source_dbs, co_await Keyspace(*source_.main));
    for (const auto& [db, keys] : source_dbs) {
      dbs.insert(db);
      report_.keys_total += keys;
    }
    for (TargetSide& target : targets_) {
      CO_ASSIGN_OR_RETURN(auto target_dbs, co_await Keyspace(*target.server.main));
      for (const auto& [db, keys] : target_dbs) {
        dbs.insert(db);
        report_.keys_total += keys;
      }
    }
    Progress(true);
    using namespace asio::experimental::awaitable_operators;
    for (int db : dbs) {
      DbPrecheck precheck;
      precheck.db = db;
      precheck.expected.assign(targets_.size(), 0);
      CO_RETURN_IF_ERROR(co_await SelectDb(db, &precheck));
      // The two passes read the servers at once, each on its own connections.
      auto [source_pass, target_pass] = co_await (SourcePass(db, &precheck) && TargetPasses(db));
      CO_RETURN_IF_ERROR(source_pass);
      CO_RETURN_IF_ERROR(target_pass);
      CO_RETURN_IF_ERROR(co_await Recheck(db));
      report_.precheck.push_back(std::move(precheck));
    }
    co_return absl::OkStatus();
  }

  asio::awaitable<absl::Status> Open(Server& server) {
    for (std::unique_ptr<RedisConnection>* connection : {&server.main, &server.side}) {
      CO_ASSIGN_OR_RETURN(*connection,
                          co_await RedisConnection::Connect(executor_, server.endpoint.address,
                                                            server.what, kConnectTimeout));
      CO_RETURN_IF_ERROR(co_await (*connection)->Authenticate(server.endpoint.credentials));
    }
    std::vector<std::string> info = {"INFO", "server"};
    CO_ASSIGN_OR_RETURN(RespValue reply, co_await server.main->Command(std::move(info)));
    if (reply.IsError()) co_return Unexpected(*server.main, "INFO server", reply);
    server.version = ServerVersionFromInfo(reply.str);
    co_return absl::OkStatus();
  }

  asio::awaitable<absl::StatusOr<std::map<int, uint64_t>>> Keyspace(RedisConnection& connection) {
    std::vector<std::string> command = {"INFO", "keyspace"};
    CO_ASSIGN_OR_RETURN(RespValue reply, co_await connection.Command(std::move(command)));
    if (reply.type != RespValue::Type::kBulkString && reply.type != RespValue::Type::kVerbatim) {
      co_return Unexpected(connection, "INFO keyspace", reply);
    }
    absl::StatusOr<std::map<int, uint64_t>> dbs = ParseKeyspaceDbs(reply.str);
    if (!dbs.ok()) {
      co_return absl::FailedPreconditionError(
          absl::StrCat(connection.peer(), ": ", dbs.status().message()));
    }
    co_return std::move(*dbs);
  }

  // SELECTs `db` on every connection; the DBSIZEs of the pre-check.
  asio::awaitable<absl::Status> SelectDb(int db, DbPrecheck* precheck) {
    std::vector<std::vector<std::string>> commands = {{"SELECT", std::to_string(db)}, {"DBSIZE"}};
    std::vector<Server*> servers = {&source_};
    for (TargetSide& target : targets_) servers.push_back(&target.server);
    for (size_t i = 0; i < servers.size(); ++i) {
      for (RedisConnection* connection : {servers[i]->main.get(), servers[i]->side.get()}) {
        CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies,
                            co_await connection->Pipeline(commands));
        for (const RespValue& reply : replies) {
          if (reply.IsError()) co_return Unexpected(*connection, "SELECT/DBSIZE", reply);
        }
        if (connection != servers[i]->main.get()) continue;
        uint64_t size = static_cast<uint64_t>(std::max<int64_t>(0, replies[1].integer));
        if (i == 0) {
          precheck->source_keys = size;
        } else {
          precheck->target_keys.push_back(size);
        }
      }
    }
    co_return absl::OkStatus();
  }

  std::string ExpiryCommand() const { return absolute_ ? "PEXPIRETIME" : "PTTL"; }
  bool WantOffsets() const { return static_cast<bool>(options_.applied_offsets); }

  // Appends DUMP and the expiry command of every key in `keys` to `commands`.
  void AppendReads(const std::vector<std::string>& keys, const std::vector<size_t>& which,
                   std::vector<std::vector<std::string>>* commands) const {
    for (size_t i : which) {
      commands->push_back({"DUMP", keys[i]});
      commands->push_back({ExpiryCommand(), keys[i]});
    }
  }

  // Reads `count` key reads from `replies` starting at *at.
  absl::StatusOr<std::vector<KeyRead>> TakeReads(const RedisConnection& connection,
                                                 std::vector<RespValue>& replies, size_t* at,
                                                 size_t count) const {
    std::vector<KeyRead> reads;
    reads.reserve(count);
    for (size_t i = 0; i < count; ++i, *at += 2) {
      std::optional<KeyRead> read = KeyReadFromReplies(std::move(replies[*at]), replies[*at + 1]);
      if (!read.has_value()) {
        return Unexpected(connection, absl::StrCat("DUMP/", ExpiryCommand()),
                          replies[*at].IsError() ? replies[*at] : replies[*at + 1]);
      }
      reads.push_back(std::move(*read));
    }
    return reads;
  }

  absl::StatusOr<uint64_t> TakeOffset(const RedisConnection& connection,
                                      const RespValue& reply) const {
    if (reply.IsError()) return Unexpected(connection, "INFO replication", reply);
    absl::StatusOr<uint64_t> offset = ParseMasterReplOffset(reply.str);
    if (!offset.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(connection.peer(), ": ", offset.status().message()));
    }
    return offset;
  }

  // The source pass of one db: each batch of SCANned keys is read on the
  // source and on every target that selects them, in one round trip.
  asio::awaitable<absl::Status> SourcePass(int db, DbPrecheck* precheck) {
    RedisConnection& source = *source_.main;
    std::vector<std::vector<std::string>> first = {
        {"SCAN", "0", "COUNT", std::to_string(options_.scan_count)}};
    CO_ASSIGN_OR_RETURN(std::vector<RespValue> scan_reply, co_await source.Pipeline(first));
    RespValue scan = std::move(scan_reply[0]);
    while (true) {
      CO_RETURN_IF_ERROR(Cancelled());
      CO_ASSIGN_OR_RETURN(auto step, ScanReply(source, std::move(scan)));
      auto& [cursor, keys] = step;
      std::vector<size_t> sampled;
      for (size_t i = 0; i < keys.size(); ++i) {
        for (size_t t = 0; t < targets_.size(); ++t) {
          if (targets_[t].filter->Matches(keys[i])) ++precheck->expected[t];
        }
        if (KeyInSample(keys[i], options_.sample_fraction)) sampled.push_back(i);
      }
      report_.keys_scanned += keys.size();
      const bool more = cursor != "0";
      std::vector<std::vector<std::string>> commands;
      AppendReads(keys, sampled, &commands);
      if (WantOffsets()) commands.push_back({"INFO", "replication"});
      if (more) commands.push_back({"SCAN", cursor, "COUNT", std::to_string(options_.scan_count)});
      CO_RETURN_IF_ERROR(source.Send(commands));
      std::vector<std::vector<size_t>> selected(targets_.size());
      for (size_t t = 0; t < targets_.size(); ++t) {
        for (size_t i : sampled) {
          if (targets_[t].filter->Matches(keys[i])) selected[t].push_back(i);
        }
        std::vector<std::vector<std::string>> reads;
        AppendReads(keys, selected[t], &reads);
        CO_RETURN_IF_ERROR(targets_[t].server.main->Send(reads));
      }
      CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies,
                          co_await source.ReadReplies(commands.size(), kReplyTimeout));
      size_t at = 0;
      CO_ASSIGN_OR_RETURN(std::vector<KeyRead> source_reads,
                          TakeReads(source, replies, &at, sampled.size()));
      uint64_t offset = 0;
      if (WantOffsets()) {
        CO_ASSIGN_OR_RETURN(offset, TakeOffset(source, replies[at]));
        ++at;
      }
      if (more) scan = std::move(replies[at]);
      std::vector<size_t> read_of(keys.size());  // key index -> index in source_reads
      for (size_t j = 0; j < sampled.size(); ++j) read_of[sampled[j]] = j;
      for (size_t t = 0; t < targets_.size(); ++t) {
        RedisConnection& connection = *targets_[t].server.main;
        CO_ASSIGN_OR_RETURN(std::vector<RespValue> target_replies,
                            co_await connection.ReadReplies(2 * selected[t].size(), kReplyTimeout));
        size_t target_at = 0;
        CO_ASSIGN_OR_RETURN(std::vector<KeyRead> target_reads,
                            TakeReads(connection, target_replies, &target_at, selected[t].size()));
        for (size_t j = 0; j < selected[t].size(); ++j) {
          const std::string& key = keys[selected[t][j]];
          const KeyRead& source_read = source_reads[read_of[selected[t][j]]];
          // A key gone from the source since the SCAN is the target pass's.
          if (!source_read.exists) continue;
          KeyDifference difference;
          QuickVerdict verdict = Quick(source_read, target_reads[j], &difference);
          if (verdict == QuickVerdict::kEqual) continue;
          if (verdict == QuickVerdict::kValuesDiffer) {
            CO_ASSIGN_OR_RETURN(std::optional<KeyDifference> logical,
                                co_await CompareValues(t, key, source_read, target_reads[j]));
            if (!logical.has_value()) continue;
            difference = std::move(*logical);
          }
          suspects_.push_back({key, t, std::move(difference), offset, source_read});
        }
      }
      report_.keys_checked += sampled.size();
      Progress(false);
      co_await Pace(sampled.size());
      if (!more) break;
    }
    co_return absl::OkStatus();
  }

  // QuickCompare, with kSourceAbsent as a stray.
  QuickVerdict Quick(const KeyRead& source, const KeyRead& target, KeyDifference* difference) {
    QuickVerdict verdict = QuickCompare(source, target, options_.ttl_tolerance_ms, absolute_,
                                        absl::ToUnixMillis(absl::Now()), difference);
    if (verdict == QuickVerdict::kSourceAbsent) {
      *difference = {VerifyProblemKind::kStray, "not on the source"};
      return QuickVerdict::kDifferent;
    }
    return verdict;
  }

  // nullopt when the target holds the key as the source does.
  asio::awaitable<absl::StatusOr<std::optional<KeyDifference>>> Compare(size_t t,
                                                                        const std::string& key,
                                                                        const KeyRead& source,
                                                                        const KeyRead& target) {
    KeyDifference difference;
    switch (Quick(source, target, &difference)) {
      case QuickVerdict::kEqual:
      case QuickVerdict::kSourceAbsent:
        co_return std::nullopt;
      case QuickVerdict::kDifferent:
        co_return difference;
      case QuickVerdict::kValuesDiffer:
        break;
    }
    co_return co_await CompareValues(t, key, source, target);
  }

  // The payloads differ: compares what they hold, on the main connections
  // (no reply is pending on them when this is called).
  asio::awaitable<absl::StatusOr<std::optional<KeyDifference>>> CompareValues(
      size_t t, const std::string& key, const KeyRead& source, const KeyRead& target) {
    const int64_t now_ms = absl::ToUnixMillis(absl::Now());
    TargetSide& side = targets_[t];
    const bool field_expiry = source_.version.has_value() && HasFieldExpiry(*source_.version) &&
                              side.server.version.has_value() &&
                              HasFieldExpiry(*side.server.version);
    CO_ASSIGN_OR_RETURN(std::optional<LogicalValue> source_value,
                        co_await ReadLogicalValue(*source_.main, key, field_expiry));
    CO_ASSIGN_OR_RETURN(std::optional<LogicalValue> target_value,
                        co_await ReadLogicalValue(*side.server.main, key, field_expiry));
    if (!source_value.has_value()) {
      co_return target_value.has_value()
          ? std::optional(KeyDifference{VerifyProblemKind::kStray, "not on the source"})
          : std::nullopt;
    }
    if (!target_value.has_value()) {
      co_return KeyDifference{VerifyProblemKind::kMissing, "not on the target"};
    }
    if (std::optional<KeyDifference> logical =
            CompareLogical(*source_value, *target_value, options_.ttl_tolerance_ms, now_ms)) {
      if (logical->kind == VerifyProblemKind::kDifferentValue) {
        logical->detail =
            absl::StrCat(logical->detail, "; DUMP ", source.dump.size(), " bytes on the source, ",
                         target.dump.size(), " on the target");
      }
      co_return logical;
    }
    if (std::optional<std::string> ttl = CompareExpiry(
            source.expiry, target.expiry, options_.ttl_tolerance_ms, absolute_, now_ms)) {
      co_return KeyDifference{VerifyProblemKind::kDifferentTtl, std::move(*ttl)};
    }
    co_return std::nullopt;
  }

  // The target passes of one db, one target after the other, on the side
  // connections: every key a target holds must be selected by its filter
  // and be on the source.
  asio::awaitable<absl::Status> TargetPasses(int db) {
    for (size_t t = 0; t < targets_.size(); ++t) CO_RETURN_IF_ERROR(co_await TargetPass(db, t));
    co_return absl::OkStatus();
  }

  asio::awaitable<absl::Status> TargetPass(int db, size_t t) {
    TargetSide& target = targets_[t];
    RedisConnection& connection = *target.server.side;
    RedisConnection& source = *source_.side;
    std::vector<std::vector<std::string>> scan_command = {
        {"SCAN", "0", "COUNT", std::to_string(options_.scan_count)}};
    CO_ASSIGN_OR_RETURN(std::vector<RespValue> scan_reply,
                        co_await connection.Pipeline(scan_command));
    RespValue scan = std::move(scan_reply[0]);
    while (true) {
      CO_RETURN_IF_ERROR(Cancelled());
      CO_ASSIGN_OR_RETURN(auto step, ScanReply(connection, std::move(scan)));
      auto& [cursor, keys] = step;
      report_.keys_scanned += keys.size();
      const bool more = cursor != "0";
      if (more) {
        scan_command = {{"SCAN", cursor, "COUNT", std::to_string(options_.scan_count)}};
        CO_RETURN_IF_ERROR(connection.Send(scan_command));
      }
      std::vector<std::string> selected;
      size_t sampled = 0;
      for (std::string& key : keys) {
        if (!KeyInSample(key, options_.sample_fraction)) continue;
        ++sampled;
        if (target.filter->Matches(key)) {
          selected.push_back(std::move(key));
        } else {
          // The job never writes a key to a target that does not select it.
          Report(db,
                 {std::move(key),
                  t,
                  {VerifyProblemKind::kStray, absl::StrCat("not selected by the target's filter ",
                                                           target.filter->Describe())}});
        }
      }
      std::vector<std::vector<std::string>> exists;
      for (const std::string& key : selected) exists.push_back({"EXISTS", key});
      if (WantOffsets() && !exists.empty()) exists.push_back({"INFO", "replication"});
      CO_ASSIGN_OR_RETURN(std::vector<RespValue> on_source,
                          co_await source.Pipeline(exists, kReplyTimeout));
      uint64_t offset = 0;
      if (WantOffsets() && !selected.empty()) {
        CO_ASSIGN_OR_RETURN(offset, TakeOffset(source, on_source.back()));
      }
      for (size_t i = 0; i < selected.size(); ++i) {
        if (on_source[i].IsError()) co_return Unexpected(source, "EXISTS", on_source[i]);
        if (on_source[i].integer != 0) continue;
        suspects_.push_back(
            {selected[i], t, {VerifyProblemKind::kStray, "not on the source"}, offset, KeyRead{}});
      }
      if (more) {
        CO_ASSIGN_OR_RETURN(std::vector<RespValue> next,
                            co_await connection.ReadReplies(1, kReplyTimeout));
        scan = std::move(next[0]);
      }
      report_.target_keys_checked += sampled;
      Progress(false);
      co_await Pace(sampled);
      if (!more) break;
    }
    co_return absl::OkStatus();
  }

  // Waits until every target that has suspects has applied the source
  // offset they were read at. Returns the targets that did not within
  // recheck_wait (their suspects cannot be settled).
  asio::awaitable<std::set<size_t>> WaitForOffsets(const std::vector<Suspect>& suspects) {
    std::map<size_t, uint64_t> needed;
    for (const Suspect& s : suspects) needed[s.target] = std::max(needed[s.target], s.offset);
    const absl::Time deadline = absl::Now() + options_.recheck_wait;
    while (true) {
      std::optional<std::vector<uint64_t>> applied =
          options_.applied_offsets ? options_.applied_offsets() : std::nullopt;
      // A job that no longer streams changes nothing: what differs, differs.
      if (!applied.has_value()) co_return std::set<size_t>();
      std::set<size_t> behind;
      for (const auto& [t, offset] : needed) {
        if (t >= applied->size() || (*applied)[t] < offset) behind.insert(t);
      }
      if (behind.empty() || absl::Now() >= deadline ||
          Cancelled().code() != absl::StatusCode::kOk) {
        co_return behind;
      }
      co_await Sleep(kOffsetPoll);
    }
  }

  // Checks the suspects of `db` again (see the header).
  asio::awaitable<absl::Status> Recheck(int db) {
    std::vector<Suspect> suspects = std::move(suspects_);
    suspects_.clear();
    report_.rechecked += suspects.size();
    for (int attempt = 0; attempt < options_.recheck_attempts && !suspects.empty(); ++attempt) {
      std::set<size_t> behind = co_await WaitForOffsets(suspects);
      std::vector<Suspect> ready;
      for (Suspect& s : suspects) {
        if (behind.contains(s.target)) {
          ++report_.unsettled;  // the target never applied the offset in time
        } else {
          ready.push_back(std::move(s));
        }
      }
      // Read again: the source (with its offset), then each target.
      std::vector<std::string> keys;
      for (const Suspect& s : ready) keys.push_back(s.key);
      std::vector<size_t> all(keys.size());
      for (size_t i = 0; i < all.size(); ++i) all[i] = i;
      std::vector<std::vector<std::string>> commands;
      AppendReads(keys, all, &commands);
      if (WantOffsets()) commands.push_back({"INFO", "replication"});
      CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies,
                          co_await source_.main->Pipeline(commands, kReplyTimeout));
      size_t at = 0;
      CO_ASSIGN_OR_RETURN(std::vector<KeyRead> source_reads,
                          TakeReads(*source_.main, replies, &at, keys.size()));
      uint64_t offset = 0;
      if (WantOffsets()) {
        CO_ASSIGN_OR_RETURN(offset, TakeOffset(*source_.main, replies[at]));
      }
      std::vector<Suspect> still;
      for (size_t i = 0; i < ready.size(); ++i) {
        Suspect& s = ready[i];
        RedisConnection& connection = *targets_[s.target].server.main;
        std::vector<std::vector<std::string>> read;
        AppendReads(keys, {i}, &read);
        CO_ASSIGN_OR_RETURN(std::vector<RespValue> target_replies,
                            co_await connection.Pipeline(read, kReplyTimeout));
        size_t target_at = 0;
        CO_ASSIGN_OR_RETURN(std::vector<KeyRead> target_read,
                            TakeReads(connection, target_replies, &target_at, 1));
        CO_ASSIGN_OR_RETURN(std::optional<KeyDifference> difference,
                            co_await Compare(s.target, s.key, source_reads[i], target_read[0]));
        if (!difference.has_value()) continue;  // settled: it was lag
        if (SameSourceRead(s.source, source_reads[i], options_.ttl_tolerance_ms)) {
          // The target applied the offset at which the source already held
          // this, and the source has not changed it since: lost.
          Report(db, {std::move(s.key), s.target, std::move(*difference)});
          continue;
        }
        // The source changed it meanwhile: a write in flight; again.
        still.push_back(
            {std::move(s.key), s.target, std::move(*difference), offset, source_reads[i]});
      }
      suspects = std::move(still);
    }
    report_.unsettled += suspects.size();
    co_return absl::OkStatus();
  }

  struct Found {
    std::string key;
    size_t target;
    KeyDifference difference;
  };
  void Report(int db, Found found) {
    switch (found.difference.kind) {
      case VerifyProblemKind::kMissing:
        ++report_.missing;
        break;
      case VerifyProblemKind::kStray:
        ++report_.stray;
        break;
      case VerifyProblemKind::kDifferentValue:
      case VerifyProblemKind::kDifferentTtl:
        ++report_.different;
        break;
    }
    if (report_.problems.size() >= options_.max_problems) return;
    report_.problems.push_back({db, std::move(found.key), targets_[found.target].name,
                                found.difference.kind, std::move(found.difference.detail)});
  }

  absl::Status Cancelled() const {
    if (options_.cancel != nullptr && options_.cancel->load()) {
      return absl::CancelledError("cancelled");
    }
    return absl::OkStatus();
  }

  void Progress(bool force) {
    if (!options_.on_progress) return;
    absl::Time now = absl::Now();
    if (!force && now - last_progress_ < options_.progress_interval) return;
    last_progress_ = now;
    report_.duration = now - report_.started;
    options_.on_progress(report_);
  }

  asio::awaitable<void> Sleep(absl::Duration duration) {
    asio::steady_timer timer(executor_);
    timer.expires_after(absl::ToChronoNanoseconds(duration));
    asio::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  // Keeps the keys checked (both passes together) at rate_keys_per_second.
  asio::awaitable<void> Pace(uint64_t keys) {
    if (options_.rate_keys_per_second <= 0) co_return;
    paced_ += keys;
    absl::Time due =
        pace_start_ + absl::Seconds(static_cast<double>(paced_) / options_.rate_keys_per_second);
    absl::Time now = absl::Now();
    if (due > now) co_await Sleep(due - now);
  }

  asio::any_io_executor executor_;
  Server source_;
  std::vector<TargetSide> targets_;
  const VerifyOptions& options_;
  bool absolute_ = false;  // expiries are PEXPIRETIME (unix ms), not PTTL
  VerifyReport report_;
  std::vector<Suspect> suspects_;  // of the db being checked
  absl::Time pace_start_;
  absl::Time last_progress_;
  uint64_t paced_ = 0;
};

absl::StatusOr<std::vector<TargetSide>> ResolveTargets(const JobSpec& spec,
                                                       const VerifyOptions& options) {
  std::vector<TargetSide> targets;
  for (size_t i = 0; i < spec.targets.size(); ++i) {
    const TargetSpec& target = spec.targets[i];
    TargetSide side;
    side.name = target.name;
    side.server.what = absl::StrCat("target '", target.name, "'");
    absl::StatusOr<std::unique_ptr<KeyFilter>> filter = MakeKeyFilter(target.filter);
    if (!filter.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("targets[", i, "].filter: ", filter.status().message()));
    }
    side.filter = std::move(*filter);
    if (i < options.target_endpoints.size() && options.target_endpoints[i].has_value()) {
      side.server.endpoint = *options.target_endpoints[i];
    } else if (target.replica.has_value()) {
      ASSIGN_OR_RETURN(
          side.server.endpoint.address,
          ParseHostPort(target.replica->address, absl::StrCat("targets[", i, "].replica.address")));
      side.server.endpoint.credentials = target.replica->credentials;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "targets[", i, "] '", target.name,
          "': not a managed target, so its Redis address must be given (target_addresses)"));
    }
    targets.push_back(std::move(side));
  }
  return targets;
}

}  // namespace

std::string_view VerifyProblemKindName(VerifyProblemKind kind) {
  switch (kind) {
    case VerifyProblemKind::kMissing:
      return "MISSING";
    case VerifyProblemKind::kStray:
      return "STRAY";
    case VerifyProblemKind::kDifferentValue:
      return "DIFFERENT_VALUE";
    case VerifyProblemKind::kDifferentTtl:
      return "DIFFERENT_TTL";
  }
  return "UNKNOWN";
}

absl::Status CheckVerifyOptions(const JobSpec& spec, const VerifyOptions& options) {
  if (!(options.sample_fraction > 0 && options.sample_fraction <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sample fraction: must be in (0, 1], not ", options.sample_fraction));
  }
  if (options.rate_keys_per_second < 0) {
    return absl::InvalidArgumentError("rate: must not be negative");
  }
  if (options.target_endpoints.size() > spec.targets.size()) {
    return absl::InvalidArgumentError("target addresses: more than the job has targets");
  }
  if (spec.targets.empty()) return absl::InvalidArgumentError("targets: the job has none");
  RETURN_IF_ERROR(ParseHostPort(spec.source.address, "source.address").status());
  return ResolveTargets(spec, options).status();
}

absl::StatusOr<VerifyReport> VerifyJobData(const JobSpec& spec, const VerifyOptions& options) {
  RETURN_IF_ERROR(CheckVerifyOptions(spec, options));
  Server source;
  source.what = "source";
  ASSIGN_OR_RETURN(source.endpoint.address, ParseHostPort(spec.source.address, "source.address"));
  source.endpoint.credentials = spec.source.credentials;
  ASSIGN_OR_RETURN(std::vector<TargetSide> targets, ResolveTargets(spec, options));
  asio::io_context io;
  Verifier verifier(io.get_executor(), std::move(source), std::move(targets), options);
  std::optional<VerifyReport> result;
  asio::co_spawn(io, verifier.Run(), [&result](std::exception_ptr error, VerifyReport report) {
    if (error) {
      report.state = VerifyState::kFailed;
      report.error = "verification: an exception ended it";
    }
    result = std::move(report);
  });
  io.run();
  if (!result.has_value()) return absl::InternalError("verification did not finish");
  return std::move(*result);
}

}  // namespace reshard::engine
