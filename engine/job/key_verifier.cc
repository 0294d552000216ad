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
#include "engine/job/verifier.h"
#include "engine/link/redis_reply.h"

namespace reshard::engine {

asio::awaitable<VerifyReport> Verifier::Run() {
  report_.started = options_.started == absl::InfinitePast() ? absl::Now() : options_.started;
  report_.sample_fraction = options_.sample_fraction;
  report_.rate_keys_per_second = options_.rate_keys_per_second;
  report_.source_address = source_.endpoint.address.ToString();
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

asio::awaitable<absl::Status> Verifier::RunChecks() {
  CO_RETURN_IF_ERROR(co_await OpenVerifyServer(executor_, source_));
  for (VerifyTarget& target : targets_)
    CO_RETURN_IF_ERROR(co_await OpenVerifyTarget(executor_, target));
  absolute_ = source_.version.has_value() && HasExpireTime(*source_.version);
  for (const VerifyTarget& target : targets_) {
    for (const VerifyServer& node : target.nodes) {
      absolute_ = absolute_ && node.version.has_value() && HasExpireTime(*node.version);
    }
  }
  std::set<int> dbs;
  CO_ASSIGN_OR_RETURN(auto source_dbs, co_await ReadKeyspace(*source_.main));
  for (const auto& [db, keys] : source_dbs) {
    dbs.insert(db);
    report_.keys_total += 2 * keys;  // the pre-check's SCAN, then the source pass
  }
  for (VerifyTarget& target : targets_) {
    for (VerifyServer& node : target.nodes) {
      CO_ASSIGN_OR_RETURN(auto target_dbs, co_await ReadKeyspace(*node.main));
      for (const auto& [db, keys] : target_dbs) {
        dbs.insert(db);
        report_.keys_total += keys;
      }
    }
  }
  Progress(true);
  // The cheap pre-check first, every db: the counts are in the report (and
  // its progress) before the key-by-key compare begins.
  for (int db : dbs) {
    CO_RETURN_IF_ERROR(co_await SelectDb(db));
    CO_ASSIGN_OR_RETURN(DbPrecheck precheck, co_await Precheck(db));
    report_.precheck.push_back(std::move(precheck));
    Progress(true);
  }
  report_.precheck_keys = report_.keys_scanned;
  report_.precheck_duration = absl::Now() - report_.started;
  using namespace asio::experimental::awaitable_operators;
  for (int db : dbs) {
    CO_RETURN_IF_ERROR(co_await SelectDb(db));
    // The two passes read the servers at once, each on its own connections.
    auto [source_pass, target_pass] = co_await (SourcePass(db) && TargetPasses(db));
    CO_RETURN_IF_ERROR(source_pass);
    CO_RETURN_IF_ERROR(target_pass);
    CO_RETURN_IF_ERROR(co_await FollowRedirects(db));
    CO_RETURN_IF_ERROR(co_await CompareByValue());
    CO_RETURN_IF_ERROR(co_await Recheck(db));
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Verifier::SelectDb(int db) {
  db_ = db;
  std::vector<std::vector<std::string>> commands = {{"SELECT", std::to_string(db)}};
  std::vector<VerifyServer*> servers = {&source_};
  for (VerifyTarget& target : targets_) {
    // A cluster has db 0 only (and refuses SELECT of another).
    if (OutsideTarget(target)) continue;
    for (VerifyServer& node : target.nodes) servers.push_back(&node);
  }
  for (VerifyServer* server : servers) {
    for (RedisConnection* connection : {server->main.get(), server->side.get()}) {
      CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies, co_await connection->Pipeline(commands));
      if (replies[0].IsError()) co_return UnexpectedReply(*connection, "SELECT", replies[0]);
    }
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<DbPrecheck>> Verifier::Precheck(int db) {
  DbPrecheck precheck;
  precheck.db = db;
  precheck.expected.assign(targets_.size(), 0);
  RedisConnection& source = *source_.main;
  std::string cursor = "0";
  do {
    CO_RETURN_IF_ERROR(Cancelled());
    std::vector<std::string> scan = {"SCAN", cursor, "COUNT", std::to_string(options_.scan_count)};
    CO_ASSIGN_OR_RETURN(RespValue reply, co_await source.Command(std::move(scan)));
    CO_ASSIGN_OR_RETURN(auto step, ParseScanReply(source, std::move(reply)));
    cursor = std::move(step.first);
    for (const std::string& key : step.second) {
      for (size_t t = 0; t < targets_.size(); ++t) {
        if (targets_[t].filter->Matches(key)) ++precheck.expected[t];
      }
    }
    report_.keys_scanned += step.second.size();
    Progress(false);
  } while (cursor != "0");
  std::vector<std::vector<std::string>> dbsize = {{"DBSIZE"}};
  for (RedisConnection* connection : std::vector<RedisConnection*>{source_.main.get()}) {
    CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies, co_await connection->Pipeline(dbsize));
    if (replies[0].IsError()) co_return UnexpectedReply(*connection, "DBSIZE", replies[0]);
    precheck.source_keys = static_cast<uint64_t>(std::max<int64_t>(0, replies[0].integer));
  }
  // A cluster's DBSIZE is the sum over its masters.
  for (VerifyTarget& target : targets_) {
    if (OutsideTarget(target)) continue;
    for (VerifyServer& node : target.nodes) CO_RETURN_IF_ERROR(node.main->Send(dbsize));
  }
  for (VerifyTarget& target : targets_) {
    uint64_t keys = 0;
    for (VerifyServer& node : target.nodes) {
      if (OutsideTarget(target)) break;
      CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies, co_await node.main->ReadReplies(1));
      if (replies[0].IsError()) co_return UnexpectedReply(*node.main, "DBSIZE", replies[0]);
      keys += static_cast<uint64_t>(std::max<int64_t>(0, replies[0].integer));
    }
    precheck.target_keys.push_back(keys);
  }
  co_return precheck;
}

void Verifier::Report(int db, Found found) {
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
  // The first max_problems of each kind: many of one kind hide no other.
  size_t of_kind = 0;
  for (const VerifyProblem& p : report_.problems) of_kind += p.kind == found.difference.kind;
  if (of_kind >= options_.max_problems) return;
  VerifyTarget& target = targets_[found.target];
  if (target.is_cluster() && db == 0) {
    const VerifyServer* node = found.node != nullptr ? found.node : &target.ServerOf(found.key);
    absl::StrAppend(&found.difference.detail, " (node ", node->endpoint.address.ToString(), ")");
  }
  report_.problems.push_back({db, std::move(found.key), target.name, found.difference.kind,
                              std::move(found.difference.detail)});
}

absl::Status Verifier::Cancelled() const {
  if (options_.cancel != nullptr && options_.cancel->load()) {
    return absl::CancelledError("cancelled");
  }
  return absl::OkStatus();
}

void Verifier::Progress(bool force) {
  if (!options_.on_progress) return;
  absl::Time now = absl::Now();
  if (!force && now - last_progress_ < options_.progress_interval) return;
  last_progress_ = now;
  report_.duration = now - report_.started;
  options_.on_progress(report_);
}

asio::awaitable<void> Verifier::Sleep(absl::Duration duration) {
  asio::steady_timer timer(executor_);
  timer.expires_after(absl::ToChronoNanoseconds(duration));
  asio::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> Verifier::Pace(Pacer* pacer, uint64_t keys) {
  if (options_.rate_keys_per_second <= 0) co_return;
  absl::Time now = absl::Now();
  if (pacer->start == absl::InfinitePast()) pacer->start = now;
  pacer->keys += keys;
  absl::Time due = pacer->start +
                   absl::Seconds(static_cast<double>(pacer->keys) / options_.rate_keys_per_second);
  if (due > now) co_await Sleep(due - now);
}

namespace {

absl::StatusOr<std::vector<VerifyTarget>> ResolveTargets(const JobSpec& spec,
                                                         const VerifyOptions& options) {
  std::vector<VerifyTarget> targets;
  for (size_t i = 0; i < spec.targets.size(); ++i) {
    const TargetSpec& target = spec.targets[i];
    VerifyTarget side;
    side.name = target.name;
    side.nodes.resize(1);
    VerifyServer& server = side.nodes[0];
    server.what = absl::StrCat("target '", target.name, "'");
    absl::StatusOr<std::unique_ptr<KeyFilter>> filter = MakeKeyFilter(TargetFilter(target));
    if (!filter.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("targets[", i, "].filter: ", filter.status().message()));
    }
    side.filter = std::move(*filter);
    if (target.cluster.has_value()) {
      // Its masters are read from the cluster (OpenVerifyTarget): the
      // spec's nodes, or the one address given, are the seeds.
      server.endpoint.credentials = target.cluster->credentials;
      server.endpoint.tls = target.cluster->tls;
      if (i < options.target_endpoints.size() && options.target_endpoints[i].has_value()) {
        server.endpoint = *options.target_endpoints[i];
        side.seeds.push_back(server.endpoint.address);
      }
      for (size_t n = 0; n < target.cluster->nodes.size() && side.seeds.empty(); ++n) {
        ASSIGN_OR_RETURN(HostPort seed,
                         ParseHostPort(target.cluster->nodes[n],
                                       absl::StrCat("targets[", i, "].cluster.nodes[", n, "]")));
        side.seeds.push_back(std::move(seed));
      }
      if (side.seeds.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("targets[", i, "] '", target.name, "': a cluster target with no node"));
      }
    } else if (i < options.target_endpoints.size() && options.target_endpoints[i].has_value()) {
      server.endpoint = *options.target_endpoints[i];
    } else if (target.replica.has_value()) {
      ASSIGN_OR_RETURN(
          server.endpoint.address,
          ParseHostPort(target.replica->address, absl::StrCat("targets[", i, "].replica.address")));
      server.endpoint.credentials = target.replica->credentials;
      server.endpoint.tls = target.replica->tls;
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
  VerifyServer source;
  source.what = "source";
  ASSIGN_OR_RETURN(source.endpoint.address, ParseHostPort(spec.source.address, "source.address"));
  source.endpoint.credentials = spec.source.credentials;
  source.endpoint.tls = spec.source.tls;
  ASSIGN_OR_RETURN(std::vector<VerifyTarget> targets, ResolveTargets(spec, options));
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
