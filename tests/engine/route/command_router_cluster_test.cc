// CommandRouter with a Redis Cluster among the targets: a command whose keys
// select the cluster from different hash slots is handled as a cross-target
// one, since a cluster applies a command to the keys of one slot only.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/resp/resp_writer.h"
#include "engine/route/command_router.h"
#include "engine/route/hash_slot.h"
#include "tests/support/test_filters.h"

namespace reshard::engine {
namespace {

using ::reshard::engine::testing::PrefixFilter;

std::string W(std::initializer_list<std::string_view> args) {
  std::string out;
  AppendCommand(&out, args);
  return out;
}

const std::string kSelect0 = W({"SELECT", "0"});

// Target 0 "a" (standalone, keys a*), target 1 "c" (a cluster, keys c*).
// c:p and c:q hash to different slots, c{x}1 and c{x}2 to one.
class ClusterRouteTest : public ::testing::Test {
 protected:
  ClusterRouteTest() : router_({&a_, &c_}, &CommandTable::Builtin(), {"a", "c"}) {
    router_.SetTargetIsCluster(1, true);
    router_.SetSourceDb(0);
    router_.SetAppliedOffset(100);
  }
  void SetUp() override {
    ASSERT_NE(KeyHashSlot("c:p"), KeyHashSlot("c:q"));
    ASSERT_EQ(KeyHashSlot("c{x}1"), KeyHashSlot("c{x}2"));
  }

  // Routes with materialisation: the status, the requests in *requests.
  absl::Status Route(std::initializer_list<std::string_view> args,
                     std::vector<Materialization>* requests) {
    wire_ = W(args);
    RespParser parser;
    size_t consumed = 0;
    EXPECT_EQ(parser.Parse(wire_, &consumed, &cmd_), ParseResult::kOk);
    return router_.Route(cmd_, &out_, requests);
  }
  std::vector<Materialization> M(std::initializer_list<std::string_view> args) {
    std::vector<Materialization> requests;
    absl::Status s = Route(args, &requests);
    EXPECT_TRUE(s.ok()) << s;
    return requests;
  }
  bool InspectCopies(std::initializer_list<std::string_view> args) {
    wire_ = W(args);
    RespParser parser;
    size_t consumed = 0;
    EXPECT_EQ(parser.Parse(wire_, &consumed, &cmd_), ParseResult::kOk);
    int db = 0;
    CommandNeeds needs;
    router_.Inspect(cmd_, &db, &needs);
    return needs.copy;
  }
  std::vector<std::string> Take() {
    std::vector<std::string> got = std::move(out_);
    out_.assign(2, "");
    return got;
  }

  PrefixFilter a_{"a"};
  PrefixFilter c_{"c"};
  CommandRouter router_;
  std::vector<std::string> out_ = std::vector<std::string>(2);
  std::string wire_;
  RespCommand cmd_;
};

using Requests = std::vector<Materialization>;
using Got = std::vector<std::string>;

TEST_F(ClusterRouteTest, KeysOfOneSlotGoWhole) {
  EXPECT_EQ(M({"RENAME", "c{x}1", "c{x}2"}), Requests{});
  EXPECT_EQ(Take(), (Got{"", kSelect0 + W({"RENAME", "c{x}1", "c{x}2"})}));
  EXPECT_FALSE(InspectCopies({"SUNIONSTORE", "c{x}1", "c{x}2"}));
}

TEST_F(ClusterRouteTest, AWriteAcrossSlotsOfTheClusterIsCopiedNotSent) {
  EXPECT_TRUE(InspectCopies({"RENAME", "c:p", "c:q"}));
  EXPECT_EQ(M({"RENAME", "c:p", "c:q"}), (Requests{{0, {"c:p", "c:q"}}}));
  // Only what it writes: SUNIONSTORE's sources are read.
  EXPECT_EQ(M({"SUNIONSTORE", "c:p", "c:q", "c{x}1"}), (Requests{{0, {"c:p"}}}));
  EXPECT_EQ(M({"EVAL", "return 1", "2", "c:p", "c:q"}), (Requests{{0, {"c:p", "c:q"}}}));
  EXPECT_EQ(Take(), (Got{"", ""}));
  // The copies: one RESTORE or DEL per key, which the cluster routes by slot.
  router_.EmitMaterialized(0, MaterializedKey{"c:p"}, true, 1000, &out_);
  router_.EmitMaterialized(0, MaterializedKey{"c:q", true, "payload", 0}, true, 1000, &out_);
  EXPECT_EQ(Take(), (Got{"", kSelect0 + W({"DEL", "c:p"}) +
                                 W({"RESTORE", "c:q", "0", "payload", "REPLACE", "ABSTTL"})}));
}

TEST_F(ClusterRouteTest, SplittableCommandsGoWholeForTheClusterToSplitPerSlot) {
  EXPECT_FALSE(InspectCopies({"MSET", "c:p", "1", "c:q", "2"}));
  EXPECT_EQ(M({"MSET", "c:p", "1", "c:q", "2", "a1", "3"}), Requests{});
  EXPECT_EQ(Take(), (Got{kSelect0 + W({"MSET", "a1", "3"}),
                         kSelect0 + W({"MSET", "c:p", "1", "c:q", "2"})}));
  EXPECT_EQ(M({"DEL", "c:p", "c:q"}), Requests{});
  EXPECT_EQ(Take(), (Got{"", W({"DEL", "c:p", "c:q"})}));
}

TEST_F(ClusterRouteTest, SmoveAcrossSlotsIsASremAndASadd) {
  EXPECT_FALSE(InspectCopies({"SMOVE", "c:p", "c:q", "m"}));
  EXPECT_EQ(M({"SMOVE", "c:p", "c:q", "m"}), Requests{});
  EXPECT_EQ(Take(), (Got{"", kSelect0 + W({"SREM", "c:p", "m"}) + W({"SADD", "c:q", "m"})}));
  EXPECT_EQ(M({"SMOVE", "c{x}1", "c{x}2", "m"}), Requests{});
  EXPECT_EQ(Take(), (Got{"", W({"SMOVE", "c{x}1", "c{x}2", "m"})}));
  EXPECT_EQ(M({"SMOVE", "a1", "c:q", "m"}), Requests{});
  EXPECT_EQ(Take(), (Got{kSelect0 + W({"SREM", "a1", "m"}), W({"SADD", "c:q", "m"})}));
  EXPECT_EQ(router_.counters(1).commands_split, 2u);
}

TEST_F(ClusterRouteTest, AStandaloneTargetTakesKeysOfAnySlots) {
  ASSERT_NE(KeyHashSlot("a:p"), KeyHashSlot("a:q"));
  EXPECT_EQ(M({"RENAME", "a:p", "a:q"}), Requests{});
  EXPECT_EQ(Take(), (Got{kSelect0 + W({"RENAME", "a:p", "a:q"}), ""}));
}

TEST_F(ClusterRouteTest, RefusedWhenAskedNamingTheSlotsAndTheCluster) {
  router_.set_fail_on_cross_target(true);
  std::vector<Materialization> requests;
  absl::Status refused = Route({"RENAME", "c:p", "c:q"}, &requests);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            absl::StrCat("RENAME keys 'c:p' (slot ", KeyHashSlot("c:p"), "), 'c:q' (slot ",
                         KeyHashSlot("c:q"),
                         ") span hash slots of cluster target c: cross-slot writes are refused "
                         "(fail_on_cross_target_write)"));
  EXPECT_TRUE(requests.empty());
  EXPECT_EQ(Take(), (Got{"", ""}));
}

}  // namespace
}  // namespace reshard::engine
