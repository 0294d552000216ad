#include "proto/reshard/v1/cutover_convert.h"

#include <gtest/gtest.h>

namespace reshard::api {
namespace {

TEST(CutoverOptionsFromProtoTest, DefaultsAndErrors) {
  v1::CutoverJobRequest request;
  absl::StatusOr<engine::CutoverOptions> options = CutoverOptionsFromProto(request);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->max_write_pause, absl::Seconds(2));
  EXPECT_EQ(options->lag_threshold_bytes, 1u << 20);
  EXPECT_EQ(options->lag_wait_timeout, absl::Seconds(60));
  EXPECT_FALSE(options->promote);
  EXPECT_FALSE(options->leave_source_paused);
  request.set_max_write_pause_ms(100);
  request.set_lag_threshold_bytes(4096);
  request.set_lag_wait_ms(5000);
  request.set_promote(true);
  request.set_leave_source_paused(true);
  options = CutoverOptionsFromProto(request);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->max_write_pause, absl::Milliseconds(100));
  EXPECT_EQ(options->lag_threshold_bytes, 4096u);
  EXPECT_EQ(options->lag_wait_timeout, absl::Seconds(5));
  EXPECT_TRUE(options->promote);
  EXPECT_TRUE(options->leave_source_paused);
  request.set_max_write_pause_ms(-1);
  EXPECT_EQ(CutoverOptionsFromProto(request).status().message(),
            "max_write_pause_ms: must not be negative, not -1");
}

TEST(CutoverReportTest, RoundTripsForTheJobStore) {
  engine::CutoverReport report;
  report.state = engine::CutoverState::kDone;
  report.options.max_write_pause = absl::Milliseconds(250);
  report.options.promote = true;
  report.options.lag_threshold_bytes = 1000;
  report.started_unix_ms = 1700000000123;
  report.finished_unix_ms = 1700000000456;
  report.write_pause_ms = 3.5;
  report.final_offset = 987654;
  report.pause_mode = "WRITE";
  report.source_version = "Redis 7.0.15 (RDB 10)";
  report.source_left_paused = true;
  report.steps = {"1 lag: ...", "2 pause: ..."};
  report.targets.push_back({"a", 987654, true, true, {{0, 10}, {3, 2}}, 12});
  report.targets.push_back({"b", 987654, false, false, {}, 0});
  report.targets.push_back({"c", 987654, false, false, {{0, 30}}, 30, /*cluster=*/true});
  v1::CutoverReport proto = CutoverReportToProto(report);
  EXPECT_EQ(proto.state(), v1::CutoverReport::DONE);
  EXPECT_EQ(proto.max_write_pause_ms(), 250);
  EXPECT_EQ(proto.start_time().nanos(), 123000000);
  engine::CutoverReport back = CutoverReportFromProto(proto);
  EXPECT_EQ(back.state, report.state);
  EXPECT_EQ(back.options.max_write_pause, report.options.max_write_pause);
  EXPECT_EQ(back.options.promote, true);
  EXPECT_EQ(back.options.lag_threshold_bytes, 1000u);
  EXPECT_EQ(back.started_unix_ms, report.started_unix_ms);
  EXPECT_EQ(back.finished_unix_ms, report.finished_unix_ms);
  EXPECT_EQ(back.write_pause_ms, 3.5);
  EXPECT_EQ(back.final_offset, 987654u);
  EXPECT_EQ(back.pause_mode, "WRITE");
  EXPECT_EQ(back.source_version, report.source_version);
  EXPECT_TRUE(back.source_left_paused);
  EXPECT_EQ(back.steps, report.steps);
  EXPECT_EQ(back.targets, report.targets);
  report.state = engine::CutoverState::kRolledBack;
  report.error = "cutover step 3 (...): why; source unpaused";
  back = CutoverReportFromProto(CutoverReportToProto(report));
  EXPECT_EQ(back.state, engine::CutoverState::kRolledBack);
  EXPECT_EQ(back.error, report.error);
}

}  // namespace
}  // namespace reshard::api
