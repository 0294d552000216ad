#include "engine/link/key_materializer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/resp/resp_reply.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {
namespace {

using Commands = std::vector<std::vector<std::string>>;

// One reply element in RESP, as a source writes it.
std::string Ok() {
  std::string out;
  AppendSimpleString(&out, "OK");
  return out;
}
std::string Bulk(std::string_view s) {
  std::string out;
  AppendBulk(&out, s);
  return out;
}
std::string Int(int64_t n) {
  std::string out;
  AppendInteger(&out, n);
  return out;
}
std::string Err(std::string_view message) {
  std::string out;
  AppendError(&out, message);
  return out;
}
std::string Nil() {
  std::string out;
  AppendNullBulk(&out);
  return out;
}

// `bytes` parsed by the engine's reply parser, as the materialiser reads it.
RespValue Parse(const std::string& bytes) {
  RespReplyParser parser;
  RespValue value;
  size_t consumed = 0;
  EXPECT_EQ(parser.Parse(bytes, &consumed, &value), ParseResult::kOk) << parser.error();
  EXPECT_EQ(consumed, bytes.size());
  return value;
}

// EXEC's reply: an array of the queued commands' replies.
RespValue Exec(std::initializer_list<std::string> replies) {
  std::string bytes;
  AppendArrayHeader(&bytes, replies.size());
  for (const std::string& reply : replies) bytes += reply;
  return Parse(bytes);
}

// INFO replication of a master at `offset`, as Redis 7 words it.
std::string Info(const std::string& offset) {
  return Bulk(
      absl::StrCat("# Replication\r\nrole:master\r\nconnected_slaves:1\r\n"
                   "slave0:ip=127.0.0.1,port=7001,state=online,offset=100,lag=0\r\n"
                   "master_failover_state:no-failover\r\n"
                   "master_replid:8c0ce0b0a2f0b1f6a9dd3fb2c6fd1f8b7de4e5a1\r\n"
                   "master_replid2:0000000000000000000000000000000000000000\r\n"
                   "master_repl_offset:",
                   offset,
                   "\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:1\r\n"
                   "repl_backlog_size:1048576\r\n"));
}

// A DUMP payload: binary, with CR, LF and NUL in it.
const std::string kPayload(
    "\x00\x03"
    "a\r\nb\x0b\x00\x8f\x1d\xe2\xa4\x01\x02",
    14);

TEST(DumpTransactionTest, OneKeyWithPexpiretime) {
  EXPECT_EQ(DumpTransaction({{.db = 0, .keys = {"k"}}}, /*pexpiretime=*/true),
            (Commands{{"MULTI"},
                      {"SELECT", "0"},
                      {"DUMP", "k"},
                      {"PEXPIRETIME", "k"},
                      {"INFO", "replication"},
                      {"EXEC"}}));
}

TEST(DumpTransactionTest, SeveralDbsAndKeysInRequestOrderWithPttl) {
  std::vector<Materialization> requests = {
      {.db = 3, .keys = {"b", "a"}}, {.db = 0, .keys = {"c"}}, {.db = 3, .keys = {"d"}}};
  EXPECT_EQ(DumpTransaction(requests, /*pexpiretime=*/false), (Commands{{"MULTI"},
                                                                        {"SELECT", "3"},
                                                                        {"DUMP", "b"},
                                                                        {"PTTL", "b"},
                                                                        {"DUMP", "a"},
                                                                        {"PTTL", "a"},
                                                                        {"SELECT", "0"},
                                                                        {"DUMP", "c"},
                                                                        {"PTTL", "c"},
                                                                        {"SELECT", "3"},
                                                                        {"DUMP", "d"},
                                                                        {"PTTL", "d"},
                                                                        {"INFO", "replication"},
                                                                        {"EXEC"}}));
}

TEST(DumpTransactionTest, KeysAreBinarySafe) {
  const std::string key("k\r\n\0x", 5);
  Commands commands = DumpTransaction({{.db = 1, .keys = {key}}}, /*pexpiretime=*/true);
  ASSERT_EQ(commands.size(), 6u);
  EXPECT_EQ(commands[2], (std::vector<std::string>{"DUMP", key}));
  EXPECT_EQ(commands[3], (std::vector<std::string>{"PEXPIRETIME", key}));
}

TEST(DumpTransactionTest, NoRequestsStillReadsTheOffset) {
  EXPECT_EQ(DumpTransaction({}, /*pexpiretime=*/true),
            (Commands{{"MULTI"}, {"INFO", "replication"}, {"EXEC"}}));
}

TEST(ParseDumpTransactionTest, AbsoluteExpiriesExistingAndMissingKeys) {
  std::vector<Materialization> requests = {{.db = 0, .keys = {"with-ttl", "no-ttl"}},
                                           {.db = 2, .keys = {"gone"}}};
  // One reply per command between MULTI and EXEC.
  ASSERT_EQ(DumpTransaction(requests, true).size(), 2 + 9u);
  RespValue exec = Exec({Ok(), Bulk(kPayload), Int(1767225600123), Bulk("plain"), Int(-1), Ok(),
                         Nil(), Int(-2), Info("987654321")});
  absl::StatusOr<MaterializedBatch> batch = ParseDumpTransaction(requests, true, exec);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->source_offset, 987654321u);
  EXPECT_TRUE(batch->absolute_ttl);
  ASSERT_EQ(batch->keys.size(), 3u);

  EXPECT_EQ(batch->keys[0].first, 0);
  EXPECT_EQ(batch->keys[0].second.key, "with-ttl");
  EXPECT_TRUE(batch->keys[0].second.exists);
  EXPECT_EQ(batch->keys[0].second.payload, kPayload);
  EXPECT_EQ(batch->keys[0].second.ttl_ms, 1767225600123);

  EXPECT_EQ(batch->keys[1].first, 0);
  EXPECT_EQ(batch->keys[1].second.key, "no-ttl");
  EXPECT_TRUE(batch->keys[1].second.exists);
  EXPECT_EQ(batch->keys[1].second.payload, "plain");
  EXPECT_EQ(batch->keys[1].second.ttl_ms, 0);  // no expiry

  EXPECT_EQ(batch->keys[2].first, 2);
  EXPECT_EQ(batch->keys[2].second.key, "gone");
  EXPECT_FALSE(batch->keys[2].second.exists);
  EXPECT_EQ(batch->keys[2].second.payload, "");
  EXPECT_EQ(batch->keys[2].second.ttl_ms, 0);
}

TEST(ParseDumpTransactionTest, RelativeExpiriesBecomeAbsoluteAtTheReply) {
  std::vector<Materialization> requests = {{.db = 1, .keys = {"in-5s", "now", "forever"}}};
  RespValue exec =
      Exec({Ok(), Bulk("a"), Int(5000), Bulk("b"), Int(0), Bulk("c"), Int(-1), Info("42")});
  const int64_t before = absl::ToUnixMillis(absl::Now());
  absl::StatusOr<MaterializedBatch> batch = ParseDumpTransaction(requests, false, exec);
  const int64_t after = absl::ToUnixMillis(absl::Now());
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_TRUE(batch->absolute_ttl);  // PTTL is made absolute, for RESTORE ... ABSTTL
  EXPECT_EQ(batch->source_offset, 42u);
  ASSERT_EQ(batch->keys.size(), 3u);
  EXPECT_GE(batch->keys[0].second.ttl_ms, before + 5000);
  EXPECT_LE(batch->keys[0].second.ttl_ms, after + 5000);
  // PTTL 0: expires now; 0 would mean "no expiry".
  EXPECT_GE(batch->keys[1].second.ttl_ms, before);
  EXPECT_LE(batch->keys[1].second.ttl_ms, after);
  EXPECT_EQ(batch->keys[2].second.ttl_ms, 0);
  for (const auto& [db, key] : batch->keys) {
    EXPECT_EQ(db, 1);
    EXPECT_TRUE(key.exists) << key.key;
  }
}

TEST(ParseDumpTransactionTest, PexpiretimeZeroIsNoExpiry) {
  // Only a relative PTTL of 0 means "expires now"; PEXPIRETIME 0 leaves the
  // key without an expiry.
  RespValue exec = Exec({Ok(), Bulk("v"), Int(0), Info("1")});
  absl::StatusOr<MaterializedBatch> batch =
      ParseDumpTransaction({{.db = 0, .keys = {"k"}}}, true, exec);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->keys.size(), 1u);
  EXPECT_EQ(batch->keys[0].second.ttl_ms, 0);
}

TEST(ParseDumpTransactionTest, VerbatimInfoAndOffsetAtTheEnd) {
  // RESP3 sends INFO as a verbatim string; the field may be its last line.
  const std::string text = "txt:# Replication\r\nmaster_repl_offset:7";
  RespValue exec = Parse(absl::StrCat("*2\r\n", Ok(), "=", text.size(), "\r\n", text, "\r\n"));
  ASSERT_EQ(exec.elements.size(), 2u);
  ASSERT_EQ(exec.elements[1].type, RespValue::Type::kVerbatim);
  absl::StatusOr<MaterializedBatch> batch =
      ParseDumpTransaction({{.db = 0, .keys = {}}}, true, exec);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->source_offset, 7u);
  EXPECT_TRUE(batch->keys.empty());
}

// The error of ParseDumpTransaction(requests, pexpiretime, exec).
absl::Status ErrorOf(const std::vector<Materialization>& requests, bool pexpiretime,
                     const RespValue& exec) {
  absl::StatusOr<MaterializedBatch> batch = ParseDumpTransaction(requests, pexpiretime, exec);
  EXPECT_FALSE(batch.ok());
  return batch.status();
}

const std::vector<Materialization> kOneKey = {{.db = 0, .keys = {"k"}}};

TEST(ParseDumpTransactionTest, FailedExecNamesTheSourcesWords) {
  absl::Status status = ErrorOf(
      kOneKey, true, Parse(Err("EXECABORT Transaction discarded because of previous errors.")));
  EXPECT_EQ(status,
            absl::FailedPreconditionError(
                "EXEC failed: EXECABORT Transaction discarded because of previous errors."));
}

TEST(ParseDumpTransactionTest, ErrorInsideExecNamesTheSourcesWords) {
  EXPECT_EQ(ErrorOf({{.db = 16, .keys = {"k"}}}, true,
                    Exec({Err("ERR DB index is out of range"), Nil(), Int(-2), Info("1")})),
            absl::FailedPreconditionError("SELECT 16 failed: ERR DB index is out of range"));
  EXPECT_EQ(
      ErrorOf({{.db = 4, .keys = {"k"}}}, true,
              Exec({Ok(), Err("NOPERM this user has no permissions to run the 'dump' command"),
                    Int(-2), Info("1")})),
      absl::FailedPreconditionError("DUMP of a key in db 4 failed: NOPERM this user has no "
                                    "permissions to run the 'dump' command"));
  // The expiry's error is named when DUMP itself succeeded.
  EXPECT_EQ(ErrorOf(kOneKey, true,
                    Exec({Ok(), Bulk("v"), Err("ERR unknown command 'PEXPIRETIME'"), Info("1")})),
            absl::FailedPreconditionError(
                "DUMP of a key in db 0 failed: ERR unknown command 'PEXPIRETIME'"));
}

TEST(ParseDumpTransactionTest, NullExecIsTheWrongShape) {
  // EXEC answers nil when a WATCHed key changed; the materialiser never
  // watches, so nil is an unexpected reply.
  EXPECT_EQ(ErrorOf(kOneKey, true, Parse("*-1\r\n")),
            absl::InvalidArgumentError("EXEC: expected an array of 4 replies"));
  EXPECT_EQ(ErrorOf(kOneKey, true, Parse(Nil())),
            absl::InvalidArgumentError("EXEC: expected an array of 4 replies"));
}

TEST(ParseDumpTransactionTest, WrongShapesAreInvalidArgument) {
  // Not an array, or one reply too few or too many.
  EXPECT_EQ(ErrorOf(kOneKey, true, Parse(Ok())),
            absl::InvalidArgumentError("EXEC: expected an array of 4 replies"));
  EXPECT_EQ(ErrorOf(kOneKey, true, Exec({Ok(), Bulk("v"), Int(-1)})),
            absl::InvalidArgumentError("EXEC: expected an array of 4 replies"));
  EXPECT_EQ(ErrorOf({{.db = 0, .keys = {"a", "b"}}, {.db = 1, .keys = {"c"}}}, true,
                    Exec({Ok(), Bulk("v"), Int(-1), Info("1")})),
            absl::InvalidArgumentError("EXEC: expected an array of 9 replies"));
  EXPECT_EQ(ErrorOf(kOneKey, true, Exec({Ok(), Bulk("v"), Int(-1), Info("1"), Ok()})),
            absl::InvalidArgumentError("EXEC: expected an array of 4 replies"));
  // An expiry that is not an integer.
  EXPECT_EQ(ErrorOf(kOneKey, false, Exec({Ok(), Bulk("v"), Bulk("5000"), Info("1")})),
            absl::InvalidArgumentError("PEXPIRETIME/PTTL: not an integer"));
  // DUMP answering neither a payload nor nil.
  EXPECT_EQ(ErrorOf(kOneKey, true, Exec({Ok(), Int(3), Int(-1), Info("1")})),
            absl::InvalidArgumentError("DUMP: neither a payload nor nil"));
  EXPECT_EQ(ErrorOf(kOneKey, true, Exec({Ok(), Ok(), Int(-1), Info("1")})),
            absl::InvalidArgumentError("DUMP: neither a payload nor nil"));
  // INFO that is not text, lacks the offset, or has no number there.
  EXPECT_EQ(ErrorOf(kOneKey, true, Exec({Ok(), Nil(), Int(-2), Int(12)})),
            absl::InvalidArgumentError("INFO replication: not a string"));
  EXPECT_EQ(ErrorOf(kOneKey, true,
                    Exec({Ok(), Nil(), Int(-2), Bulk("# Replication\r\nrole:master\r\n")})),
            absl::InvalidArgumentError("INFO replication has no master_repl_offset"));
  EXPECT_EQ(ErrorOf(kOneKey, true, Exec({Ok(), Nil(), Int(-2), Info("12x")})),
            absl::InvalidArgumentError("INFO replication: master_repl_offset is not a number"));
  EXPECT_EQ(ErrorOf(kOneKey, true, Exec({Ok(), Nil(), Int(-2), Info("-1")})),
            absl::InvalidArgumentError("INFO replication: master_repl_offset is not a number"));
}

}  // namespace
}  // namespace reshard::engine
