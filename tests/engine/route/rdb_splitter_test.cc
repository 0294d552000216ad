#include "engine/route/rdb_splitter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "engine/io/string_byte_source.h"
#include "engine/rdb/rdb_format.h"
#include "engine/rdb/rdb_reader.h"
#include "engine/rdb/rdb_writer.h"
#include "tests/support/rdb_builder.h"
#include "tests/support/recording_rdb_handler.h"

namespace reshard::engine {
namespace {

using ::reshard::engine::testing::RdbBuilder;
using ::reshard::engine::testing::RecordingRdbHandler;
using ::testing::ElementsAre;

class LambdaFilter : public KeyFilter {
 public:
  explicit LambdaFilter(std::function<bool(std::string_view)> f) : f_(std::move(f)) {}
  bool Matches(std::string_view key) const override { return f_(key); }
  std::string Describe() const override { return "lambda"; }

 private:
  std::function<bool(std::string_view)> f_;
};

LambdaFilter Prefix(std::string p) {
  return LambdaFilter([p](std::string_view k) { return k.substr(0, p.size()) == p; });
}

absl::Status RunSplit(const std::string& rdb, RdbSplitter* splitter,
                      size_t max_chunk = StringByteSource::kUnlimited) {
  StringByteSource src(rdb, max_chunk);
  RdbReader reader(&src, splitter);
  return RunRdbReaderSync(reader);
}

TEST(RdbSplitterTest, RoutesToEveryMatchingTargetAndCounts) {
  LambdaFilter a = Prefix("a"), b = Prefix("b"), ab = Prefix("ab");
  StringRdbSink sa, sb, sab;
  RdbSplitter splitter({{&a, &sa}, {&b, &sb}, {&ab, &sab}});
  std::string rdb = RdbBuilder(10)
                        .SelectDb(0)
                        .StringKey("a1", "x")
                        .StringKey("b1", "y")
                        .StringKey("ab", "z")
                        .StringKey("c1", "w")
                        .Finish();
  ASSERT_TRUE(RunSplit(rdb, &splitter).ok());
  EXPECT_TRUE(splitter.finished());
  EXPECT_EQ(splitter.keys_read(), 4u);
  EXPECT_EQ(splitter.keys_unmatched(), 1u);      // c1
  EXPECT_EQ(splitter.keys_multi_matched(), 1u);  // ab (targets a and ab)
  EXPECT_EQ(splitter.keys_kept(0), 2u);
  EXPECT_EQ(splitter.keys_dropped(0), 2u);
  EXPECT_EQ(splitter.keys_kept(1), 1u);
  EXPECT_EQ(splitter.keys_kept(2), 1u);
  EXPECT_EQ(splitter.bytes_written(0), sa.data().size());
  EXPECT_EQ(splitter.rdb_version(), 10);

  // Exact bytes: header, a lazy SELECTDB 0, the two kept entries, EOF, CRC.
  EXPECT_EQ(sa.data(),
            RdbBuilder(10).SelectDb(0).StringKey("a1", "x").StringKey("ab", "z").Finish());
  EXPECT_EQ(sb.data(), RdbBuilder(10).SelectDb(0).StringKey("b1", "y").Finish());
}

// Regression: targets loaded 1M keys ~70% slower than a direct replica when
// RESIZEDB was dropped (their hash tables rehashed all the way up).
TEST(RdbSplitterTest, SelectDbIsWrittenLazilyWithItsResizeDbHint) {
  LambdaFilter only_z = Prefix("z");
  StringRdbSink sink;
  RdbSplitter splitter({{&only_z, &sink}});
  std::string rdb = RdbBuilder(9)
                        .SelectDb(0)
                        .ResizeDb(1, 0)
                        .StringKey("a", "1")
                        .SelectDb(1)
                        .ResizeDb(0, 0)
                        .SelectDb(2)
                        .ResizeDb(2, 1)
                        .ExpireMs(1893456000000ULL)
                        .StringKey("z1", "2")
                        .StringKey("z2", "3")
                        .Finish();
  ASSERT_TRUE(RunSplit(rdb, &splitter).ok());
  EXPECT_EQ(sink.data(), RdbBuilder(9)
                             .SelectDb(2)
                             .ResizeDb(2, 1)
                             .ExpireMs(1893456000000ULL)
                             .StringKey("z1", "2")
                             .StringKey("z2", "3")
                             .Finish());
}

TEST(RdbSplitterTest, ResizeDbHintIsEachTargetsShare) {
  LambdaFilter a = Prefix("a");
  LambdaFilter b = Prefix("b");
  LambdaFilter c = Prefix("c");
  StringRdbSink sa, sb, sc;
  RdbSplitter splitter({{&a, &sa}, {&b, &sb}, {&c, &sc}});
  std::string rdb =
      RdbBuilder(10).SelectDb(0).ResizeDb(7, 2).StringKey("a1", "x").StringKey("b1", "y").Finish();
  ASSERT_TRUE(RunSplit(rdb, &splitter).ok());
  // ceil(7 / 3) = 3, ceil(2 / 3) = 1; a target with no key gets no SELECTDB.
  EXPECT_EQ(sa.data(), RdbBuilder(10).SelectDb(0).ResizeDb(3, 1).StringKey("a1", "x").Finish());
  EXPECT_EQ(sb.data(), RdbBuilder(10).SelectDb(0).ResizeDb(3, 1).StringKey("b1", "y").Finish());
  EXPECT_EQ(sc.data(), RdbBuilder(10).Finish());
}

TEST(RdbSplitterTest, ReplicationAuxDroppedGlobalsCopiedEverywhere) {
  LambdaFilter none([](std::string_view) { return false; });
  LambdaFilter all([](std::string_view) { return true; });
  StringRdbSink s1, s2;
  RdbSplitter splitter({{&none, &s1}, {&all, &s2}});
  std::string function2 = RdbBuilder::Fragment().Byte(245).Str("#!lua name=lib").bytes();
  std::string rdb = RdbBuilder(10)
                        .Aux("redis-ver", "7.0.15")
                        .Aux("repl-stream-db", "3")
                        .Aux("repl-id", std::string(40, 'f'))
                        .Aux("repl-offset", "12345")
                        .Raw(function2)
                        .SelectDb(3)
                        .StringKey("k", "v")
                        .Finish();
  ASSERT_TRUE(RunSplit(rdb, &splitter).ok());
  EXPECT_EQ(splitter.source_stream_db(), 3);
  EXPECT_EQ(s1.data(), RdbBuilder(10).Aux("redis-ver", "7.0.15").Raw(function2).Finish());
  EXPECT_EQ(s2.data(), RdbBuilder(10)
                           .Aux("redis-ver", "7.0.15")
                           .Raw(function2)
                           .SelectDb(3)
                           .StringKey("k", "v")
                           .Finish());
}

TEST(RdbSplitterTest, SourceStreamDbAbsentIsMinusOne) {
  LambdaFilter all([](std::string_view) { return true; });
  StringRdbSink sink;
  RdbSplitter splitter({{&all, &sink}});
  ASSERT_TRUE(RunSplit(RdbBuilder(10).Finish(), &splitter).ok());
  EXPECT_EQ(splitter.source_stream_db(), -1);
  EXPECT_EQ(sink.data(), RdbBuilder(10).Finish());
}

TEST(RdbSplitterTest, ValkeySlotImportIsNotPassedOn) {
  LambdaFilter all([](std::string_view) { return true; });
  StringRdbSink sink;
  RdbSplitter splitter({{&all, &sink}});
  std::string rdb = RdbBuilder(80, true)
                        .Byte(243)
                        .Str(std::string(40, 'n'))
                        .Len(1)
                        .Len(0)
                        .Len(10)
                        .SelectDb(0)
                        .StringKey("k", "v")
                        .Finish();
  ASSERT_TRUE(RunSplit(rdb, &splitter).ok());
  EXPECT_EQ(sink.data(), RdbBuilder(80, true).SelectDb(0).StringKey("k", "v").Finish());
}

TEST(RdbSplitterTest, CorruptInputNeverCompletesATarget) {
  LambdaFilter all([](std::string_view) { return true; });
  std::string rdb = RdbBuilder(10).SelectDb(0).StringKey("k", "v").Finish();
  rdb[rdb.size() - 3] ^= 0x40;  // break the CRC
  StringRdbSink sink;
  RdbSplitter splitter({{&all, &sink}});
  absl::Status s = RunSplit(rdb, &splitter);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(splitter.finished());
  // No EOF was written: what the sink got does not parse as a whole RDB.
  RecordingRdbHandler h;
  StringByteSource src(sink.data());
  RdbReader reader(&src, &h);
  EXPECT_EQ(RunRdbReaderSync(reader).code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(h.ended);
}

TEST(RdbSplitterTest, ByteAtATimeSourceGivesIdenticalOutput) {
  LambdaFilter a = Prefix("a"), rest([](std::string_view k) { return k.substr(0, 1) != "a"; });
  RdbBuilder b(11);
  b.Aux("redis-ver", "7.2.4").SelectDb(0);
  for (int i = 0; i < 50; ++i) {
    std::string key = (i % 3 ? "a" : "b") + std::to_string(i);
    b.Byte(0).Str(key).Str(std::string(i * 37, 'v'));
    b.Byte(rdb::kTypeList).Str("l" + key).Len(2).Int8Str(-3).LzfStr(std::string(90, 'q'));
  }
  std::string rdb = b.Finish();
  std::string expected[2];
  for (size_t chunk : {StringByteSource::kUnlimited, size_t{1}, size_t{13}}) {
    StringRdbSink s1, s2;
    RdbSplitter splitter({{&a, &s1}, {&rest, &s2}});
    ASSERT_TRUE(RunSplit(rdb, &splitter, chunk).ok());
    if (chunk == StringByteSource::kUnlimited) {
      expected[0] = s1.data();
      expected[1] = s2.data();
      continue;
    }
    EXPECT_EQ(s1.data(), expected[0]) << chunk;
    EXPECT_EQ(s2.data(), expected[1]) << chunk;
  }
}

// A sink whose consumer "drains" only in WaitWritable: backlogged once more
// than 2000 bytes are pending. Counts the waits; optionally fails them.
class SlowSink : public StringRdbSink {
 public:
  bool Backlogged() const override { return data().size() - drained_ > 2000; }
  asio::awaitable<absl::Status> WaitWritable() override {
    ++waits;
    drained_ = data().size();
    co_return fail ? absl::UnavailableError("target went away") : absl::OkStatus();
  }
  int waits = 0;
  bool fail = false;

 private:
  size_t drained_ = 0;
};

TEST(RdbSplitterTest, FlowControlWaitsForBackloggedSinks) {
  LambdaFilter all([](std::string_view) { return true; });
  RdbBuilder b(10);
  b.SelectDb(0);
  for (int i = 0; i < 20; ++i) b.StringKey("k" + std::to_string(i), std::string(20000, 'x'));
  std::string rdb = b.Finish();
  SlowSink sink;
  RdbSplitter splitter({{&all, &sink}});
  ASSERT_TRUE(RunSplit(rdb, &splitter, 3000).ok());  // small steps: waits between chunks too
  EXPECT_GE(sink.waits, 5);
  StringRdbSink plain;
  RdbSplitter reference({{&all, &plain}});
  ASSERT_TRUE(RunSplit(rdb, &reference).ok());
  EXPECT_EQ(sink.data(), plain.data());

  SlowSink failing;
  failing.fail = true;
  RdbSplitter aborted({{&all, &failing}});
  EXPECT_EQ(RunSplit(rdb, &aborted), absl::UnavailableError("target went away"));
  EXPECT_FALSE(aborted.finished());
}

TEST(RdbWriterTest, EncodeLength) {
  EXPECT_EQ(RdbWriter::EncodeLength(0), std::string(1, '\0'));
  EXPECT_EQ(RdbWriter::EncodeLength(63), "\x3f");
  EXPECT_EQ(RdbWriter::EncodeLength(64), "\x40\x40");
  EXPECT_EQ(RdbWriter::EncodeLength(16383), "\x7f\xff");
  EXPECT_EQ(RdbWriter::EncodeLength(16384), std::string("\x80\x00\x00\x40\x00", 5));
  EXPECT_EQ(RdbWriter::EncodeLength(0x100000000ULL), std::string("\x81\0\0\0\x01\0\0\0\0", 9));
}

}  // namespace
}  // namespace reshard::engine
