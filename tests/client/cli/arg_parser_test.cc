// ArgParser: options with values (both spellings), flags, positionals in
// order, inline values only when accepted, and the first error wins.

#include "client/cli/arg_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace reshard::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Parsed {
  std::vector<std::string> values;  // "name=value" in the order handled
  bool flag = false;
};

ArgParser MakeParser(ArgParser::InlineValues inline_values, Parsed* parsed) {
  ArgParser parser(inline_values);
  parser.AddValueOption({"-o", "--output"}, [parsed](const std::string& value) {
    if (value == "bad") return std::optional<std::string>("-o: bad value");
    parsed->values.push_back("o=" + value);
    return std::optional<std::string>();
  });
  parser.AddValueOption({"--id"}, [parsed](const std::string& value) {
    parsed->values.push_back("id=" + value);
    return std::optional<std::string>();
  });
  parser.AddFlag({"-h", "--help"}, [parsed] { parsed->flag = true; });
  return parser;
}

TEST(ArgParserTest, OptionsAnywhereAndPositionalsInOrder) {
  Parsed parsed;
  absl::StatusOr<std::vector<std::string>> positional =
      MakeParser(ArgParser::InlineValues::kReject, &parsed)
          .Parse({"get", "-o", "json", "x", "--output", "table", "-", "--id", "-7", "-h"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_THAT(*positional, ElementsAre("get", "x", "-"));
  // A value may start with '-'.
  EXPECT_THAT(parsed.values, ElementsAre("o=json", "o=table", "id=-7"));
  EXPECT_TRUE(parsed.flag);
}

TEST(ArgParserTest, InlineValuesOnlyWhenAccepted) {
  Parsed accepted;
  absl::StatusOr<std::vector<std::string>> positional =
      MakeParser(ArgParser::InlineValues::kAccept, &accepted).Parse({"--id=abc", "-o=", "cmd"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_THAT(*positional, ElementsAre("cmd"));
  EXPECT_THAT(accepted.values, ElementsAre("id=abc", "o="));

  Parsed rejected;
  absl::StatusOr<std::vector<std::string>> error =
      MakeParser(ArgParser::InlineValues::kReject, &rejected).Parse({"--id=abc"});
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(error.status().message(), "unknown option --id=abc");
  // A flag never takes an inline value.
  EXPECT_EQ(MakeParser(ArgParser::InlineValues::kAccept, &accepted)
                .Parse({"--help=yes"})
                .status()
                .message(),
            "unknown option --help=yes");
}

TEST(ArgParserTest, ErrorsNameTheFirstBadArgument) {
  Parsed parsed;
  ArgParser parser = MakeParser(ArgParser::InlineValues::kAccept, &parsed);
  EXPECT_EQ(parser.Parse({"--output"}).status().message(), "--output needs a value");
  EXPECT_EQ(parser.Parse({"-x", "-o"}).status().message(), "unknown option -x");
  EXPECT_EQ(parser.Parse({"-o", "bad", "-x"}).status().message(), "-o: bad value");
  parsed.values.clear();
  EXPECT_FALSE(parser.Parse({"--id", "1", "-q", "--id", "2"}).ok());
  EXPECT_THAT(parsed.values, ElementsAre("id=1"));  // stopped at -q
}

TEST(ArgParserTest, NoArgumentsNoPositionals) {
  Parsed parsed;
  absl::StatusOr<std::vector<std::string>> positional =
      MakeParser(ArgParser::InlineValues::kAccept, &parsed).Parse({});
  ASSERT_TRUE(positional.ok());
  EXPECT_THAT(*positional, IsEmpty());
  EXPECT_FALSE(parsed.flag);
}

}  // namespace
}  // namespace reshard::client
