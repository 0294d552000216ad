#include "proto/reshard/v1/job_status_convert.h"

#include "absl/strings/str_cat.h"
#include "proto/reshard/v1/cutover_convert.h"
#include "proto/reshard/v1/job_spec_convert.h"
#include "proto/reshard/v1/verify_convert.h"

namespace reshard::api {

v1::JobStatus::State StateToProto(engine::JobState state) {
  switch (state) {
    case engine::JobState::kPending:
      return v1::JobStatus::PENDING;
    case engine::JobState::kConnecting:
      return v1::JobStatus::CONNECTING;
    case engine::JobState::kSyncing:
      return v1::JobStatus::SYNCING;
    case engine::JobState::kStreaming:
      return v1::JobStatus::STREAMING;
    case engine::JobState::kDegraded:
      return v1::JobStatus::DEGRADED;
    case engine::JobState::kPaused:
      return v1::JobStatus::PAUSED;
    case engine::JobState::kFailed:
      return v1::JobStatus::FAILED;
    case engine::JobState::kCancelled:
      return v1::JobStatus::CANCELLED;
    case engine::JobState::kCutover:
      return v1::JobStatus::CUTOVER;
    case engine::JobState::kDone:
      return v1::JobStatus::DONE;
  }
  return v1::JobStatus::STATE_UNSPECIFIED;
}

v1::TargetStatus::State TargetStateToProto(engine::TargetState state) {
  switch (state) {
    case engine::TargetState::kWaiting:
      return v1::TargetStatus::WAITING;
    case engine::TargetState::kSnapshot:
      return v1::TargetStatus::SNAPSHOT;
    case engine::TargetState::kLoading:
      return v1::TargetStatus::LOADING;
    case engine::TargetState::kStreaming:
      return v1::TargetStatus::STREAMING;
    case engine::TargetState::kSpooling:
      return v1::TargetStatus::SPOOLING;
    case engine::TargetState::kResyncing:
      return v1::TargetStatus::RESYNCING;
    case engine::TargetState::kCutOff:
      return v1::TargetStatus::CUT_OFF;
    case engine::TargetState::kDisconnected:
      return v1::TargetStatus::DISCONNECTED;
    case engine::TargetState::kPaused:
      return v1::TargetStatus::PAUSED;
  }
  return v1::TargetStatus::STATE_UNSPECIFIED;
}

absl::StatusOr<engine::JobState> StateFromProto(v1::JobStatus::State state) {
  switch (state) {
    case v1::JobStatus::PENDING:
      return engine::JobState::kPending;
    case v1::JobStatus::CONNECTING:
      return engine::JobState::kConnecting;
    case v1::JobStatus::SYNCING:
      return engine::JobState::kSyncing;
    case v1::JobStatus::STREAMING:
      return engine::JobState::kStreaming;
    case v1::JobStatus::DEGRADED:
      return engine::JobState::kDegraded;
    case v1::JobStatus::PAUSED:
      return engine::JobState::kPaused;
    case v1::JobStatus::FAILED:
      return engine::JobState::kFailed;
    case v1::JobStatus::CANCELLED:
      return engine::JobState::kCancelled;
    case v1::JobStatus::CUTOVER:
      return engine::JobState::kCutover;
    case v1::JobStatus::DONE:
      return engine::JobState::kDone;
    default:
      return absl::InvalidArgumentError(absl::StrCat("state: not a job state: ", state));
  }
}

v1::JobError ErrorToProto(const absl::Status& error) {
  v1::JobError proto;
  if (error.ok()) return proto;
  proto.set_code(absl::StatusCodeToString(error.code()));
  proto.set_message(std::string(error.message()));
  return proto;
}

absl::Status ErrorFromProto(const v1::JobError& error) {
  if (error.code().empty()) return absl::OkStatus();
  for (int code = 1; code <= 16; ++code) {
    if (absl::StatusCodeToString(static_cast<absl::StatusCode>(code)) == error.code()) {
      return absl::Status(static_cast<absl::StatusCode>(code), error.message());
    }
  }
  return absl::UnknownError(error.message());
}

google::protobuf::Timestamp TimestampFromUnixMillis(int64_t unix_ms) {
  // Floor division so that times before 1970 keep nanos in [0, 1e9).
  int64_t seconds = unix_ms / 1000;
  int64_t millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  google::protobuf::Timestamp time;
  time.set_seconds(seconds);
  time.set_nanos(static_cast<int32_t>(millis * 1000000));
  return time;
}

int64_t UnixMillisFromTimestamp(const google::protobuf::Timestamp& time) {
  return time.seconds() * 1000 + time.nanos() / 1000000;
}

v1::JobStatus StatusToProto(const engine::JobStatus& status) {
  v1::JobStatus proto;
  proto.set_state(StateToProto(status.state));
  if (!status.error.ok()) *proto.mutable_error() = ErrorToProto(status.error);
  proto.set_detail(status.detail);
  proto.set_bytes_received(status.bytes_received);
  proto.mutable_rdb()->set_bytes_total(status.rdb_bytes_total);
  proto.mutable_rdb()->set_bytes_read(status.rdb_bytes_read);
  proto.mutable_rdb()->set_keys_read(status.rdb_keys_read);
  proto.mutable_rdb()->set_keys_total(status.rdb_keys_total);
  proto.set_source_offset(status.source_offset);
  proto.set_source_master_offset(status.source_master_offset);
  proto.set_source_lag_bytes(status.source_lag_bytes);
  proto.set_source_lag_seconds(status.source_lag_seconds);
  proto.set_upstream_acked_offset(status.upstream_acked_offset);
  proto.set_upstream_connected(status.upstream_connected);
  proto.set_upstream_reconnects(status.upstream_reconnects);
  proto.set_restore_detail(status.restore_detail);
  proto.set_durable_state_error(status.durable_state_error);
  proto.set_source_backlog_bytes(status.source_backlog_bytes);
  proto.set_source_backlog_seconds(status.source_backlog_seconds);
  proto.set_source_backlog_advice(status.source_backlog_advice);
  proto.set_source_address(status.source_address);
  proto.set_source_failovers_partial(status.source_failovers_partial);
  proto.set_source_failovers_full(status.source_failovers_full);
  proto.set_source_role(status.source_role);
  proto.set_source_master_address(status.source_master_address);
  proto.set_source_master_link_status(status.source_master_link_status);
  for (const engine::SourceFailover& failover : status.source_failovers) {
    v1::SourceFailover* f = proto.add_source_failovers();
    f->set_from(failover.from);
    f->set_to(failover.to);
    switch (failover.kind) {
      case engine::SourceFailover::Kind::kPending:
        f->set_kind(v1::SourceFailover::PENDING);
        break;
      case engine::SourceFailover::Kind::kPartial:
        f->set_kind(v1::SourceFailover::PARTIAL);
        break;
      case engine::SourceFailover::Kind::kFull:
        f->set_kind(v1::SourceFailover::FULL);
        break;
    }
    f->set_offset(failover.offset);
    if (failover.unix_ms != 0) *f->mutable_time() = TimestampFromUnixMillis(failover.unix_ms);
    f->set_detail(failover.detail);
  }
  for (const engine::TargetStatus& target : status.targets) {
    v1::TargetStatus* t = proto.add_targets();
    t->set_name(target.name);
    t->set_attached(target.attached);
    t->set_connected_replicas(target.connected_replicas);
    t->set_rdb_keys_kept(target.rdb_keys_kept);
    t->set_rdb_keys_dropped(target.rdb_keys_dropped);
    t->set_commands_kept(target.commands_kept);
    t->set_commands_dropped(target.commands_dropped);
    t->set_commands_split(target.commands_split);
    t->set_keys_materialized(target.keys_materialized);
    t->set_bytes_sent(target.bytes_sent);
    t->set_offset(target.offset);
    t->set_acked_offset(target.acked_offset);
    t->set_lag_bytes(target.lag_bytes);
    t->set_lag_seconds(target.lag_seconds);
    t->set_state(TargetStateToProto(target.state));
    t->set_state_reason(target.state_reason);
    t->set_spool_bytes(target.spool_bytes);
    t->set_spool_disk_bytes(target.spool_disk_bytes);
    t->set_source_acked_offset(target.source_acked_offset);
    t->set_resyncs(target.resyncs);
    for (const engine::ClusterNodeStatus& node : target.cluster_nodes) {
      v1::ClusterNodeStatus* n = t->add_cluster_nodes();
      n->set_address(node.address);
      n->set_slots(node.slots);
      n->set_slot_ranges(node.slot_ranges);
      n->set_commands(node.commands);
      n->set_keys_restored(node.keys_restored);
      n->set_bytes_sent(node.bytes_sent);
      n->set_acked_offset(node.acked_offset);
      n->set_lag_bytes(node.lag_bytes);
      n->set_moved(node.moved);
      n->set_ask(node.ask);
      n->set_retries(node.retries);
      n->set_last_error(node.last_error);
    }
  }
  if (status.created_unix_ms != 0) {
    *proto.mutable_create_time() = TimestampFromUnixMillis(status.created_unix_ms);
  }
  if (status.updated_unix_ms != 0) {
    *proto.mutable_update_time() = TimestampFromUnixMillis(status.updated_unix_ms);
  }
  proto.set_version(status.version);
  return proto;
}

v1::Job JobToProto(const std::string& id, const engine::JobSpec& spec,
                   const engine::JobStatus& status, const engine::VerifyReport* last_verification) {
  v1::Job job;
  job.set_id(id);
  *job.mutable_spec() = SpecToProto(spec);
  *job.mutable_status() = StatusToProto(status);
  if (last_verification != nullptr) {
    *job.mutable_last_verification() = VerifyReportToProto(id, spec, *last_verification);
  }
  if (status.cutover.has_value())
    *job.mutable_last_cutover() = CutoverReportToProto(*status.cutover);
  return job;
}

}  // namespace reshard::api
