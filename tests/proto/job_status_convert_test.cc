// StateToProto / StateFromProto / StatusToProto / ErrorToProto and the
// timestamps: the JobStatus conversion of the API.

#include "proto/reshard/v1/job_status_convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "google/protobuf/util/json_util.h"

namespace reshard::api {
namespace {

using ::testing::HasSubstr;

// The protobuf JSON mapping, as the API's clients use it.
std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

TEST(JobStatusConvertTest, StateNamesInJson) {
  const std::pair<engine::JobState, const char*> kStates[] = {
      {engine::JobState::kPending, "PENDING"},     {engine::JobState::kConnecting, "CONNECTING"},
      {engine::JobState::kSyncing, "SYNCING"},     {engine::JobState::kStreaming, "STREAMING"},
      {engine::JobState::kPaused, "PAUSED"},       {engine::JobState::kFailed, "FAILED"},
      {engine::JobState::kCancelled, "CANCELLED"}, {engine::JobState::kDegraded, "DEGRADED"},
      {engine::JobState::kCutover, "CUTOVER"},     {engine::JobState::kDone, "DONE"},
  };
  for (const auto& [state, name] : kStates) {
    engine::JobStatus status;
    status.state = state;
    std::string json = ToJson(StatusToProto(status));
    EXPECT_THAT(json, HasSubstr(std::string(R"("state":")") + name + "\"")) << json;
    EXPECT_EQ(engine::JobStateName(state), name);
    absl::StatusOr<engine::JobState> back = StateFromProto(StateToProto(state));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, state);
  }
  EXPECT_FALSE(StateFromProto(v1::JobStatus::STATE_UNSPECIFIED).ok());
}

TEST(JobStatusConvertTest, TargetStateNamesInJson) {
  const std::pair<engine::TargetState, const char*> kStates[] = {
      {engine::TargetState::kWaiting, "WAITING"},
      {engine::TargetState::kSnapshot, "SNAPSHOT"},
      {engine::TargetState::kLoading, "LOADING"},
      {engine::TargetState::kStreaming, "STREAMING"},
      {engine::TargetState::kSpooling, "SPOOLING"},
      {engine::TargetState::kResyncing, "RESYNCING"},
      {engine::TargetState::kCutOff, "CUT_OFF"},
      {engine::TargetState::kDisconnected, "DISCONNECTED"},
      {engine::TargetState::kPaused, "PAUSED"},
  };
  for (const auto& [state, name] : kStates) {
    engine::JobStatus status;
    engine::TargetStatus target;
    target.name = "a";
    target.state = state;
    status.targets.push_back(target);
    v1::JobStatus proto = StatusToProto(status);
    EXPECT_EQ(v1::TargetStatus::State_Name(proto.targets(0).state()), name);
    EXPECT_EQ(engine::TargetStateName(state), name);
    EXPECT_THAT(ToJson(proto), HasSubstr(std::string(R"("state":")") + name + "\""));
  }
}

TEST(JobStatusConvertTest, StatusCarriesSourceLagSpoolAndResyncs) {
  engine::JobStatus status;
  status.state = engine::JobState::kDegraded;
  status.rdb_keys_total = 1000;
  status.source_offset = 5000;
  status.source_master_offset = 5600;
  status.source_lag_bytes = 600;
  status.source_lag_seconds = 2.5;
  status.upstream_acked_offset = 4900;
  engine::TargetStatus target;
  target.name = "b";
  target.state = engine::TargetState::kSpooling;
  target.state_reason = "120 bytes behind";
  target.spool_bytes = 9000;
  target.spool_disk_bytes = 4000;
  target.source_acked_offset = 4900;
  target.resyncs = 3;
  status.targets.push_back(target);

  v1::JobStatus proto = StatusToProto(status);
  EXPECT_EQ(proto.state(), v1::JobStatus::DEGRADED);
  EXPECT_EQ(proto.rdb().keys_total(), 1000u);
  EXPECT_EQ(proto.source_master_offset(), 5600u);
  EXPECT_EQ(proto.source_lag_bytes(), 600u);
  EXPECT_DOUBLE_EQ(proto.source_lag_seconds(), 2.5);
  EXPECT_EQ(proto.upstream_acked_offset(), 4900u);
  ASSERT_EQ(proto.targets_size(), 1);
  EXPECT_EQ(proto.targets(0).state(), v1::TargetStatus::SPOOLING);
  EXPECT_EQ(proto.targets(0).state_reason(), "120 bytes behind");
  EXPECT_EQ(proto.targets(0).spool_bytes(), 9000u);
  EXPECT_EQ(proto.targets(0).spool_disk_bytes(), 4000u);
  EXPECT_EQ(proto.targets(0).source_acked_offset(), 4900u);
  EXPECT_EQ(proto.targets(0).resyncs(), 3u);
  std::string json = ToJson(proto);
  EXPECT_THAT(json, HasSubstr(R"("source_lag_bytes":"600")"));
  EXPECT_THAT(json, HasSubstr(R"("keys_total":"1000")"));
  EXPECT_THAT(json, HasSubstr(R"("state":"SPOOLING","state_reason":"120 bytes behind")"));
}

TEST(JobStatusConvertTest, ClusterTargetCarriesItsNodes) {
  engine::JobStatus status;
  engine::TargetStatus target;
  target.name = "c";
  engine::ClusterNodeStatus node;
  node.address = "127.0.0.1:7001";
  node.slots = 5462;
  node.slot_ranges = "5461-10922";
  node.commands = 1200;
  node.keys_restored = 1000;
  node.bytes_sent = 64000;
  node.acked_offset = 9000;
  node.lag_bytes = 120;
  node.moved = 2;
  node.ask = 5;
  node.retries = 1;
  node.last_error = "target 'c' node 127.0.0.1:7001: connection refused";
  target.cluster_nodes.push_back(node);
  status.targets.push_back(target);

  v1::JobStatus proto = StatusToProto(status);
  ASSERT_EQ(proto.targets(0).cluster_nodes_size(), 1);
  const v1::ClusterNodeStatus& n = proto.targets(0).cluster_nodes(0);
  EXPECT_EQ(n.address(), "127.0.0.1:7001");
  EXPECT_EQ(n.slots(), 5462u);
  EXPECT_EQ(n.slot_ranges(), "5461-10922");
  EXPECT_EQ(n.commands(), 1200u);
  EXPECT_EQ(n.keys_restored(), 1000u);
  EXPECT_EQ(n.bytes_sent(), 64000u);
  EXPECT_EQ(n.acked_offset(), 9000u);
  EXPECT_EQ(n.lag_bytes(), 120u);
  EXPECT_EQ(n.moved(), 2u);
  EXPECT_EQ(n.ask(), 5u);
  EXPECT_EQ(n.retries(), 1u);
  EXPECT_EQ(n.last_error(), "target 'c' node 127.0.0.1:7001: connection refused");
  EXPECT_THAT(ToJson(proto), HasSubstr(R"("cluster_nodes":[{"address":"127.0.0.1:7001")"));
}

TEST(JobStatusConvertTest, StatusCarriesRestoreAndBacklogAdvice) {
  engine::JobStatus status;
  status.restore_detail = "continued after a restart: ...";
  status.durable_state_error = "the job's state is no longer recorded (...)";
  status.source_backlog_bytes = 16384;
  status.source_backlog_seconds = 0.5;
  status.source_backlog_advice = "set repl-backlog-size to at least 4194304";
  v1::JobStatus proto = StatusToProto(status);
  EXPECT_EQ(proto.restore_detail(), "continued after a restart: ...");
  EXPECT_EQ(proto.durable_state_error(), "the job's state is no longer recorded (...)");
  EXPECT_EQ(proto.source_backlog_bytes(), 16384u);
  EXPECT_DOUBLE_EQ(proto.source_backlog_seconds(), 0.5);
  EXPECT_EQ(proto.source_backlog_advice(), "set repl-backlog-size to at least 4194304");
  std::string json = ToJson(proto);
  EXPECT_THAT(json, HasSubstr(R"("source_backlog_bytes":"16384")"));
}

TEST(JobStatusConvertTest, StatusCarriesTheSourceAddressAndItsFailovers) {
  engine::JobStatus status;
  status.source_address = "10.0.0.2:6379";
  engine::SourceFailover failover;
  failover.from = "10.0.0.1:6379";
  failover.to = "10.0.0.2:6379";
  failover.kind = engine::SourceFailover::Kind::kPartial;
  failover.offset = 4242;
  failover.unix_ms = 1700000000123;
  failover.detail = "continued on 10.0.0.2:6379 with PSYNC";
  status.source_failovers.push_back(failover);
  failover.kind = engine::SourceFailover::Kind::kPending;
  status.source_failovers.push_back(failover);
  status.source_failovers_partial = 33;
  status.source_failovers_full = 2;
  v1::JobStatus proto = StatusToProto(status);
  EXPECT_EQ(proto.source_address(), "10.0.0.2:6379");
  EXPECT_EQ(proto.source_failovers_partial(), 33u);
  EXPECT_EQ(proto.source_failovers_full(), 2u);
  ASSERT_EQ(proto.source_failovers_size(), 2);
  EXPECT_EQ(proto.source_failovers(0).from(), "10.0.0.1:6379");
  EXPECT_EQ(proto.source_failovers(0).to(), "10.0.0.2:6379");
  EXPECT_EQ(proto.source_failovers(0).kind(), v1::SourceFailover::PARTIAL);
  EXPECT_EQ(proto.source_failovers(0).offset(), 4242u);
  EXPECT_EQ(UnixMillisFromTimestamp(proto.source_failovers(0).time()), 1700000000123);
  EXPECT_EQ(proto.source_failovers(0).detail(), "continued on 10.0.0.2:6379 with PSYNC");
  EXPECT_EQ(proto.source_failovers(1).kind(), v1::SourceFailover::PENDING);
  EXPECT_THAT(ToJson(proto), HasSubstr(R"("kind":"PARTIAL")"));
}

TEST(JobStatusConvertTest, StatusCarriesErrorProgressTargetsAndTimes) {
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
  std::string json = ToJson(proto);
  EXPECT_THAT(json, HasSubstr(R"("create_time":"2023-11-14T22:13:20.123Z")"));
}

TEST(JobStatusConvertTest, ErrorsRoundTripByCodeName) {
  EXPECT_TRUE(ErrorFromProto(ErrorToProto(absl::OkStatus())).ok());
  EXPECT_EQ(ErrorToProto(absl::OkStatus()).code(), "");
  absl::Status error = absl::DataLossError("rdb offset 9: bad length");
  v1::JobError proto = ErrorToProto(error);
  EXPECT_EQ(proto.code(), "DATA_LOSS");
  EXPECT_EQ(proto.message(), "rdb offset 9: bad length");
  EXPECT_EQ(ErrorFromProto(proto), error);
  v1::JobError unknown;
  unknown.set_code("NOT_A_CODE");
  unknown.set_message("m");
  EXPECT_EQ(ErrorFromProto(unknown), absl::UnknownError("m"));
}

TEST(JobStatusConvertTest, TimestampsBeforeAndAfterTheEpoch) {
  google::protobuf::Timestamp before = TimestampFromUnixMillis(-1);
  EXPECT_EQ(before.seconds(), -1);
  EXPECT_EQ(before.nanos(), 999000000);
  EXPECT_EQ(UnixMillisFromTimestamp(TimestampFromUnixMillis(1700000000123)), 1700000000123);
  EXPECT_EQ(UnixMillisFromTimestamp(TimestampFromUnixMillis(0)), 0);
}

}  // namespace
}  // namespace reshard::api
