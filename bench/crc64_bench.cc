// CRC64/Jones throughput (the reader hashes every input byte, each writer
// every output byte). BM_Crc64 is what callers get; the Table/Clmul variants
// pin one implementation (to compare them and tune kCrc64ClmulMinBytes).

#include <benchmark/benchmark.h>

#include <string>

#include "engine/rdb/crc64.h"

namespace reshard::engine {
namespace {

template <uint64_t (*kFn)(uint64_t, std::string_view)>
void BM_Crc64Impl(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + 7);
  uint64_t crc = 0;
  for (auto _ : state) {
    crc = kFn(crc, data);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void BM_Crc64(benchmark::State& state) { BM_Crc64Impl<&Crc64>(state); }
void BM_Crc64Table(benchmark::State& state) { BM_Crc64Impl<&internal::Crc64Table>(state); }
void BM_Crc64Clmul(benchmark::State& state) {
  if (!internal::Crc64ClmulAvailable()) {
    state.SkipWithError("no PCLMULQDQ on this CPU");
    return;
  }
  BM_Crc64Impl<&internal::Crc64Clmul>(state);
}

BENCHMARK(BM_Crc64)->Arg(24)->Arg(32)->Arg(64)->Arg(4096)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_Crc64Table)
    ->Arg(16)
    ->Arg(32)
    ->Arg(64)
    ->Arg(128)
    ->Arg(4096)
    ->Arg(64 << 10)
    ->Arg(1 << 20);
BENCHMARK(BM_Crc64Clmul)
    ->Arg(16)
    ->Arg(32)
    ->Arg(64)
    ->Arg(128)
    ->Arg(4096)
    ->Arg(64 << 10)
    ->Arg(1 << 20);

}  // namespace
}  // namespace reshard::engine
