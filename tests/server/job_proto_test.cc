// SpecFromProto / SpecToProto / StatusToProto and the JSON form of the API.

#include "server/job_proto.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "client/job_spec_json.h"
#include "engine/job/job_status.h"

namespace reshard::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The spec every reshard document shows; it must parse exactly as written.
constexpr char kDocumentedSpec[] =
    R"({"source":{"address":"127.0.0.1:6379"},"targets":[{"name":"a","filter":{"regex":"^[0-4]"},"listen":"127.0.0.1:7001"},{"name":"b","filter":{"prefix":"user:"},"listen":"127.0.0.1:7002"}]})";

absl::StatusOr<engine::JobSpec> FromJson(const std::string& json) {
  absl::StatusOr<v1::JobSpec> proto = client::ParseJobSpecJson(json);
  if (!proto.ok()) return proto.status();
  return ValidSpecFromProto(*proto);
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

TEST(JobProtoTest, DocumentedJsonParses) {
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

TEST(JobProtoTest, GlobAndSlotsFilters) {
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

TEST(JobProtoTest, CredentialsReplicaAndOptions) {
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

TEST(JobProtoTest, ReconnectHeldStreamAndCrossTargetOptions) {
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

TEST(JobProtoTest, UnknownFilterKindNamesTheField) {
  absl::StatusOr<v1::JobSpec> spec = client::ParseJobSpecJson(
      R"({"source":{"address":"127.0.0.1:6379"},"targets":[{"name":"a","filter":{"fuzzy":"x"},"listen":"127.0.0.1:7001"}]})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(),
            "targets[0].filter.fuzzy: unknown field; a filter is one of regex, prefix, glob, "
            "slots");
}

TEST(JobProtoTest, TwoFilterKindsAreRejected) {
  absl::StatusOr<v1::JobSpec> spec =
      client::ParseJobSpecJson(R"({"targets":[{"name":"a","filter":{"regex":"x","prefix":"y"}}]})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "targets[0].filter: only one of regex, prefix, glob, slots may be set");
}

TEST(JobProtoTest, WrongJsonTypeNamesTheField) {
  absl::StatusOr<v1::JobSpec> spec = client::ParseJobSpecJson(R"({"source":{"address":1}})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "source.address: invalid value 1 for type TYPE_STRING");
}

TEST(JobProtoTest, TargetWithoutFilter) {
  ExpectInvalid(FromJson(TwoTargets(R"("name":"b","listen":"127.0.0.1:7002")")),
                "targets[1].filter: required: set one of regex, prefix, glob, slots");
  ExpectInvalid(FromJson(TwoTargets(R"("name":"b","filter":{},"listen":"127.0.0.1:7002")")),
                "targets[1].filter: required: set one of regex, prefix, glob, slots");
}

TEST(JobProtoTest, DuplicateName) {
  ExpectInvalid(
      FromJson(TwoTargets(R"("name":"a","filter":{"prefix":"b"},"listen":"127.0.0.1:7002")")),
      "targets[1].name: duplicate name 'a'");
}

TEST(JobProtoTest, DuplicateListen) {
  ExpectInvalid(
      FromJson(TwoTargets(R"("name":"b","filter":{"prefix":"b"},"listen":"127.0.0.1:7001")")),
      "targets[1].listen: duplicate listen address '127.0.0.1:7001'");
}

TEST(JobProtoTest, BadAddresses) {
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

TEST(JobProtoTest, InvalidRegex) {
  ExpectInvalid(FromJson(TwoTargets(
                    R"("name":"b","filter":{"regex":"(unclosed"},"listen":"127.0.0.1:7002")")),
                "targets[1].filter.regex: invalid regex '(unclosed': missing )");
}

TEST(JobProtoTest, UsernameWithoutPasswordNamesTheApiField) {
  ExpectInvalid(FromJson(TwoTargets(R"("name":"b","filter":{"prefix":"b"},)"
                                    R"("listen":"127.0.0.1:7002","username":"u")")),
                "targets[1].password: required when a username is set");
}

TEST(JobProtoTest, NegativeOptionIsRejected) {
  ExpectInvalid(FromJson(R"({"source":{"address":"127.0.0.1:6379"},"targets":[{"name":"a",)"
                         R"("filter":{"regex":"^a"},"listen":"127.0.0.1:7001"}],)"
                         R"("options":{"ack_interval_ms":-5}})"),
                "options.ack_interval_ms: must not be negative, got -5");
}

TEST(JobProtoTest, ReturnedJobNeverHoldsPasswords) {
  absl::StatusOr<engine::JobSpec> spec = FromJson(
      R"({"source":{"address":"127.0.0.1:6379","username":"repl","password":"src-secret"},)"
      R"("targets":[{"name":"a","filter":{"regex":"^a"},"listen":"127.0.0.1:7001",)"
      R"("username":"t","password":"tgt-secret",)"
      R"("replica":{"address":"127.0.0.1:7101","password":"rep-secret"}}]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  v1::Job job = JobToProto("job-00000001", *spec, engine::JobStatus());
  std::string json = client::MessageToJson(job, /*multi_line=*/false);
  EXPECT_THAT(json, Not(HasSubstr("secret")));
  EXPECT_THAT(json, HasSubstr(R"("id":"job-00000001")"));
  EXPECT_THAT(json, HasSubstr(R"("username":"repl")"));
  EXPECT_EQ(job.spec().source().password(), "");
  EXPECT_EQ(job.spec().targets(0).password(), "");
  EXPECT_EQ(job.spec().targets(0).replica().password(), "");
  EXPECT_EQ(job.spec().targets(0).replica().address(), "127.0.0.1:7101");

  v1::JobSpec with_passwords = *client::ParseJobSpecJson(
      R"({"source":{"password":"a"},"targets":[{"password":"b","replica":{"password":"c"}}]})");
  ClearPasswords(&with_passwords);
  EXPECT_EQ(client::MessageToJson(with_passwords, false).find(R"(":"a")"), std::string::npos);
  EXPECT_EQ(with_passwords.targets(0).password(), "");
  EXPECT_EQ(with_passwords.targets(0).replica().password(), "");
}

TEST(JobProtoTest, StateNamesInJson) {
  const std::pair<engine::JobState, const char*> kStates[] = {
      {engine::JobState::kPending, "PENDING"},     {engine::JobState::kConnecting, "CONNECTING"},
      {engine::JobState::kSyncing, "SYNCING"},     {engine::JobState::kStreaming, "STREAMING"},
      {engine::JobState::kPaused, "PAUSED"},       {engine::JobState::kFailed, "FAILED"},
      {engine::JobState::kCancelled, "CANCELLED"},
  };
  for (const auto& [state, name] : kStates) {
    engine::JobStatus status;
    status.state = state;
    std::string json = client::MessageToJson(StatusToProto(status), false);
    EXPECT_THAT(json, HasSubstr(std::string(R"("state":")") + name + "\"")) << json;
    EXPECT_EQ(engine::JobStateName(state), name);
    absl::StatusOr<engine::JobState> back = StateFromProto(StateToProto(state));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, state);
  }
  EXPECT_FALSE(StateFromProto(v1::JobStatus::STATE_UNSPECIFIED).ok());
}

TEST(JobProtoTest, StatusCarriesErrorProgressTargetsAndTimes) {
  engine::JobStatus status;
  status.state = engine::JobState::kFailed;
  status.error = absl::UnavailableError("connect 127.0.0.1:1: Connection refused");
  status.detail = "connecting";
  status.bytes_received = 10;
  status.rdb_bytes_total = 100;
  status.rdb_bytes_read = 50;
  status.rdb_keys_read = 7;
  status.source_offset = 1234;
  status.upstream_reconnects = 2;
  status.upstream_connected = true;
  status.created_unix_ms = 1700000000123;
  status.updated_unix_ms = 1700000001000;
  status.version = 9;
  engine::TargetStatus target;
  target.name = "a";
  target.connected_replicas = 1;
  target.rdb_keys_kept = 3;
  target.rdb_keys_dropped = 4;
  target.commands_kept = 5;
  target.commands_dropped = 6;
  target.commands_split = 7;
  target.keys_materialized = 11;
  target.bytes_sent = 8;
  target.offset = 90;
  target.acked_offset = 80;
  target.lag_bytes = 10;
  target.lag_seconds = 0.5;
  status.targets.push_back(target);

  v1::JobStatus proto = StatusToProto(status);
  EXPECT_EQ(proto.state(), v1::JobStatus::FAILED);
  EXPECT_EQ(proto.error().code(), "UNAVAILABLE");
  EXPECT_EQ(proto.error().message(), "connect 127.0.0.1:1: Connection refused");
  EXPECT_EQ(proto.detail(), "connecting");
  EXPECT_EQ(proto.rdb().bytes_total(), 100u);
  EXPECT_EQ(proto.rdb().bytes_read(), 50u);
  EXPECT_EQ(proto.rdb().keys_read(), 7u);
  EXPECT_EQ(proto.source_offset(), 1234u);
  EXPECT_EQ(proto.upstream_reconnects(), 2u);
  EXPECT_TRUE(proto.upstream_connected());
  EXPECT_EQ(proto.create_time().seconds(), 1700000000);
  EXPECT_EQ(proto.create_time().nanos(), 123000000);
  EXPECT_EQ(proto.version(), 9u);
  ASSERT_EQ(proto.targets_size(), 1);
  EXPECT_EQ(proto.targets(0).name(), "a");
  EXPECT_EQ(proto.targets(0).rdb_keys_kept(), 3u);
  EXPECT_EQ(proto.targets(0).commands_split(), 7u);
  EXPECT_EQ(proto.targets(0).keys_materialized(), 11u);
  EXPECT_EQ(proto.targets(0).lag_bytes(), 10u);
  EXPECT_DOUBLE_EQ(proto.targets(0).lag_seconds(), 0.5);
  std::string json = client::MessageToJson(proto, false);
  EXPECT_THAT(json, HasSubstr(R"("create_time":"2023-11-14T22:13:20.123Z")"));
}

TEST(JobProtoTest, SpecRoundTripsWithoutPasswords) {
  absl::StatusOr<engine::JobSpec> spec = FromJson(kDocumentedSpec);
  ASSERT_TRUE(spec.ok());
  absl::StatusOr<engine::JobSpec> again = ValidSpecFromProto(SpecToProto(*spec));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->targets[1].filter.pattern, "user:");
  EXPECT_EQ(again->options.ack_interval_ms, spec->options.ack_interval_ms);
}

}  // namespace
}  // namespace reshard::server
