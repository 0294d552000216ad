#include "engine/route/glob_match.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/resp/resp_reply.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"

namespace reshard::engine {
namespace {

using namespace std::string_literals;
using ::reshard::testing::RedisClient;
using ::reshard::testing::RedisServer;

struct Case {
  std::string pattern;
  std::string key;
  bool match;
};

TEST(GlobMatchTest, RedisKeysExamples) {
  // The examples in the KEYS documentation, plus the edges of each feature.
  const std::vector<Case> cases = {
      {"h?llo", "hello", true},
      {"h?llo", "hallo", true},
      {"h?llo", "hllo", false},
      {"h*llo", "hllo", true},
      {"h*llo", "heeeello", true},
      {"h*llo", "hellox", false},
      {"h[ae]llo", "hello", true},
      {"h[ae]llo", "hallo", true},
      {"h[ae]llo", "hillo", false},
      {"h[^e]llo", "hallo", true},
      {"h[^e]llo", "hbllo", true},
      {"h[^e]llo", "hello", false},
      {"h[a-b]llo", "hallo", true},
      {"h[a-b]llo", "hbllo", true},
      {"h[a-b]llo", "hcllo", false},
      {"*", "", true},
      {"*", "anything", true},
      {"**", "", false},
      {"?", "", false},
      {"", "", true},
      {"", "a", false},
      {"a*", "a", true},
      {"*a", "ba", true},
      {"*a", "ab", false},
      {"a*b*c", "aXbYc", true},
      {"a*b*c", "aXbY", false},
      {"user:*", "user:", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.key), c.match) << "'" << c.pattern << "' vs '" << c.key << "'";
  }
}

TEST(GlobMatchTest, RangesEscapesAndOddSets) {
  const std::vector<Case> cases = {
      // A reversed range means the same range.
      {"[z-a]", "m", true},
      {"[z-a]", "A", false},
      // Redis's stringmatchlen() never matches the empty string against a
      // non-empty pattern; only KEYS' "*" shortcut does.
      {"*?", "", false},
      {"**", "", false},
      // Escapes, outside and inside sets.
      {"h\\*llo", "h*llo", true},
      {"h\\*llo", "hello", false},
      {"\\?", "?", true},
      {"\\?", "x", false},
      {"[\\]]", "]", true},
      {"[\\-]", "-", true},
      {"[\\-]", "a", false},
      {"[a\\-z]", "b", false},
      {"a\\", "a\\", true},  // A trailing backslash is literal.
      // ']' right after '[' closes an empty set, which matches nothing.
      {"[]", "]", false},
      {"[]a]", "]", false},
      {"[^]", "x", true},
      // An unclosed set ends at the end of the pattern.
      {"[ab", "a", true},
      {"[ab", "c", false},
      {"x[", "x", false},
      {"x[", "xa", false},
      {"[^a", "b", true},
      // '-' at the edges of a set is literal.
      // "[a-]" is the range a..] (reversed), left unclosed.
      {"[a-]", "-", false},
      {"[a-]", "^", true},
      {"[-a]", "-", true},
      {"[-a]", "b", false},
      {"[^-]", "-", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.key), c.match) << "'" << c.pattern << "' vs '" << c.key << "'";
  }
}

TEST(GlobMatchTest, BinarySafe) {
  EXPECT_TRUE(GlobMatch("a\0*"s, "a\0bc"s));
  EXPECT_FALSE(GlobMatch("a\0*"s, "abc"s));
  EXPECT_TRUE(GlobMatch("?\xff", "\0\xff"s));
  EXPECT_TRUE(GlobMatch("[\xfe\xff]", "\xff"));
  EXPECT_TRUE(GlobMatch("[^\0]"s, "\x01"));
  EXPECT_FALSE(GlobMatch("[^\0]"s, "\0"s));
  // Bytes compare as signed chars in ranges, as Redis does on x86-64:
  // [\x80-\xff] is [-128..-1] and [a-\xff] is [-1..97].
  EXPECT_TRUE(GlobMatch("[\x80-\xff]", "\x90"));
  EXPECT_FALSE(GlobMatch("[\x80-\xff]", "a"));
  EXPECT_TRUE(GlobMatch("[a-\xff]", "\xff"));
  EXPECT_TRUE(GlobMatch("[a-\xff]", "0"));
  EXPECT_FALSE(GlobMatch("[a-\xff]", "\x80"));
}

TEST(GlobMatchTest, PathologicalPatternIsFast) {
  // Redis CVE-2022-36021: without the early exit this takes exponential time.
  const std::string pattern = "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
  const std::string key(200, 'a');
  const absl::Time start = absl::Now();
  EXPECT_FALSE(GlobMatch(pattern, key));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

// The oracle: KEYS <pattern> on a real redis-server holding a set of keys
// made of the glob's special characters and edge bytes.
TEST(GlobMatchTest, AgreesWithRedisKeys) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = RedisClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok()) << client.status();

  const std::string alphabet = "ab-z*?[]^\\\0\x7f\x80\xff"s;
  std::mt19937 rng(7);
  auto random_string = [&](int max_length, bool nonempty) {
    std::uniform_int_distribution<int> length(nonempty ? 1 : 0, max_length);
    std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
    std::string s;
    for (int n = length(rng); n > 0; --n) s += alphabet[pick(rng)];
    return s;
  };
  std::set<std::string> keys = {"", "a", "b", "z", "-", "]", "[", "\\", "^", "ab", "a-b"};
  while (keys.size() < 400) keys.insert(random_string(5, false));
  std::vector<std::vector<std::string>> sets;
  for (const std::string& key : keys) sets.push_back({"SET", key, "1"});
  ASSERT_TRUE(client->Pipeline(sets).ok());

  std::vector<std::string> patterns = {"*",           "[a-z]",      "[z-a]", "[^a]", "\\*", "[\\]]",
                                       "[",           "[]",         "[^",    "a\\",  "[a-", "[-]",
                                       "[\x80-\xff]", "*[a-\xff]*", "[^\\]", "[\\",  "?*?", "\\"};
  while (patterns.size() < 600) patterns.push_back(random_string(6, true));
  std::vector<std::vector<std::string>> commands;
  for (const std::string& pattern : patterns) commands.push_back({"KEYS", pattern});
  auto replies = client->Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  for (size_t i = 0; i < patterns.size(); ++i) {
    const RespValue& reply = (*replies)[i];
    ASSERT_EQ(reply.type, RespValue::Type::kArray) << reply.ToString();
    std::vector<std::string> expected;
    for (const RespValue& key : reply.elements) expected.push_back(key.str);
    std::sort(expected.begin(), expected.end());
    std::vector<std::string> got;
    for (const std::string& key : keys) {
      if (GlobMatch(patterns[i], key)) got.push_back(key);
    }
    EXPECT_EQ(got, expected) << "pattern " << RespValue::BulkString(patterns[i]).ToString();
  }
}

}  // namespace
}  // namespace reshard::engine
