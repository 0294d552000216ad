#include "server/job_events.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace reshard::server {
namespace {

std::string Name(engine::JobState state) { return std::string(engine::JobStateName(state)); }
std::string Name(engine::TargetState state) { return std::string(engine::TargetStateName(state)); }

LogLevel LevelOf(engine::JobState state) {
  switch (state) {
    case engine::JobState::kFailed:
      return LogLevel::kError;
    case engine::JobState::kDegraded:
      return LogLevel::kWarning;
    default:
      return LogLevel::kInfo;
  }
}

LogLevel LevelOf(engine::TargetState state) {
  switch (state) {
    case engine::TargetState::kCutOff:
      return LogLevel::kError;
    case engine::TargetState::kSpooling:
    case engine::TargetState::kDisconnected:
    case engine::TargetState::kResyncing:
      return LogLevel::kWarning;
    default:
      return LogLevel::kInfo;
  }
}

std::string JobReason(const engine::JobStatus& status) {
  if (!status.error.ok()) {
    return absl::StrCat(absl::StatusCodeToString(status.error.code()), ": ",
                        std::string(status.error.message()));
  }
  return status.detail;
}

// "<what> FROM -> TO: reason" (no ": " without a reason).
std::string ChangeMessage(const std::string& what, const LogEvent& event) {
  std::string text = absl::StrCat(what, " ", event.from, " -> ", event.to);
  if (!event.reason.empty()) absl::StrAppend(&text, ": ", event.reason);
  return text;
}

const engine::TargetStatus* FindTarget(const engine::JobStatus* status, const std::string& name) {
  if (status == nullptr) return nullptr;
  for (const engine::TargetStatus& target : status->targets) {
    if (target.name == name) return &target;
  }
  return nullptr;
}

void AddJobStateEvent(std::string_view job_id, const engine::JobStatus* before,
                      const engine::JobStatus& after, std::vector<LogEvent>* events) {
  const engine::JobState from = before ? before->state : engine::JobState::kPending;
  if (after.state == from) return;
  LogEvent event;
  event.level = LevelOf(after.state);
  event.event = "job_state";
  event.job = std::string(job_id);
  event.from = Name(from);
  event.to = Name(after.state);
  event.reason = JobReason(after);
  event.message = ChangeMessage("job", event);
  events->push_back(std::move(event));
}

void AddTargetEvents(std::string_view job_id, const engine::JobStatus* before,
                     const engine::TargetStatus& after, std::vector<LogEvent>* events) {
  const engine::TargetStatus* old = FindTarget(before, after.name);
  const engine::TargetState from = old ? old->state : engine::TargetState::kWaiting;
  const uint64_t old_resyncs = old ? old->resyncs : 0;
  LogEvent event;
  event.job = std::string(job_id);
  event.target = after.name;
  event.reason = after.state_reason;
  if (after.state != from) {
    event.level = LevelOf(after.state);
    event.event = "target_state";
    event.from = Name(from);
    event.to = Name(after.state);
    if (after.resyncs > old_resyncs) {
      event.reason = absl::StrCat("resync ", after.resyncs,
                                  event.reason.empty() ? "" : absl::StrCat("; ", event.reason));
    }
    event.message = ChangeMessage(absl::StrCat("target ", after.name), event);
    events->push_back(std::move(event));
  } else if (after.resyncs > old_resyncs) {
    event.level = LogLevel::kWarning;
    event.event = "target_resync";
    event.message = absl::StrCat("target ", after.name, " full resync ", after.resyncs,
                                 event.reason.empty() ? "" : absl::StrCat(": ", event.reason));
    events->push_back(std::move(event));
  }
}

void AddUpstreamEvents(std::string_view job_id, const engine::JobStatus& before,
                       const engine::JobStatus& after, std::vector<LogEvent>* events) {
  if (engine::IsTerminal(after.state)) return;  // the link closes with the job
  const bool reconnected = after.upstream_reconnects > before.upstream_reconnects;
  LogEvent event;
  event.job = std::string(job_id);
  event.reason = after.detail;
  if (before.upstream_connected && !after.upstream_connected) {
    event.level = LogLevel::kWarning;
    event.event = "upstream_lost";
    event.message = absl::StrCat("lost the link to the source: ", after.detail);
    events->push_back(std::move(event));
  } else if (after.upstream_connected &&
             (reconnected || (!before.upstream_connected && after.upstream_reconnects > 0))) {
    // Dropped and continued between two statuses: the drop is this event.
    event.level = before.upstream_connected ? LogLevel::kWarning : LogLevel::kInfo;
    event.event = "upstream_reconnected";
    event.message = absl::StrCat("reconnected to the source (", after.upstream_reconnects,
                                 " reconnect attempts so far): ", after.detail);
    events->push_back(std::move(event));
  }
}

// A text up to its first digit: the same advice with other figures (the
// source's write rate moves all the time) is not a new event.
std::string_view Kind(std::string_view text) {
  return text.substr(0, text.find_first_of("0123456789"));
}

// One event per text of the status that changed to something non-empty
// (other than in its figures).
void AddTextEvents(std::string_view job_id, const engine::JobStatus* before,
                   const engine::JobStatus& after, std::vector<LogEvent>* events) {
  static constexpr struct {
    std::string engine::JobStatus::*field;
    const char* event;
    LogLevel level;
    const char* prefix;
  } kTexts[] = {
      {&engine::JobStatus::restore_detail, "job_restart", LogLevel::kInfo, ""},
      {&engine::JobStatus::source_backlog_advice, "source_backlog", LogLevel::kWarning,
       "source backlog: "},
      {&engine::JobStatus::durable_state_error, "durable_state_error", LogLevel::kError,
       "durable state: "},
  };
  for (const auto& text : kTexts) {
    const std::string& now = after.*text.field;
    if (now.empty() || (before != nullptr && Kind(before->*text.field) == Kind(now))) continue;
    LogEvent event;
    event.level = text.level;
    event.event = text.event;
    event.job = std::string(job_id);
    event.reason = now;
    event.message = absl::StrCat(text.prefix, now);
    events->push_back(std::move(event));
  }
}

void AddCutoverEvent(std::string_view job_id, const engine::JobStatus& after,
                     std::vector<LogEvent>* events) {
  const engine::CutoverReport& cutover = *after.cutover;
  LogEvent event;
  event.level = cutover.error.empty() ? LogLevel::kInfo : LogLevel::kError;
  event.event = "cutover_ended";
  event.job = std::string(job_id);
  event.to = std::string(engine::CutoverStateName(cutover.state));
  event.reason = cutover.error.empty()
                     ? absl::StrFormat("write pause %.1f ms, final offset %d",
                                       cutover.write_pause_ms, cutover.final_offset)
                     : cutover.error;
  event.message = absl::StrCat("cutover ", event.to, ": ", event.reason);
  events->push_back(std::move(event));
}

}  // namespace

bool CutoverEnded(const engine::JobStatus* before, const engine::JobStatus& after) {
  if (!after.cutover.has_value() || after.cutover->state == engine::CutoverState::kRunning) {
    return false;
  }
  if (before == nullptr || !before->cutover.has_value()) return true;
  return before->cutover->started_unix_ms != after.cutover->started_unix_ms ||
         before->cutover->state == engine::CutoverState::kRunning;
}

std::vector<LogEvent> JobStatusEvents(std::string_view job_id, const engine::JobStatus* before,
                                      const engine::JobStatus& after) {
  std::vector<LogEvent> events;
  if (before != nullptr) AddUpstreamEvents(job_id, *before, after, &events);
  // Targets first: a job turns DEGRADED because a target stopped streaming.
  for (const engine::TargetStatus& target : after.targets) {
    AddTargetEvents(job_id, before, target, &events);
  }
  AddTextEvents(job_id, before, after, &events);
  if (CutoverEnded(before, after)) AddCutoverEvent(job_id, after, &events);
  AddJobStateEvent(job_id, before, after, &events);
  return events;
}

}  // namespace reshard::server
