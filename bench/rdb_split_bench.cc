// RDB split throughput: a generated string-heavy RDB (in memory) split into
// two targets by a cheap filter, outputs discarded after counting.

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "engine/io/string_byte_source.h"
#include "engine/rdb/crc64.h"
#include "engine/rdb/rdb_reader.h"
#include "engine/rdb/rdb_writer.h"
#include "engine/route/key_filter.h"
#include "engine/route/rdb_splitter.h"

namespace reshard::engine {
namespace {

class ParityFilter : public KeyFilter {
 public:
  explicit ParityFilter(int parity) : parity_(parity) {}
  bool Matches(std::string_view key) const override { return (key.back() & 1) == parity_; }
  std::string Describe() const override { return "parity"; }

 private:
  int parity_;
};

class CountingSink : public RdbSink {
 public:
  void Write(std::string_view data) override { bytes += data.size(); }
  uint64_t bytes = 0;
};

// RDB 10 with `keys` string keys "key:<n>" of `value_size` bytes each.
std::string GenerateRdb(int keys, int value_size) {
  std::string rdb = "REDIS0010";
  rdb +=
      "\xfa\x09redis-ver\x06"
      "7.0.15";
  rdb += "\xfe";
  rdb += RdbWriter::EncodeLength(0);
  std::string value(static_cast<size_t>(value_size), 'v');
  std::string encoded_len = RdbWriter::EncodeLength(value.size());
  for (int i = 0; i < keys; ++i) {
    std::string key = "key:" + std::to_string(i);
    rdb.push_back('\0');
    rdb += RdbWriter::EncodeLength(key.size());
    rdb += key;
    rdb += encoded_len;
    rdb += value;
  }
  rdb.push_back('\xff');
  uint64_t crc = Crc64(0, rdb);
  for (int i = 0; i < 8; ++i) rdb.push_back(static_cast<char>(crc >> (8 * i)));
  return rdb;
}

// The input is copied into the source (and freed) outside the timed region:
// a live job reads from a socket buffer, so only the split itself is timed.
void RunSplit(benchmark::State& state) {
  const std::string rdb =
      GenerateRdb(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  ParityFilter even(0), odd(1);
  for (auto _ : state) {
    state.PauseTiming();
    auto src = std::make_unique<StringByteSource>(rdb);
    state.ResumeTiming();
    CountingSink a, b;
    RdbSplitter splitter({{&even, &a}, {&odd, &b}});
    RdbReader reader(src.get(), &splitter);
    absl::Status s = RunRdbReaderSync(reader);
    if (!s.ok()) state.SkipWithError(std::string(s.message()).c_str());
    benchmark::DoNotOptimize(a.bytes + b.bytes);
    state.PauseTiming();
    src.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(rdb.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void BM_RdbSplit(benchmark::State& state) { RunSplit(state); }

// The same with the table CRC64 forced: what the folding CRC is worth.
void BM_RdbSplitTableCrc(benchmark::State& state) {
  internal::ForceCrc64TableForTesting(true);
  RunSplit(state);
  internal::ForceCrc64TableForTesting(false);
}

// 1M small keys (100-byte values) and 100k keys of 2 KB.
BENCHMARK(BM_RdbSplit)->Args({1000000, 100})->Args({100000, 2048})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RdbSplitTableCrc)
    ->Args({1000000, 100})
    ->Args({100000, 2048})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace reshard::engine
