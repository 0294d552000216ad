#include "engine/resp/resp_reply.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/resp/reply_redaction.h"

namespace reshard::engine {
namespace {

using namespace std::string_literals;
using Type = RespValue::Type;

// Parses `wire` (one whole reply) three ways and checks they agree:
// all at once, with a fresh parser on every proper prefix (each must be
// kNeedMore: split at every offset), and growing one byte at a time through a
// single parser (which keeps its need-at-least hint between calls).
RespValue ParseAllWays(const std::string& wire, RespReplyParser::Limits limits = {}) {
  RespValue whole;
  {
    RespReplyParser parser(limits);
    size_t consumed = 99;
    EXPECT_EQ(parser.Parse(wire, &consumed, &whole), ParseResult::kOk) << parser.error();
    EXPECT_EQ(consumed, wire.size());
  }
  for (size_t split = 0; split < wire.size(); ++split) {
    RespReplyParser parser(limits);
    size_t consumed = 99;
    RespValue out = RespValue::Integer(7);
    EXPECT_EQ(parser.Parse(std::string_view(wire).substr(0, split), &consumed, &out),
              ParseResult::kNeedMore)
        << "split at " << split << ": " << parser.error();
    EXPECT_EQ(consumed, 0u);
    EXPECT_EQ(out, RespValue::Integer(7)) << "output touched on kNeedMore";
  }
  RespReplyParser parser(limits);
  RespValue bytewise;
  for (size_t n = 0; n <= wire.size(); ++n) {
    size_t consumed = 0;
    const ParseResult result =
        parser.Parse(std::string_view(wire).substr(0, n), &consumed, &bytewise);
    if (n < wire.size()) {
      EXPECT_EQ(result, ParseResult::kNeedMore) << "at " << n;
    } else {
      EXPECT_EQ(result, ParseResult::kOk) << parser.error();
      EXPECT_EQ(consumed, wire.size());
    }
  }
  EXPECT_EQ(whole, bytewise);
  return whole;
}

std::string ErrorOf(const std::string& wire, RespReplyParser::Limits limits = {}) {
  RespReplyParser parser(limits);
  size_t consumed = 99;
  RespValue out;
  EXPECT_EQ(parser.Parse(wire, &consumed, &out), ParseResult::kError) << wire;
  EXPECT_EQ(consumed, 0u);
  return parser.error();
}

TEST(RespReplyParserTest, SimpleStringErrorInteger) {
  EXPECT_EQ(ParseAllWays("+OK\r\n"), RespValue::SimpleString("OK"));
  EXPECT_EQ(ParseAllWays("+FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 0\r\n"),
            RespValue::SimpleString("FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 0"));
  EXPECT_EQ(ParseAllWays("+\r\n"), RespValue::SimpleString(""));
  EXPECT_EQ(ParseAllWays("-NOAUTH Authentication required.\r\n"),
            RespValue::Error("NOAUTH Authentication required."));
  EXPECT_EQ(ParseAllWays(":0\r\n"), RespValue::Integer(0));
  EXPECT_EQ(ParseAllWays(":-1\r\n"), RespValue::Integer(-1));
  EXPECT_EQ(ParseAllWays(":9223372036854775807\r\n"), RespValue::Integer(INT64_MAX));
  EXPECT_EQ(ParseAllWays(":-9223372036854775808\r\n"), RespValue::Integer(INT64_MIN));
}

// A server that does not know a command echoes its first arguments, which
// may be a password (CONFIG SET masterauth on a server that renamed CONFIG):
// the error a reply turns into must not carry them.
TEST(RespReplyParserTest, ErrorsThatEchoArgumentsAreRedacted) {
  EXPECT_EQ(ParseAllWays("-ERR unknown command 'CONFIG', with args beginning with: 'SET' "
                         "'masterauth' 'hunter2-pw' \r\n"),
            RespValue::Error("ERR unknown command 'CONFIG', with args beginning with: "
                             "(arguments redacted)"));
  // Redis 6.0 quotes with backquotes and commas.
  EXPECT_EQ(
      ParseAllWays("-ERR unknown command `AUTH`, with args beginning with: `hunter2-pw`, \r\n"),
      RespValue::Error("ERR unknown command `AUTH`, with args beginning with: "
                       "(arguments redacted)"));
  // RESP3 bulk errors too.
  const std::string bulk = "ERR unknown command 'X', With Args Beginning With: 'hunter2-pw' ";
  EXPECT_EQ(ParseAllWays("!" + std::to_string(bulk.size()) + "\r\n" + bulk + "\r\n"),
            RespValue::Error("ERR unknown command 'X', With Args Beginning With: "
                             "(arguments redacted)"));
  // Errors that echo nothing, and strings that are not errors, are untouched.
  EXPECT_EQ(ParseAllWays("-ERR unknown command 'FOO', with args beginning with: \r\n"),
            RespValue::Error("ERR unknown command 'FOO', with args beginning with: "
                             "(arguments redacted)"));
  EXPECT_EQ(ParseAllWays("-NOPERM User reshard has no permissions to run the 'psync' command\r\n"),
            RespValue::Error("NOPERM User reshard has no permissions to run the 'psync' command"));
  EXPECT_EQ(ParseAllWays("+with args beginning with: 'x'\r\n"),
            RespValue::SimpleString("with args beginning with: 'x'"));
  EXPECT_EQ(ParseAllWays("$29\r\nwith args beginning with: 'x'\r\n"),
            RespValue::BulkString("with args beginning with: 'x'"));
  EXPECT_EQ(RedactEchoedArguments("WRONGPASS invalid username-password pair"),
            "WRONGPASS invalid username-password pair");
}

TEST(RespReplyParserTest, BulkStringsAreBinarySafe) {
  EXPECT_EQ(ParseAllWays("$0\r\n\r\n"), RespValue::BulkString(""));
  EXPECT_EQ(ParseAllWays("$5\r\nhello\r\n"), RespValue::BulkString("hello"));
  // A DUMP payload: any bytes, including CR, LF and NUL.
  const std::string dump =
      "\x00\x03"
      "abc\r\n\x0a\x00\xff\xfe"s;
  EXPECT_EQ(ParseAllWays("$" + std::to_string(dump.size()) + "\r\n" + dump + "\r\n"),
            RespValue::BulkString(dump));
  EXPECT_EQ(ParseAllWays("$-1\r\n"), RespValue::Null());
}

TEST(RespReplyParserTest, Arrays) {
  EXPECT_EQ(ParseAllWays("*0\r\n"), RespValue::Array({}));
  EXPECT_EQ(ParseAllWays("*-1\r\n"), RespValue::Null());
  // EXEC reply to MULTI; PTTL k; DUMP k; EXEC with a missing key.
  EXPECT_EQ(ParseAllWays("*2\r\n:-1\r\n$-1\r\n"),
            RespValue::Array({RespValue::Integer(-1), RespValue::Null()}));
  EXPECT_EQ(
      ParseAllWays("*3\r\n*2\r\n+a\r\n:1\r\n*0\r\n-ERR x\r\n"),
      RespValue::Array({RespValue::Array({RespValue::SimpleString("a"), RespValue::Integer(1)}),
                        RespValue::Array({}), RespValue::Error("ERR x")}));
}

TEST(RespReplyParserTest, CommandReplyEntry) {
  // One entry of Redis 7's COMMAND reply, abridged, with key specs.
  const std::string wire =
      "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
      "*2\r\n+@read\r\n+@string\r\n*0\r\n"
      "*1\r\n*6\r\n+flags\r\n*2\r\n+RO\r\n+access\r\n+begin_search\r\n"
      "*4\r\n+type\r\n+index\r\n+spec\r\n*2\r\n+index\r\n:1\r\n"
      "+find_keys\r\n*4\r\n+type\r\n+range\r\n+spec\r\n"
      "*6\r\n+lastkey\r\n:0\r\n+keystep\r\n:1\r\n+limit\r\n:0\r\n*0\r\n";
  RespValue value = ParseAllWays(wire);
  ASSERT_EQ(value.type, Type::kArray);
  ASSERT_EQ(value.elements.size(), 1u);
  const RespValue& get = value.elements[0];
  ASSERT_EQ(get.elements.size(), 10u);
  EXPECT_TRUE(get.elements[0].IsString("get"));
  EXPECT_EQ(get.elements[1], RespValue::Integer(2));
  EXPECT_EQ(get.elements.at(8).elements.at(0).elements.at(3).elements.at(3).elements.at(1),
            RespValue::Integer(1));
}

TEST(RespReplyParserTest, Resp3Types) {
  RespValue map = ParseAllWays("%2\r\n+server\r\n$5\r\nredis\r\n+proto\r\n:3\r\n");
  EXPECT_EQ(map.type, Type::kMap);
  ASSERT_EQ(map.elements.size(), 4u);
  EXPECT_TRUE(map.elements[1].IsString("redis"));
  EXPECT_EQ(map.ToString(), "{+server: \"redis\", +proto: :3}");

  RespValue set = ParseAllWays("~2\r\n+a\r\n+b\r\n");
  EXPECT_EQ(set.type, Type::kSet);
  EXPECT_EQ(set.elements.size(), 2u);

  RespValue push = ParseAllWays(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n");
  EXPECT_EQ(push.type, Type::kPush);
  EXPECT_EQ(push.ToString(), ">[\"message\", \"ch\", \"x\"]");

  RespValue null = ParseAllWays("_\r\n");
  EXPECT_EQ(null, RespValue::Null());

  RespValue yes = ParseAllWays("#t\r\n");
  EXPECT_EQ(yes.type, Type::kBoolean);
  EXPECT_EQ(yes.integer, 1);
  RespValue no = ParseAllWays("#f\r\n");
  EXPECT_EQ(no.integer, 0);

  RespValue dbl = ParseAllWays(",3.14\r\n");
  EXPECT_EQ(dbl.type, Type::kDouble);
  EXPECT_EQ(dbl.str, "3.14");
  EXPECT_EQ(ParseAllWays(",-inf\r\n").str, "-inf");
  EXPECT_EQ(ParseAllWays(",nan\r\n").str, "nan");

  RespValue big = ParseAllWays("(-3492890328409238509324850943850943825024385\r\n");
  EXPECT_EQ(big.type, Type::kBigNumber);
  EXPECT_EQ(big.str, "-3492890328409238509324850943850943825024385");

  RespValue verbatim = ParseAllWays("=15\r\ntxt:Some string\r\n");
  EXPECT_EQ(verbatim.type, Type::kVerbatim);
  EXPECT_EQ(verbatim.str, "Some string");

  EXPECT_EQ(ParseAllWays("!21\r\nSYNTAX invalid syntax\r\n"),
            RespValue::Error("SYNTAX invalid syntax"));
}

TEST(RespReplyParserTest, AttributesAreDropped) {
  EXPECT_EQ(ParseAllWays("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2\r\n"),
            RespValue::Array({RespValue::Integer(2)}));
  EXPECT_EQ(ParseAllWays("*1\r\n|1\r\n+a\r\n+b\r\n:5\r\n"),
            RespValue::Array({RespValue::Integer(5)}));
}

TEST(RespReplyParserTest, ConsumesOneReplyAndLeavesTheRest) {
  const std::string wire = "+PONG\r\n:1\r\n$3\r\nabc\r\n$4\r\nab";
  RespReplyParser parser;
  std::string_view in = wire;
  std::vector<RespValue> got;
  while (true) {
    size_t consumed = 0;
    RespValue out;
    const ParseResult result = parser.Parse(in, &consumed, &out);
    if (result != ParseResult::kOk) {
      EXPECT_EQ(result, ParseResult::kNeedMore);
      break;
    }
    got.push_back(out);
    in.remove_prefix(consumed);
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], RespValue::SimpleString("PONG"));
  EXPECT_EQ(got[1], RespValue::Integer(1));
  EXPECT_EQ(got[2], RespValue::BulkString("abc"));
  EXPECT_EQ(in, "$4\r\nab");
}

TEST(RespReplyParserTest, LargeBulkFedInChunks) {
  const std::string payload(1 << 20, 'x');
  const std::string wire = "$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
  RespReplyParser parser;
  RespValue out;
  size_t fed = 0;
  size_t consumed = 0;
  ParseResult result = ParseResult::kNeedMore;
  while (result == ParseResult::kNeedMore) {
    fed = std::min(wire.size(), fed + 4096);
    result = parser.Parse(std::string_view(wire).substr(0, fed), &consumed, &out);
  }
  ASSERT_EQ(result, ParseResult::kOk) << parser.error();
  EXPECT_EQ(fed, wire.size());
  EXPECT_EQ(out.str, payload);
}

TEST(RespValueTest, ToStringIsPrintableAndShort) {
  EXPECT_EQ(RespValue::SimpleString("OK").ToString(), "+OK");
  EXPECT_EQ(RespValue::Error("ERR no\r\n").ToString(), "-ERR no\\r\\n");
  EXPECT_EQ(RespValue::Integer(-5).ToString(), ":-5");
  EXPECT_EQ(RespValue::Null().ToString(), "(nil)");
  EXPECT_EQ(RespValue::BulkString("a\0\xff\"b"s).ToString(), "\"a\\x00\\xff\\\"b\"");
  EXPECT_EQ(RespValue::Array({RespValue::Integer(1), RespValue::Array({})}).ToString(), "[:1, []]");
  EXPECT_EQ(RespValue::BulkString(std::string(200, 'z')).ToString(),
            "\"" + std::string(128, 'z') + "\"...(200 bytes)");
}

TEST(RespReplyParserTest, ResetForgetsTheHint) {
  RespReplyParser parser;
  size_t consumed = 0;
  RespValue out;
  EXPECT_EQ(parser.Parse("$100\r\nab", &consumed, &out), ParseResult::kNeedMore);
  parser.Reset();
  EXPECT_EQ(parser.Parse("+OK\r\n", &consumed, &out), ParseResult::kOk);
  EXPECT_EQ(out, RespValue::SimpleString("OK"));
}

TEST(RespReplyParserTest, MalformedInputNamesOffsetAndWhat) {
  EXPECT_EQ(ErrorOf("x"), "reply offset 0: reply type: unknown type byte 'x'");
  EXPECT_EQ(ErrorOf("\n"), "reply offset 0: reply type: unknown type byte '\\n'");
  EXPECT_EQ(ErrorOf("+OK\n"), "reply offset 3: simple string: expected CRLF, got a bare LF");
  EXPECT_EQ(ErrorOf("+OK\rx"), "reply offset 3: simple string: expected CRLF, got CR without LF");
  EXPECT_EQ(ErrorOf(":12a\r\n"), "reply offset 1: integer: not a number '12a'");
  EXPECT_EQ(ErrorOf(":\r\n"), "reply offset 1: integer: not a number ''");
  EXPECT_EQ(ErrorOf(":+1\r\n"), "reply offset 1: integer: not a number '+1'");
  EXPECT_EQ(ErrorOf(":9223372036854775808\r\n"),
            "reply offset 1: integer: not a number '9223372036854775808'");
  EXPECT_EQ(ErrorOf("$x1\r\n"), "reply offset 1: bulk string length: not a number 'x1'");
  EXPECT_EQ(ErrorOf("$-2\r\n"), "reply offset 1: bulk string length: negative length -2");
  EXPECT_EQ(ErrorOf("$3\r\nabcde"),
            "reply offset 7: bulk string: expected CRLF after the 3-byte payload");
  EXPECT_EQ(ErrorOf("*2\r\n:1\r\n$3\r\nabcXY"),
            "reply offset 15: bulk string: expected CRLF after the 3-byte payload");
  EXPECT_EQ(ErrorOf("*-3\r\n"), "reply offset 1: array length: negative length -3");
  EXPECT_EQ(ErrorOf("%-1\r\n"), "reply offset 1: map length: negative length -1");
  EXPECT_EQ(ErrorOf("*1\r\n?\r\n"), "reply offset 4: reply type: unknown type byte '?'");
  EXPECT_EQ(ErrorOf("_x\r\n"), "reply offset 1: null: bad value 'x'");
  EXPECT_EQ(ErrorOf("#x\r\n"), "reply offset 1: boolean: bad value 'x'");
  EXPECT_EQ(ErrorOf(",1.5x\r\n"), "reply offset 1: double: bad value '1.5x'");
  EXPECT_EQ(ErrorOf("(12-3\r\n"), "reply offset 1: big number: bad value '12-3'");
  EXPECT_EQ(ErrorOf("=3\r\ntxt\r\n"),
            "reply offset 4: verbatim string: expected a 3-letter format and ':'");
}

TEST(RespReplyParserTest, LimitsAreEnforced) {
  RespReplyParser::Limits limits;
  limits.max_depth = 2;
  limits.max_bulk = 10;
  limits.max_elements = 4;
  limits.max_line = 8;
  EXPECT_EQ(ParseAllWays("*1\r\n*1\r\n:1\r\n", limits).elements[0].elements[0],
            RespValue::Integer(1));
  EXPECT_EQ(ErrorOf("*1\r\n*1\r\n*0\r\n", limits),
            "reply offset 8: array length: nesting deeper than 2 levels");
  EXPECT_EQ(ParseAllWays("$10\r\n0123456789\r\n", limits).str, "0123456789");
  EXPECT_EQ(ErrorOf("$11\r\n", limits),
            "reply offset 1: bulk string length: 11 bytes exceed the limit of 10");
  EXPECT_EQ(ErrorOf("*5\r\n", limits),
            "reply offset 1: array length: 5 elements exceed the limit of 4");
  EXPECT_EQ(ErrorOf("%3\r\n", limits),
            "reply offset 1: map length: 3 entries exceed the limit of 4");
  EXPECT_EQ(ParseAllWays("+12345678\r\n", limits).str, "12345678");
  // A line over the limit fails as soon as it is known, without waiting for CRLF.
  EXPECT_EQ(ErrorOf("+123456789", limits),
            "reply offset 1: simple string: line longer than 8 bytes");
  EXPECT_EQ(ErrorOf("+123456789\r\n", limits),
            "reply offset 1: simple string: line longer than 8 bytes");
}

}  // namespace
}  // namespace reshard::engine
