// reshard_plain_switch: the fastest hand-written switch to a plain replica,
// the baseline of bench/cutover_pause.sh. On the source, in one MULTI/EXEC,
// CLIENT PAUSE <ms> WRITE and INFO replication (its master_repl_offset F);
// then INFO replication on the replica in a tight loop until its
// slave_repl_offset reaches F; REPLICAOF NO ONE on the replica; CLIENT UNPAUSE.
// (WAIT would not do: a source whose writes are paused sends its replicas no
// GETACK, so WAIT waits for their once-a-second ACK.)
//
//   reshard_plain_switch --source-port P --replica-port R [--pause-ms MS]
//
// Prints one line of JSON: {"write_pause_ms":X,"final_offset":F}; exit 1 when
// the replica did not reach F within the pause.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bench/blocking_connection.h"

namespace {

using Clock = std::chrono::steady_clock;

// The number after "<field>:" in an INFO reply; -1 when missing.
long long InfoNumber(const std::string& info, std::string_view field) {
  std::string key = std::string(field) + ":";
  size_t at = info.find(key);
  if (at == std::string::npos) return -1;
  return std::atoll(info.c_str() + at + key.size());
}

}  // namespace

int main(int argc, char** argv) {
  int source_port = 0, replica_port = 0, pause_ms = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--source-port") source_port = std::atoi(argv[i + 1]);
    if (arg == "--replica-port") replica_port = std::atoi(argv[i + 1]);
    if (arg == "--pause-ms") pause_ms = std::atoi(argv[i + 1]);
  }
  if (source_port <= 0 || replica_port <= 0) {
    std::fprintf(stderr,
                 "usage: reshard_plain_switch --source-port P --replica-port R [--pause-ms MS]\n");
    return 2;
  }
  reshard::bench::BlockingConnection source, replica;
  if (!source.Open("127.0.0.1", source_port) || !replica.Open("127.0.0.1", replica_port)) {
    std::fprintf(stderr, "reshard_plain_switch: cannot connect\n");
    return 1;
  }
  std::string request;
  reshard::engine::AppendCommand(&request, {"MULTI"});
  reshard::engine::AppendCommand(&request, {"CLIENT", "PAUSE", std::to_string(pause_ms), "WRITE"});
  reshard::engine::AppendCommand(&request, {"INFO", "replication"});
  reshard::engine::AppendCommand(&request, {"EXEC"});
  std::vector<reshard::engine::RespValue> replies;
  if (!source.RoundTrip(request, 4, &replies) || replies[3].elements.size() != 2) {
    std::fprintf(stderr, "reshard_plain_switch: CLIENT PAUSE failed\n");
    return 1;
  }
  const Clock::time_point paused = Clock::now();
  const long long final_offset = InfoNumber(replies[3].elements[1].str, "master_repl_offset");
  bool caught_up = false;
  while (Clock::now() - paused < std::chrono::milliseconds(pause_ms)) {
    std::optional<reshard::engine::RespValue> info = replica.Command({"INFO", "replication"});
    if (!info.has_value()) break;
    if (InfoNumber(info->str, "slave_repl_offset") >= final_offset) {
      caught_up = true;
      break;
    }
  }
  if (caught_up) replica.Command({"REPLICAOF", "NO", "ONE"});
  source.Command({"CLIENT", "UNPAUSE"});
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - paused).count();
  std::printf("{\"write_pause_ms\":%.3f,\"final_offset\":%lld}\n", ms, final_offset);
  return caught_up ? 0 : 1;
}
