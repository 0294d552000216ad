#include "proto/reshard/v1/verify_convert.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "proto/reshard/v1/job_spec_convert.h"
#include "proto/reshard/v1/job_status_convert.h"

namespace reshard::api {

absl::StatusOr<engine::VerifyOptions> VerifyOptionsFromProto(const v1::VerifyJobRequest& request,
                                                             const engine::JobSpec& spec) {
  engine::VerifyOptions options;
  double sample = request.sample_fraction();
  if (sample != 0) {
    if (!(sample > 0 && sample <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sample_fraction: must be in (0, 1], not ", sample));
    }
    options.sample_fraction = sample;
  }
  if (std::isnan(request.rate_keys_per_second())) {
    return absl::InvalidArgumentError("rate_keys_per_second: not a number");
  }
  if (request.rate_keys_per_second() > 0) {
    options.rate_keys_per_second = request.rate_keys_per_second();
  } else if (request.rate_keys_per_second() < 0) {
    options.rate_keys_per_second = 0;  // unlimited
  }
  if (request.max_problems() > 0) options.max_problems = request.max_problems();
  if (request.ttl_tolerance_ms() < 0) {
    return absl::InvalidArgumentError("ttl_tolerance_ms: must not be negative");
  }
  if (request.ttl_tolerance_ms() > 0) options.ttl_tolerance_ms = request.ttl_tolerance_ms();
  options.target_endpoints.resize(spec.targets.size());
  for (const auto& [name, address] : request.target_addresses()) {
    std::string field = absl::StrCat("target_addresses['", name, "']");
    size_t index = spec.targets.size();
    for (size_t i = 0; i < spec.targets.size(); ++i) {
      if (spec.targets[i].name == name) index = i;
    }
    if (index == spec.targets.size()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": no such target in the job"));
    }
    absl::StatusOr<engine::HostPort> host_port = engine::ParseHostPort(address, field);
    if (!host_port.ok()) return host_port.status();
    engine::RedisEndpoint endpoint;
    endpoint.address = *host_port;
    // The managed replica's credentials and TLS, when the address overrides its own.
    if (spec.targets[index].replica.has_value()) {
      endpoint.credentials = spec.targets[index].replica->credentials;
      endpoint.tls = spec.targets[index].replica->tls;
    } else if (spec.targets[index].cluster.has_value()) {
      // A cluster target's: the address is a seed node of the cluster.
      endpoint.credentials = spec.targets[index].cluster->credentials;
      endpoint.tls = spec.targets[index].cluster->tls;
    }
    auto tls = request.target_tls().find(name);
    if (tls != request.target_tls().end()) endpoint.tls = ClientTlsFromProto(tls->second);
    options.target_endpoints[index] = endpoint;
  }
  for (const auto& [name, tls] : request.target_tls()) {
    if (request.target_addresses().count(name) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("target_tls['", name, "']: no target_addresses['", name,
                       "'] (TLS applies to a target whose address is given)"));
    }
  }
  return options;
}

v1::VerifyProblem::Kind ProblemKindToProto(engine::VerifyProblemKind kind) {
  switch (kind) {
    case engine::VerifyProblemKind::kMissing:
      return v1::VerifyProblem::MISSING;
    case engine::VerifyProblemKind::kStray:
      return v1::VerifyProblem::STRAY;
    case engine::VerifyProblemKind::kDifferentValue:
      return v1::VerifyProblem::DIFFERENT_VALUE;
    case engine::VerifyProblemKind::kDifferentTtl:
      return v1::VerifyProblem::DIFFERENT_TTL;
  }
  return v1::VerifyProblem::KIND_UNSPECIFIED;
}

namespace {

engine::VerifyProblemKind ProblemKindFromProto(v1::VerifyProblem::Kind kind) {
  switch (kind) {
    case v1::VerifyProblem::STRAY:
      return engine::VerifyProblemKind::kStray;
    case v1::VerifyProblem::DIFFERENT_VALUE:
      return engine::VerifyProblemKind::kDifferentValue;
    case v1::VerifyProblem::DIFFERENT_TTL:
      return engine::VerifyProblemKind::kDifferentTtl;
    default:
      return engine::VerifyProblemKind::kMissing;
  }
}

v1::VerifyReport::State VerifyStateToProto(engine::VerifyState state) {
  switch (state) {
    case engine::VerifyState::kRunning:
      return v1::VerifyReport::RUNNING;
    case engine::VerifyState::kDone:
      return v1::VerifyReport::DONE;
    case engine::VerifyState::kFailed:
      return v1::VerifyReport::FAILED;
  }
  return v1::VerifyReport::STATE_UNSPECIFIED;
}

engine::VerifyState VerifyStateFromProto(v1::VerifyReport::State state) {
  switch (state) {
    case v1::VerifyReport::DONE:
      return engine::VerifyState::kDone;
    case v1::VerifyReport::FAILED:
      return engine::VerifyState::kFailed;
    default:
      return engine::VerifyState::kRunning;
  }
}

}  // namespace

v1::VerifyReport VerifyReportToProto(const std::string& job_id, const engine::JobSpec& spec,
                                     const engine::VerifyReport& report) {
  v1::VerifyReport proto;
  proto.set_job_id(job_id);
  proto.set_keys_checked(report.keys_checked);
  proto.set_target_keys_checked(report.target_keys_checked);
  proto.set_missing(report.missing);
  proto.set_stray(report.stray);
  proto.set_different(report.different);
  proto.set_rechecked(report.rechecked);
  proto.set_unsettled(report.unsettled);
  proto.set_sample_fraction(report.sample_fraction);
  for (const engine::TargetSpec& target : spec.targets) proto.add_target_names(target.name);
  for (const engine::DbPrecheck& db : report.precheck) {
    v1::VerifyPrecheck* out = proto.add_precheck();
    out->set_db(db.db);
    out->set_source_keys(db.source_keys);
    for (uint64_t n : db.expected) out->add_expected_keys(n);
    for (uint64_t n : db.target_keys) out->add_target_keys(n);
  }
  for (const engine::VerifyProblem& problem : report.problems) {
    v1::VerifyProblem* out = proto.add_problems();
    out->set_db(problem.db);
    out->set_key(problem.key);
    out->set_target(problem.target);
    out->set_kind(ProblemKindToProto(problem.kind));
    out->set_detail(problem.detail);
  }
  if (report.started != absl::Time()) {
    *proto.mutable_start_time() = TimestampFromUnixMillis(absl::ToUnixMillis(report.started));
  }
  proto.set_duration_seconds(absl::ToDoubleSeconds(report.duration));
  proto.set_state(VerifyStateToProto(report.state));
  proto.set_error(report.error);
  proto.set_keys_total(report.keys_total);
  proto.set_keys_scanned(report.keys_scanned);
  proto.set_keys_per_second(report.keys_per_second());
  proto.set_eta_seconds(absl::ToDoubleSeconds(report.eta()));
  proto.set_rate_keys_per_second(report.rate_keys_per_second);
  proto.set_source_address(report.source_address);
  return proto;
}

engine::VerifyReport VerifyReportFromProto(const v1::VerifyReport& proto) {
  engine::VerifyReport report;
  report.state = VerifyStateFromProto(proto.state());
  report.error = proto.error();
  report.keys_checked = proto.keys_checked();
  report.target_keys_checked = proto.target_keys_checked();
  report.missing = proto.missing();
  report.stray = proto.stray();
  report.different = proto.different();
  report.rechecked = proto.rechecked();
  report.unsettled = proto.unsettled();
  report.sample_fraction = proto.sample_fraction();
  report.rate_keys_per_second = proto.rate_keys_per_second();
  report.source_address = proto.source_address();
  for (const v1::VerifyPrecheck& db : proto.precheck()) {
    engine::DbPrecheck precheck;
    precheck.db = db.db();
    precheck.source_keys = db.source_keys();
    precheck.expected.assign(db.expected_keys().begin(), db.expected_keys().end());
    precheck.target_keys.assign(db.target_keys().begin(), db.target_keys().end());
    report.precheck.push_back(std::move(precheck));
  }
  for (const v1::VerifyProblem& p : proto.problems()) {
    report.problems.push_back(
        {p.db(), p.key(), p.target(), ProblemKindFromProto(p.kind()), p.detail()});
  }
  report.keys_total = proto.keys_total();
  report.keys_scanned = proto.keys_scanned();
  if (proto.has_start_time()) {
    report.started = absl::FromUnixMillis(UnixMillisFromTimestamp(proto.start_time()));
  }
  report.duration = absl::Seconds(proto.duration_seconds());
  return report;
}

}  // namespace reshard::api
