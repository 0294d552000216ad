// dashboards/: the alert rules pass `promtool check rules` and their unit test
// (`promtool test rules alerts_test.yml`), the Grafana dashboard is valid JSON
// whose queries parse, and both use only metric names the exporter emits and
// the job_id label (never Prometheus's own `job`).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/metrics_exporter.h"

namespace reshard::server {
namespace {

const std::string kDashboards = std::string(RESHARD_SOURCE_DIR) + "/dashboards";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every metric name the exporter emits for a job with one target.
std::set<std::string> ExportedNames() {
  JobView job;
  job.id = "j";
  engine::TargetStatus target;
  target.name = "t";
  job.status.targets.push_back(target);
  std::set<std::string> names;
  for (const auto& family : JobMetricFamilies({job})) {
    EXPECT_FALSE(family.metric.empty()) << family.name;
    names.insert(family.name);
  }
  return names;
}

std::set<std::string> MetricNamesIn(const std::string& text) {
  static const std::regex kMetric("reshard_[a-z_]+");
  std::set<std::string> names;
  for (std::sregex_iterator it(text.begin(), text.end(), kMetric), end; it != end; ++it) {
    names.insert(it->str());
  }
  return names;
}

// Collects the string values of every "expr" key below `value`.
void CollectExprs(const google::protobuf::Value& value, std::vector<std::string>* exprs) {
  if (value.has_struct_value()) {
    for (const auto& [key, field] : value.struct_value().fields()) {
      if (key == "expr" && field.has_string_value()) exprs->push_back(field.string_value());
      CollectExprs(field, exprs);
    }
  } else if (value.has_list_value()) {
    for (const auto& item : value.list_value().values()) CollectExprs(item, exprs);
  }
}

TEST(DashboardsTest, ExporterEmitsTheDocumentedFamilies) {
  EXPECT_THAT(
      ExportedNames(),
      ::testing::UnorderedElementsAre(
          "reshard_job_state", "reshard_bytes_received_total", "reshard_target_bytes_sent_total",
          "reshard_rdb_bytes_read_total", "reshard_rdb_keys_read_total",
          "reshard_target_keys_kept_total", "reshard_target_keys_dropped_total",
          "reshard_target_commands_kept_total", "reshard_target_commands_dropped_total",
          "reshard_target_commands_split_total", "reshard_target_keys_materialized_total",
          "reshard_target_lag_bytes", "reshard_target_lag_seconds",
          "reshard_target_connected_replicas", "reshard_upstream_connected",
          "reshard_upstream_reconnects_total", "reshard_rdb_keys_expected",
          "reshard_source_master_offset", "reshard_source_lag_bytes", "reshard_source_lag_seconds",
          "reshard_upstream_acked_offset", "reshard_target_state", "reshard_target_spool_bytes",
          "reshard_target_spool_disk_bytes", "reshard_target_source_acked_offset",
          "reshard_target_resyncs", "reshard_source_failovers_total", "reshard_source_info"));
}

bool HavePromtool() { return std::system("promtool --version > /dev/null 2>&1") == 0; }

// Runs `command` (stderr with stdout); its exit code and output.
std::pair<int, std::string> RunCommand(const std::string& command) {
  // Per process: ctest runs this binary's tests in parallel processes.
  const std::string out =
      ::testing::TempDir() + "/dashboards_test." + std::to_string(getpid()) + ".out";
  int rc = std::system((command + " > " + out + " 2>&1").c_str());
  return {rc, ReadFile(out)};
}

// `job` as a label name (job=, job!~, by (job), on (job, ...), {{job}}).
const std::regex kBareJobLabel(R"((^|[^a-z_])job\s*(=|!=|=~|!~|,|\)|\}\}))");

// The alert names of alerts.yml.
std::vector<std::string> AlertNames() {
  const std::string text = ReadFile(kDashboards + "/alerts.yml");
  static const std::regex kAlert(R"(- alert: (\w+))");
  std::vector<std::string> names;
  for (std::sregex_iterator it(text.begin(), text.end(), kAlert), end; it != end; ++it) {
    names.push_back((*it)[1].str());
  }
  return names;
}

TEST(DashboardsTest, AlertRulesPassTheirPromtoolUnitTest) {
  // Every alert of alerts.yml has a case where it fires and one where it must
  // not (an `exp_alerts: []` at an evaluation time when lookalike series are
  // present).
  const std::vector<std::string> alerts = AlertNames();
  EXPECT_GE(alerts.size(), 11u);
  const std::string tests = ReadFile(kDashboards + "/alerts_test.yml");
  static const std::regex kCheck(R"(alertname: (\w+)\s+exp_alerts:\s*(\[\])?)");
  std::set<std::string> fires, quiet;
  for (std::sregex_iterator it(tests.begin(), tests.end(), kCheck), end; it != end; ++it) {
    ((*it)[2].matched ? quiet : fires).insert((*it)[1].str());
  }
  for (const std::string& alert : alerts) {
    EXPECT_TRUE(fires.contains(alert)) << alert << " is never shown to fire";
    EXPECT_TRUE(quiet.contains(alert)) << alert << " is never shown to stay quiet";
  }
  if (!HavePromtool()) GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  auto [rc, output] = RunCommand("promtool test rules " + kDashboards + "/alerts_test.yml");
  EXPECT_EQ(rc, 0) << output;
  EXPECT_THAT(output, ::testing::HasSubstr("SUCCESS"));
}

TEST(DashboardsTest, AlertRulesUseJobIdNotJob) {
  const std::string text = ReadFile(kDashboards + "/alerts.yml");
  EXPECT_THAT(text, ::testing::HasSubstr("on (job_id)"));
  EXPECT_THAT(text, ::testing::HasSubstr("$labels.job_id"));
  std::smatch match;
  EXPECT_FALSE(std::regex_search(text, match, kBareJobLabel)) << match.str();
  EXPECT_FALSE(std::regex_search(text, match, std::regex(R"(\$labels\.job\b[^_])"))) << match.str();
}

TEST(DashboardsTest, AlertRulesPassPromtoolAndUseExportedMetrics) {
  if (!HavePromtool()) GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  const std::string rules = kDashboards + "/alerts.yml";
  auto [rc, output] = RunCommand("promtool check rules " + rules);
  EXPECT_EQ(rc, 0) << output;
  const std::set<std::string> exported = ExportedNames();
  const std::set<std::string> used = MetricNamesIn(ReadFile(rules));
  EXPECT_GE(used.size(), 4u);
  for (const std::string& name : used) EXPECT_TRUE(exported.contains(name)) << name;
  // The alerts the README promises.
  EXPECT_THAT(AlertNames(), ::testing::UnorderedElementsAre(
                                "ReshardJobFailed", "ReshardJobDegraded", "ReshardSourceLagHigh",
                                "ReshardTargetCutOff", "ReshardTargetResynced",
                                "ReshardTargetSpoolLarge", "ReshardTargetLagHigh",
                                "ReshardTargetLagBytesHigh", "ReshardUpstreamDisconnected",
                                "ReshardUpstreamFlapping", "ReshardTargetNoReplicas"));
}

TEST(DashboardsTest, GrafanaDashboardIsJsonUsingOnlyExportedMetrics) {
  const std::string text = ReadFile(kDashboards + "/reshard.json");
  google::protobuf::Value dashboard;
  auto parsed = google::protobuf::util::JsonStringToMessage(text, &dashboard);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString();
  ASSERT_TRUE(dashboard.has_struct_value());
  EXPECT_EQ(dashboard.struct_value().fields().at("title").string_value(), "reshard");

  std::vector<std::string> exprs;
  CollectExprs(dashboard, &exprs);
  EXPECT_GE(exprs.size(), 10u);
  const std::set<std::string> exported = ExportedNames();
  std::set<std::string> used;
  for (const std::string& expr : exprs) {
    std::set<std::string> names = MetricNamesIn(expr);
    EXPECT_FALSE(names.empty()) << "expr without a reshard metric: " << expr;
    for (const std::string& name : names) {
      EXPECT_TRUE(exported.contains(name)) << name << " in " << expr;
      used.insert(name);
    }
  }
  // The template variables' queries, too.
  for (const std::string& name : MetricNamesIn(text)) {
    EXPECT_TRUE(exported.contains(name)) << name;
  }
  // Every exported family is on the dashboard.
  EXPECT_EQ(used, exported);
  // The job id is job_id everywhere, also in legends and template variables.
  for (const std::string& expr : exprs) {
    EXPECT_THAT(expr, ::testing::HasSubstr("job_id")) << expr;
  }
  std::smatch match;
  EXPECT_FALSE(std::regex_search(text, match, kBareJobLabel)) << match.str();
  EXPECT_THAT(text, ::testing::HasSubstr("label_values(reshard_job_state, job_id)"));

  // Every query parses: promtool checks them as recording rules (with the
  // dashboard's variables filled in).
  if (!HavePromtool()) GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  const std::string rules =
      ::testing::TempDir() + "/dashboard_exprs." + std::to_string(getpid()) + ".yml";
  {
    std::ofstream out(rules);
    out << "groups:\n  - name: dashboard\n    rules:\n";
    for (size_t i = 0; i < exprs.size(); ++i) {
      std::string expr = std::regex_replace(exprs[i], std::regex(R"(\$(job_id|target))"), ".*");
      expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "1m");
      expr = std::regex_replace(expr, std::regex("'"), "''");  // YAML single quotes
      out << "      - record: dashboard_expr_" << i << "\n        expr: '" << expr << "'\n";
    }
  }
  auto [rc, output] = RunCommand("promtool check rules " + rules);
  EXPECT_EQ(rc, 0) << output;
}

// The Grafana provisioning files have the structure Grafana reads
// (apiVersion 1; a Prometheus data source; a file provider whose path is
// where the package installs reshard.json, and which the dashboard's
// datasource variable accepts). Grafana itself is not packaged in Debian 12:
// this checks the files as data, with python3's YAML parser.
TEST(DashboardsTest, GrafanaProvisioningFilesHaveGrafanasStructure) {
  if (std::system("python3 -c 'import yaml' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-yaml not installed";
  }
  const std::string script =
      ::testing::TempDir() + "/check_provisioning." + std::to_string(getpid()) + ".py";
  std::ofstream(script) << R"(import json, sys, yaml
d = yaml.safe_load(open(sys.argv[1] + "/grafana/datasource.yml"))
assert d["apiVersion"] == 1, d
[ds] = d["datasources"]
assert ds["type"] == "prometheus" and ds["access"] == "proxy", ds
assert ds["url"].startswith("http://") and ds["name"] and ds["uid"], ds
p = yaml.safe_load(open(sys.argv[1] + "/grafana/dashboards.yml"))
assert p["apiVersion"] == 1, p
[prov] = p["providers"]
assert prov["type"] == "file" and prov["name"], prov
assert prov["options"]["path"] == "/usr/share/reshard/dashboards", prov
dash = json.load(open(sys.argv[1] + "/reshard.json"))
var = [v for v in dash["templating"]["list"] if v["type"] == "datasource"][0]
assert var["query"] == ds["type"], var
for panel in dash["panels"]:
    assert panel["datasource"]["uid"] == "${" + var["name"] + "}", panel["title"]
print("OK")
)";
  auto [rc, output] = RunCommand("python3 " + script + " " + kDashboards);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_EQ(output, "OK\n");
}

}  // namespace
}  // namespace reshard::server
