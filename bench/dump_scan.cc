// reshard_dump_scan: the raw rate of pipelined DUMP reads of every key of one
// Redis db, the baseline of bench/verify_bench.sh. Each round trip carries the
// DUMP of every key of the last SCAN batch and the next SCAN, as the
// verifier's do.
//
//   reshard_dump_scan --port P [--count N] [--db D]
//
// Prints one line of JSON: {"keys":N,"bytes":B,"seconds":S,"keys_per_second":R}.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/blocking_connection.h"

int main(int argc, char** argv) {
  int port = 0, db = 0;
  std::string count = "1000";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--port") port = std::atoi(argv[i + 1]);
    if (arg == "--count") count = argv[i + 1];
    if (arg == "--db") db = std::atoi(argv[i + 1]);
  }
  if (port <= 0) {
    std::fprintf(stderr, "usage: reshard_dump_scan --port P [--count N] [--db D]\n");
    return 2;
  }
  reshard::bench::BlockingConnection connection;
  if (!connection.Open("127.0.0.1", port) ||
      !connection.Command({"SELECT", std::to_string(db)}).has_value()) {
    std::fprintf(stderr, "reshard_dump_scan: cannot connect to port %d\n", port);
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  std::optional<reshard::engine::RespValue> scan =
      connection.Command({"SCAN", "0", "COUNT", count});
  uint64_t keys = 0, bytes = 0;
  while (scan.has_value() && scan->elements.size() == 2) {
    const std::string cursor = scan->elements[0].str;
    std::vector<reshard::engine::RespValue>& batch = scan->elements[1].elements;
    std::string request;
    for (const reshard::engine::RespValue& key : batch) {
      reshard::engine::AppendCommand(&request, {"DUMP", key.str});
    }
    const bool more = cursor != "0";
    if (more) reshard::engine::AppendCommand(&request, {"SCAN", cursor, "COUNT", count});
    std::vector<reshard::engine::RespValue> replies;
    if (!connection.RoundTrip(request, batch.size() + (more ? 1 : 0), &replies)) return 1;
    keys += batch.size();
    for (size_t i = 0; i < batch.size(); ++i) bytes += replies[i].str.size();
    if (!more) break;
    scan = std::move(replies.back());
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"keys\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"keys_per_second\":%.0f}\n",
              static_cast<unsigned long long>(keys), static_cast<unsigned long long>(bytes),
              seconds, keys / seconds);
  return 0;
}
