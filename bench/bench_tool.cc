// reshard_bench_tool: the measuring and checking steps of bench/run.sh that a
// shell cannot do precisely (millisecond timing without a process per poll,
// an exact compare of a million keys).
//
//   wait-key PORT KEY TIMEOUT_S
//       polls EXISTS KEY every millisecond; prints the seconds it waited.
//   probe --source PORT --target PORT [--target PORT ...] --seconds S [--every-ms N]
//         [--prefix P]
//       every N ms (default 20) SETs P:<i> (default probe:<i>) on the source and times how long
//       each target takes to have it once the source replied; prints per
//       target: probes, p50, p99 and max in ms. Measures how long a plain
//       write waits behind other traffic.
//   compare --source PORT --dbs N --target PORT=REGEX [--target PORT=REGEX ...]
//       every key of dbs [0, N) of the source must be on exactly the targets
//       whose regex selects it (RE2, unanchored, as reshardd's regex filter),
//       with the same DEBUG DIGEST-VALUE and PEXPIRETIME; a target's DBSIZE
//       must equal the number of keys it selects (nothing stray). Prints
//       "exact: K keys" or the first differences (exit 1). Needs
//       --enable-debug-command on every server.
// Exit status 2 on bad arguments, 1 when a check fails or a server errs.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "engine/route/key_filter.h"
#include "tests/support/redis_client.h"

namespace reshard::bench {
namespace {

using testing::RedisClient;
using testing::RespValue;

int Usage(const char* why) {
  std::fprintf(stderr,
               "reshard_bench_tool: %s\nusage: reshard_bench_tool wait-key PORT KEY TIMEOUT_S\n"
               "       reshard_bench_tool probe --source PORT --target PORT... --seconds S "
               "[--every-ms N] [--prefix P]\n"
               "       reshard_bench_tool compare --source PORT --dbs N --target PORT=REGEX...\n",
               why);
  return 2;
}

RedisClient ConnectOrDie(uint16_t port) {
  absl::StatusOr<RedisClient> client = RedisClient::Connect("127.0.0.1", port, absl::Seconds(60));
  if (!client.ok()) {
    std::fprintf(stderr, "reshard_bench_tool: %s\n", client.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*client);
}

bool ParsePort(const std::string& text, uint16_t* port) {
  uint32_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value == 0 || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

// Polls EXISTS `key` every millisecond until it is 1; the seconds waited, or
// a negative number after `timeout`.
double WaitKey(RedisClient& client, const std::string& key, absl::Duration timeout) {
  const absl::Time start = absl::Now();
  while (absl::Now() - start < timeout) {
    absl::StatusOr<RespValue> exists = client.Command({"EXISTS", key});
    if (exists.ok() && exists->integer == 1) return absl::ToDoubleSeconds(absl::Now() - start);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return -1;
}

int WaitKeyMain(const std::vector<std::string>& args) {
  uint16_t port = 0;
  double timeout = 0;
  if (args.size() != 3 || !ParsePort(args[0], &port) || !absl::SimpleAtod(args[2], &timeout)) {
    return Usage("wait-key PORT KEY TIMEOUT_S");
  }
  RedisClient client = ConnectOrDie(port);
  double waited = WaitKey(client, args[1], absl::Seconds(timeout));
  if (waited < 0) {
    std::fprintf(stderr, "reshard_bench_tool: %s not on :%u after %.0f s\n", args[1].c_str(), port,
                 timeout);
    return 1;
  }
  std::printf("%.3f\n", waited);
  return 0;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = std::min(values.size() - 1, static_cast<size_t>(p * (values.size() - 1) + 0.5));
  return values[index];
}

int ProbeMain(const std::vector<std::string>& args) {
  uint16_t source_port = 0;
  std::vector<uint16_t> target_ports;
  double seconds = 0;
  int every_ms = 20;
  std::string prefix = "probe";
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    uint16_t port = 0;
    if (args[i] == "--source" && ParsePort(args[i + 1], &source_port)) continue;
    if (args[i] == "--target" && ParsePort(args[i + 1], &port)) {
      target_ports.push_back(port);
      continue;
    }
    if (args[i] == "--seconds" && absl::SimpleAtod(args[i + 1], &seconds)) continue;
    if (args[i] == "--every-ms" && absl::SimpleAtoi(args[i + 1], &every_ms)) continue;
    if (args[i] == "--prefix") {
      prefix = args[i + 1];
      continue;
    }
    return Usage(absl::StrCat("probe: bad argument ", args[i]).c_str());
  }
  if (source_port == 0 || target_ports.empty() || seconds <= 0 || args.size() % 2 != 0) {
    return Usage("probe needs --source, --target and --seconds");
  }
  RedisClient source = ConnectOrDie(source_port);
  std::vector<RedisClient> targets;
  for (uint16_t port : target_ports) targets.push_back(ConnectOrDie(port));
  std::vector<std::vector<double>> latency(targets.size());
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  for (int i = 0; absl::Now() < end; ++i) {
    const std::string key = absl::StrCat(prefix, ":", i);
    const absl::Time sent = absl::Now();
    if (!source.CheckedCommand({"SET", key, "1"}).ok()) return 1;
    // From the source's reply: the write is done there, what follows is
    // the replica's or reshardd's delay (not the source's queue).
    const absl::Time start = absl::Now();
    // Every target polled each 100 µs until each has it (finer than the
    // hops measured, so the first polled is not a millisecond behind): one slow
    // target does not add to another's figure.
    std::vector<bool> seen(targets.size(), false);
    size_t left = targets.size();
    while (left > 0) {
      for (size_t t = 0; t < targets.size(); ++t) {
        if (seen[t]) continue;
        absl::StatusOr<RespValue> exists = targets[t].Command({"EXISTS", key});
        if (!exists.ok() || exists->integer != 1) continue;
        seen[t] = true;
        --left;
        latency[t].push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
      }
      if (left == 0) break;
      if (absl::Now() - start > absl::Seconds(60)) {
        std::fprintf(stderr, "reshard_bench_tool: %s not on every target after 60 s\n",
                     key.c_str());
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    absl::Time next = sent + absl::Milliseconds(every_ms);
    if (absl::Now() < next) absl::SleepFor(next - absl::Now());
  }
  for (size_t t = 0; t < targets.size(); ++t) {
    std::printf(":%u probes %zu p50 %.1f p99 %.1f max %.1f\n", target_ports[t], latency[t].size(),
                Percentile(latency[t], 0.5), Percentile(latency[t], 0.99),
                Percentile(latency[t], 1.0));
  }
  return 0;
}

struct CompareTarget {
  uint16_t port = 0;
  std::unique_ptr<engine::KeyFilter> filter;
  std::unique_ptr<RedisClient> client;
};

// DEBUG DIGEST-VALUE and PEXPIRETIME of `keys` in `db`, one string per key.
absl::StatusOr<std::vector<std::string>> Fingerprints(RedisClient& client, int db,
                                                      const std::vector<std::string>& keys) {
  std::vector<std::vector<std::string>> commands;
  commands.push_back({"SELECT", std::to_string(db)});
  std::vector<std::string> digest = {"DEBUG", "DIGEST-VALUE"};
  digest.insert(digest.end(), keys.begin(), keys.end());
  commands.push_back(std::move(digest));
  for (const std::string& key : keys) commands.push_back({"PEXPIRETIME", key});
  absl::StatusOr<std::vector<RespValue>> replies = client.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  for (const RespValue& reply : *replies) {
    if (reply.IsError()) return absl::UnknownError(absl::StrCat(client.peer(), ": ", reply.str));
  }
  const RespValue& digests = (*replies)[1];
  if (digests.elements.size() != keys.size()) {
    return absl::UnknownError("DEBUG DIGEST-VALUE: unexpected reply");
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    out.push_back(absl::StrCat(digests.elements[i].str, " expires ", (*replies)[2 + i].integer));
  }
  return out;
}

int CompareMain(const std::vector<std::string>& args) {
  uint16_t source_port = 0;
  int dbs = 1;
  std::vector<CompareTarget> targets;
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--source" && ParsePort(args[i + 1], &source_port)) continue;
    if (args[i] == "--dbs" && absl::SimpleAtoi(args[i + 1], &dbs) && dbs > 0) continue;
    if (args[i] == "--target") {
      std::vector<std::string> parts = absl::StrSplit(args[i + 1], absl::MaxSplits('=', 1));
      CompareTarget target;
      if (parts.size() == 2 && ParsePort(parts[0], &target.port)) {
        absl::StatusOr<std::unique_ptr<engine::KeyFilter>> filter =
            engine::MakeKeyFilter({engine::FilterKind::kRegex, parts[1]});
        if (!filter.ok()) return Usage(std::string(filter.status().message()).c_str());
        target.filter = std::move(*filter);
        targets.push_back(std::move(target));
        continue;
      }
    }
    return Usage(absl::StrCat("compare: bad argument ", args[i]).c_str());
  }
  if (source_port == 0 || targets.empty() || args.size() % 2 != 0) {
    return Usage("compare needs --source and --target");
  }
  RedisClient source = ConnectOrDie(source_port);
  for (CompareTarget& target : targets) {
    target.client = std::make_unique<RedisClient>(ConnectOrDie(target.port));
  }
  constexpr size_t kChunk = 1000;
  std::vector<std::string> problems;
  size_t total = 0;
  auto fail = [](const absl::Status& status) {
    std::fprintf(stderr, "reshard_bench_tool: %s\n", status.ToString().c_str());
    return 1;
  };
  for (int db = 0; db < dbs; ++db) {
    absl::StatusOr<std::vector<std::string>> keys = source.Keys(db);
    if (!keys.ok()) return fail(keys.status());
    total += keys->size();
    for (CompareTarget& target : targets) {
      std::vector<std::string> mine;
      for (const std::string& key : *keys) {
        if (target.filter->Matches(key)) mine.push_back(key);
      }
      if (!target.client->CheckedCommand({"SELECT", std::to_string(db)}).ok()) return 1;
      absl::StatusOr<RespValue> size = target.client->CheckedCommand({"DBSIZE"});
      if (!size.ok()) return fail(size.status());
      if (static_cast<size_t>(size->integer) != mine.size()) {
        problems.push_back(absl::StrCat("db ", db, " target :", target.port, ": ", size->integer,
                                        " keys, the source has ", mine.size(), " for it"));
      }
      for (size_t from = 0; from < mine.size() && problems.size() < 20; from += kChunk) {
        std::vector<std::string> chunk(mine.begin() + from,
                                       mine.begin() + std::min(mine.size(), from + kChunk));
        absl::StatusOr<std::vector<std::string>> want = Fingerprints(source, db, chunk);
        absl::StatusOr<std::vector<std::string>> got = Fingerprints(*target.client, db, chunk);
        if (!want.ok()) return fail(want.status());
        if (!got.ok()) return fail(got.status());
        for (size_t i = 0; i < chunk.size() && problems.size() < 20; ++i) {
          if ((*want)[i] == (*got)[i]) continue;
          problems.push_back(absl::StrCat("db ", db, " key '", chunk[i], "' on :", target.port,
                                          ": source ", (*want)[i], ", target ", (*got)[i]));
        }
      }
    }
  }
  if (!problems.empty()) {
    for (const std::string& problem : problems) std::printf("%s\n", problem.c_str());
    return 1;
  }
  std::printf("exact: %zu keys\n", total);
  return 0;
}

}  // namespace
}  // namespace reshard::bench

int main(int argc, char** argv) {
  if (argc < 2) return reshard::bench::Usage("no command");
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "wait-key") return reshard::bench::WaitKeyMain(args);
  if (command == "probe") return reshard::bench::ProbeMain(args);
  if (command == "compare") return reshard::bench::CompareMain(args);
  return reshard::bench::Usage("unknown command");
}
