#include "engine/job/job_spec.h"

#include <openssl/rand.h>

#include <cstdint>
#include <string>
#include <unordered_map>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/io/address_identity.h"
#include "engine/io/net_stream.h"

namespace reshard::engine {
namespace {

// Upper bound for the periods: a Redis master drops a replica that has sent
// no ACK for repl-timeout (60 s by default), and a replica drops a master it
// has not heard from for as long.
constexpr int kMaxIntervalMs = 30000;
constexpr int kMinTimeoutMs = 100;
constexpr int kMaxTimeoutMs = 3600000;

std::string S(std::string_view text) { return std::string(text); }

absl::Status FieldError(std::string_view field, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(S(field), ": ", S(message)));
}

// Prefixes a callee's message with `field` (the callee names no field).
absl::Status Prefixed(std::string_view field, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(S(field), ": ", std::string(status.message())));
}

bool IsNameChar(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_' || ch == '-' || ch == '.';
}

std::string SourceAlias(std::string_view what, const std::string& address,
                        const std::string& source) {
  return absl::StrCat(S(what), " address '", address, "' is the source (", source,
                      ") under another name");
}

absl::Status ValidateCredentials(std::string_view field, const Credentials& credentials) {
  if (!credentials.username.empty() && credentials.password.empty()) {
    return FieldError(absl::StrCat(S(field), ".password"), "required when a username is set");
  }
  return absl::OkStatus();
}

// Loads the TLS files once, as the connections will.
absl::Status ValidateClientTls(std::string_view field, const TlsClientOptions& tls) {
  if (!tls.enabled) return absl::OkStatus();
  return MakeClientTlsContext(tls, field).status();
}

// A cluster target: nodes to ask for the slot map, none of them the source;
// no listen address, managed replica or listener TLS of its own.
absl::Status ValidateClusterTarget(const TargetSpec& target, const std::string& path,
                                   const HostPort& source, bool ask_sentinel) {
  if (!target.listen.empty()) {
    return FieldError(absl::StrCat(path, ".listen"),
                      "a cluster target has no listen address (reshardd writes to its masters)");
  }
  if (target.replica.has_value()) {
    return FieldError(absl::StrCat(path, ".replica"), "a cluster target has no managed replica");
  }
  if (target.listen_tls.enabled) {
    return FieldError(absl::StrCat(path, ".listen_tls"), "a cluster target has no listener");
  }
  const ClusterSpec& cluster = *target.cluster;
  if (cluster.nodes.empty()) {
    return FieldError(absl::StrCat(path, ".cluster.nodes"), "at least one node is required");
  }
  for (size_t n = 0; n < cluster.nodes.size(); ++n) {
    const std::string field = absl::StrCat(path, ".cluster.nodes[", n, "]");
    auto node = ParseHostPort(cluster.nodes[n], field);
    if (!node.ok()) return node.status();
    if (!ask_sentinel && SameServerAddress(*node, source)) {
      return FieldError(field, SourceAlias("cluster node", node->ToString(), source.ToString()));
    }
  }
  if (auto s = ValidateCredentials(absl::StrCat(path, ".cluster.credentials"), cluster.credentials);
      !s.ok()) {
    return s;
  }
  return ValidateClientTls(absl::StrCat(path, ".cluster.tls"), cluster.tls);
}

absl::Status ValidateInterval(std::string_view field, int value_ms) {
  if (value_ms <= 0 || value_ms > kMaxIntervalMs) {
    return FieldError(
        field, absl::StrCat("must be between 1 and ", kMaxIntervalMs, " ms, got ", value_ms));
  }
  return absl::OkStatus();
}

absl::Status ValidateTimeout(std::string_view field, int value_ms) {
  if (value_ms < kMinTimeoutMs || value_ms > kMaxTimeoutMs) {
    return FieldError(field, absl::StrCat("must be between ", kMinTimeoutMs, " and ", kMaxTimeoutMs,
                                          " ms, got ", value_ms));
  }
  return absl::OkStatus();
}

absl::Status ValidateOptions(const JobOptions& options) {
  if (auto s = ValidateInterval("options.ack_interval_ms", options.ack_interval_ms); !s.ok()) {
    return s;
  }
  if (auto s = ValidateInterval("options.target_ping_interval_ms", options.target_ping_interval_ms);
      !s.ok()) {
    return s;
  }
  if (options.target_backlog_bytes == 0) {
    return FieldError("options.target_backlog_bytes", "must be > 0");
  }
  if (options.max_target_queue_bytes == 0) {
    return FieldError("options.max_target_queue_bytes", "must be > 0");
  }
  if (options.target_attach_timeout_ms < 0) {
    return FieldError(
        "options.target_attach_timeout_ms",
        absl::StrCat("must be >= 0 (0: wait forever), got ", options.target_attach_timeout_ms));
  }
  if (options.connect_attempts < 1) {
    return FieldError("options.connect_attempts",
                      absl::StrCat("must be >= 1, got ", options.connect_attempts));
  }
  if (options.spool_max_bytes < options.max_target_queue_bytes) {
    return FieldError(
        "options.spool_max_bytes",
        absl::StrCat("must be >= options.max_target_queue_bytes (", options.max_target_queue_bytes,
                     "), got ", options.spool_max_bytes));
  }
  if (auto s = ValidateTimeout("options.source_timeout_ms", options.source_timeout_ms); !s.ok()) {
    return s;
  }
  if (auto s = ValidateTimeout("options.listener_handshake_timeout_ms",
                               options.listener_handshake_timeout_ms);
      !s.ok()) {
    return s;
  }
  if (options.restart_down_time_ms < 1000 || options.restart_down_time_ms > 86400000) {
    return FieldError(
        "options.restart_down_time_ms",
        absl::StrCat("must be between 1000 and 86400000 ms, got ", options.restart_down_time_ms));
  }
  if (options.max_listener_connections < 1) {
    return FieldError("options.max_listener_connections",
                      absl::StrCat("must be >= 1, got ", options.max_listener_connections));
  }
  return absl::OkStatus();
}

}  // namespace

static absl::Status ValidateSentinel(const SentinelSpec& sentinel) {
  if (sentinel.master_name.empty()) {
    return FieldError("source.sentinel.master_name", "required with source.sentinel");
  }
  if (sentinel.addresses.empty()) {
    return FieldError("source.sentinel.addresses", "at least one Sentinel address is required");
  }
  for (size_t i = 0; i < sentinel.addresses.size(); ++i) {
    auto address =
        ParseHostPort(sentinel.addresses[i], absl::StrCat("source.sentinel.addresses[", i, "]"));
    if (!address.ok()) return address.status();
  }
  return ValidateCredentials("source.sentinel.credentials", sentinel.credentials);
}

absl::Status ValidateJobSpec(const JobSpec& spec) {
  if (spec.source.sentinel.has_value()) {
    if (auto s = ValidateSentinel(*spec.source.sentinel); !s.ok()) return s;
  }
  // With a Sentinel the source's address may be left to it: nothing to
  // compare the targets' addresses with until it answers.
  const bool ask_sentinel = spec.source.sentinel.has_value() && spec.source.address.empty();
  auto source = ask_sentinel ? absl::StatusOr<HostPort>(HostPort{"", 0})
                             : ParseHostPort(spec.source.address, "source.address");
  if (!source.ok()) return source.status();
  if (auto s = ValidateCredentials("source.credentials", spec.source.credentials); !s.ok()) {
    return s;
  }
  if (auto s = ValidateClientTls("source.tls", spec.source.tls); !s.ok()) return s;
  if (spec.source.sentinel.has_value()) {
    if (auto s = ValidateClientTls("source.sentinel.tls", spec.source.sentinel->tls); !s.ok()) {
      return s;
    }
  }
  if (spec.targets.empty()) return FieldError("targets", "at least one target is required");

  // Addresses are compared in their canonical "host:port" form.
  const std::string source_address = source->ToString();
  std::unordered_map<std::string, size_t> names;
  std::unordered_map<std::string, size_t> listens;
  std::unordered_map<std::string, size_t> replicas;
  for (size_t i = 0; i < spec.targets.size(); ++i) {
    const TargetSpec& target = spec.targets[i];
    const std::string path = absl::StrCat("targets[", i, "]");

    const std::string name_field = absl::StrCat(path, ".name");
    if (target.name.empty()) return FieldError(name_field, "name is required");
    for (const char ch : target.name) {
      if (!IsNameChar(ch)) {
        return FieldError(
            name_field,
            absl::StrCat("name '", target.name, "' may only hold letters, digits, '_', '-', '.'"));
      }
    }
    if (!names.emplace(target.name, i).second) {
      return FieldError(name_field, absl::StrCat("duplicate name '", target.name, "'"));
    }

    const std::string filter_field =
        absl::StrCat(path, ".filter.", S(FilterKindName(target.filter.kind)));
    if (auto filter = MakeKeyFilter(TargetFilter(target)); !filter.ok()) {
      return Prefixed(filter_field, filter.status());
    }

    if (target.cluster.has_value()) {
      if (auto s = ValidateClusterTarget(target, path, *source, ask_sentinel); !s.ok()) return s;
      continue;
    }
    const std::string listen_field = absl::StrCat(path, ".listen");
    auto listen = ParseHostPort(target.listen, listen_field);
    if (!listen.ok()) return listen.status();
    const std::string listen_address = listen->ToString();
    if (listen_address == source_address) {
      return FieldError(listen_field, absl::StrCat("listen address '", listen_address,
                                                   "' is the source address"));
    }
    if (!ask_sentinel && SameServerAddress(*listen, *source)) {
      return FieldError(listen_field, SourceAlias("listen", listen_address, source_address));
    }
    if (!listens.emplace(listen_address, i).second) {
      return FieldError(listen_field,
                        absl::StrCat("duplicate listen address '", listen_address, "'"));
    }
    if (auto s = ValidateCredentials(absl::StrCat(path, ".credentials"), target.credentials);
        !s.ok()) {
      return s;
    }
    if (target.listen_tls.enabled) {
      if (auto s = MakeServerTlsContext(target.listen_tls, absl::StrCat(path, ".listen_tls"));
          !s.ok()) {
        return s.status();
      }
    }

    if (target.replica.has_value()) {
      const std::string replica_field = absl::StrCat(path, ".replica.address");
      auto replica = ParseHostPort(target.replica->address, replica_field);
      if (!replica.ok()) return replica.status();
      const std::string replica_address = replica->ToString();
      if (replica_address == source_address) {
        return FieldError(replica_field, absl::StrCat("replica address '", replica_address,
                                                      "' is the source address"));
      }
      // reshardd would send REPLICAOF to its own source.
      if (!ask_sentinel && SameServerAddress(*replica, *source)) {
        return FieldError(replica_field, SourceAlias("replica", replica_address, source_address));
      }
      if (!replicas.emplace(replica_address, i).second) {
        return FieldError(replica_field,
                          absl::StrCat("duplicate replica address '", replica_address, "'"));
      }
      if (auto s = ValidateCredentials(absl::StrCat(path, ".replica.credentials"),
                                       target.replica->credentials);
          !s.ok()) {
        return s;
      }
      if (auto s = ValidateClientTls(absl::StrCat(path, ".replica.tls"), target.replica->tls);
          !s.ok()) {
        return s;
      }
    }
  }
  // A managed replica cannot also be some target's listener (reshardd would
  // make a server replicate from itself). Checked once all listeners are known.
  for (size_t i = 0; i < spec.targets.size(); ++i) {
    if (!spec.targets[i].replica.has_value()) continue;
    const std::string address = ParseHostPort(spec.targets[i].replica->address, "")->ToString();
    if (auto it = listens.find(address); it != listens.end()) {
      return FieldError(absl::StrCat("targets[", i, "].replica.address"),
                        absl::StrCat("replica address '", address,
                                     "' is the listen address of targets[", it->second, "]"));
    }
  }
  return ValidateOptions(spec.options);
}

absl::StatusOr<JobAddresses> ResolveJobAddresses(const JobSpec& spec) {
  JobAddresses addresses;
  if (spec.source.sentinel.has_value()) {
    SentinelConfig sentinel;
    for (size_t i = 0; i < spec.source.sentinel->addresses.size(); ++i) {
      absl::StatusOr<HostPort> address = ParseHostPort(
          spec.source.sentinel->addresses[i], absl::StrCat("source.sentinel.addresses[", i, "]"));
      if (!address.ok()) return address.status();
      sentinel.sentinels.push_back(*address);
    }
    sentinel.master_name = spec.source.sentinel->master_name;
    sentinel.credentials = spec.source.sentinel->credentials;
    sentinel.tls = spec.source.sentinel->tls;
    addresses.sentinel = std::move(sentinel);
  }
  if (spec.source.address.empty() && addresses.sentinel.has_value()) {
    addresses.source = RedisEndpoint{HostPort{}, spec.source.credentials, spec.source.tls};
  } else {
    absl::StatusOr<HostPort> source = ParseHostPort(spec.source.address, "source.address");
    if (!source.ok()) return source.status();
    addresses.source = RedisEndpoint{*source, spec.source.credentials, spec.source.tls};
  }
  for (size_t i = 0; i < spec.targets.size(); ++i) {
    const TargetSpec& target = spec.targets[i];
    // A cluster target's listener: loopback, a port the system picks.
    absl::StatusOr<HostPort> listen =
        target.cluster.has_value()
            ? HostPort{"127.0.0.1", 0}
            : ParseHostPort(target.listen, absl::StrCat("targets[", i, "].listen"));
    if (!listen.ok()) return listen.status();
    addresses.listen.push_back(*listen);
    addresses.replica.emplace_back();
    if (!target.replica.has_value()) continue;
    absl::StatusOr<HostPort> replica =
        ParseHostPort(target.replica->address, absl::StrCat("targets[", i, "].replica.address"));
    if (!replica.ok()) return replica.status();
    addresses.replica.back() =
        RedisEndpoint{*replica, target.replica->credentials, target.replica->tls};
  }
  return addresses;
}

FilterSpec TargetFilter(const TargetSpec& target) {
  if (target.cluster.has_value() && target.filter.pattern.empty()) {
    return FilterSpec{FilterKind::kSlots, "0-16383"};
  }
  return target.filter;
}

int GenerateReplicationPasswords(JobSpec* spec) {
  int generated = 0;
  for (TargetSpec& target : spec->targets) {
    if ((!target.replica.has_value() && !target.cluster.has_value()) ||
        !target.credentials.password.empty() || !target.credentials.username.empty()) {
      continue;
    }
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) continue;  // then unauthenticated, as before
    target.credentials.password = absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
    ++generated;
  }
  return generated;
}

}  // namespace reshard::engine
