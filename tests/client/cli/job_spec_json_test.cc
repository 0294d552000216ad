// ParseJobSpecJson: reshardctl's reading of a SPEC.json, with protobuf's
// parse errors rewritten to name the field.

#include "client/cli/job_spec_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace reshard::client {
namespace {

TEST(JobSpecJsonTest, UnknownFilterKindNamesTheField) {
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecJson(
      R"({"source":{"address":"127.0.0.1:6379"},"targets":[{"name":"a","filter":{"fuzzy":"x"},"listen":"127.0.0.1:7001"}]})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(),
            "targets[0].filter.fuzzy: unknown field; a filter is one of regex, prefix, glob, "
            "slots");
}

TEST(JobSpecJsonTest, TwoFilterKindsAreRejected) {
  absl::StatusOr<v1::JobSpec> spec =
      ParseJobSpecJson(R"({"targets":[{"name":"a","filter":{"regex":"x","prefix":"y"}}]})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "targets[0].filter: only one of regex, prefix, glob, slots may be set");
}

TEST(JobSpecJsonTest, WrongJsonTypeNamesTheField) {
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecJson(R"({"source":{"address":1}})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "source.address: invalid value 1 for type TYPE_STRING");
}

}  // namespace
}  // namespace reshard::client
