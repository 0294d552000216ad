// dashboards/: the alert rules pass `promtool check rules`, the Grafana
// dashboard is valid JSON, and both use only metric names the exporter emits.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

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
  EXPECT_THAT(ExportedNames(),
              ::testing::UnorderedElementsAre(
                  "reshard_job_state", "reshard_bytes_received_total",
                  "reshard_target_bytes_sent_total", "reshard_rdb_bytes_read_total",
                  "reshard_rdb_keys_read_total", "reshard_target_keys_kept_total",
                  "reshard_target_keys_dropped_total", "reshard_target_commands_kept_total",
                  "reshard_target_commands_dropped_total", "reshard_target_commands_split_total",
                  "reshard_target_keys_materialized_total", "reshard_target_lag_bytes",
                  "reshard_target_lag_seconds", "reshard_target_connected_replicas",
                  "reshard_upstream_connected", "reshard_upstream_reconnects_total"));
}

TEST(DashboardsTest, AlertRulesPassPromtoolAndUseExportedMetrics) {
  const std::string rules = kDashboards + "/alerts.yml";
  const std::string command = "promtool check rules " + rules + " > /dev/null 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  const std::set<std::string> exported = ExportedNames();
  const std::set<std::string> used = MetricNamesIn(ReadFile(rules));
  EXPECT_GE(used.size(), 4u);
  for (const std::string& name : used) EXPECT_TRUE(exported.contains(name)) << name;
  // The four alerts the dashboards promise.
  const std::string text = ReadFile(rules);
  for (const char* alert : {"ReshardJobFailed", "ReshardTargetLagHigh",
                            "ReshardUpstreamDisconnected", "ReshardTargetNoReplicas"}) {
    EXPECT_THAT(text, ::testing::HasSubstr(std::string("alert: ") + alert));
  }
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
}

}  // namespace
}  // namespace reshard::server
