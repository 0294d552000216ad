// reshard_write_load: a steady write load on one Redis, and what a client of
// it sees: how long its writes waited. Used by bench/cutover_pause.sh to
// measure a cutover's write pause from the client's side.
//
//   reshard_write_load --port P [--host H] [--rate WRITES_PER_S] [--seconds S]
//                      [--value-size B]
//
// Every millisecond it sends rate/1000 SETs (keys "<d>:live:<i>", d = i % 10,
// so a ^[0-4] / ^[5-9] split sees both halves) in one pipeline and reads the
// replies; a batch that waited (a paused source) is followed by the backlog, so
// the offered rate stays `rate` on average. It runs until SIGTERM / SIGINT or
// `seconds`, then prints one line of JSON:
//   {"writes":N,"seconds":S,"max_latency_ms":X,"p99_latency_ms":Y,"errors":E}
// where a batch's latency is from its send to its last reply.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/blocking_connection.h"
#include "engine/resp/resp_writer.h"

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> stop{false};

void OnSignal(int) { stop = true; }

int Usage() {
  std::fprintf(stderr,
               "usage: reshard_write_load --port P [--host H] [--rate WRITES_PER_S] "
               "[--seconds S] [--value-size B]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 0;
  double rate = 10000;
  double seconds = 0;
  size_t value_size = 16;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (arg == "--port" && (v = value())) {
      port = std::atoi(v);
    } else if (arg == "--host" && (v = value())) {
      host = v;
    } else if (arg == "--rate" && (v = value())) {
      rate = std::atof(v);
    } else if (arg == "--seconds" && (v = value())) {
      seconds = std::atof(v);
    } else if (arg == "--value-size" && (v = value())) {
      value_size = static_cast<size_t>(std::atoi(v));
    } else {
      return Usage();
    }
  }
  if (port <= 0 || rate <= 0) return Usage();
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  reshard::bench::BlockingConnection connection;
  if (!connection.Open(host, port)) {
    std::fprintf(stderr, "reshard_write_load: cannot connect to %s:%d\n", host.c_str(), port);
    return 1;
  }
  const std::string payload(value_size, 'v');
  const Clock::time_point start = Clock::now();
  std::vector<double> latencies;
  uint64_t writes = 0, errors = 0, next_key = 0;
  std::string request;
  for (uint64_t tick = 1; !stop.load(); ++tick) {
    Clock::time_point due = start + std::chrono::microseconds(tick * 1000);
    std::this_thread::sleep_until(due);
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (seconds > 0 && elapsed >= seconds) break;
    // What the rate asks for by now, less what was sent: a batch after a
    // wait carries the backlog.
    uint64_t target = static_cast<uint64_t>(elapsed * rate);
    if (target <= writes) continue;
    size_t batch = static_cast<size_t>(target - writes);
    request.clear();
    for (size_t j = 0; j < batch; ++j, ++next_key) {
      std::string key =
          std::to_string(next_key % 10) + ":live:" + std::to_string(next_key % 100000);
      reshard::engine::AppendCommand(&request, {"SET", key, payload});
    }
    Clock::time_point sent = Clock::now();
    if (!connection.RoundTrip(request, batch, nullptr, &errors)) {
      std::fprintf(stderr, "reshard_write_load: connection lost\n");
      return 1;
    }
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
    writes += batch;
  }
  double total = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  double max = latencies.empty() ? 0 : latencies.back();
  double p99 = latencies.empty() ? 0 : latencies[latencies.size() * 99 / 100];
  std::printf(
      "{\"writes\":%llu,\"seconds\":%.3f,\"max_latency_ms\":%.2f,\"p99_latency_ms\":%.2f,"
      "\"errors\":%llu}\n",
      static_cast<unsigned long long>(writes), total, max, p99,
      static_cast<unsigned long long>(errors));
  return 0;
}
