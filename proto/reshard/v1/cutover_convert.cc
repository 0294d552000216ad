#include "proto/reshard/v1/cutover_convert.h"

#include "absl/strings/str_cat.h"
#include "proto/reshard/v1/job_status_convert.h"

namespace reshard::api {
namespace {

v1::CutoverReport::State StateToProto(engine::CutoverState state) {
  switch (state) {
    case engine::CutoverState::kRunning:
      return v1::CutoverReport::RUNNING;
    case engine::CutoverState::kDone:
      return v1::CutoverReport::DONE;
    case engine::CutoverState::kRolledBack:
      return v1::CutoverReport::ROLLED_BACK;
  }
  return v1::CutoverReport::STATE_UNSPECIFIED;
}

engine::CutoverState StateFromProto(v1::CutoverReport::State state) {
  switch (state) {
    case v1::CutoverReport::DONE:
      return engine::CutoverState::kDone;
    case v1::CutoverReport::ROLLED_BACK:
      return engine::CutoverState::kRolledBack;
    default:
      return engine::CutoverState::kRunning;
  }
}

}  // namespace

absl::StatusOr<engine::CutoverOptions> CutoverOptionsFromProto(
    const v1::CutoverJobRequest& request) {
  engine::CutoverOptions options;
  if (request.max_write_pause_ms() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("max_write_pause_ms: must not be negative, not ",
                                                   request.max_write_pause_ms()));
  }
  if (request.lag_wait_ms() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("lag_wait_ms: must not be negative, not ", request.lag_wait_ms()));
  }
  if (request.max_write_pause_ms() > 0) {
    options.max_write_pause = absl::Milliseconds(request.max_write_pause_ms());
  }
  if (request.lag_threshold_bytes() > 0) {
    options.lag_threshold_bytes = request.lag_threshold_bytes();
  }
  if (request.lag_wait_ms() > 0)
    options.lag_wait_timeout = absl::Milliseconds(request.lag_wait_ms());
  options.promote = request.promote();
  options.leave_source_paused = request.leave_source_paused();
  return options;
}

v1::CutoverReport CutoverReportToProto(const engine::CutoverReport& report) {
  v1::CutoverReport out;
  out.set_state(StateToProto(report.state));
  out.set_write_pause_ms(report.write_pause_ms);
  out.set_final_offset(report.final_offset);
  out.set_pause_mode(report.pause_mode);
  out.set_source_version(report.source_version);
  out.set_paused_address(report.paused_address);
  out.set_source_left_paused(report.source_left_paused);
  for (const std::string& step : report.steps) out.add_steps(step);
  for (const engine::CutoverTargetReport& target : report.targets) {
    v1::CutoverTarget* t = out.add_targets();
    t->set_name(target.name);
    t->set_source_acked_offset(target.source_acked_offset);
    t->set_managed(target.managed);
    t->set_promoted(target.promoted);
    t->set_cluster(target.cluster);
    for (const auto& [db, keys] : target.db_keys) (*t->mutable_db_keys())[db] = keys;
    t->set_keys(target.keys);
  }
  out.set_error(report.error);
  if (report.started_unix_ms != 0) {
    *out.mutable_start_time() = TimestampFromUnixMillis(report.started_unix_ms);
  }
  if (report.finished_unix_ms != 0) {
    *out.mutable_end_time() = TimestampFromUnixMillis(report.finished_unix_ms);
  }
  out.set_max_write_pause_ms(absl::ToInt64Milliseconds(report.options.max_write_pause));
  out.set_promote(report.options.promote);
  out.set_leave_source_paused(report.options.leave_source_paused);
  out.set_lag_threshold_bytes(report.options.lag_threshold_bytes);
  return out;
}

engine::CutoverReport CutoverReportFromProto(const v1::CutoverReport& proto) {
  engine::CutoverReport report;
  report.state = StateFromProto(proto.state());
  report.write_pause_ms = proto.write_pause_ms();
  report.final_offset = proto.final_offset();
  report.pause_mode = proto.pause_mode();
  report.source_version = proto.source_version();
  report.paused_address = proto.paused_address();
  report.source_left_paused = proto.source_left_paused();
  report.steps.assign(proto.steps().begin(), proto.steps().end());
  for (const v1::CutoverTarget& t : proto.targets()) {
    engine::CutoverTargetReport target;
    target.name = t.name();
    target.source_acked_offset = t.source_acked_offset();
    target.managed = t.managed();
    target.promoted = t.promoted();
    target.cluster = t.cluster();
    std::map<int, uint64_t> dbs(t.db_keys().begin(), t.db_keys().end());
    target.db_keys.assign(dbs.begin(), dbs.end());
    target.keys = t.keys();
    report.targets.push_back(std::move(target));
  }
  report.error = proto.error();
  if (proto.has_start_time()) report.started_unix_ms = UnixMillisFromTimestamp(proto.start_time());
  if (proto.has_end_time()) report.finished_unix_ms = UnixMillisFromTimestamp(proto.end_time());
  report.options.max_write_pause = absl::Milliseconds(proto.max_write_pause_ms());
  report.options.promote = proto.promote();
  report.options.leave_source_paused = proto.leave_source_paused();
  report.options.lag_threshold_bytes = proto.lag_threshold_bytes();
  return report;
}

}  // namespace reshard::api
