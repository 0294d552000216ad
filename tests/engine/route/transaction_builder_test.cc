#include "engine/route/transaction_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/resp/resp_writer.h"

namespace reshard::engine {
namespace {

std::string W(std::initializer_list<std::string_view> args) {
  std::string out;
  AppendCommand(&out, args);
  return out;
}

class TransactionBuilderTest : public ::testing::Test {
 protected:
  TransactionBuilderTest() {
    dbs_.SetSourceDb(0);
    dbs_.SetTargetDb(0, 0);
    dbs_.SetTargetDb(1, 0);
  }
  DbTracker dbs_{3};
  TransactionBuilder txn_{3};
  std::vector<std::string> out_ = std::vector<std::string>(3);
};

TEST_F(TransactionBuilderTest, EachPartWithACommandBecomesOneTransaction) {
  ASSERT_TRUE(txn_.Begin(dbs_).ok());
  EXPECT_TRUE(txn_.open());
  txn_.PartInDb(0, 0).append(W({"SET", "a", "1"}));
  txn_.PartInDb(2, 0).append(W({"SET", "c", "1"}));  // target 2 had no db yet
  txn_.PartInDb(0, 0).append(W({"INCR", "a"}));
  EXPECT_EQ(out_, (std::vector<std::string>{"", "", ""}));  // nothing before EXEC
  ASSERT_TRUE(txn_.Commit(&dbs_, &out_).ok());
  EXPECT_FALSE(txn_.open());
  EXPECT_EQ(out_[0], W({"MULTI"}) + W({"SET", "a", "1"}) + W({"INCR", "a"}) + W({"EXEC"}));
  EXPECT_EQ(out_[1], "");
  EXPECT_EQ(out_[2], W({"MULTI"}) + W({"SELECT", "0"}) + W({"SET", "c", "1"}) + W({"EXEC"}));
  EXPECT_EQ(dbs_.target_db(2), 0);
}

TEST_F(TransactionBuilderTest, ATargetsDbChangesOnlyAtCommitAndOnlyIfItsPartHeldACommand) {
  ASSERT_TRUE(txn_.Begin(dbs_).ok());
  txn_.PartInDb(0, 4).append(W({"SET", "a", "1"}));
  txn_.PartInDb(0, 4).append(W({"SET", "a", "2"}));  // still in db 4: no second SELECT
  EXPECT_EQ(dbs_.target_db(0), 0);
  ASSERT_TRUE(txn_.Commit(&dbs_, &out_).ok());
  EXPECT_EQ(out_[0], W({"MULTI"}) + W({"SELECT", "4"}) + W({"SET", "a", "1"}) +
                         W({"SET", "a", "2"}) + W({"EXEC"}));
  EXPECT_EQ(dbs_.target_db(0), 4);
  EXPECT_EQ(dbs_.target_db(1), 0);
  EXPECT_EQ(dbs_.target_db(2), kUnknownDb);
}

TEST_F(TransactionBuilderTest, APartWithoutADbStillCounts) {
  ASSERT_TRUE(txn_.Begin(dbs_).ok());
  txn_.Part(1).append(W({"PUBLISH", "ch", "m"}));
  ASSERT_TRUE(txn_.Commit(&dbs_, &out_).ok());
  EXPECT_EQ(out_[1], W({"MULTI"}) + W({"PUBLISH", "ch", "m"}) + W({"EXEC"}));
  EXPECT_EQ(out_[0], "");
}

TEST_F(TransactionBuilderTest, EachTransactionStartsEmpty) {
  ASSERT_TRUE(txn_.Begin(dbs_).ok());
  txn_.PartInDb(0, 0).append(W({"SET", "a", "1"}));
  ASSERT_TRUE(txn_.Commit(&dbs_, &out_).ok());
  out_.assign(3, "");
  ASSERT_TRUE(txn_.Begin(dbs_).ok());
  txn_.PartInDb(1, 0).append(W({"SET", "b", "1"}));
  ASSERT_TRUE(txn_.Commit(&dbs_, &out_).ok());
  EXPECT_EQ(out_[0], "");
  EXPECT_EQ(out_[1], W({"MULTI"}) + W({"SET", "b", "1"}) + W({"EXEC"}));
}

TEST_F(TransactionBuilderTest, DiscardDropsThePartsAndRestoresTheSourceDb) {
  ASSERT_TRUE(txn_.Begin(dbs_).ok());
  dbs_.SetSourceDb(7);  // a SELECT queued in the transaction
  txn_.PartInDb(0, 7).append(W({"SET", "a", "1"}));
  ASSERT_TRUE(txn_.Discard(&dbs_).ok());
  EXPECT_FALSE(txn_.open());
  EXPECT_EQ(dbs_.source_db(), 0);
  EXPECT_EQ(dbs_.target_db(0), 0);
  EXPECT_EQ(out_, (std::vector<std::string>{"", "", ""}));
}

TEST_F(TransactionBuilderTest, MisplacedMultiExecAndDiscardAreErrors) {
  EXPECT_EQ(txn_.Commit(&dbs_, &out_).ToString(), "FAILED_PRECONDITION: EXEC without MULTI");
  EXPECT_EQ(txn_.Discard(&dbs_).ToString(), "FAILED_PRECONDITION: DISCARD without MULTI");
  ASSERT_TRUE(txn_.Begin(dbs_).ok());
  txn_.PartInDb(0, 0).append(W({"SET", "a", "1"}));
  EXPECT_EQ(txn_.Begin(dbs_).ToString(), "FAILED_PRECONDITION: MULTI inside MULTI");
  // The open transaction is left as it was.
  ASSERT_TRUE(txn_.Commit(&dbs_, &out_).ok());
  EXPECT_EQ(out_[0], W({"MULTI"}) + W({"SET", "a", "1"}) + W({"EXEC"}));
}

}  // namespace
}  // namespace reshard::engine
