#include "engine/route/key_filter.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/route/hash_slot.h"

namespace reshard::engine {
namespace {

using namespace std::string_literals;

std::unique_ptr<KeyFilter> MustMake(FilterKind kind, std::string pattern) {
  auto filter = MakeKeyFilter(FilterSpec{kind, std::move(pattern)});
  EXPECT_TRUE(filter.ok()) << filter.status();
  return filter.ok() ? *std::move(filter) : nullptr;
}

std::string MakeError(FilterKind kind, std::string pattern) {
  auto filter = MakeKeyFilter(FilterSpec{kind, std::move(pattern)});
  EXPECT_FALSE(filter.ok());
  if (filter.ok()) return "";
  EXPECT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(filter.status().message());
}

TEST(FilterKindNameTest, NamesEveryKind) {
  EXPECT_EQ(FilterKindName(FilterKind::kRegex), "regex");
  EXPECT_EQ(FilterKindName(FilterKind::kPrefix), "prefix");
  EXPECT_EQ(FilterKindName(FilterKind::kGlob), "glob");
  EXPECT_EQ(FilterKindName(FilterKind::kSlots), "slots");
}

TEST(RegexFilterTest, IsAnUnanchoredSearch) {
  auto filter = MustMake(FilterKind::kRegex, "[0-4]");
  EXPECT_TRUE(filter->Matches("0"));
  EXPECT_TRUE(filter->Matches("user:3"));
  EXPECT_FALSE(filter->Matches("user:5"));
  EXPECT_FALSE(filter->Matches(""));
}

TEST(RegexFilterTest, CaretAnchorsAtTheStart) {
  auto filter = MustMake(FilterKind::kRegex, "^[0-4]");
  EXPECT_TRUE(filter->Matches("4abc"));
  EXPECT_FALSE(filter->Matches("a4"));
  EXPECT_FALSE(filter->Matches("5"));
  EXPECT_EQ(filter->Describe(), "regex:^[0-4]");
}

TEST(RegexFilterTest, DollarAnchorsAtTheEnd) {
  auto filter = MustMake(FilterKind::kRegex, ":tmp$");
  EXPECT_TRUE(filter->Matches("a:tmp"));
  EXPECT_FALSE(filter->Matches("a:tmp:b"));
}

TEST(RegexFilterTest, KeysAreBinarySafe) {
  // Latin-1: each byte is one character; \0 and \xff are ordinary bytes.
  auto filter = MustMake(FilterKind::kRegex, "^a\\x00.\xff$");
  EXPECT_TRUE(filter->Matches("a\0z\xff"s));
  EXPECT_TRUE(filter->Matches("a\0\x80\xff"s));
  EXPECT_FALSE(filter->Matches("a\0\xff"s));
  EXPECT_FALSE(filter->Matches("a"));
  EXPECT_EQ(filter->Describe(), "regex:^a\\x00.\\xff$");
}

TEST(RegexFilterTest, DotMatchesOneByteOfInvalidUtf8) {
  auto filter = MustMake(FilterKind::kRegex, "^k.$");
  EXPECT_TRUE(filter->Matches("k\xc3"));       // A lone UTF-8 lead byte.
  EXPECT_FALSE(filter->Matches("k\xc3\xa9"));  // Two bytes, not one character.
  EXPECT_TRUE(filter->Matches("k\n"s));        // Not a line-oriented match.
}

TEST(RegexFilterTest, ByteClassesCoverHighBytes) {
  auto filter = MustMake(FilterKind::kRegex, "^[\\x80-\\xff]+$");
  EXPECT_TRUE(filter->Matches("\x80\xfe\xff"));
  EXPECT_FALSE(filter->Matches("\x7f"));
}

TEST(RegexFilterTest, InvalidRegexIsNamed) {
  EXPECT_EQ(MakeError(FilterKind::kRegex, "^[0-4"), "invalid regex '^[0-4': missing ]");
  EXPECT_EQ(MakeError(FilterKind::kRegex, "(a"), "invalid regex '(a': missing )");
  EXPECT_EQ(MakeError(FilterKind::kRegex, "a**"), "invalid regex 'a**': bad repetition operator");
  EXPECT_EQ(MakeError(FilterKind::kRegex, "\x01("), "invalid regex '\\x01(': missing )");
}

TEST(KeyFilterTest, EmptyPatternsAreRejected) {
  EXPECT_EQ(MakeError(FilterKind::kRegex, ""), "regex is empty");
  EXPECT_EQ(MakeError(FilterKind::kPrefix, ""), "prefix is empty");
  EXPECT_EQ(MakeError(FilterKind::kGlob, ""), "glob is empty");
  EXPECT_EQ(MakeError(FilterKind::kSlots, ""), "slots is empty");
}

TEST(PrefixFilterTest, StartsWith) {
  auto filter = MustMake(FilterKind::kPrefix, "user:");
  EXPECT_TRUE(filter->Matches("user:"));
  EXPECT_TRUE(filter->Matches("user:1"));
  EXPECT_FALSE(filter->Matches("user"));
  EXPECT_FALSE(filter->Matches("xuser:1"));
  EXPECT_EQ(filter->Describe(), "prefix:user:");
}

TEST(PrefixFilterTest, IsBinarySafeAndLiteral) {
  auto filter = MustMake(FilterKind::kPrefix, "a\0.*"s);
  EXPECT_TRUE(filter->Matches("a\0.*b"s));
  EXPECT_FALSE(filter->Matches("a\0xb"s));
  EXPECT_FALSE(filter->Matches("a"));
  EXPECT_EQ(filter->Describe(), "prefix:a\\x00.*");
}

TEST(GlobFilterTest, UsesRedisGlob) {
  auto filter = MustMake(FilterKind::kGlob, "user:[0-4]*");
  EXPECT_TRUE(filter->Matches("user:0"));
  EXPECT_TRUE(filter->Matches("user:42"));
  EXPECT_FALSE(filter->Matches("user:5"));
  EXPECT_FALSE(filter->Matches("xuser:0"));  // Globs are anchored at both ends.
  EXPECT_EQ(filter->Describe(), "glob:user:[0-4]*");
}

TEST(SlotsFilterTest, SingleRange) {
  auto filter = MustMake(FilterKind::kSlots, "0-8191");
  // "123456789" is slot 12739; "{user}:1" hashes "user" (slot 5474).
  EXPECT_FALSE(filter->Matches("123456789"));
  EXPECT_EQ(KeyHashSlot("user"), 5474);
  EXPECT_TRUE(filter->Matches("{user}:1"));
  EXPECT_EQ(filter->Describe(), "slots:0-8191");
}

TEST(SlotsFilterTest, ListOfRangesAndSingleSlots) {
  auto filter = MustMake(FilterKind::kSlots, "0-100, 200,300-400,12739");
  EXPECT_TRUE(filter->Matches("123456789"));
  int matched = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string key = "key:" + std::to_string(i);
    const int slot = KeyHashSlot(key);
    const bool expected =
        slot <= 100 || slot == 200 || (slot >= 300 && slot <= 400) || slot == 12739;
    EXPECT_EQ(filter->Matches(key), expected) << key << " slot " << slot;
    matched += expected;
  }
  EXPECT_GT(matched, 0);
}

TEST(SlotsFilterTest, EdgesOfTheSlotSpace) {
  auto filter = MustMake(FilterKind::kSlots, "16383");
  // Find a key in slot 16383 and one in slot 0 and check only the first matches.
  std::string in_last, in_first;
  for (int i = 0; (in_last.empty() || in_first.empty()) && i < 1000000; ++i) {
    std::string key = std::to_string(i);
    if (KeyHashSlot(key) == 16383 && in_last.empty()) in_last = key;
    if (KeyHashSlot(key) == 0 && in_first.empty()) in_first = key;
  }
  ASSERT_FALSE(in_last.empty());
  ASSERT_FALSE(in_first.empty());
  EXPECT_TRUE(filter->Matches(in_last));
  EXPECT_FALSE(filter->Matches(in_first));
  auto all = MustMake(FilterKind::kSlots, "0-16383");
  EXPECT_TRUE(all->Matches(in_last));
  EXPECT_TRUE(all->Matches(in_first));
  EXPECT_TRUE(all->Matches(""));
}

TEST(SlotsFilterTest, BadRangesAreNamed) {
  EXPECT_EQ(MakeError(FilterKind::kSlots, "9000-100"), "slot range '9000-100': start > end");
  EXPECT_EQ(MakeError(FilterKind::kSlots, "0-16384"),
            "slot range '0-16384': slot 16384 out of range 0-16383");
  EXPECT_EQ(MakeError(FilterKind::kSlots, "0-99999999999"),
            "slot range '0-99999999999': '99999999999' is not a slot number");
  EXPECT_EQ(MakeError(FilterKind::kSlots, "-5"), "slot range '-5': '' is not a slot number");
  EXPECT_EQ(MakeError(FilterKind::kSlots, "1-"), "slot range '1-': '' is not a slot number");
  EXPECT_EQ(MakeError(FilterKind::kSlots, "a-b"), "slot range 'a-b': 'a' is not a slot number");
  EXPECT_EQ(MakeError(FilterKind::kSlots, "+5"), "slot range '+5': '+5' is not a slot number");
  EXPECT_EQ(MakeError(FilterKind::kSlots, "1-2-3"),
            "slot range '1-2-3': '2-3' is not a slot number");
  EXPECT_EQ(MakeError(FilterKind::kSlots, "0-10,,20"), "slot ranges '0-10,,20': empty range");
  EXPECT_EQ(MakeError(FilterKind::kSlots, "0-10,"), "slot ranges '0-10,': empty range");
}

}  // namespace
}  // namespace reshard::engine
