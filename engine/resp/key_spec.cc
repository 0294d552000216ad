#include "engine/resp/key_spec.h"

#include <charconv>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace reshard::engine {

KeySpec IndexRange(int index, int lastkey, int keystep, int limit) {
  KeySpec s;
  s.begin = KeySpec::Begin::kIndex;
  s.index = index;
  s.find = KeySpec::Find::kRange;
  s.lastkey = lastkey;
  s.keystep = keystep;
  s.limit = limit;
  return s;
}

KeySpec IndexKeynum(int index, int keynumidx, int firstkey, int keystep) {
  KeySpec s;
  s.begin = KeySpec::Begin::kIndex;
  s.index = index;
  s.find = KeySpec::Find::kKeynum;
  s.keynumidx = keynumidx;
  s.firstkey = firstkey;
  s.keystep = keystep;
  return s;
}

KeySpec ReadOnly(KeySpec spec) {
  spec.read_only = true;
  return spec;
}

KeySpec KeywordRange(std::string keyword, int startfrom, int lastkey, int keystep, int limit) {
  KeySpec s;
  s.begin = KeySpec::Begin::kKeyword;
  s.keyword = std::move(keyword);
  s.startfrom = startfrom;
  s.find = KeySpec::Find::kRange;
  s.lastkey = lastkey;
  s.keystep = keystep;
  s.limit = limit;
  return s;
}

absl::Status FindKeysBySpecs(std::span<const KeySpec> specs, std::span<const std::string_view> args,
                             std::vector<size_t>* keys, std::vector<uint8_t>* read_only) {
  const long argc = static_cast<long>(args.size());
  for (const KeySpec& spec : specs) {
    long first = 0;
    if (spec.begin == KeySpec::Begin::kIndex) {
      first = spec.index;
    } else {
      // Forwards from startfrom, or backwards from argc + startfrom; never
      // matching the command name itself.
      long start = spec.startfrom > 0 ? spec.startfrom : argc + spec.startfrom;
      long step = spec.startfrom > 0 ? 1 : -1;
      for (long i = start; i >= 1 && i < argc; i += step) {
        absl::string_view arg(args[i].data(), args[i].size());
        if (absl::EqualsIgnoreCase(arg, spec.keyword)) {
          first = i + 1;
          break;
        }
      }
      if (first == 0) continue;  // keyword absent: this spec selects no key
    }
    long last = 0;
    long step = spec.keystep > 0 ? spec.keystep : 1;
    if (spec.find == KeySpec::Find::kRange) {
      if (spec.lastkey >= 0) {
        last = first + spec.lastkey;
      } else if (spec.limit <= 0) {
        last = argc + spec.lastkey;
      } else {
        // XREAD STREAMS k1 k2 id1 id2: the keys are the first half of the rest.
        last = first + ((argc - first) / spec.limit + spec.lastkey);
      }
    } else {
      long count_at = first + spec.keynumidx;
      if (count_at >= argc) {
        return absl::InvalidArgumentError(
            absl::StrCat("key count expected at argument ", count_at, " of ", argc));
      }
      long long numkeys = -1;
      std::string_view count = args[count_at];
      auto [ptr, ec] = std::from_chars(count.data(), count.data() + count.size(), numkeys);
      if (ec != std::errc() || ptr != count.data() + count.size() || numkeys < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "argument ", count_at, " '", std::string(count.substr(0, 32)), "' is not a key count"));
      }
      first += spec.firstkey;
      if (numkeys == 0) continue;
      if (numkeys > argc) {
        return absl::InvalidArgumentError(
            absl::StrCat("key count ", numkeys, " exceeds the ", argc, " arguments"));
      }
      last = first + (static_cast<long>(numkeys) - 1) * step;
    }
    if (first >= argc || last >= argc || last < first) {
      return absl::InvalidArgumentError(
          absl::StrCat("keys expected at arguments ", first, "..", last, " of ", argc));
    }
    for (long i = first; i <= last; i += step) {
      keys->push_back(static_cast<size_t>(i));
      if (read_only != nullptr) read_only->push_back(spec.read_only ? 1 : 0);
    }
  }
  return absl::OkStatus();
}

}  // namespace reshard::engine
