#include "engine/job/job_spec.h"

#include <gtest/gtest.h>

#include <string>

namespace reshard::engine {
namespace {

JobSpec ValidSpec() {
  JobSpec spec;
  spec.source.address = "127.0.0.1:7000";
  spec.targets.push_back(TargetSpec{
      .name = "a", .filter = {FilterKind::kRegex, "^[0-4]"}, .listen = "127.0.0.1:7001"});
  spec.targets.push_back(TargetSpec{
      .name = "b", .filter = {FilterKind::kSlots, "8192-16383"}, .listen = "127.0.0.1:7002"});
  return spec;
}

std::string ErrorOf(const JobSpec& spec) {
  absl::Status status = ValidateJobSpec(spec);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

std::string ParseError(std::string_view text) {
  auto parsed = ParseHostPort(text, "targets[0].listen");
  EXPECT_FALSE(parsed.ok()) << text;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(HostPortTest, ParsesIpv4HostnameAndBracketedIpv6) {
  auto v4 = ParseHostPort("127.0.0.1:7001", "f");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 7001);
  EXPECT_EQ(v4->ToString(), "127.0.0.1:7001");

  auto name = ParseHostPort("localhost:80", "f");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->host, "localhost");
  EXPECT_EQ(name->port, 80);

  auto v6 = ParseHostPort("[::1]:7001", "f");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7001);
  EXPECT_EQ(v6->ToString(), "[::1]:7001");

  auto max_port = ParseHostPort("redis-1.example_x:65535", "f");
  ASSERT_TRUE(max_port.ok()) << max_port.status();
  EXPECT_EQ(max_port->port, 65535);
}

TEST(HostPortTest, ErrorsNameTheFieldAndTheProblem) {
  EXPECT_EQ(ParseError("x:"), "targets[0].listen: malformed address 'x:': port missing");
  EXPECT_EQ(ParseError(""), "targets[0].listen: address is empty");
  EXPECT_EQ(ParseError("x"), "targets[0].listen: malformed address 'x': port missing");
  EXPECT_EQ(ParseError(":7001"), "targets[0].listen: malformed address ':7001': host missing");
  EXPECT_EQ(ParseError("h:0"),
            "targets[0].listen: malformed address 'h:0': port out of range 1-65535");
  EXPECT_EQ(ParseError("h:65536"),
            "targets[0].listen: malformed address 'h:65536': port out of range 1-65535");
  EXPECT_EQ(ParseError("h:123456"),
            "targets[0].listen: malformed address 'h:123456': port is not a number");
  EXPECT_EQ(ParseError("h:-1"),
            "targets[0].listen: malformed address 'h:-1': port is not a number");
  EXPECT_EQ(ParseError("h:+1"),
            "targets[0].listen: malformed address 'h:+1': port is not a number");
  EXPECT_EQ(ParseError("h: 1"),
            "targets[0].listen: malformed address 'h: 1': port is not a number");
  EXPECT_EQ(ParseError("h h:1"),
            "targets[0].listen: malformed address 'h h:1': bad character in host");
  EXPECT_EQ(ParseError("::1:7001"),
            "targets[0].listen: malformed address '::1:7001': an IPv6 address must be in brackets, "
            "e.g. '[::1]:7001'");
  EXPECT_EQ(ParseError("[::1:7001"),
            "targets[0].listen: malformed address '[::1:7001': missing ']'");
  EXPECT_EQ(ParseError("[::1]"), "targets[0].listen: malformed address '[::1]': port missing");
  EXPECT_EQ(ParseError("[::1]x7001"),
            "targets[0].listen: malformed address '[::1]x7001': port missing");
  EXPECT_EQ(ParseError("[]:1"), "targets[0].listen: malformed address '[]:1': host missing");
  EXPECT_EQ(ParseError("[h]:1"),
            "targets[0].listen: malformed address '[h]:1': brackets are only for IPv6 addresses");
}

TEST(ValidateJobSpecTest, AcceptsAValidSpec) {
  EXPECT_TRUE(ValidateJobSpec(ValidSpec()).ok()) << ValidateJobSpec(ValidSpec());
  JobSpec spec = ValidSpec();
  spec.source.credentials = {"user", "secret"};
  spec.targets[0].credentials = {"", "pw"};
  spec.targets[0].replica = Endpoint{"127.0.0.1:8001", {"", "pw"}};
  spec.targets[1].replica = Endpoint{"[::1]:8002", {}};
  spec.options.target_attach_timeout_ms = 0;
  EXPECT_TRUE(ValidateJobSpec(spec).ok()) << ValidateJobSpec(spec);
}

TEST(ValidateJobSpecTest, Source) {
  JobSpec spec = ValidSpec();
  spec.source.address = "";
  EXPECT_EQ(ErrorOf(spec), "source.address: address is empty");
  spec.source.address = "127.0.0.1";
  EXPECT_EQ(ErrorOf(spec), "source.address: malformed address '127.0.0.1': port missing");
  spec = ValidSpec();
  spec.source.credentials.username = "u";
  EXPECT_EQ(ErrorOf(spec), "source.credentials.password: required when a username is set");
}

TEST(ValidateJobSpecTest, Targets) {
  JobSpec spec = ValidSpec();
  spec.targets.clear();
  EXPECT_EQ(ErrorOf(spec), "targets: at least one target is required");

  spec = ValidSpec();
  spec.targets[1].name = "";
  EXPECT_EQ(ErrorOf(spec), "targets[1].name: name is required");
  spec.targets[1].name = "a";
  EXPECT_EQ(ErrorOf(spec), "targets[1].name: duplicate name 'a'");
  spec.targets[1].name = "a b";
  EXPECT_EQ(ErrorOf(spec),
            "targets[1].name: name 'a b' may only hold letters, digits, '_', '-', '.'");

  spec = ValidSpec();
  spec.targets[1].listen = "127.0.0.1:7001";
  EXPECT_EQ(ErrorOf(spec), "targets[1].listen: duplicate listen address '127.0.0.1:7001'");
  spec.targets[1].listen = "x:";
  EXPECT_EQ(ErrorOf(spec), "targets[1].listen: malformed address 'x:': port missing");
  spec.targets[1].listen = "127.0.0.1:7000";
  EXPECT_EQ(ErrorOf(spec),
            "targets[1].listen: listen address '127.0.0.1:7000' is the source address");

  spec = ValidSpec();
  spec.targets[0].credentials.username = "u";
  EXPECT_EQ(ErrorOf(spec), "targets[0].credentials.password: required when a username is set");
}

TEST(ValidateJobSpecTest, FilterErrorsNameTheKind) {
  JobSpec spec = ValidSpec();
  spec.targets[0].filter = {FilterKind::kRegex, "^[0-4"};
  EXPECT_EQ(ErrorOf(spec), "targets[0].filter.regex: invalid regex '^[0-4': missing ]");
  spec.targets[0].filter = {FilterKind::kPrefix, ""};
  EXPECT_EQ(ErrorOf(spec), "targets[0].filter.prefix: prefix is empty");
  spec.targets[0].filter = {FilterKind::kGlob, ""};
  EXPECT_EQ(ErrorOf(spec), "targets[0].filter.glob: glob is empty");
  spec.targets[1].filter = {FilterKind::kGlob, "*"};
  spec.targets[0].filter = {FilterKind::kSlots, "9000-100"};
  EXPECT_EQ(ErrorOf(spec), "targets[0].filter.slots: slot range '9000-100': start > end");
}

TEST(ValidateJobSpecTest, ManagedReplica) {
  JobSpec spec = ValidSpec();
  spec.targets[0].replica = Endpoint{"nope", {}};
  EXPECT_EQ(ErrorOf(spec), "targets[0].replica.address: malformed address 'nope': port missing");
  spec.targets[0].replica = Endpoint{"127.0.0.1:7000", {}};
  EXPECT_EQ(ErrorOf(spec),
            "targets[0].replica.address: replica address '127.0.0.1:7000' is the source address");
  spec.targets[0].replica = Endpoint{"127.0.0.1:8000", {}};
  spec.targets[1].replica = Endpoint{"127.0.0.1:8000", {}};
  EXPECT_EQ(ErrorOf(spec),
            "targets[1].replica.address: duplicate replica address '127.0.0.1:8000'");
  spec.targets[1].replica = Endpoint{"127.0.0.1:7001", {}};
  EXPECT_EQ(ErrorOf(spec),
            "targets[1].replica.address: replica address '127.0.0.1:7001' is the listen address "
            "of targets[0]");
  spec.targets[1].replica = Endpoint{"127.0.0.1:8002", {"u", ""}};
  EXPECT_EQ(ErrorOf(spec),
            "targets[1].replica.credentials.password: required when a username is set");
}

TEST(ValidateJobSpecTest, TheSourceUnderAnotherNameIsRejected) {
  JobSpec spec = ValidSpec();
  spec.targets[0].replica = Endpoint{"localhost:7000", {}};
  EXPECT_EQ(ErrorOf(spec),
            "targets[0].replica.address: replica address 'localhost:7000' is the source "
            "(127.0.0.1:7000) under another name");
  spec.targets[0].replica.reset();
  spec.targets[1].listen = "localhost:7000";
  EXPECT_EQ(ErrorOf(spec),
            "targets[1].listen: listen address 'localhost:7000' is the source (127.0.0.1:7000) "
            "under another name");
  spec.targets[1].listen = "0.0.0.0:7000";
  EXPECT_EQ(ErrorOf(spec),
            "targets[1].listen: listen address '0.0.0.0:7000' is the source (127.0.0.1:7000) "
            "under another name");
}

TEST(ValidateJobSpecTest, RestartDownTime) {
  JobSpec spec = ValidSpec();
  spec.options.restart_down_time_ms = 999;
  EXPECT_EQ(ErrorOf(spec),
            "options.restart_down_time_ms: must be between 1000 and 86400000 ms, got 999");
}

TEST(ValidateJobSpecTest, Options) {
  JobSpec spec = ValidSpec();
  spec.options.ack_interval_ms = 0;
  EXPECT_EQ(ErrorOf(spec), "options.ack_interval_ms: must be between 1 and 30000 ms, got 0");
  spec.options.ack_interval_ms = 60000;
  EXPECT_EQ(ErrorOf(spec), "options.ack_interval_ms: must be between 1 and 30000 ms, got 60000");
  spec = ValidSpec();
  spec.options.target_ping_interval_ms = -1;
  EXPECT_EQ(ErrorOf(spec),
            "options.target_ping_interval_ms: must be between 1 and 30000 ms, got -1");
  spec = ValidSpec();
  spec.options.target_backlog_bytes = 0;
  EXPECT_EQ(ErrorOf(spec), "options.target_backlog_bytes: must be > 0");
  spec = ValidSpec();
  spec.options.max_target_queue_bytes = 0;
  EXPECT_EQ(ErrorOf(spec), "options.max_target_queue_bytes: must be > 0");
  spec = ValidSpec();
  spec.options.target_attach_timeout_ms = -5;
  EXPECT_EQ(ErrorOf(spec),
            "options.target_attach_timeout_ms: must be >= 0 (0: wait forever), got -5");
  spec = ValidSpec();
  spec.options.connect_attempts = 0;
  EXPECT_EQ(ErrorOf(spec), "options.connect_attempts: must be >= 1, got 0");
}

}  // namespace
}  // namespace reshard::engine

namespace reshard::engine {
namespace {

TEST(ValidateJobSpecTest, ClusterTarget) {
  JobSpec spec = ValidSpec();
  TargetSpec cluster;
  cluster.name = "c";
  cluster.cluster.emplace();
  cluster.cluster->nodes = {"127.0.0.1:7100", "127.0.0.1:7101"};
  spec.targets.push_back(cluster);
  // No filter: every key; no listen address.
  EXPECT_TRUE(ValidateJobSpec(spec).ok()) << ValidateJobSpec(spec);
  EXPECT_EQ(TargetFilter(spec.targets[2]).pattern, "0-16383");
  absl::StatusOr<JobAddresses> addresses = ResolveJobAddresses(spec);
  ASSERT_TRUE(addresses.ok());
  EXPECT_EQ(addresses->listen[2].ToString(), "127.0.0.1:0");
  // A generated listener password, as for managed targets.
  EXPECT_EQ(GenerateReplicationPasswords(&spec), 1);
  EXPECT_EQ(spec.targets[2].credentials.password.size(), 64u);

  spec.targets[2].listen = "127.0.0.1:7200";
  EXPECT_EQ(ErrorOf(spec),
            "targets[2].listen: a cluster target has no listen address (reshardd writes to its "
            "masters)");
  spec.targets[2].listen.clear();
  spec.targets[2].cluster->nodes.clear();
  EXPECT_EQ(ErrorOf(spec), "targets[2].cluster.nodes: at least one node is required");
  spec.targets[2].cluster->nodes = {"127.0.0.1:7100", "nope"};
  EXPECT_NE(ErrorOf(spec).find("targets[2].cluster.nodes[1]: "), std::string::npos);
  spec.targets[2].cluster->nodes = {"127.0.0.1:7000"};
  EXPECT_NE(ErrorOf(spec).find("targets[2].cluster.nodes[0]: "), std::string::npos);
}

}  // namespace
}  // namespace reshard::engine
