#include "engine/route/db_tracker.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/resp/resp_writer.h"

namespace reshard::engine {
namespace {

std::string Select(std::string_view db) {
  std::string out;
  AppendCommand(&out, {"SELECT", db});
  return out;
}

TEST(ParseDbIndexTest, TakesOnlyADecimalNumberFromZero) {
  EXPECT_EQ(ParseDbIndex("0"), 0);
  EXPECT_EQ(ParseDbIndex("15"), 15);
  EXPECT_EQ(ParseDbIndex("2147483647"), 2147483647);
  EXPECT_EQ(ParseDbIndex("-1"), std::nullopt);
  EXPECT_EQ(ParseDbIndex(""), std::nullopt);
  EXPECT_EQ(ParseDbIndex("x"), std::nullopt);
  EXPECT_EQ(ParseDbIndex("1x"), std::nullopt);
  EXPECT_EQ(ParseDbIndex(" 1"), std::nullopt);
  EXPECT_EQ(ParseDbIndex("+1"), std::nullopt);
  EXPECT_EQ(ParseDbIndex("2147483648"), std::nullopt);  // past int
}

TEST(SelectDbInTest, AppendsASelectOnlyWhenTheDbChanges) {
  std::string stream;
  int selected = kUnknownDb;
  SelectDbIn(0, &selected, &stream);
  EXPECT_EQ(stream, Select("0"));
  EXPECT_EQ(selected, 0);
  SelectDbIn(0, &selected, &stream);
  EXPECT_EQ(stream, Select("0"));
  SelectDbIn(12, &selected, &stream);
  EXPECT_EQ(stream, Select("0") + Select("12"));
  EXPECT_EQ(selected, 12);
}

TEST(DbTrackerTest, TheSourceDbIsUnknownUntilSet) {
  DbTracker dbs(2);
  EXPECT_EQ(dbs.source_db(), kUnknownDb);
  EXPECT_EQ(dbs.RequireSourceDb("HSET").ToString(),
            "FAILED_PRECONDITION: HSET before the source's db is known (no SELECT yet)");
  dbs.SetSourceDb(0);
  EXPECT_TRUE(dbs.RequireSourceDb("HSET").ok());
  EXPECT_EQ(dbs.source_db(), 0);
}

TEST(DbTrackerTest, EachTargetGetsItsOwnSelects) {
  DbTracker dbs(2);
  std::string t0, t1;
  EXPECT_EQ(dbs.target_db(0), kUnknownDb);
  dbs.SelectForTarget(0, 3, &t0);
  dbs.SelectForTarget(0, 3, &t0);
  dbs.SelectForTarget(1, 5, &t1);
  dbs.SelectForTarget(1, 3, &t1);
  EXPECT_EQ(t0, Select("3"));
  EXPECT_EQ(t1, Select("5") + Select("3"));
  EXPECT_EQ(dbs.target_db(0), 3);
  EXPECT_EQ(dbs.target_db(1), 3);
  dbs.SetTargetDb(1, kUnknownDb);  // a new stream for target 1: it needs a SELECT again
  dbs.SelectForTarget(1, 3, &t1);
  dbs.SelectForTarget(0, 3, &t0);
  EXPECT_EQ(t1, Select("5") + Select("3") + Select("3"));
  EXPECT_EQ(t0, Select("3"));
}

}  // namespace
}  // namespace reshard::engine
