// VerifyOptionsFromProto (defaults, bounds, target addresses by name) and
// VerifyReportToProto.

#include "proto/reshard/v1/verify_convert.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/time/time.h"

namespace reshard::api {
namespace {

engine::JobSpec Spec() {
  engine::JobSpec spec;
  spec.source.address = "127.0.0.1:7000";
  engine::TargetSpec a;
  a.name = "a";
  a.replica = engine::Endpoint{"127.0.0.1:7001", {"u", "p"}};
  engine::TargetSpec b;
  b.name = "b";
  spec.targets = {a, b};
  return spec;
}

TEST(VerifyOptionsFromProtoTest, DefaultsForZeroFields) {
  v1::VerifyJobRequest request;
  absl::StatusOr<engine::VerifyOptions> options = VerifyOptionsFromProto(request, Spec());
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->sample_fraction, 1.0);
  EXPECT_EQ(options->rate_keys_per_second, 10000);
  EXPECT_EQ(options->max_problems, 20u);
  EXPECT_EQ(options->ttl_tolerance_ms, 2000);
  ASSERT_EQ(options->target_endpoints.size(), 2u);
  EXPECT_FALSE(options->target_endpoints[0].has_value());
  EXPECT_FALSE(options->target_endpoints[1].has_value());
}

TEST(VerifyOptionsFromProtoTest, ValuesAndTargetAddresses) {
  v1::VerifyJobRequest request;
  request.set_sample_fraction(0.25);
  request.set_rate_keys_per_second(-1);
  request.set_max_problems(5);
  (*request.mutable_target_addresses())["b"] = "10.0.0.2:6380";
  (*request.mutable_target_addresses())["a"] = "10.0.0.1:6379";
  absl::StatusOr<engine::VerifyOptions> options = VerifyOptionsFromProto(request, Spec());
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->sample_fraction, 0.25);
  EXPECT_EQ(options->rate_keys_per_second, 0);  // unlimited
  EXPECT_EQ(options->max_problems, 5u);
  ASSERT_TRUE(options->target_endpoints[1].has_value());
  EXPECT_EQ(options->target_endpoints[1]->address.ToString(), "10.0.0.2:6380");
  EXPECT_EQ(options->target_endpoints[1]->credentials.password, "");
  // Overriding a managed target's address keeps its credentials.
  EXPECT_EQ(options->target_endpoints[0]->address.ToString(), "10.0.0.1:6379");
  EXPECT_EQ(options->target_endpoints[0]->credentials.password, "p");
}

TEST(VerifyOptionsFromProtoTest, Errors) {
  v1::VerifyJobRequest request;
  request.set_sample_fraction(2);
  EXPECT_EQ(VerifyOptionsFromProto(request, Spec()).status().message(),
            "sample_fraction: must be in (0, 1], not 2");
  request.set_sample_fraction(0);
  (*request.mutable_target_addresses())["c"] = "10.0.0.3:1";
  EXPECT_EQ(VerifyOptionsFromProto(request, Spec()).status().message(),
            "target_addresses['c']: no such target in the job");
  request.clear_target_addresses();
  (*request.mutable_target_addresses())["b"] = "nowhere";
  absl::Status status = VerifyOptionsFromProto(request, Spec()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(), "target_addresses['b']: malformed address"))
      << status.message();
}

TEST(VerifyOptionsFromProtoTest, TargetTlsForAnUnmanagedTargetAndAManagedOnesOwn) {
  engine::JobSpec spec = Spec();
  spec.targets[0].replica->tls = {.enabled = true, .ca_file = "/a/ca.pem"};
  v1::VerifyJobRequest request;
  (*request.mutable_target_addresses())["a"] = "10.0.0.1:6379";
  (*request.mutable_target_addresses())["b"] = "10.0.0.2:6380";
  v1::ClientTls& tls = (*request.mutable_target_tls())["b"];
  tls.set_ca_file("/b/ca.pem");
  tls.set_cert_file("/b/client.pem");
  tls.set_key_file("/b/client.key");
  tls.set_server_name("b.example");
  absl::StatusOr<engine::VerifyOptions> options = VerifyOptionsFromProto(request, spec);
  ASSERT_TRUE(options.ok()) << options.status();
  // a's address is overridden; its replica's TLS stays.
  EXPECT_TRUE(options->target_endpoints[0]->tls.enabled);
  EXPECT_EQ(options->target_endpoints[0]->tls.ca_file, "/a/ca.pem");
  const engine::TlsClientOptions& b = options->target_endpoints[1]->tls;
  EXPECT_TRUE(b.enabled);
  EXPECT_EQ(b.ca_file, "/b/ca.pem");
  EXPECT_EQ(b.cert_file, "/b/client.pem");
  EXPECT_EQ(b.key_file, "/b/client.key");
  EXPECT_EQ(b.server_name, "b.example");
  EXPECT_FALSE(b.skip_verify);

  request.clear_target_addresses();
  (*request.mutable_target_addresses())["a"] = "10.0.0.1:6379";
  EXPECT_EQ(VerifyOptionsFromProto(request, spec).status().message(),
            "target_tls['b']: no target_addresses['b'] (TLS applies to a target whose address "
            "is given)");
}

TEST(VerifyReportToProtoTest, EveryField) {
  engine::VerifyReport report;
  report.keys_checked = 10;
  report.target_keys_checked = 11;
  report.missing = 1;
  report.stray = 2;
  report.different = 3;
  report.rechecked = 4;
  report.unsettled = 5;
  report.sample_fraction = 0.5;
  report.precheck.push_back({1, 10, {4, 6}, {4, 7}});
  report.problems.push_back({1, "k", "b", engine::VerifyProblemKind::kDifferentTtl, "ttl"});
  report.started = absl::FromUnixMillis(1700000000123);
  report.duration = absl::Milliseconds(1500);
  v1::VerifyReport proto = VerifyReportToProto("j", Spec(), report);
  EXPECT_EQ(proto.job_id(), "j");
  EXPECT_EQ(proto.keys_checked(), 10u);
  EXPECT_EQ(proto.target_keys_checked(), 11u);
  EXPECT_EQ(proto.missing(), 1u);
  EXPECT_EQ(proto.stray(), 2u);
  EXPECT_EQ(proto.different(), 3u);
  EXPECT_EQ(proto.rechecked(), 4u);
  EXPECT_EQ(proto.unsettled(), 5u);
  EXPECT_EQ(proto.sample_fraction(), 0.5);
  ASSERT_EQ(proto.target_names_size(), 2);
  EXPECT_EQ(proto.target_names(1), "b");
  ASSERT_EQ(proto.precheck_size(), 1);
  EXPECT_EQ(proto.precheck(0).db(), 1);
  EXPECT_EQ(proto.precheck(0).expected_keys(1), 6u);
  EXPECT_EQ(proto.precheck(0).target_keys(1), 7u);
  ASSERT_EQ(proto.problems_size(), 1);
  EXPECT_EQ(proto.problems(0).kind(), v1::VerifyProblem::DIFFERENT_TTL);
  EXPECT_EQ(proto.problems(0).key(), "k");
  EXPECT_EQ(proto.start_time().seconds(), 1700000000);
  EXPECT_EQ(proto.start_time().nanos(), 123000000);
  EXPECT_DOUBLE_EQ(proto.duration_seconds(), 1.5);
  EXPECT_EQ(proto.state(), v1::VerifyReport::RUNNING);
}

TEST(VerifyReportToProtoTest, RoundTripsForTheJobStore) {
  engine::VerifyReport report;
  report.state = engine::VerifyState::kFailed;
  report.error = "source 127.0.0.1:1: cannot connect";
  report.keys_checked = 10;
  report.target_keys_checked = 11;
  report.missing = 1;
  report.stray = 2;
  report.different = 3;
  report.rechecked = 4;
  report.unsettled = 5;
  report.sample_fraction = 0.5;
  report.rate_keys_per_second = 1000;
  report.source_address = "10.0.0.12:6379";
  report.keys_total = 40;
  report.keys_scanned = 20;
  report.precheck.push_back({1, 10, {4, 6}, {4, 7}});
  report.problems.push_back({1, "k", "b", engine::VerifyProblemKind::kDifferentTtl, "ttl"});
  report.problems.push_back({0, "m", "a", engine::VerifyProblemKind::kStray, "not on the source"});
  report.started = absl::FromUnixMillis(1700000000123);
  report.duration = absl::Milliseconds(1500);
  v1::VerifyReport proto = VerifyReportToProto("j", Spec(), report);
  EXPECT_EQ(proto.state(), v1::VerifyReport::FAILED);
  EXPECT_DOUBLE_EQ(proto.keys_per_second(), 10 / 1.5);
  EXPECT_EQ(proto.keys_total(), 40u);
  engine::VerifyReport back = VerifyReportFromProto(proto);
  EXPECT_EQ(back.state, report.state);
  EXPECT_EQ(back.error, report.error);
  EXPECT_EQ(back.keys_checked, 10u);
  EXPECT_EQ(back.target_keys_checked, 11u);
  EXPECT_EQ(back.missing + back.stray + back.different, 6u);
  EXPECT_EQ(back.rechecked, 4u);
  EXPECT_EQ(back.unsettled, 5u);
  EXPECT_EQ(back.sample_fraction, 0.5);
  EXPECT_EQ(back.rate_keys_per_second, 1000);
  EXPECT_EQ(proto.source_address(), "10.0.0.12:6379");
  EXPECT_EQ(back.source_address, "10.0.0.12:6379");
  EXPECT_EQ(back.keys_total, 40u);
  EXPECT_EQ(back.keys_scanned, 20u);
  EXPECT_EQ(back.precheck, report.precheck);
  EXPECT_EQ(back.problems, report.problems);
  EXPECT_EQ(back.started, report.started);
  EXPECT_EQ(back.duration, report.duration);
}

}  // namespace
}  // namespace reshard::api
