#include "engine/resp/resp_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace reshard::engine {
namespace {

// A command copied out of the parser's views.
struct Owned {
  std::vector<std::string> args;
  std::string wire;
  bool operator==(const Owned&) const = default;
};

Owned Copy(const RespCommand& c) {
  Owned o;
  for (std::string_view a : c.args) o.args.emplace_back(a);
  o.wire = std::string(c.wire);
  return o;
}

// Parses all of `in` at once.
std::vector<Owned> ParseAll(std::string_view in, RespParser::Limits limits = {}) {
  RespParser p(limits);
  std::vector<Owned> out;
  RespCommand cmd;
  size_t consumed = 0;
  while (!in.empty()) {
    ParseResult r = p.Parse(in, &consumed, &cmd);
    EXPECT_NE(r, ParseResult::kError) << p.error();
    if (r != ParseResult::kOk) break;
    out.push_back(Copy(cmd));
    in.remove_prefix(consumed);
  }
  return out;
}

// Feeds `chunks` one after the other, as a socket reader would: bytes are
// appended to a buffer, and consumed bytes are erased from its front.
std::vector<Owned> ParseChunks(const std::vector<std::string>& chunks, size_t* leftover) {
  RespParser p;
  std::vector<Owned> out;
  std::string buffer;
  RespCommand cmd;
  for (const std::string& chunk : chunks) {
    buffer += chunk;
    for (;;) {
      size_t consumed = 99;
      ParseResult r = p.Parse(buffer, &consumed, &cmd);
      EXPECT_NE(r, ParseResult::kError) << p.error();
      if (r != ParseResult::kOk) {
        EXPECT_EQ(consumed, 0u);
        break;
      }
      out.push_back(Copy(cmd));
      buffer.erase(0, consumed);
    }
  }
  *leftover = buffer.size();
  return out;
}

// The error Parse() gives for `in`, which must fail in one call.
std::string ErrorOf(std::string_view in, RespParser::Limits limits = {}) {
  RespParser p(limits);
  RespCommand cmd;
  size_t consumed = 99;
  ParseResult r = p.Parse(in, &consumed, &cmd);
  EXPECT_EQ(r, ParseResult::kError);
  EXPECT_EQ(consumed, 0u);
  return p.error();
}

const char kSet[] = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n";

TEST(RespParserTest, ParsesOneCommand) {
  RespParser p;
  RespCommand cmd;
  size_t consumed = 0;
  std::string in = std::string(kSet) + "*1";
  ASSERT_EQ(p.Parse(in, &consumed, &cmd), ParseResult::kOk);
  EXPECT_EQ(consumed, sizeof(kSet) - 1);
  ASSERT_EQ(cmd.args.size(), 3u);
  EXPECT_EQ(cmd.args[0], "SET");
  EXPECT_EQ(cmd.args[1], "a");
  EXPECT_EQ(cmd.args[2], "b");
  EXPECT_EQ(cmd.wire, kSet);
  // The views point into the input, not into copies.
  EXPECT_EQ(cmd.wire.data(), in.data());
  EXPECT_EQ(cmd.args[1].data(), in.data() + 17);
  EXPECT_EQ(p.offset(), sizeof(kSet) - 1);
}

TEST(RespParserTest, EveryValidForm) {
  std::string binary("a\r\nb\0c", 6);
  std::string in = std::string(kSet) + "*0\r\n" + "\n" + "\r\n" +
                   "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n" +               // empty bulk
                   "*2\r\n$3\r\nGET\r\n$6\r\n" + binary + "\r\n" +  // CRLF and NUL inside
                   "*1\r\n$4\r\nPING\r\n" +
                   "*2\r\n$3\r\nDEL\r\n$010\r\n0123456789\r\n";  // leading zero
  std::vector<Owned> got = ParseAll(in);
  std::vector<Owned> want = {
      {{"SET", "a", "b"}, kSet},
      {{}, "*0\r\n"},
      {{}, "\n"},
      {{}, "\r\n"},
      {{"ECHO", ""}, "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"},
      {{"GET", binary}, "*2\r\n$3\r\nGET\r\n$6\r\n" + binary + "\r\n"},
      {{"PING"}, "*1\r\n$4\r\nPING\r\n"},
      {{"DEL", "0123456789"}, "*2\r\n$3\r\nDEL\r\n$010\r\n0123456789\r\n"},
  };
  EXPECT_EQ(got, want);
}

std::string Stream() {
  std::string big(300, 'x');
  return std::string(kSet) + "\n" + "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n" + "\r\n" +
         "*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$300\r\n" + big + "\r\n" + "*0\r\n" +
         "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$0\r\n\r\n$2\r\n\r\n\r\n";
}

TEST(RespParserTest, OneByteAtATimeGivesTheSameCommands) {
  std::string in = Stream();
  std::vector<Owned> whole = ParseAll(in);
  ASSERT_EQ(whole.size(), 7u);
  std::vector<std::string> bytes;
  for (char c : in) bytes.emplace_back(1, c);
  size_t leftover = 0;
  EXPECT_EQ(ParseChunks(bytes, &leftover), whole);
  EXPECT_EQ(leftover, 0u);
}

TEST(RespParserTest, SplitAtEveryOffsetGivesTheSameCommands) {
  std::string in = Stream();
  std::vector<Owned> whole = ParseAll(in);
  for (size_t cut = 0; cut <= in.size(); ++cut) {
    size_t leftover = 0;
    EXPECT_EQ(ParseChunks({in.substr(0, cut), in.substr(cut)}, &leftover), whole) << cut;
    EXPECT_EQ(leftover, 0u);
  }
}

TEST(RespParserTest, NeedMoreConsumesNothingAndResumes) {
  RespParser p;
  RespCommand cmd;
  size_t consumed = 99;
  std::string in = kSet;
  for (size_t len = 0; len < in.size(); ++len) {
    ASSERT_EQ(p.Parse(std::string_view(in).substr(0, len), &consumed, &cmd), ParseResult::kNeedMore)
        << len;
    EXPECT_EQ(consumed, 0u);
    EXPECT_EQ(p.offset(), 0u);
  }
  ASSERT_EQ(p.Parse(in, &consumed, &cmd), ParseResult::kOk);
  EXPECT_EQ(Copy(cmd), (Owned{{"SET", "a", "b"}, kSet}));
  // A lone '\r' may be the start of a keepalive.
  EXPECT_EQ(p.Parse("\r", &consumed, &cmd), ParseResult::kNeedMore);
  EXPECT_EQ(p.Parse("", &consumed, &cmd), ParseResult::kNeedMore);
}

TEST(RespParserTest, ErrorsNameTheOffsetAndWhat) {
  EXPECT_EQ(ErrorOf("+OK\r\n"),
            "resp offset 0: expected '*' (an array; inline commands are not accepted in a "
            "replication stream), got '+'");
  EXPECT_EQ(ErrorOf("SET a b\r\n"),
            "resp offset 0: expected '*' (an array; inline commands are not accepted in a "
            "replication stream), got 'S'");
  EXPECT_EQ(ErrorOf(std::string("\x01", 1)),
            "resp offset 0: expected '*' (an array; inline commands are not accepted in a "
            "replication stream), got '\\x01'");
  EXPECT_EQ(ErrorOf("\rX"), "resp offset 1: expected '\\n' after '\\r', got 'X'");
  EXPECT_EQ(ErrorOf("*1\r\n:1\r\n"), "resp offset 4: argument 1 of 1: expected '$', got ':'");
  EXPECT_EQ(ErrorOf("*2\r\n$3\r\nGET\r\n*1\r\n"),
            "resp offset 13: argument 2 of 2: expected '$', got '*'");
  EXPECT_EQ(ErrorOf("*-1\r\n"), "resp offset 1: negative array length -1");
  EXPECT_EQ(ErrorOf("*1\r\n$-1\r\n"), "resp offset 5: argument 1 of 1: negative bulk length -1");
  EXPECT_EQ(ErrorOf("*1x\r\n"), "resp offset 1: bad array length '1x'");
  EXPECT_EQ(ErrorOf("*\r\n"), "resp offset 1: bad array length ''");
  EXPECT_EQ(ErrorOf("*-\r\n"), "resp offset 1: bad array length '-'");
  EXPECT_EQ(ErrorOf("*1\r\n$+1\r\n"), "resp offset 5: argument 1 of 1: bad bulk length '+1'");
  EXPECT_EQ(ErrorOf("*1\rX"), "resp offset 3: expected '\\n' after array length, got 'X'");
  EXPECT_EQ(ErrorOf("*1\r\n$1\r\r"),
            "resp offset 7: argument 1 of 1: expected '\\n' after bulk length, got '\\x0d'");
  EXPECT_EQ(ErrorOf("*12345678901234567890"),
            "resp offset 1: array length line is longer than 19 bytes");
  EXPECT_EQ(ErrorOf("*3000000\r\n"),
            "resp offset 1: array length 3000000 exceeds the limit of 1048576");
  EXPECT_EQ(ErrorOf("*3\r\n", {.max_args = 2}),
            "resp offset 1: array length 3 exceeds the limit of 2");
  EXPECT_EQ(ErrorOf("*1\r\n$5\r\nhello\r\n", {.max_bulk = 4}),
            "resp offset 5: argument 1 of 1: bulk length 5 exceeds the limit of 4");
  EXPECT_EQ(ErrorOf("*1\r\n$999999999999\r\n"),
            "resp offset 5: argument 1 of 1: bulk length 999999999999 exceeds the limit of "
            "536870912");
  // Missing CRLF after a bulk, seen as early as the first wrong byte.
  EXPECT_EQ(ErrorOf("*1\r\n$1\r\nab"),
            "resp offset 9: argument 1 of 1: expected CRLF after a bulk of 1 bytes, got 'b'");
  EXPECT_EQ(ErrorOf("*1\r\n$1\r\na\rX"),
            "resp offset 10: argument 1 of 1: expected CRLF after a bulk of 1 bytes, got 'X'");
}

TEST(RespParserTest, ErrorOffsetCountsFromTheStreamStartAndSticks) {
  RespParser p;
  RespCommand cmd;
  size_t consumed = 0;
  std::string in = std::string(kSet) + "\n" + "*1\r\n$4\r\nPINGx";
  std::string_view rest = in;
  ASSERT_EQ(p.Parse(rest, &consumed, &cmd), ParseResult::kOk);
  rest.remove_prefix(consumed);
  ASSERT_EQ(p.Parse(rest, &consumed, &cmd), ParseResult::kOk);
  rest.remove_prefix(consumed);
  ASSERT_EQ(p.Parse(rest, &consumed, &cmd), ParseResult::kError);
  EXPECT_EQ(p.error(),
            "resp offset 40: argument 1 of 1: expected CRLF after a bulk of 4 bytes, got 'x'");
  EXPECT_EQ(in[40], 'x');
  EXPECT_EQ(p.Parse(kSet, &consumed, &cmd), ParseResult::kError);
  EXPECT_EQ(consumed, 0u);
  p.Reset(1000);
  ASSERT_EQ(p.Parse(kSet, &consumed, &cmd), ParseResult::kOk);
  EXPECT_EQ(p.offset(), 1000 + sizeof(kSet) - 1);
}

TEST(RespParserTest, ErrorInALaterChunkKeepsTheOffset) {
  // The bad byte arrives after the parser paused in the middle of a command.
  RespParser p;
  RespCommand cmd;
  size_t consumed = 0;
  std::string buffer = "*2\r\n$3\r\nGET\r\n";
  ASSERT_EQ(p.Parse(buffer, &consumed, &cmd), ParseResult::kNeedMore);
  buffer += "?";
  ASSERT_EQ(p.Parse(buffer, &consumed, &cmd), ParseResult::kError);
  EXPECT_EQ(p.error(), "resp offset 13: argument 2 of 2: expected '$', got '?'");
}

TEST(RespParserTest, ManyArgumentsAndBigBulks) {
  std::string in = "*1001\r\n$5\r\nRPUSH\r\n";
  for (int i = 0; i < 1000; ++i) {
    std::string v(i % 50, 'a' + i % 26);
    in += "$" + std::to_string(v.size()) + "\r\n" + v + "\r\n";
  }
  std::vector<Owned> got = ParseAll(in);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].args.size(), 1001u);
  EXPECT_EQ(got[0].args[0], "RPUSH");
  EXPECT_EQ(got[0].args[1000], std::string(999 % 50, 'a' + 999 % 26));
  EXPECT_EQ(got[0].wire, in);
  // In 7-byte chunks, as a slow socket would deliver it.
  std::vector<std::string> chunks;
  for (size_t i = 0; i < in.size(); i += 7) chunks.push_back(in.substr(i, 7));
  size_t leftover = 0;
  EXPECT_EQ(ParseChunks(chunks, &leftover), got);
}

}  // namespace
}  // namespace reshard::engine
