#pragma once

// Key filters for tests that must not depend on the real filters of
// engine/route/key_filter.h: a predicate, and a plain prefix. Header-only, so
// that a unit test of one stage can use them without reshard_test_support.
// Both are immutable after construction, like every engine::KeyFilter.

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "engine/route/key_filter.h"

namespace reshard::engine::testing {

// Selects the keys for which `matches` returns true. Describe() is "lambda".
class LambdaFilter : public KeyFilter {
 public:
  explicit LambdaFilter(std::function<bool(std::string_view)> matches)
      : matches_(std::move(matches)) {}
  bool Matches(std::string_view key) const override { return matches_(key); }
  std::string Describe() const override { return "lambda"; }

 private:
  std::function<bool(std::string_view)> matches_;
};

// Selects the keys that start with `prefix` (byte for byte). Describe() is
// "prefix:<prefix>".
class PrefixFilter : public KeyFilter {
 public:
  explicit PrefixFilter(std::string prefix) : prefix_(std::move(prefix)) {}
  bool Matches(std::string_view key) const override { return key.starts_with(prefix_); }
  std::string Describe() const override { return "prefix:" + prefix_; }

 private:
  std::string prefix_;
};

}  // namespace reshard::engine::testing
