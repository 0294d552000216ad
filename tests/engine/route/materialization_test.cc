#include "engine/route/materialization.h"

#include <gtest/gtest.h>

#include <vector>

namespace reshard::engine {
namespace {

using Requests = std::vector<Materialization>;

TEST(AddToRequestsTest, GroupsByDbAndRequestsEachKeyOnce) {
  Requests requests;
  std::vector<KeyRef> refs = {{0, "a"}, {3, "b"}, {0, "c"}, {0, "a"}, {3, "b"}};
  AddToRequests(refs, &requests);
  EXPECT_EQ(requests, (Requests{{0, {"a", "c"}}, {3, {"b"}}}));
}

TEST(AddToRequestsTest, AddsToTheRequestsAlreadyThere) {
  Requests requests = {{1, {"x"}}};
  std::vector<KeyRef> refs = {{1, "x"}, {2, "y"}, {1, "z"}};
  AddToRequests(refs, &requests);
  EXPECT_EQ(requests, (Requests{{1, {"x", "z"}}, {2, {"y"}}}));
}

TEST(AddToRequestsTest, TheSameKeyInTwoDbsIsTwoKeys) {
  Requests requests;
  std::vector<KeyRef> refs = {{0, "k"}, {1, "k"}};
  AddToRequests(refs, &requests);
  EXPECT_EQ(requests, (Requests{{0, {"k"}}, {1, {"k"}}}));
}

TEST(AddToRequestsTest, NoRefsAddNothing) {
  Requests requests;
  AddToRequests({}, &requests);
  EXPECT_TRUE(requests.empty());
}

}  // namespace
}  // namespace reshard::engine
