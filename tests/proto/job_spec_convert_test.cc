// SpecFromProto / ValidSpecFromProto / SpecToProto / FilterFromProto: the
// JobSpec conversion that reshardd and reshardctl share.

#include "proto/reshard/v1/job_spec_convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "engine/job/job_status.h"
#include "google/protobuf/util/json_util.h"
#include "proto/reshard/v1/job_status_convert.h"

namespace reshard::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The spec every reshard document shows; it must parse exactly as written.
constexpr char kDocumentedSpec[] =
    R"({"source":{"address":"127.0.0.1:6379"},"targets":[{"name":"a","filter":{"regex":"^[0-4]"},"listen":"127.0.0.1:7001"},{"name":"b","filter":{"prefix":"user:"},"listen":"127.0.0.1:7002"}]})";

v1::JobSpec ProtoFromJson(const std::string& json) {
  v1::JobSpec proto;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &proto);
  EXPECT_TRUE(parsed.ok()) << parsed.message() << " in " << json;
  return proto;
}

absl::StatusOr<engine::JobSpec> FromJson(const std::string& json) {
  return ValidSpecFromProto(ProtoFromJson(json));
}

// The protobuf JSON mapping, as the API's clients use it.
std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// A spec with two targets whose second target's fields are `target_b`.
std::string TwoTargets(const std::string& target_b) {
  return std::string(
             R"({"source":{"address":"127.0.0.1:6379"},"targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"},{)") +
         target_b + "}]}";
}

void ExpectInvalid(const absl::StatusOr<engine::JobSpec>& spec, const std::string& message) {
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(spec.status().message()), message);
}

TEST(JobSpecConvertTest, DocumentedJsonParses) {
  absl::StatusOr<engine::JobSpec> spec = FromJson(kDocumentedSpec);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->source.address, "127.0.0.1:6379");
  EXPECT_EQ(spec->source.credentials.password, "");
  ASSERT_EQ(spec->targets.size(), 2u);
  EXPECT_EQ(spec->targets[0].name, "a");
  EXPECT_EQ(spec->targets[0].filter.kind, engine::FilterKind::kRegex);
  EXPECT_EQ(spec->targets[0].filter.pattern, "^[0-4]");
  EXPECT_EQ(spec->targets[0].listen, "127.0.0.1:7001");
  EXPECT_FALSE(spec->targets[0].replica.has_value());
  EXPECT_EQ(spec->targets[1].name, "b");
  EXPECT_EQ(spec->targets[1].filter.kind, engine::FilterKind::kPrefix);
  EXPECT_EQ(spec->targets[1].filter.pattern, "user:");
  EXPECT_EQ(spec->targets[1].listen, "127.0.0.1:7002");
  // Absent options are the engine's defaults.
  engine::JobOptions defaults;
  EXPECT_EQ(spec->options.ack_interval_ms, defaults.ack_interval_ms);
  EXPECT_EQ(spec->options.target_backlog_bytes, defaults.target_backlog_bytes);
  EXPECT_EQ(spec->options.connect_attempts, defaults.connect_attempts);
}

TEST(JobSpecConvertTest, GlobAndSlotsFilters) {
  absl::StatusOr<engine::JobSpec> spec =
      FromJson(R"({"source":{"address":"127.0.0.1:6379"},"targets":[)"
               R"({"name":"g","filter":{"glob":"user:*"},"listen":"127.0.0.1:7001"},)"
               R"({"name":"s","filter":{"slots":"0-8191"},"listen":"127.0.0.1:7002"}]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->targets[0].filter.kind, engine::FilterKind::kGlob);
  EXPECT_EQ(spec->targets[0].filter.pattern, "user:*");
  EXPECT_EQ(spec->targets[1].filter.kind, engine::FilterKind::kSlots);
  EXPECT_EQ(spec->targets[1].filter.pattern, "0-8191");
}

TEST(JobSpecConvertTest, CredentialsReplicaAndOptions) {
  absl::StatusOr<engine::JobSpec> spec = FromJson(
      R"({"source":{"address":"127.0.0.1:6379","username":"repl","password":"src-secret"},)"
      R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001",)"
      R"("username":"t","password":"tgt-secret",)"
      R"("replica":{"address":"127.0.0.1:7101","username":"admin","password":"rep-secret"}}],)"
      R"("options":{"ack_interval_ms":250,"target_backlog_bytes":"1048576","connect_attempts":1}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->source.credentials.username, "repl");
  EXPECT_EQ(spec->source.credentials.password, "src-secret");
  EXPECT_EQ(spec->targets[0].credentials.username, "t");
  EXPECT_EQ(spec->targets[0].credentials.password, "tgt-secret");
  ASSERT_TRUE(spec->targets[0].replica.has_value());
  EXPECT_EQ(spec->targets[0].replica->address, "127.0.0.1:7101");
  EXPECT_EQ(spec->targets[0].replica->credentials.username, "admin");
  EXPECT_EQ(spec->targets[0].replica->credentials.password, "rep-secret");
  EXPECT_EQ(spec->options.ack_interval_ms, 250);
  EXPECT_EQ(spec->options.target_backlog_bytes, 1048576u);
  EXPECT_EQ(spec->options.connect_attempts, 1);
  EXPECT_EQ(spec->options.target_ping_interval_ms, engine::JobOptions().target_ping_interval_ms);
  EXPECT_EQ(spec->options.reconnect_window_ms, engine::JobOptions().reconnect_window_ms);
  EXPECT_FALSE(spec->options.fail_on_cross_target_write);
}

TEST(JobSpecConvertTest, SentinelSourceWithoutAnAddress) {
  absl::StatusOr<engine::JobSpec> spec =
      FromJson(R"({"source":{"sentinel":{"addresses":["127.0.0.1:26379","127.0.0.1:26380"],)"
               R"("master_name":"mymaster","username":"s","password":"sentinel-secret"}},)"
               R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->source.address, "");
  ASSERT_TRUE(spec->source.sentinel.has_value());
  EXPECT_EQ(spec->source.sentinel->addresses,
            (std::vector<std::string>{"127.0.0.1:26379", "127.0.0.1:26380"}));
  EXPECT_EQ(spec->source.sentinel->master_name, "mymaster");
  EXPECT_EQ(spec->source.sentinel->credentials.username, "s");
  EXPECT_EQ(spec->source.sentinel->credentials.password, "sentinel-secret");
  const std::string json = ToJson(SpecToProto(*spec));
  EXPECT_THAT(json, HasSubstr(R"("master_name":"mymaster")"));
  EXPECT_THAT(json, Not(HasSubstr("sentinel-secret")));
  ExpectInvalid(
      FromJson(R"({"source":{"sentinel":{"addresses":["127.0.0.1:26379"]}},)"
               R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}]})"),
      "source.sentinel.master_name: required with source.sentinel");
  ExpectInvalid(
      FromJson(R"({"source":{"sentinel":{"master_name":"m","addresses":["x"]}},)"
               R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}]})"),
      "source.sentinel.addresses[0]: malformed address 'x': port missing");
  // The Sentinels on their tls-port; a TLS file that cannot be read is named.
  absl::StatusOr<engine::JobSpec> tls =
      FromJson(R"({"source":{"sentinel":{"addresses":["127.0.0.1:26379"],"master_name":"m",)"
               R"("tls":{"server_name":"sentinel.example","insecure_skip_verify":true}}},)"
               R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}]})");
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_TRUE(tls->source.sentinel->tls.enabled);
  EXPECT_EQ(tls->source.sentinel->tls.server_name, "sentinel.example");
  EXPECT_TRUE(tls->source.sentinel->tls.skip_verify);
  EXPECT_THAT(ToJson(SpecToProto(*tls)),
              HasSubstr(R"("server_name":"sentinel.example","insecure_skip_verify":true})"));
  ExpectInvalid(
      FromJson(R"({"source":{"sentinel":{"addresses":["127.0.0.1:26379"],"master_name":"m",)"
               R"("tls":{"ca_file":"/nonexistent.pem"}}},)"
               R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}]})"),
      "source.sentinel.tls.ca_file: cannot read '/nonexistent.pem': No such file or directory");
  ExpectInvalid(
      FromJson(R"({"source":{"sentinel":{"master_name":"m"}},)"
               R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}]})"),
      "source.sentinel.addresses: at least one Sentinel address is required");
}

TEST(JobSpecConvertTest, ReconnectHeldStreamAndCrossTargetOptions) {
  absl::StatusOr<engine::JobSpec> spec =
      FromJson(R"({"source":{"address":"127.0.0.1:6379"},)"
               R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}],)"
               R"("options":{"reconnect_window_ms":5000,"max_held_stream_bytes":"1024",)"
               R"("fail_on_cross_target_write":true}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->options.reconnect_window_ms, 5000);
  EXPECT_EQ(spec->options.max_held_stream_bytes, 1024u);
  EXPECT_TRUE(spec->options.fail_on_cross_target_write);
  absl::StatusOr<engine::JobSpec> negative =
      FromJson(R"({"source":{"address":"127.0.0.1:6379"},)"
               R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}],)"
               R"("options":{"reconnect_window_ms":-1}})");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().message(),
            "options.reconnect_window_ms: must not be negative, got -1");
}

TEST(JobSpecConvertTest, SpoolAckModeAndTimeoutOptions) {
  absl::StatusOr<engine::JobSpec> spec =
      FromJson(R"({"source":{"address":"127.0.0.1:6379"},)"
               R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}],)"
               R"("options":{"spool_max_bytes":"8388608","ack_mode":"RECEIVED",)"
               R"("source_timeout_ms":7000,"listener_handshake_timeout_ms":3000,)"
               R"("max_listener_connections":4}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->options.spool_max_bytes, 8388608u);
  EXPECT_EQ(spec->options.ack_mode, engine::JobOptions::AckMode::kReceived);
  EXPECT_EQ(spec->options.source_timeout_ms, 7000);
  EXPECT_EQ(spec->options.listener_handshake_timeout_ms, 3000);
  EXPECT_EQ(spec->options.max_listener_connections, 4);
  EXPECT_EQ(spec->options.spool_dir, "");

  v1::JobOptions proto = OptionsToProto(spec->options);
  EXPECT_EQ(proto.spool_max_bytes(), 8388608u);
  EXPECT_EQ(proto.ack_mode(), v1::JobOptions::RECEIVED);
  EXPECT_EQ(proto.source_timeout_ms(), 7000);
  EXPECT_EQ(proto.listener_handshake_timeout_ms(), 3000);
  EXPECT_EQ(proto.max_listener_connections(), 4);

  v1::JobOptions applied;
  applied.set_ack_mode(v1::JobOptions::APPLIED);
  absl::StatusOr<engine::JobOptions> options = OptionsFromProto(applied);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->ack_mode, engine::JobOptions::AckMode::kApplied);

  // 0 / unspecified: the engine defaults.
  options = OptionsFromProto(v1::JobOptions());
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->spool_max_bytes, 1ull << 30);
  EXPECT_EQ(options->ack_mode, engine::JobOptions::AckMode::kApplied);
  EXPECT_EQ(options->source_timeout_ms, 60000);
  EXPECT_EQ(options->listener_handshake_timeout_ms, 10000);
  EXPECT_EQ(options->max_listener_connections, 16);

  v1::JobOptions negative;
  negative.set_max_listener_connections(-2);
  EXPECT_EQ(OptionsFromProto(negative).status().message(),
            "options.max_listener_connections: must not be negative, got -2");
  negative.set_max_listener_connections(0);
  negative.set_source_timeout_ms(-1);
  EXPECT_EQ(OptionsFromProto(negative).status().message(),
            "options.source_timeout_ms: must not be negative, got -1");
  v1::JobOptions bad_mode;
  bad_mode.set_ack_mode(static_cast<v1::JobOptions::AckMode>(7));
  EXPECT_EQ(OptionsFromProto(bad_mode).status().message(), "options.ack_mode: not an ack mode: 7");
}

TEST(JobSpecConvertTest, RestartOptions) {
  absl::StatusOr<engine::JobSpec> spec =
      FromJson(R"({"source":{"address":"127.0.0.1:6379"},)"
               R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}],)"
               R"("options":{"restart_down_time_ms":300000,"set_source_backlog":true}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->options.restart_down_time_ms, 300000);
  EXPECT_TRUE(spec->options.set_source_backlog);
  // The daemon's, never the API's.
  EXPECT_EQ(spec->options.state_dir, "");
  EXPECT_FALSE(spec->options.restored);
  v1::JobOptions proto = OptionsToProto(spec->options);
  EXPECT_EQ(proto.restart_down_time_ms(), 300000);
  EXPECT_TRUE(proto.set_source_backlog());
  absl::StatusOr<engine::JobOptions> defaults = OptionsFromProto(v1::JobOptions());
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->restart_down_time_ms, 60000);
  EXPECT_FALSE(defaults->set_source_backlog);
  v1::JobOptions negative;
  negative.set_restart_down_time_ms(-5);
  EXPECT_EQ(OptionsFromProto(negative).status().message(),
            "options.restart_down_time_ms: must not be negative, got -5");
}

TEST(JobSpecConvertTest, TargetWithoutFilter) {
  ExpectInvalid(FromJson(TwoTargets(R"("name":"b","listen":"127.0.0.1:7002")")),
                "targets[1].filter: required: set one of regex, prefix, glob, slots");
  ExpectInvalid(FromJson(TwoTargets(R"("name":"b","filter":{},"listen":"127.0.0.1:7002")")),
                "targets[1].filter: required: set one of regex, prefix, glob, slots");
}

TEST(JobSpecConvertTest, DuplicateName) {
  ExpectInvalid(
      FromJson(TwoTargets(R"("name":"a","filter":{"prefix":"b"},"listen":"127.0.0.1:7002")")),
      "targets[1].name: duplicate name 'a'");
}

TEST(JobSpecConvertTest, DuplicateListen) {
  ExpectInvalid(
      FromJson(TwoTargets(R"("name":"b","filter":{"prefix":"b"},"listen":"127.0.0.1:7001")")),
      "targets[1].listen: duplicate listen address '127.0.0.1:7001'");
}

TEST(JobSpecConvertTest, BadAddresses) {
  ExpectInvalid(
      FromJson(
          R"({"source":{"address":"nohost"},"targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}]})"),
      "source.address: malformed address 'nohost': port missing");
  ExpectInvalid(
      FromJson(TwoTargets(R"("name":"b","filter":{"prefix":"b"},"listen":"127.0.0.1:99999")")),
      "targets[1].listen: malformed address '127.0.0.1:99999': port out of range 1-65535");
  ExpectInvalid(
      FromJson(TwoTargets(R"("name":"b","filter":{"prefix":"b"},"listen":"127.0.0.1:7002",)"
                          R"("replica":{"username":"x"})")),
      "targets[1].replica.address: required");
}

TEST(JobSpecConvertTest, InvalidRegex) {
  ExpectInvalid(FromJson(TwoTargets(
                    R"("name":"b","filter":{"regex":"(unclosed"},"listen":"127.0.0.1:7002")")),
                "targets[1].filter.regex: invalid regex '(unclosed': missing )");
}

TEST(JobSpecConvertTest, UsernameWithoutPasswordNamesTheApiField) {
  ExpectInvalid(FromJson(TwoTargets(R"("name":"b","filter":{"prefix":"b"},)"
                                    R"("listen":"127.0.0.1:7002","username":"u")")),
                "targets[1].password: required when a username is set");
}

TEST(JobSpecConvertTest, NegativeOptionIsRejected) {
  ExpectInvalid(FromJson(R"({"source":{"address":"127.0.0.1:6379"},"targets":[{"name":"a",)"
                         R"("filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}],)"
                         R"("options":{"ack_interval_ms":-5}})"),
                "options.ack_interval_ms: must not be negative, got -5");
}

TEST(JobSpecConvertTest, ReturnedJobNeverHoldsPasswords) {
  absl::StatusOr<engine::JobSpec> spec = FromJson(
      R"({"source":{"address":"127.0.0.1:6379","username":"repl","password":"src-secret"},)"
      R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001",)"
      R"("username":"t","password":"tgt-secret",)"
      R"("replica":{"address":"127.0.0.1:7101","password":"rep-secret"}}]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  v1::Job job = JobToProto("job-00000001", *spec, engine::JobStatus());
  std::string json = ToJson(job);
  EXPECT_THAT(json, Not(HasSubstr("secret")));
  EXPECT_THAT(json, HasSubstr(R"("id":"job-00000001")"));
  EXPECT_THAT(json, HasSubstr(R"("username":"repl")"));
  EXPECT_EQ(job.spec().source().password(), "");
  EXPECT_EQ(job.spec().targets(0).password(), "");
  EXPECT_EQ(job.spec().targets(0).replica().password(), "");
  EXPECT_EQ(job.spec().targets(0).replica().address(), "127.0.0.1:7101");

  v1::JobSpec with_passwords = ProtoFromJson(
      R"({"source":{"password":"a"},"targets":[{"password":"b","replica":{"password":"c"}}]})");
  ClearPasswords(&with_passwords);
  EXPECT_EQ(ToJson(with_passwords).find(R"(":"a")"), std::string::npos);
  EXPECT_EQ(with_passwords.targets(0).password(), "");
  EXPECT_EQ(with_passwords.targets(0).replica().password(), "");
}

TEST(JobSpecConvertTest, SpecRoundTripsWithoutPasswords) {
  absl::StatusOr<engine::JobSpec> spec = FromJson(kDocumentedSpec);
  ASSERT_TRUE(spec.ok());
  absl::StatusOr<engine::JobSpec> again = ValidSpecFromProto(SpecToProto(*spec));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->targets[1].filter.pattern, "user:");
  EXPECT_EQ(again->options.ack_interval_ms, spec->options.ack_interval_ms);
}

TEST(JobSpecConvertTest, TlsOptionsConvertAndRoundTrip) {
  absl::StatusOr<engine::JobSpec> spec =
      FromJson(R"({"source":{"address":"127.0.0.1:6379","tls":{"server_name":"redis.internal",)"
               R"("insecure_skip_verify":true}},"targets":[{"name":"a","filter":{"prefix":"a"},)"
               R"("listen":"127.0.0.1:7001","replica":{"address":"127.0.0.1:7101","tls":{}}},)"
               R"({"name":"b","filter":{"prefix":"b"},"listen":"127.0.0.1:7002"}]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->source.tls.enabled);
  EXPECT_EQ(spec->source.tls.server_name, "redis.internal");
  EXPECT_TRUE(spec->source.tls.skip_verify);
  EXPECT_TRUE(spec->targets[0].replica->tls.enabled);  // an empty tls message turns it on
  EXPECT_FALSE(spec->targets[0].replica->tls.skip_verify);
  EXPECT_FALSE(spec->targets[0].listen_tls.enabled);
  EXPECT_FALSE(spec->targets[1].listen_tls.enabled);
  v1::JobSpec proto = SpecToProto(*spec);
  EXPECT_EQ(proto.source().tls().server_name(), "redis.internal");
  EXPECT_TRUE(proto.targets(0).replica().has_tls());
  EXPECT_FALSE(proto.targets(1).has_listen_tls());

  // A listener's TLS files are loaded when the spec is validated.
  absl::StatusOr<engine::JobSpec> listen_tls = FromJson(
      R"({"source":{"address":"127.0.0.1:6379"},"targets":[{"name":"a","filter":{"prefix":"a"},)"
      R"("listen":"127.0.0.1:7001","listen_tls":{"cert_file":"/nonexistent.crt",)"
      R"("key_file":"/nonexistent.key"}}]})");
  EXPECT_EQ(listen_tls.status().message(),
            "targets[0].listen_tls.cert_file: cannot read '/nonexistent.crt': No such file or "
            "directory");
}

TEST(JobSpecConvertTest, ManagedTargetsWithoutAPasswordGetAGeneratedOne) {
  absl::StatusOr<engine::JobSpec> spec = FromJson(
      R"({"source":{"address":"127.0.0.1:6379"},"targets":[)"
      R"({"name":"a","filter":{"prefix":"a"},"listen":"127.0.0.1:7001",)"
      R"("replica":{"address":"127.0.0.1:7101"}},)"
      R"({"name":"b","filter":{"prefix":"b"},"listen":"127.0.0.1:7002","password":"given",)"
      R"("replica":{"address":"127.0.0.1:7102"}},)"
      R"({"name":"c","filter":{"prefix":"c"},"listen":"127.0.0.1:7003"}]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  const std::string& generated = spec->targets[0].credentials.password;
  EXPECT_EQ(generated.size(), 64u);
  EXPECT_EQ(generated.find_first_not_of("0123456789abcdef"), std::string::npos) << generated;
  EXPECT_EQ(spec->targets[0].credentials.username, "");
  EXPECT_EQ(spec->targets[1].credentials.password, "given");  // a given one is kept
  EXPECT_EQ(spec->targets[2].credentials.password, "");       // unmanaged: the operator's choice
  // Never shown: not in the spec the API returns.
  EXPECT_THAT(ToJson(SpecToProto(*spec)), Not(HasSubstr(generated)));
  // Another job gets another one.
  absl::StatusOr<engine::JobSpec> again = FromJson(ToJson(SpecToProto(*spec)));
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->targets[0].credentials.password, generated);
}

TEST(JobSpecConvertTest, FilterFromProtoNamesTheGivenField) {
  v1::Filter unset;
  absl::StatusOr<engine::FilterSpec> none = FilterFromProto(unset, "targets[3].filter");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(none.status().message(),
            "targets[3].filter: required: set one of regex, prefix, glob, slots");
  const engine::FilterSpec kFilters[] = {{engine::FilterKind::kRegex, "^a"},
                                         {engine::FilterKind::kPrefix, "user:"},
                                         {engine::FilterKind::kGlob, "k*"},
                                         {engine::FilterKind::kSlots, "0-100"}};
  for (const engine::FilterSpec& filter : kFilters) {
    absl::StatusOr<engine::FilterSpec> back = FilterFromProto(FilterToProto(filter), "f");
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->kind, filter.kind);
    EXPECT_EQ(back->pattern, filter.pattern);
  }
}

TEST(JobSpecConvertTest, SpecFromProtoLeavesValidationToTheEngine) {
  // Shape only: a duplicate name passes SpecFromProto, ValidSpecFromProto names it.
  v1::JobSpec proto =
      ProtoFromJson(TwoTargets(R"("name":"a","filter":{"prefix":"b"},"listen":"127.0.0.1:7002")"));
  EXPECT_TRUE(SpecFromProto(proto).ok());
  EXPECT_FALSE(ValidSpecFromProto(proto).ok());
}

TEST(JobSpecConvertTest, OptionsToProtoGivesEffectiveValues) {
  engine::JobOptions defaults;
  v1::JobOptions proto = OptionsToProto(defaults);
  EXPECT_EQ(proto.ack_interval_ms(), defaults.ack_interval_ms);
  EXPECT_EQ(proto.connect_attempts(), defaults.connect_attempts);
  absl::StatusOr<engine::JobOptions> back = OptionsFromProto(proto);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->target_backlog_bytes, defaults.target_backlog_bytes);
  EXPECT_EQ(back->reconnect_window_ms, defaults.reconnect_window_ms);
  EXPECT_EQ(proto.spool_max_bytes(), 1ull << 30);
  EXPECT_EQ(proto.ack_mode(), v1::JobOptions::APPLIED);
  EXPECT_EQ(proto.source_timeout_ms(), 60000);
  EXPECT_EQ(proto.listener_handshake_timeout_ms(), 10000);
  EXPECT_EQ(proto.max_listener_connections(), 16);
  EXPECT_EQ(back->spool_max_bytes, defaults.spool_max_bytes);
  EXPECT_EQ(back->ack_mode, defaults.ack_mode);
  EXPECT_EQ(back->source_timeout_ms, defaults.source_timeout_ms);
  EXPECT_EQ(back->listener_handshake_timeout_ms, defaults.listener_handshake_timeout_ms);
  EXPECT_EQ(back->max_listener_connections, defaults.max_listener_connections);
}

}  // namespace
}  // namespace reshard::api
