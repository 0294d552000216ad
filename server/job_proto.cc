#include "server/job_proto.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/base/status_macros.h"

namespace reshard::server {
namespace {

std::string TargetField(int index, const char* field) {
  return absl::StrCat("targets[", index, "].", field);
}

absl::StatusOr<engine::FilterSpec> FilterFromProto(const v1::TargetSpec& target, int index) {
  if (!target.has_filter()) {
    return absl::InvalidArgumentError(absl::StrCat(
        TargetField(index, "filter"), ": required: set one of regex, prefix, glob, slots"));
  }
  const v1::Filter& filter = target.filter();
  engine::FilterSpec spec;
  switch (filter.kind_case()) {
    case v1::Filter::kRegex:
      spec.kind = engine::FilterKind::kRegex;
      spec.pattern = filter.regex();
      break;
    case v1::Filter::kPrefix:
      spec.kind = engine::FilterKind::kPrefix;
      spec.pattern = filter.prefix();
      break;
    case v1::Filter::kGlob:
      spec.kind = engine::FilterKind::kGlob;
      spec.pattern = filter.glob();
      break;
    case v1::Filter::kSlots:
      spec.kind = engine::FilterKind::kSlots;
      spec.pattern = filter.slots();
      break;
    case v1::Filter::KIND_NOT_SET:
      return absl::InvalidArgumentError(absl::StrCat(
          TargetField(index, "filter"), ": required: set one of regex, prefix, glob, slots"));
  }
  return spec;
}

absl::Status CheckNotNegative(int64_t value, const char* field) {
  if (value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.", field, ": must not be negative, got ", value));
  }
  return absl::OkStatus();
}

absl::StatusOr<engine::JobOptions> OptionsFromProto(const v1::JobOptions& proto) {
  engine::JobOptions options;  // engine defaults; 0 in the proto keeps them
  RETURN_IF_ERROR(CheckNotNegative(proto.ack_interval_ms(), "ack_interval_ms"));
  RETURN_IF_ERROR(CheckNotNegative(proto.target_ping_interval_ms(), "target_ping_interval_ms"));
  RETURN_IF_ERROR(CheckNotNegative(proto.target_attach_timeout_ms(), "target_attach_timeout_ms"));
  RETURN_IF_ERROR(CheckNotNegative(proto.connect_attempts(), "connect_attempts"));
  if (proto.ack_interval_ms() != 0) options.ack_interval_ms = proto.ack_interval_ms();
  if (proto.target_ping_interval_ms() != 0) {
    options.target_ping_interval_ms = proto.target_ping_interval_ms();
  }
  if (proto.target_backlog_bytes() != 0) {
    options.target_backlog_bytes = proto.target_backlog_bytes();
  }
  if (proto.max_target_queue_bytes() != 0) {
    options.max_target_queue_bytes = proto.max_target_queue_bytes();
  }
  if (proto.target_attach_timeout_ms() != 0) {
    options.target_attach_timeout_ms = proto.target_attach_timeout_ms();
  }
  if (proto.connect_attempts() != 0) options.connect_attempts = proto.connect_attempts();
  RETURN_IF_ERROR(CheckNotNegative(proto.reconnect_window_ms(), "reconnect_window_ms"));
  if (proto.reconnect_window_ms() != 0) options.reconnect_window_ms = proto.reconnect_window_ms();
  if (proto.max_held_stream_bytes() != 0) {
    options.max_held_stream_bytes = proto.max_held_stream_bytes();
  }
  options.fail_on_cross_target_write = proto.fail_on_cross_target_write();
  return options;
}

engine::Endpoint EndpointFromProto(const v1::Endpoint& proto) {
  engine::Endpoint endpoint;
  endpoint.address = proto.address();
  endpoint.credentials.username = proto.username();
  endpoint.credentials.password = proto.password();
  return endpoint;
}

v1::Endpoint EndpointToProto(const engine::Endpoint& endpoint) {
  v1::Endpoint proto;
  proto.set_address(endpoint.address);
  proto.set_username(endpoint.credentials.username);
  return proto;
}

}  // namespace

absl::StatusOr<engine::JobSpec> SpecFromProto(const v1::JobSpec& proto) {
  engine::JobSpec spec;
  spec.source = EndpointFromProto(proto.source());
  for (int i = 0; i < proto.targets_size(); ++i) {
    const v1::TargetSpec& target_proto = proto.targets(i);
    engine::TargetSpec target;
    target.name = target_proto.name();
    ASSIGN_OR_RETURN(target.filter, FilterFromProto(target_proto, i));
    target.listen = target_proto.listen();
    target.credentials.username = target_proto.username();
    target.credentials.password = target_proto.password();
    if (target_proto.has_replica()) {
      const std::string field = TargetField(i, "replica.address");
      if (target_proto.replica().address().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
      }
      target.replica = EndpointFromProto(target_proto.replica());
    }
    spec.targets.push_back(std::move(target));
  }
  ASSIGN_OR_RETURN(spec.options, OptionsFromProto(proto.options()));
  return spec;
}

absl::StatusOr<engine::JobSpec> ValidSpecFromProto(const v1::JobSpec& proto) {
  ASSIGN_OR_RETURN(engine::JobSpec spec, SpecFromProto(proto));
  absl::Status valid = engine::ValidateJobSpec(spec);
  if (!valid.ok()) {
    // The engine nests credentials ("targets[0].credentials.password"); the
    // API has them inline ("targets[0].password"): name the API's field.
    return absl::Status(valid.code(),
                        absl::StrReplaceAll(valid.message(), {{".credentials.", "."}}));
  }
  return spec;
}

v1::JobSpec SpecToProto(const engine::JobSpec& spec) {
  v1::JobSpec proto;
  *proto.mutable_source() = EndpointToProto(spec.source);
  for (const engine::TargetSpec& target : spec.targets) {
    v1::TargetSpec* target_proto = proto.add_targets();
    target_proto->set_name(target.name);
    v1::Filter* filter = target_proto->mutable_filter();
    switch (target.filter.kind) {
      case engine::FilterKind::kRegex:
        filter->set_regex(target.filter.pattern);
        break;
      case engine::FilterKind::kPrefix:
        filter->set_prefix(target.filter.pattern);
        break;
      case engine::FilterKind::kGlob:
        filter->set_glob(target.filter.pattern);
        break;
      case engine::FilterKind::kSlots:
        filter->set_slots(target.filter.pattern);
        break;
    }
    target_proto->set_listen(target.listen);
    target_proto->set_username(target.credentials.username);
    if (target.replica.has_value()) {
      *target_proto->mutable_replica() = EndpointToProto(*target.replica);
    }
  }
  v1::JobOptions* options = proto.mutable_options();
  options->set_ack_interval_ms(spec.options.ack_interval_ms);
  options->set_target_ping_interval_ms(spec.options.target_ping_interval_ms);
  options->set_target_backlog_bytes(spec.options.target_backlog_bytes);
  options->set_max_target_queue_bytes(spec.options.max_target_queue_bytes);
  options->set_target_attach_timeout_ms(spec.options.target_attach_timeout_ms);
  options->set_connect_attempts(spec.options.connect_attempts);
  options->set_reconnect_window_ms(spec.options.reconnect_window_ms);
  options->set_max_held_stream_bytes(spec.options.max_held_stream_bytes);
  options->set_fail_on_cross_target_write(spec.options.fail_on_cross_target_write);
  return proto;
}

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
    case engine::JobState::kPaused:
      return v1::JobStatus::PAUSED;
    case engine::JobState::kFailed:
      return v1::JobStatus::FAILED;
    case engine::JobState::kCancelled:
      return v1::JobStatus::CANCELLED;
  }
  return v1::JobStatus::STATE_UNSPECIFIED;
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
    case v1::JobStatus::PAUSED:
      return engine::JobState::kPaused;
    case v1::JobStatus::FAILED:
      return engine::JobState::kFailed;
    case v1::JobStatus::CANCELLED:
      return engine::JobState::kCancelled;
    default:
      return absl::InvalidArgumentError(absl::StrCat("state: not a job state: ", state));
  }
}

namespace {

void SetTimestamp(int64_t unix_ms, google::protobuf::Timestamp* out) {
  // Floor division so that times before 1970 keep nanos in [0, 1e9).
  int64_t seconds = unix_ms / 1000;
  int64_t millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(millis * 1000000));
}

}  // namespace

v1::JobStatus StatusToProto(const engine::JobStatus& status) {
  v1::JobStatus proto;
  proto.set_state(StateToProto(status.state));
  if (!status.error.ok()) {
    proto.mutable_error()->set_code(absl::StatusCodeToString(status.error.code()));
    proto.mutable_error()->set_message(std::string(status.error.message()));
  }
  proto.set_detail(status.detail);
  proto.set_bytes_received(status.bytes_received);
  proto.mutable_rdb()->set_bytes_total(status.rdb_bytes_total);
  proto.mutable_rdb()->set_bytes_read(status.rdb_bytes_read);
  proto.mutable_rdb()->set_keys_read(status.rdb_keys_read);
  proto.set_source_offset(status.source_offset);
  proto.set_upstream_connected(status.upstream_connected);
  proto.set_upstream_reconnects(status.upstream_reconnects);
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
  }
  if (status.created_unix_ms != 0)
    SetTimestamp(status.created_unix_ms, proto.mutable_create_time());
  if (status.updated_unix_ms != 0)
    SetTimestamp(status.updated_unix_ms, proto.mutable_update_time());
  proto.set_version(status.version);
  return proto;
}

v1::Job JobToProto(const std::string& id, const engine::JobSpec& spec,
                   const engine::JobStatus& status) {
  v1::Job job;
  job.set_id(id);
  *job.mutable_spec() = SpecToProto(spec);
  *job.mutable_status() = StatusToProto(status);
  return job;
}

void ClearPasswords(v1::JobSpec* spec) {
  spec->mutable_source()->clear_password();
  for (v1::TargetSpec& target : *spec->mutable_targets()) {
    target.clear_password();
    if (target.has_replica()) target.mutable_replica()->clear_password();
  }
}

}  // namespace reshard::server
