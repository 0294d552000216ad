// libFuzzer target for RdbReader + RdbSplitter. Properties checked:
//  - no crash, hang or unbounded allocation on any input;
//  - a whole-buffer source and a source handing out small steps (size from
//    the first input byte) agree on success and on the error code;
//  - when the input parses, each target's output parses too, and the two
//    targets together hold exactly the input's entries.
//
// Seed it with the RDB fixtures, e.g.
//   ./rdb_reader_fuzz -max_total_time=60 corpus/ tests/fixtures/rdb/*/

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/io/string_byte_source.h"
#include "engine/rdb/rdb_reader.h"
#include "engine/route/key_filter.h"
#include "engine/route/rdb_splitter.h"

namespace reshard::engine {
namespace {

class ParityFilter : public KeyFilter {
 public:
  explicit ParityFilter(size_t parity) : parity_(parity) {}
  bool Matches(std::string_view key) const override { return key.size() % 2 == parity_; }
  std::string Describe() const override { return "parity"; }

 private:
  size_t parity_;
};

class CountingHandler : public RdbHandler {
 public:
  void OnHeader(int, std::string_view) override {}
  void OnAux(std::string_view, std::string_view, std::string_view) override {}
  void OnGlobal(uint8_t, std::string_view) override {}
  void OnSelectDb(int) override {}
  bool OnEntryBegin(const RdbEntry&) override {
    ++entries;
    return true;
  }
  void OnValueChunk(std::string_view chunk) override { value_bytes += chunk.size(); }
  void OnEntryEnd() override {}
  void OnEnd() override { ended = true; }
  uint64_t entries = 0;
  uint64_t value_bytes = 0;
  bool ended = false;
};

RdbReader::Limits FuzzLimits() {
  RdbReader::Limits limits;
  limits.max_key = 1 << 20;
  limits.max_string = 16 << 20;
  limits.max_elements = 1 << 24;
  return limits;
}

absl::Status Parse(const std::string& data, size_t max_chunk, RdbHandler* h) {
  StringByteSource src(data, max_chunk);
  RdbReader reader(&src, h, FuzzLimits());
  return RunRdbReaderSync(reader);
}

}  // namespace
}  // namespace reshard::engine

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reshard::engine;
  if (size < 1) return 0;
  size_t step = 1 + data[0] % 17;
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);

  ParityFilter even(0), odd(1);
  StringRdbSink a, b;
  RdbSplitter splitter({{&even, &a}, {&odd, &b}});
  absl::Status whole = Parse(input, StringByteSource::kUnlimited, &splitter);

  CountingHandler stepped;
  absl::Status chunked = Parse(input, step, &stepped);
  if (whole.ok() != chunked.ok() || whole.code() != chunked.code()) std::abort();
  if (!whole.ok()) {
    if (splitter.finished() || stepped.ended) std::abort();
    return 0;
  }
  CountingHandler out_a, out_b;
  if (!Parse(a.data(), StringByteSource::kUnlimited, &out_a).ok()) std::abort();
  if (!Parse(b.data(), StringByteSource::kUnlimited, &out_b).ok()) std::abort();
  if (out_a.entries + out_b.entries != stepped.entries) std::abort();
  if (out_a.value_bytes + out_b.value_bytes != stepped.value_bytes) std::abort();
  return 0;
}
