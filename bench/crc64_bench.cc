// CRC64/Jones throughput (the reader hashes every input byte, each writer
// every output byte).

#include <benchmark/benchmark.h>

#include <string>

#include "engine/crc64.h"

namespace reshard::engine {
namespace {

void BM_Crc64(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + 7);
  uint64_t crc = 0;
  for (auto _ : state) {
    crc = Crc64(crc, data);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc64)->Arg(64)->Arg(4096)->Arg(1 << 20);

}  // namespace
}  // namespace reshard::engine
