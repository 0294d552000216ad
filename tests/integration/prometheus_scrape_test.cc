// A real scrape: Debian's `prometheus` on loopback scrapes an in-process
// reshardd (Daemon) with dashboards/alerts.yml loaded, while a job splits a
// real Redis in two. A target is stopped (SIGSTOP) under writes until the job
// is DEGRADED; the ReshardJobDegraded alert must go pending, then firing,
// through Prometheus's HTTP API (the rules file is the real one, only its
// `for:` durations shortened to 5 s). Then every panel query of the Grafana
// dashboard (dashboards/reshard.json, its variables filled in as Grafana
// would) must return data from that Prometheus. The target is resumed and
// the job ends with every key compared.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/job/job_spec.h"
#include "engine/route/key_filter.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/daemon.h"
#include "tests/support/free_port.h"
#include "tests/support/job_targets.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/redis_client.h"
#include "tests/support/shard_check.h"
#include "tests/support/test_servers.h"

namespace reshard::integration {
namespace {

using google::protobuf::Value;
using testing::RedisClient;

const std::string kDashboards = std::string(RESHARD_SOURCE_DIR) + "/dashboards";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Value ParseJson(const std::string& text) {
  Value value;
  auto status = google::protobuf::util::JsonStringToMessage(text, &value);
  EXPECT_TRUE(status.ok()) << status.ToString() << ": " << text.substr(0, 500);
  return value;
}

const Value& Field(const Value& value, const std::string& name) {
  static const Value kNull;
  if (!value.has_struct_value()) return kNull;
  auto it = value.struct_value().fields().find(name);
  return it == value.struct_value().fields().end() ? kNull : it->second;
}

// The result vector of an instant query (empty on an error, recorded).
std::vector<Value> QueryResult(const testing::PrometheusServer& prometheus,
                               const std::string& expr) {
  absl::StatusOr<std::string> answer = prometheus.Query(expr);
  if (!answer.ok()) {
    ADD_FAILURE() << expr << ": " << answer.status();
    return {};
  }
  Value json = ParseJson(*answer);
  EXPECT_EQ(Field(json, "status").string_value(), "success") << expr << ": " << *answer;
  const Value& result = Field(Field(json, "data"), "result");
  return {result.list_value().values().begin(), result.list_value().values().end()};
}

// The state ("pending", "firing") of the alert named `name` for job `job_id`;
// empty when it is not active.
std::string AlertState(const testing::PrometheusServer& prometheus, const std::string& name,
                       const std::string& job_id, std::map<std::string, std::string>* labels) {
  absl::StatusOr<std::string> answer = prometheus.Alerts();
  if (!answer.ok()) return "";
  Value json = ParseJson(*answer);
  for (const Value& alert : Field(Field(json, "data"), "alerts").list_value().values()) {
    const Value& alert_labels = Field(alert, "labels");
    if (Field(alert_labels, "alertname").string_value() != name) continue;
    if (Field(alert_labels, "job_id").string_value() != job_id) continue;
    labels->clear();
    for (const auto& [key, value] : alert_labels.struct_value().fields()) {
      (*labels)[key] = value.string_value();
    }
    return Field(alert, "state").string_value();
  }
  return "";
}

// Every "expr" string below `value`, with the panel title it belongs to.
void CollectPanelExprs(const Value& value, const std::string& title,
                       std::vector<std::pair<std::string, std::string>>* exprs) {
  if (value.has_struct_value()) {
    std::string here = title;
    if (Field(value, "title").has_string_value()) here = Field(value, "title").string_value();
    for (const auto& [key, field] : value.struct_value().fields()) {
      if (key == "expr" && field.has_string_value()) exprs->push_back({here, field.string_value()});
      CollectPanelExprs(field, here, exprs);
    }
  } else if (value.has_list_value()) {
    for (const Value& item : value.list_value().values()) CollectPanelExprs(item, title, exprs);
  }
}

// alerts.yml as it is, with every `for:` shortened to 5 s so that a test
// sees an alert go pending and then firing within seconds.
std::string RulesWithShortFor() {
  return std::regex_replace(ReadFile(kDashboards + "/alerts.yml"), std::regex(R"(for: [0-9]+m)"),
                            "for: 5s");
}

// Resumes a stopped process however the test ends.
struct ContinueOnExit {
  pid_t pid;
  ~ContinueOnExit() { ::kill(pid, SIGCONT); }
};

TEST(PrometheusScrapeTest, DegradedAlertFiresAndEveryDashboardQueryReturnsData) {
  if (std::system("prometheus --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "prometheus not installed (Debian package prometheus)";
  }
  auto source = testing::StartServer();
  auto target_a = testing::StartServer();
  auto target_b = testing::StartServer();
  ASSERT_TRUE(source && target_a && target_b);
  RedisClient writer = testing::Connect(*source);
  std::vector<std::vector<std::string>> fill;
  for (int i = 0; i < 2000; ++i) fill.push_back({"SET", absl::StrCat(i, ":key"), "value"});
  ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(writer, fill));

  server::DaemonOptions options;
  options.grpc_listen = "127.0.0.1:0";
  options.metrics_listen = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<server::Daemon>> daemon = server::Daemon::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();

  // Prometheus first: its first scrape comes ~5 s after it starts, while
  // the job syncs.
  testing::TempDir rules_dir("prometheus-rules");
  const std::string rules = rules_dir / "alerts.yml";
  std::ofstream(rules) << RulesWithShortFor();
  const std::string config = absl::StrCat(
      "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      "rule_files:\n  - ",
      rules,
      "\n"
      "scrape_configs:\n  - job_name: reshardd\n    static_configs:\n"
      "      - targets: ['127.0.0.1:",
      (*daemon)->metrics_port(), "']\n");
  absl::StatusOr<std::unique_ptr<testing::PrometheusServer>> started =
      testing::PrometheusServer::Start(config);
  ASSERT_TRUE(started.ok()) << started.status();
  testing::PrometheusServer& prometheus = **started;

  engine::JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(testing::MakeTarget("a", {engine::FilterKind::kRegex, "^[0-4]"},
                                             testing::PickFreePort(), target_a.get()));
  spec.targets.push_back(testing::MakeTarget("b", {engine::FilterKind::kRegex, "^[5-9]"},
                                             testing::PickFreePort(), target_b.get()));
  // A small memory queue: the stopped target spools after 1 MiB.
  spec.options.max_target_queue_bytes = 1 << 20;
  server::JobManager& manager = (*daemon)->manager();
  ASSERT_TRUE(manager.Create("scrape", spec).ok());
  auto job_state = [&] {
    absl::StatusOr<server::JobView> view = manager.Get("scrape");
    return view.ok() ? view->status.state : engine::JobState::kFailed;
  };
  ASSERT_TRUE(RedisClient::WaitFor([&] { return job_state() == engine::JobState::kStreaming; },
                                   absl::Seconds(30), "job STREAMING")
                  .ok())
      << engine::JobStateName(job_state());

  // Prometheus has scraped the streaming job.
  ASSERT_TRUE(RedisClient::WaitFor(
                  [&] {
                    return !QueryResult(
                                prometheus,
                                R"(reshard_job_state{job_id="scrape",state="STREAMING"} == 1)")
                                .empty();
                  },
                  absl::Seconds(30), "the first scrape", absl::Milliseconds(500))
                  .ok())
      << prometheus.Log();
  // Not pending: a DEGRADED sample of the snapshot's load, if one was
  // scraped, is followed by STREAMING ones.
  std::map<std::string, std::string> labels;
  EXPECT_TRUE(
      RedisClient::WaitFor(
          [&] { return AlertState(prometheus, "ReshardJobDegraded", "scrape", &labels).empty(); },
          absl::Seconds(15), "ReshardJobDegraded inactive", absl::Milliseconds(250))
          .ok());

  // Stop target b and write until its stream spools: the job is DEGRADED.
  RedisClient b = testing::Connect(*target_b);
  ASSERT_TRUE(b.CheckedCommand({"CONFIG", "SET", "repl-timeout", "600"}).ok());
  ASSERT_EQ(::kill(target_b->pid(), SIGSTOP), 0);
  ContinueOnExit resume_b{target_b->pid()};
  const std::string value(64 * 1024, 'v');
  int written = 0;
  const absl::Time write_deadline = absl::Now() + absl::Seconds(60);
  while (job_state() != engine::JobState::kDegraded && absl::Now() < write_deadline) {
    std::vector<std::vector<std::string>> batch;
    for (int i = 0; i < 32; ++i, ++written) {
      batch.push_back({"SET", absl::StrCat(written % 10, ":big:", written % 500), value});
    }
    ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(writer, batch));
  }
  ASSERT_EQ(job_state(), engine::JobState::kDegraded) << "after " << written << " writes";

  // The alert goes pending (for: 5 s), then firing.
  std::set<std::string> seen;
  std::vector<std::string> order;
  ASSERT_TRUE(RedisClient::WaitFor(
                  [&] {
                    const std::string state =
                        AlertState(prometheus, "ReshardJobDegraded", "scrape", &labels);
                    if (!state.empty() && (order.empty() || order.back() != state)) {
                      order.push_back(state);
                    }
                    return state == "firing";
                  },
                  absl::Seconds(40), "ReshardJobDegraded firing", absl::Milliseconds(250))
                  .ok())
      << "states seen: " << ::testing::PrintToString(order) << "\n"
      << prometheus.Log();
  EXPECT_THAT(order, ::testing::ElementsAre("pending", "firing"));
  EXPECT_EQ(labels["severity"], "warning");
  EXPECT_EQ(labels["state"], "DEGRADED");
  EXPECT_EQ(labels["job"], "reshardd");  // the scrape job; the reshard job is job_id
  // What the alert's expression and the dashboard read: target b is not
  // streaming, and unacknowledged bytes wait for it.
  EXPECT_THAT(QueryResult(prometheus,
                          R"(reshard_target_state{job_id="scrape",target="b",state="STREAMING"})"
                          R"( == 0)"),
              ::testing::SizeIs(1));
  EXPECT_THAT(
      QueryResult(prometheus, R"(reshard_target_lag_bytes{job_id="scrape",target="b"} > 0)"),
      ::testing::SizeIs(1));

  // Every panel query returns data, with the variables as Grafana fills them
  // ($job_id and $target: this job and every target; $__rate_interval: at
  // least four scrape intervals).
  Value dashboard = ParseJson(ReadFile(kDashboards + "/reshard.json"));
  std::vector<std::pair<std::string, std::string>> exprs;
  CollectPanelExprs(dashboard, "", &exprs);
  ASSERT_GE(exprs.size(), 20u);
  for (const auto& [title, expr] : exprs) {
    std::string query = std::regex_replace(expr, std::regex(R"(\$job_id)"), "scrape");
    query = std::regex_replace(query, std::regex(R"(\$target)"), "a|b");
    query = std::regex_replace(query, std::regex(R"(\$__rate_interval)"), "10s");
    EXPECT_THAT(QueryResult(prometheus, query), ::testing::Not(::testing::IsEmpty()))
        << "panel '" << title << "': " << query;
  }
  // The template variables' queries, as label_values() asks them.
  absl::StatusOr<std::string> job_ids =
      testing::HttpGet(prometheus.port(), "/api/v1/label/job_id/values?match[]=" +
                                              testing::UrlEncode("reshard_job_state"));
  ASSERT_TRUE(job_ids.ok()) << job_ids.status();
  EXPECT_THAT(*job_ids, ::testing::HasSubstr(R"("scrape")"));

  // Target b runs again: the job streams, every key where it belongs.
  ::kill(target_b->pid(), SIGCONT);
  ASSERT_TRUE(RedisClient::WaitFor([&] { return job_state() == engine::JobState::kStreaming; },
                                   absl::Seconds(60), "job STREAMING again")
                  .ok())
      << engine::JobStateName(job_state());
  RedisClient a = testing::Connect(*target_a);
  RedisClient b_again = testing::Connect(*target_b);
  ASSERT_TRUE(writer.CheckedCommand({"SET", "0:last", "x"}).ok());
  ASSERT_TRUE(writer.CheckedCommand({"SET", "9:last", "x"}).ok());
  auto low = engine::MakeKeyFilter(spec.targets[0].filter);
  auto high = engine::MakeKeyFilter(spec.targets[1].filter);
  ASSERT_TRUE(low.ok() && high.ok());
  ASSERT_TRUE(RedisClient::WaitFor(
                  [&] {
                    auto x = a.Command({"EXISTS", "0:last"});
                    auto y = b_again.Command({"EXISTS", "9:last"});
                    return x.ok() && y.ok() && x->integer == 1 && y->integer == 1;
                  },
                  absl::Seconds(60), "the last writes on both targets")
                  .ok());
  absl::StatusOr<testing::ShardCheckReport> report =
      testing::CheckShards(writer, {{"a", low->get(), &a}, {"b", high->get(), &b_again}}, 1);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
}

}  // namespace
}  // namespace reshard::integration
