#include "server/event_log.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace reshard::server {
namespace {

// `text` as a JSON string literal. Bytes >= 0x80 pass through: messages are
// UTF-8, or carry a key's bytes that a shipper shows as they are.
std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// A text line stays one line whatever the message holds.
std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

std::optional<LogFormat> LogFormatNamed(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

std::string FormatLogLine(const LogEvent& event, absl::Time time, LogFormat format) {
  const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  const std::string level(LogLevelName(event.level));
  if (format == LogFormat::kText) {
    std::string line = absl::StrCat(when, " ", level);
    if (!event.job.empty()) absl::StrAppend(&line, " job=", event.job);
    if (!event.target.empty()) absl::StrAppend(&line, " target=", event.target);
    absl::StrAppend(&line, " ", OneLine(event.message), "\n");
    return line;
  }
  std::string line = absl::StrCat("{\"time\":", JsonString(when), ",\"level\":", JsonString(level));
  auto field = [&](const char* name, const std::string& value) {
    if (!value.empty()) absl::StrAppend(&line, ",\"", name, "\":", JsonString(value));
  };
  field("job", event.job);
  field("target", event.target);
  field("event", event.event);
  field("from", event.from);
  field("to", event.to);
  field("reason", event.reason);
  field("message", event.message);
  line += "}\n";
  return line;
}

EventLog& EventLog::Default() {
  static EventLog* log = new EventLog();  // never destroyed: threads may log at exit
  return *log;
}

void EventLog::SetFormat(LogFormat format) {
  std::lock_guard<std::mutex> lock(mu_);
  format_ = format;
}

void EventLog::SetSink(std::ostream* sink) {
  std::lock_guard<std::mutex> lock(mu_);
  sink_ = sink;
}

void EventLog::Write(const LogEvent& event) {
  const absl::Time now = absl::Now();
  std::lock_guard<std::mutex> lock(mu_);
  std::ostream& out = sink_ != nullptr ? *sink_ : std::cerr;
  out << FormatLogLine(event, now, format_) << std::flush;
}

void LogEventLine(LogLevel level, std::string event, std::string job, std::string message) {
  LogEvent line;
  line.level = level;
  line.event = std::move(event);
  line.job = std::move(job);
  line.message = std::move(message);
  EventLog::Default().Write(line);
}

}  // namespace reshard::server
