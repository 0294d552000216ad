#include "engine/route/glob_match.h"

#include <cstddef>
#include <utility>

namespace reshard::engine {
namespace {

// Mirrors stringmatchlen_impl(). `skip_longer_matches` is Redis's fix for
// exponential backtracking (CVE-2022-36021): once the rest of the pattern
// after a '*' fails at every later position, no earlier '*' can help either.
bool GlobMatchImpl(const char* pattern, size_t pattern_len, const char* string, size_t string_len,
                   bool* skip_longer_matches) {
  while (pattern_len > 0 && string_len > 0) {
    switch (pattern[0]) {
      case '*': {
        while (pattern_len > 1 && pattern[1] == '*') {
          ++pattern;
          --pattern_len;
        }
        if (pattern_len == 1) return true;  // A trailing '*' matches the rest.
        while (string_len > 0) {
          if (GlobMatchImpl(pattern + 1, pattern_len - 1, string, string_len,
                            skip_longer_matches)) {
            return true;
          }
          if (*skip_longer_matches) return false;
          ++string;
          --string_len;
        }
        *skip_longer_matches = true;
        return false;
      }
      case '?':
        ++string;
        --string_len;
        break;
      case '[': {
        ++pattern;
        --pattern_len;
        const bool negate = pattern_len > 0 && pattern[0] == '^';
        if (negate) {
          ++pattern;
          --pattern_len;
        }
        bool match = false;
        while (true) {
          if (pattern_len == 0) {
            // Unclosed set: Redis steps back so that the common advance below
            // lands exactly on the end of the pattern.
            --pattern;
            ++pattern_len;
            break;
          }
          if (pattern[0] == '\\' && pattern_len >= 2) {
            ++pattern;
            --pattern_len;
            if (pattern[0] == string[0]) match = true;
          } else if (pattern[0] == ']') {
            break;
          } else if (pattern_len >= 3 && pattern[1] == '-') {
            // Redis compares plain (signed on x86-64) chars promoted to int.
            int start = static_cast<signed char>(pattern[0]);
            int end = static_cast<signed char>(pattern[2]);
            const int c = static_cast<signed char>(string[0]);
            if (start > end) std::swap(start, end);
            pattern += 2;
            pattern_len -= 2;
            if (c >= start && c <= end) match = true;
          } else if (pattern[0] == string[0]) {
            match = true;
          }
          ++pattern;
          --pattern_len;
        }
        if (negate) match = !match;
        if (!match) return false;
        ++string;
        --string_len;
        break;
      }
      case '\\':
        if (pattern_len >= 2) {
          ++pattern;
          --pattern_len;
        }
        [[fallthrough]];
      default:
        if (pattern[0] != string[0]) return false;
        ++string;
        --string_len;
        break;
    }
    ++pattern;
    --pattern_len;
    if (string_len == 0) {
      // Redis reads the NUL terminator here; bounding by the length is the
      // same thing for a binary-safe pattern.
      while (pattern_len > 0 && pattern[0] == '*') {
        ++pattern;
        --pattern_len;
      }
      break;
    }
  }
  return pattern_len == 0 && string_len == 0;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view string) {
  // KEYS and SCAN MATCH treat a lone "*" as "every key" without calling
  // stringmatchlen(), which would not match the empty key.
  if (pattern == "*") return true;
  bool skip_longer_matches = false;
  return GlobMatchImpl(pattern.data(), pattern.size(), string.data(), string.size(),
                       &skip_longer_matches);
}

}  // namespace reshard::engine
