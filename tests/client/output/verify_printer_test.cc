#include "client/output/verify_printer.h"

#include <gtest/gtest.h>

#include <sstream>

namespace reshard::client {
namespace {

v1::VerifyReport Damaged() {
  v1::VerifyReport report;
  report.set_job_id("split");
  report.set_keys_checked(1000);
  report.set_target_keys_checked(1001);
  report.set_missing(1);
  report.set_stray(1);
  report.set_different(1);
  report.set_rechecked(4);
  report.set_sample_fraction(1);
  report.set_duration_seconds(0.5);
  report.set_keys_per_second(2000);
  report.set_state(v1::VerifyReport::DONE);
  report.add_target_names("a");
  report.add_target_names("b");
  v1::VerifyPrecheck* db = report.add_precheck();
  db->set_db(0);
  db->set_source_keys(1000);
  db->add_expected_keys(500);
  db->add_expected_keys(500);
  db->add_target_keys(500);
  db->add_target_keys(501);
  v1::VerifyProblem* p = report.add_problems();
  p->set_db(0);
  p->set_key("5:x");
  p->set_target("b");
  p->set_kind(v1::VerifyProblem::STRAY);
  p->set_detail("not on the source");
  p = report.add_problems();
  p->set_db(0);
  p->set_key("1:y");
  p->set_target("a");
  p->set_kind(v1::VerifyProblem::DIFFERENT_TTL);
  p->set_detail("ttl: source -1 ms, target 5000 ms");
  return report;
}

TEST(VerifyPrinterTest, CountsPrecheckAndProblems) {
  std::ostringstream out;
  v1::VerifyReport report = Damaged();
  report.set_source_address("10.0.0.12:6379");
  PrintVerifyReport(report, out);
  EXPECT_EQ(out.str(),
            "verification of job split: 3 problems in 1000 keys (full, 0.50 s, 2000 keys/s)\n"
            "source read from 10.0.0.12:6379\n"
            "keys checked 1000 (on targets 1001)  missing 1  stray 1  different 1  rechecked 4  "
            "unsettled 0\n"
            "\n"
            "pre-check (expected keys / DBSIZE per target):\n"
            "DB   SOURCE  a          b\n"
            "db0  1000    500 / 500  500 / 501 !\n"
            "\n"
            "problems (2 listed of 3: the first of each kind):\n"
            "DB  TARGET  KIND           KEY  DETAIL\n"
            "0   b       STRAY          5:x  not on the source\n"
            "0   a       DIFFERENT_TTL  1:y  ttl: source -1 ms, target 5000 ms\n");
}

TEST(VerifyPrinterTest, CleanSample) {
  v1::VerifyReport report;
  report.set_job_id("j");
  report.set_keys_checked(10);
  report.set_sample_fraction(0.1);
  std::ostringstream out;
  PrintVerifyReport(report, out);
  EXPECT_EQ(out.str(),
            "verification of job j: OK, no problems in 10 keys (sample 0.1, 0.00 s, 0 keys/s)\n"
            "keys checked 10 (on targets 0)  missing 0  stray 0  different 0  rechecked 0  "
            "unsettled 0\n");
}

TEST(VerifyPrinterTest, RunningAndFailed) {
  v1::VerifyReport report = Damaged();
  report.set_state(v1::VerifyReport::RUNNING);
  report.set_keys_total(2000);
  report.set_keys_scanned(500);
  report.clear_precheck();
  report.clear_problems();
  EXPECT_EQ(VerifyProgressLine(report),
            "verifying job split: [#####---------------]  25% 500 / 2000 keys, 2000.0 keys/s, ETA "
            "0s; 3 problems so far");
  report.set_state(v1::VerifyReport::FAILED);
  report.set_error("target 'a' 127.0.0.1:1: cannot connect: Connection refused");
  report.set_unsettled(2);
  std::ostringstream out;
  PrintVerifyReport(report, out);
  EXPECT_EQ(out.str(),
            "verification of job split: FAILED (target 'a' 127.0.0.1:1: cannot connect: "
            "Connection refused), 3 problems so far in 1000 keys (full, 0.50 s, 2000 keys/s)\n"
            "keys checked 1000 (on targets 1001)  missing 1  stray 1  different 1  rechecked 4  "
            "unsettled 2\n"
            "2 keys could not be settled (the source kept changing them, or a target did not "
            "apply the offset in time): not verified; verify again to check them\n");
}

}  // namespace
}  // namespace reshard::client
