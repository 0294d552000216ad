#include "engine/route/expiry_rewriter.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/resp/resp_writer.h"

namespace reshard::engine {
namespace {

constexpr int64_t kNow = 1700000000000;

std::string W(std::initializer_list<std::string_view> args) {
  std::string out;
  AppendCommand(&out, args);
  return out;
}

// Target 0 has no PXAT, target 1 has it.
class ExpiryRewriterTest : public ::testing::Test {
 protected:
  ExpiryRewriterTest() {
    rewriter_.SetNowMs(kNow);
    rewriter_.SetTargetSupportsPxat(1, true);
  }
  // Rewrites the command `args` (parsed as the router gets it).
  bool Rewrite(std::initializer_list<std::string_view> args, bool in_transaction = false) {
    wire_ = W(args);
    RespParser parser;
    size_t consumed = 0;
    EXPECT_EQ(parser.Parse(wire_, &consumed, &cmd_), ParseResult::kOk);
    const CommandInfo* info = CommandTable::Builtin().Find(cmd_.args);
    EXPECT_NE(info, nullptr);
    return info != nullptr && rewriter_.Rewrite(*info, cmd_, in_transaction);
  }
  // The rewritten bytes for the target without PXAT and for the one with it.
  std::pair<std::string, std::string> Forms() const {
    return {std::string(rewriter_.For(0)), std::string(rewriter_.For(1))};
  }

  ExpiryRewriter rewriter_{2};
  std::string wire_;
  RespCommand cmd_;
};

TEST_F(ExpiryRewriterTest, ExpireAndPexpireKeepTheirFlagsForEveryTarget) {
  ASSERT_TRUE(Rewrite({"expire", "k", "100", "NX"}));
  std::string want = W({"PEXPIREAT", "k", "1700000100000", "NX"});
  EXPECT_EQ(Forms(), std::make_pair(want, want));
  ASSERT_TRUE(Rewrite({"PEXPIRE", "k", "1500"}));
  want = W({"PEXPIREAT", "k", "1700000001500"});
  EXPECT_EQ(Forms(), std::make_pair(want, want));
}

TEST_F(ExpiryRewriterTest, SetFormsUsePxatOnlyWhereTheTargetHasIt) {
  const std::string pxat = W({"SET", "k", "v", "PXAT", "1700000010000"});
  const std::string compat =
      W({"MULTI"}) + W({"SET", "k", "v"}) + W({"PEXPIREAT", "k", "1700000010000"}) + W({"EXEC"});
  ASSERT_TRUE(Rewrite({"SETEX", "k", "10", "v"}));
  EXPECT_EQ(Forms(), std::make_pair(compat, pxat));
  ASSERT_TRUE(Rewrite({"PSETEX", "k", "10000", "v"}));
  EXPECT_EQ(Forms(), std::make_pair(compat, pxat));
  ASSERT_TRUE(Rewrite({"SET", "k", "v", "EX", "10"}));
  EXPECT_EQ(Forms(), std::make_pair(compat, pxat));
  ASSERT_TRUE(Rewrite({"set", "k", "v", "nx", "px", "10000", "GET"}));  // NX and GET go
  EXPECT_EQ(Forms(), std::make_pair(compat, pxat));
}

TEST_F(ExpiryRewriterTest, InsideATransactionTheCompatFormHasNoMultiOfItsOwn) {
  ASSERT_TRUE(Rewrite({"SETEX", "k", "10", "v"}, /*in_transaction=*/true));
  EXPECT_EQ(Forms(), std::make_pair(W({"SET", "k", "v"}) + W({"PEXPIREAT", "k", "1700000010000"}),
                                    W({"SET", "k", "v", "PXAT", "1700000010000"})));
}

TEST_F(ExpiryRewriterTest, GetexAndRestoreBecomeAbsolute) {
  ASSERT_TRUE(Rewrite({"GETEX", "k", "ex", "5"}));
  std::string want = W({"PEXPIREAT", "k", "1700000005000"});
  EXPECT_EQ(Forms(), std::make_pair(want, want));
  ASSERT_TRUE(Rewrite({"RESTORE", "k", "2500", "payload", "REPLACE"}));
  want = W({"RESTORE", "k", "1700000002500", "payload", "REPLACE", "ABSTTL"});
  EXPECT_EQ(Forms(), std::make_pair(want, want));
  ASSERT_TRUE(Rewrite({"RESTORE-ASKING", "k", "2500", "payload"}));
  want = W({"RESTORE-ASKING", "k", "1700000002500", "payload", "ABSTTL"});
  EXPECT_EQ(Forms(), std::make_pair(want, want));
}

TEST_F(ExpiryRewriterTest, AbsoluteMalformedAndOverflowingExpiriesAreLeftAlone) {
  EXPECT_FALSE(Rewrite({"PEXPIREAT", "k", "1700000000000"}));
  EXPECT_FALSE(Rewrite({"EXPIREAT", "k", "1700000000"}));
  EXPECT_FALSE(Rewrite({"SET", "k", "v"}));
  EXPECT_FALSE(Rewrite({"SET", "k", "v", "EXAT", "1700000000"}));
  EXPECT_FALSE(Rewrite({"SET", "k", "v", "KEEPTTL"}));
  EXPECT_FALSE(Rewrite({"SET", "k", "v", "EX", "1", "PX", "1"}));  // two expiries
  EXPECT_FALSE(Rewrite({"SET", "k", "v", "EX"}));
  EXPECT_FALSE(Rewrite({"SETEX", "k", "ten", "v"}));
  EXPECT_FALSE(Rewrite({"EXPIRE", "k", "9223372036854775807"}));   // * 1000 overflows
  EXPECT_FALSE(Rewrite({"PEXPIRE", "k", "9223372036854775807"}));  // now + it overflows
  EXPECT_FALSE(Rewrite({"GETEX", "k", "PERSIST"}));
  EXPECT_FALSE(Rewrite({"GETEX", "k"}));
  EXPECT_FALSE(Rewrite({"RESTORE", "k", "0", "payload"}));  // no expiry
  EXPECT_FALSE(Rewrite({"RESTORE", "k", "1700000000000", "payload", "ABSTTL"}));
  EXPECT_FALSE(Rewrite({"INCR", "k"}));
}

TEST_F(ExpiryRewriterTest, NoClockOrDisabledRewritesNothing) {
  rewriter_.set_enabled(false);
  EXPECT_FALSE(Rewrite({"EXPIRE", "k", "100"}));
  rewriter_.set_enabled(true);
  EXPECT_TRUE(Rewrite({"EXPIRE", "k", "100"}));
  rewriter_.SetNowMs(0);
  EXPECT_FALSE(Rewrite({"EXPIRE", "k", "100"}));
}

}  // namespace
}  // namespace reshard::engine
