#include "client/output/cutover_printer.h"

#include <gtest/gtest.h>

#include <sstream>

#include "absl/strings/match.h"
#include "client/cli/ctl_args.h"

namespace reshard::client {
namespace {

v1::CutoverReport Report() {
  v1::CutoverReport report;
  report.set_state(v1::CutoverReport::DONE);
  report.set_write_pause_ms(12.34);
  report.set_final_offset(987654);
  report.set_pause_mode("WRITE");
  report.set_source_version("7.0.15");
  report.add_steps("1 lag: every target within 1048576 bytes of source offset 987000");
  report.add_steps("2 pause: CLIENT PAUSE 2000 WRITE");
  v1::CutoverTarget* a = report.add_targets();
  a->set_name("a");
  a->set_managed(true);
  a->set_promoted(true);
  a->set_source_acked_offset(987654);
  (*a->mutable_db_keys())[1] = 20;
  (*a->mutable_db_keys())[0] = 100;
  a->set_keys(120);
  v1::CutoverTarget* b = report.add_targets();
  b->set_name("b");
  b->set_source_acked_offset(987654);
  return report;
}

TEST(CutoverPrinterTest, TableShowsStepsPauseAndTargets) {
  std::ostringstream out;
  PrintCutoverReport(Report(), OutputFormat::kTable, out);
  EXPECT_EQ(out.str(),
            "step 1 lag: every target within 1048576 bytes of source offset 987000\n"
            "step 2 pause: CLIENT PAUSE 2000 WRITE\n"
            "write pause: 12.3 ms (CLIENT PAUSE WRITE, source 7.0.15)\n"
            "final offset: 987654\n"
            "target a: 120 keys (db0=100, db1=20), applied 987654, promoted (role:master)\n"
            "target b: not managed (no key count; promote it yourself), applied 987654\n");
}

TEST(CutoverPrinterTest, ClusterTargetShowsItsKeysAndNoPromotion) {
  v1::CutoverReport report = Report();
  v1::CutoverTarget* c = report.add_targets();
  c->set_name("c");
  c->set_cluster(true);
  c->set_source_acked_offset(987654);
  (*c->mutable_db_keys())[0] = 3000;
  c->set_keys(3000);
  std::ostringstream out;
  PrintCutoverReport(report, OutputFormat::kTable, out);
  EXPECT_TRUE(absl::EndsWith(
      out.str(),
      "target c: 3000 keys (db0=3000), applied 987654, a cluster (its masters take writes "
      "already)\n"))
      << out.str();
}

TEST(CutoverPrinterTest, RolledBackShowsTheError) {
  v1::CutoverReport report = Report();
  report.set_state(v1::CutoverReport::ROLLED_BACK);
  report.set_error(
      "cutover step 3 (wait for every target to apply offset 987654): not within the "
      "1000 ms write pause: 'b' applied 987000; source unpaused");
  report.set_write_pause_ms(901.25);
  std::ostringstream out;
  PrintCutoverReport(report, OutputFormat::kTable, out);
  EXPECT_EQ(out.str(),
            "step 1 lag: every target within 1048576 bytes of source offset 987000\n"
            "step 2 pause: CLIENT PAUSE 2000 WRITE\n"
            "rolled back: cutover step 3 (wait for every target to apply offset 987654): not "
            "within the 1000 ms write pause: 'b' applied 987000; source unpaused\n"
            "write pause: 901.2 ms\n"
            "the job streams on\n");
}

TEST(CutoverPrinterTest, LeftPausedIsSaid) {
  v1::CutoverReport report = Report();
  report.set_source_left_paused(true);
  report.clear_targets();
  report.clear_steps();
  std::ostringstream out;
  PrintCutoverReport(report, OutputFormat::kTable, out);
  EXPECT_EQ(out.str(),
            "write pause: 12.3 ms (CLIENT PAUSE WRITE, source 7.0.15); the source is still "
            "paused\nfinal offset: 987654\n");
}

TEST(CutoverPrinterTest, JsonIsTheProtoMapping) {
  std::ostringstream out;
  PrintCutoverReport(Report(), OutputFormat::kJson, out);
  EXPECT_NE(out.str().find("\"write_pause_ms\": 12.34"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("\"final_offset\": \"987654\""), std::string::npos) << out.str();
}

TEST(CutoverArgsTest, ParsesTheCutoverOptions) {
  absl::StatusOr<CtlInvocation> inv = ParseCtlArgs(
      {"cutover", "job-1", "--max-write-pause", "500ms", "--promote", "--leave-source-paused"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, "cutover");
  EXPECT_EQ(inv->positional, std::vector<std::string>{"job-1"});
  EXPECT_EQ(inv->max_write_pause_ms, 500);
  EXPECT_TRUE(inv->promote);
  EXPECT_TRUE(inv->leave_source_paused);
  absl::StatusOr<CtlInvocation> bad = ParseCtlArgs({"cutover", "job-1", "--max-write-pause=5"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "--max-write-pause: expected a positive duration such as 500ms or 2s, got '5'");
}

}  // namespace
}  // namespace reshard::client
