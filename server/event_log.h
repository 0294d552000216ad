#pragma once

// EventLog: reshardd's log, one line per event on stderr (the journal, under
// systemd), for people to grep and for log shippers to parse.
//
//   text: 2025-06-01T12:00:00.123Z WARNING job=job-1 target=b target b: STREAMING ->
//         SPOOLING: 2097152 bytes wait for it (1048576 on disk)
//   json: {"time":"2025-06-01T12:00:00.123Z","level":"WARNING","job":"job-1","target":"b",
//          "event":"target_state","from":"STREAMING","to":"SPOOLING","reason":"...",
//          "message":"..."}
//
// `job` and `target` appear when the event is about one; the JSON form has
// every field of the event, the text form its message. Thread-safe: each line
// is one write, so lines of concurrent events never interleave.

#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace reshard::server {

enum class LogLevel { kInfo, kWarning, kError };
std::string_view LogLevelName(LogLevel level);  // "INFO", "WARNING", "ERROR"

enum class LogFormat { kText, kJson };
// "text" or "json"; nullopt for anything else.
std::optional<LogFormat> LogFormatNamed(std::string_view name);

struct LogEvent {
  LogLevel level = LogLevel::kInfo;
  std::string event;  // its kind, snake_case: "job_state", "target_state", "daemon", ...
  std::string job;    // empty: not about one job
  std::string target;
  std::string from;     // a state change: the old state ...
  std::string to;       // ... and the new one
  std::string reason;   // why (an error, a target's state_reason, the job's detail)
  std::string message;  // the whole event in words, reason included
};

// One line (with its '\n') for `event` at `time`.
std::string FormatLogLine(const LogEvent& event, absl::Time time, LogFormat format);

class EventLog {
 public:
  // The process's log: text on std::cerr until configured otherwise.
  static EventLog& Default();

  void SetFormat(LogFormat format);
  // Where lines go (must outlive the log, or be replaced first); tests point
  // it at a stream of their own.
  void SetSink(std::ostream* sink);

  void Write(const LogEvent& event);

 private:
  std::mutex mu_;
  LogFormat format_ = LogFormat::kText;
  std::ostream* sink_ = nullptr;  // null: std::cerr
};

// EventLog::Default().Write with the fields most events need.
void LogEventLine(LogLevel level, std::string event, std::string job, std::string message);

}  // namespace reshard::server
