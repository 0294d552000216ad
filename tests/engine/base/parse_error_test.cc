#include "engine/base/parse_error.h"

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "engine/base/status_context.h"

namespace reshard::engine {
namespace {

TEST(ParseErrorMessageTest, WhatOffsetDetail) {
  EXPECT_EQ(ParseErrorMessage("resp", 13, "argument 2 of 2: expected '$', got '*'"),
            "resp offset 13: argument 2 of 2: expected '$', got '*'");
  EXPECT_EQ(ParseErrorMessage("rdb", 18234567890123ull, "header: bad magic"),
            "rdb offset 18234567890123: header: bad magic");
}

TEST(WithContextTest, PrefixesTheMessageAndKeepsTheCode) {
  EXPECT_EQ(WithContext(absl::DataLossError("rdb offset 3: x"), "snapshot from source: "),
            absl::DataLossError("snapshot from source: rdb offset 3: x"));
  EXPECT_EQ(WithContext(absl::UnavailableError("closed"), ""), absl::UnavailableError("closed"));
}

TEST(WithContextTest, OkStaysOk) {
  EXPECT_EQ(WithContext(absl::OkStatus(), "ignored: "), absl::OkStatus());
}

}  // namespace
}  // namespace reshard::engine
