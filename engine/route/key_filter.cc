#include "engine/route/key_filter.h"

#include <bitset>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "engine/route/glob_match.h"
#include "engine/route/hash_slot.h"
#include "re2/re2.h"

namespace reshard::engine {
namespace {

// Patterns may hold any byte; show non-printable ones as \xHH and leave the
// rest (including backslashes) as the user wrote them.
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string Printable(absl::string_view text) {
  return Printable(std::string_view(text.data(), text.size()));
}

std::string DescribeSpec(FilterKind kind, std::string_view pattern) {
  return absl::StrCat(std::string(FilterKindName(kind)), ":", Printable(pattern));
}

class RegexFilter final : public KeyFilter {
 public:
  RegexFilter(std::string pattern, std::unique_ptr<RE2> re)
      : pattern_(std::move(pattern)), re_(std::move(re)) {}
  bool Matches(std::string_view key) const override {
    return RE2::PartialMatch(re2::StringPiece(key.data(), key.size()), *re_);
  }
  std::string Describe() const override { return DescribeSpec(FilterKind::kRegex, pattern_); }

 private:
  std::string pattern_;
  std::unique_ptr<RE2> re_;
};

class PrefixFilter final : public KeyFilter {
 public:
  explicit PrefixFilter(std::string prefix) : prefix_(std::move(prefix)) {}
  bool Matches(std::string_view key) const override { return key.starts_with(prefix_); }
  std::string Describe() const override { return DescribeSpec(FilterKind::kPrefix, prefix_); }

 private:
  std::string prefix_;
};

class GlobFilter final : public KeyFilter {
 public:
  explicit GlobFilter(std::string glob) : glob_(std::move(glob)) {}
  bool Matches(std::string_view key) const override { return GlobMatch(glob_, key); }
  std::string Describe() const override { return DescribeSpec(FilterKind::kGlob, glob_); }

 private:
  std::string glob_;
};

class SlotsFilter final : public KeyFilter {
 public:
  SlotsFilter(std::string ranges, std::bitset<kClusterSlots> slots)
      : ranges_(std::move(ranges)), slots_(slots) {}
  bool Matches(std::string_view key) const override { return slots_.test(KeyHashSlot(key)); }
  std::string Describe() const override { return DescribeSpec(FilterKind::kSlots, ranges_); }

 private:
  std::string ranges_;
  std::bitset<kClusterSlots> slots_;
};

absl::StatusOr<std::unique_ptr<KeyFilter>> MakeRegexFilter(const std::string& pattern) {
  RE2::Options options;
  // Latin-1: every byte is one character, so keys that are not UTF-8 (any
  // byte, \0 included) can match, and "." matches exactly one byte.
  options.set_encoding(RE2::Options::EncodingLatin1);
  // Keys are not lines: "." matches any byte, "\n" included ("(?-s)" undoes it).
  options.set_dot_nl(true);
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    // RE2's error() is "<what>: <fragment>"; the fragment is usually the
    // whole tail of the pattern, which the message already shows.
    std::string what = re->error();
    if (const size_t colon = what.find(": "); colon != std::string::npos) what.resize(colon);
    return absl::InvalidArgumentError(
        absl::StrCat("invalid regex '", Printable(std::string_view(pattern)), "': ", what));
  }
  return std::make_unique<RegexFilter>(pattern, std::move(re));
}

absl::StatusOr<int> ParseSlot(absl::string_view text, absl::string_view item) {
  int slot = 0;
  const bool digits_only =
      !text.empty() && text.find_first_not_of("0123456789") == absl::string_view::npos;
  if (!digits_only || text.size() > 5 || !absl::SimpleAtoi(text, &slot)) {
    return absl::InvalidArgumentError(absl::StrCat("slot range '", Printable(item), "': '",
                                                   Printable(text), "' is not a slot number"));
  }
  if (slot >= kClusterSlots) {
    return absl::InvalidArgumentError(
        absl::StrCat("slot range '", Printable(item), "': slot ", slot, " out of range 0-16383"));
  }
  return slot;
}

absl::StatusOr<std::unique_ptr<KeyFilter>> MakeSlotsFilter(const std::string& ranges) {
  std::bitset<kClusterSlots> slots;
  for (absl::string_view item : absl::StrSplit(ranges, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("slot ranges '", Printable(std::string_view(ranges)), "': empty range"));
    }
    const size_t dash = item.find('-');
    absl::string_view first = item.substr(0, dash);
    absl::string_view last = dash == absl::string_view::npos ? first : item.substr(dash + 1);
    auto start = ParseSlot(absl::StripAsciiWhitespace(first), item);
    if (!start.ok()) return start.status();
    auto end = ParseSlot(absl::StripAsciiWhitespace(last), item);
    if (!end.ok()) return end.status();
    if (*start > *end) {
      return absl::InvalidArgumentError(
          absl::StrCat("slot range '", Printable(item), "': start > end"));
    }
    for (int slot = *start; slot <= *end; ++slot) slots.set(slot);
  }
  return std::make_unique<SlotsFilter>(ranges, slots);
}

}  // namespace

std::string_view FilterKindName(FilterKind kind) {
  switch (kind) {
    case FilterKind::kRegex:
      return "regex";
    case FilterKind::kPrefix:
      return "prefix";
    case FilterKind::kGlob:
      return "glob";
    case FilterKind::kSlots:
      return "slots";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<KeyFilter>> MakeKeyFilter(const FilterSpec& spec) {
  // An empty pattern is almost always an unset field, not a wish to match
  // every key; a catch-all has to be written out ("^", "*", "0-16383").
  if (spec.pattern.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(FilterKindName(spec.kind)), " is empty"));
  }
  switch (spec.kind) {
    case FilterKind::kRegex:
      return MakeRegexFilter(spec.pattern);
    case FilterKind::kPrefix:
      return std::make_unique<PrefixFilter>(spec.pattern);
    case FilterKind::kGlob:
      return std::make_unique<GlobFilter>(spec.pattern);
    case FilterKind::kSlots:
      return MakeSlotsFilter(spec.pattern);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown filter kind ", static_cast<int>(spec.kind)));
}

}  // namespace reshard::engine
