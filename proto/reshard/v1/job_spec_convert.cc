#include "proto/reshard/v1/job_spec_convert.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/base/status_macros.h"

namespace reshard::api {
namespace {

std::string TargetField(int index, const char* field) {
  return absl::StrCat("targets[", index, "].", field);
}

absl::Status CheckNotNegative(int64_t value, const char* field) {
  if (value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.", field, ": must not be negative, got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<engine::FilterSpec> FilterFromProto(const v1::Filter& filter,
                                                   std::string_view field) {
  engine::FilterSpec spec;
  switch (filter.kind_case()) {
    case v1::Filter::kRegex:
      spec.kind = engine::FilterKind::kRegex;
      spec.pattern = filter.regex();
      return spec;
    case v1::Filter::kPrefix:
      spec.kind = engine::FilterKind::kPrefix;
      spec.pattern = filter.prefix();
      return spec;
    case v1::Filter::kGlob:
      spec.kind = engine::FilterKind::kGlob;
      spec.pattern = filter.glob();
      return spec;
    case v1::Filter::kSlots:
      spec.kind = engine::FilterKind::kSlots;
      spec.pattern = filter.slots();
      return spec;
    case v1::Filter::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(absl::string_view(field.data(), field.size()),
                   ": required: set one of regex, prefix, glob, slots"));
}

v1::Filter FilterToProto(const engine::FilterSpec& filter) {
  v1::Filter proto;
  switch (filter.kind) {
    case engine::FilterKind::kRegex:
      proto.set_regex(filter.pattern);
      break;
    case engine::FilterKind::kPrefix:
      proto.set_prefix(filter.pattern);
      break;
    case engine::FilterKind::kGlob:
      proto.set_glob(filter.pattern);
      break;
    case engine::FilterKind::kSlots:
      proto.set_slots(filter.pattern);
      break;
  }
  return proto;
}

engine::TlsClientOptions ClientTlsFromProto(const v1::ClientTls& proto) {
  engine::TlsClientOptions tls;
  tls.enabled = true;
  tls.ca_file = proto.ca_file();
  tls.cert_file = proto.cert_file();
  tls.key_file = proto.key_file();
  tls.server_name = proto.server_name();
  tls.skip_verify = proto.insecure_skip_verify();
  return tls;
}

v1::ClientTls ClientTlsToProto(const engine::TlsClientOptions& tls) {
  v1::ClientTls proto;
  proto.set_ca_file(tls.ca_file);
  proto.set_cert_file(tls.cert_file);
  proto.set_key_file(tls.key_file);
  proto.set_server_name(tls.server_name);
  proto.set_insecure_skip_verify(tls.skip_verify);
  return proto;
}

engine::Endpoint EndpointFromProto(const v1::Endpoint& proto) {
  engine::Endpoint endpoint;
  endpoint.address = proto.address();
  endpoint.credentials.username = proto.username();
  endpoint.credentials.password = proto.password();
  if (proto.has_tls()) endpoint.tls = ClientTlsFromProto(proto.tls());
  if (proto.has_sentinel()) {
    engine::SentinelSpec sentinel;
    sentinel.addresses.assign(proto.sentinel().addresses().begin(),
                              proto.sentinel().addresses().end());
    sentinel.master_name = proto.sentinel().master_name();
    sentinel.credentials.username = proto.sentinel().username();
    sentinel.credentials.password = proto.sentinel().password();
    if (proto.sentinel().has_tls()) sentinel.tls = ClientTlsFromProto(proto.sentinel().tls());
    endpoint.sentinel = std::move(sentinel);
  }
  return endpoint;
}

v1::Endpoint EndpointToProto(const engine::Endpoint& endpoint) {
  v1::Endpoint proto;
  proto.set_address(endpoint.address);
  proto.set_username(endpoint.credentials.username);
  if (endpoint.tls.enabled) *proto.mutable_tls() = ClientTlsToProto(endpoint.tls);
  if (endpoint.sentinel.has_value()) {
    v1::Sentinel* sentinel = proto.mutable_sentinel();
    for (const std::string& address : endpoint.sentinel->addresses) {
      sentinel->add_addresses(address);
    }
    sentinel->set_master_name(endpoint.sentinel->master_name);
    sentinel->set_username(endpoint.sentinel->credentials.username);
    if (endpoint.sentinel->tls.enabled)
      *sentinel->mutable_tls() = ClientTlsToProto(endpoint.sentinel->tls);
  }
  return proto;
}

absl::StatusOr<engine::JobOptions> OptionsFromProto(const v1::JobOptions& proto) {
  engine::JobOptions options;  // engine defaults; 0 in the proto keeps them
  RETURN_IF_ERROR(CheckNotNegative(proto.ack_interval_ms(), "ack_interval_ms"));
  RETURN_IF_ERROR(CheckNotNegative(proto.target_ping_interval_ms(), "target_ping_interval_ms"));
  RETURN_IF_ERROR(CheckNotNegative(proto.target_attach_timeout_ms(), "target_attach_timeout_ms"));
  RETURN_IF_ERROR(CheckNotNegative(proto.connect_attempts(), "connect_attempts"));
  RETURN_IF_ERROR(CheckNotNegative(proto.reconnect_window_ms(), "reconnect_window_ms"));
  RETURN_IF_ERROR(CheckNotNegative(proto.source_timeout_ms(), "source_timeout_ms"));
  RETURN_IF_ERROR(
      CheckNotNegative(proto.listener_handshake_timeout_ms(), "listener_handshake_timeout_ms"));
  RETURN_IF_ERROR(CheckNotNegative(proto.max_listener_connections(), "max_listener_connections"));
  RETURN_IF_ERROR(CheckNotNegative(proto.restart_down_time_ms(), "restart_down_time_ms"));
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
  if (proto.reconnect_window_ms() != 0) options.reconnect_window_ms = proto.reconnect_window_ms();
  if (proto.max_held_stream_bytes() != 0) {
    options.max_held_stream_bytes = proto.max_held_stream_bytes();
  }
  options.fail_on_cross_target_write = proto.fail_on_cross_target_write();
  if (proto.spool_max_bytes() != 0) options.spool_max_bytes = proto.spool_max_bytes();
  switch (proto.ack_mode()) {
    case v1::JobOptions::ACK_MODE_UNSPECIFIED:
      break;  // the engine default (APPLIED)
    case v1::JobOptions::APPLIED:
      options.ack_mode = engine::JobOptions::AckMode::kApplied;
      break;
    case v1::JobOptions::RECEIVED:
      options.ack_mode = engine::JobOptions::AckMode::kReceived;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("options.ack_mode: not an ack mode: ", proto.ack_mode()));
  }
  if (proto.source_timeout_ms() != 0) options.source_timeout_ms = proto.source_timeout_ms();
  if (proto.listener_handshake_timeout_ms() != 0) {
    options.listener_handshake_timeout_ms = proto.listener_handshake_timeout_ms();
  }
  if (proto.max_listener_connections() != 0) {
    options.max_listener_connections = proto.max_listener_connections();
  }
  if (proto.restart_down_time_ms() != 0)
    options.restart_down_time_ms = proto.restart_down_time_ms();
  options.set_source_backlog = proto.set_source_backlog();
  return options;
}

v1::JobOptions OptionsToProto(const engine::JobOptions& options) {
  v1::JobOptions proto;
  proto.set_ack_interval_ms(options.ack_interval_ms);
  proto.set_target_ping_interval_ms(options.target_ping_interval_ms);
  proto.set_target_backlog_bytes(options.target_backlog_bytes);
  proto.set_max_target_queue_bytes(options.max_target_queue_bytes);
  proto.set_target_attach_timeout_ms(options.target_attach_timeout_ms);
  proto.set_connect_attempts(options.connect_attempts);
  proto.set_reconnect_window_ms(options.reconnect_window_ms);
  proto.set_max_held_stream_bytes(options.max_held_stream_bytes);
  proto.set_fail_on_cross_target_write(options.fail_on_cross_target_write);
  proto.set_spool_max_bytes(options.spool_max_bytes);
  proto.set_ack_mode(options.ack_mode == engine::JobOptions::AckMode::kReceived
                         ? v1::JobOptions::RECEIVED
                         : v1::JobOptions::APPLIED);
  proto.set_source_timeout_ms(options.source_timeout_ms);
  proto.set_listener_handshake_timeout_ms(options.listener_handshake_timeout_ms);
  proto.set_max_listener_connections(options.max_listener_connections);
  proto.set_restart_down_time_ms(options.restart_down_time_ms);
  proto.set_set_source_backlog(options.set_source_backlog);
  return proto;
}

absl::StatusOr<engine::JobSpec> SpecFromProto(const v1::JobSpec& proto) {
  engine::JobSpec spec;
  spec.source = EndpointFromProto(proto.source());
  for (int i = 0; i < proto.targets_size(); ++i) {
    const v1::TargetSpec& target_proto = proto.targets(i);
    engine::TargetSpec target;
    target.name = target_proto.name();
    // A cluster target without a filter takes every key (engine::TargetFilter).
    if (!target_proto.has_cluster() ||
        target_proto.filter().kind_case() != v1::Filter::KIND_NOT_SET) {
      ASSIGN_OR_RETURN(target.filter,
                       FilterFromProto(target_proto.filter(), TargetField(i, "filter")));
    }
    if (target_proto.has_cluster()) {
      const v1::ClusterTarget& cluster = target_proto.cluster();
      target.cluster.emplace();
      target.cluster->nodes.assign(cluster.nodes().begin(), cluster.nodes().end());
      target.cluster->credentials.username = cluster.username();
      target.cluster->credentials.password = cluster.password();
      if (cluster.has_tls())
        target.cluster->tls = EndpointFromProto([&] {
                                v1::Endpoint endpoint;
                                *endpoint.mutable_tls() = cluster.tls();
                                return endpoint;
                              }())
                                  .tls;
    }
    target.listen = target_proto.listen();
    target.credentials.username = target_proto.username();
    target.credentials.password = target_proto.password();
    if (target_proto.has_replica()) {
      if (target_proto.replica().address().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(TargetField(i, "replica.address"), ": required"));
      }
      target.replica = EndpointFromProto(target_proto.replica());
    }
    if (target_proto.has_listen_tls()) {
      target.listen_tls.enabled = true;
      target.listen_tls.cert_file = target_proto.listen_tls().cert_file();
      target.listen_tls.key_file = target_proto.listen_tls().key_file();
      target.listen_tls.ca_file = target_proto.listen_tls().ca_file();
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
  // A job created through the API: its generated passwords are stored with
  // its other secrets, so a restarted reshardd still knows them.
  engine::GenerateReplicationPasswords(&spec);
  return spec;
}

v1::JobSpec SpecToProto(const engine::JobSpec& spec) {
  v1::JobSpec proto;
  *proto.mutable_source() = EndpointToProto(spec.source);
  for (const engine::TargetSpec& target : spec.targets) {
    v1::TargetSpec* target_proto = proto.add_targets();
    target_proto->set_name(target.name);
    if (!target.filter.pattern.empty()) {
      *target_proto->mutable_filter() = FilterToProto(target.filter);
    }
    if (target.cluster.has_value()) {
      v1::ClusterTarget* cluster = target_proto->mutable_cluster();
      for (const std::string& node : target.cluster->nodes) cluster->add_nodes(node);
      cluster->set_username(target.cluster->credentials.username);
      if (target.cluster->tls.enabled) {
        engine::Endpoint endpoint;
        endpoint.tls = target.cluster->tls;
        *cluster->mutable_tls() = EndpointToProto(endpoint).tls();
      }
    }
    target_proto->set_listen(target.listen);
    target_proto->set_username(target.credentials.username);
    if (target.replica.has_value()) {
      *target_proto->mutable_replica() = EndpointToProto(*target.replica);
    }
    if (target.listen_tls.enabled) {
      target_proto->mutable_listen_tls()->set_cert_file(target.listen_tls.cert_file);
      target_proto->mutable_listen_tls()->set_key_file(target.listen_tls.key_file);
      target_proto->mutable_listen_tls()->set_ca_file(target.listen_tls.ca_file);
    }
  }
  *proto.mutable_options() = OptionsToProto(spec.options);
  return proto;
}

void ClearPasswords(v1::JobSpec* spec) {
  spec->mutable_source()->clear_password();
  for (v1::TargetSpec& target : *spec->mutable_targets()) {
    target.clear_password();
    if (target.has_replica()) target.mutable_replica()->clear_password();
  }
}

}  // namespace reshard::api
