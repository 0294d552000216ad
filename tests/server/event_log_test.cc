// EventLog: the exact text and JSON lines, one per event, with time, level,
// job and target; JSON strings escaped, text kept to one line.

#include "server/event_log.h"

#include <gtest/gtest.h>

#include <sstream>

namespace reshard::server {
namespace {

const absl::Time kTime = absl::FromUnixMillis(1748779200123);  // 2025-06-01T12:00:00.123Z

LogEvent TargetEvent() {
  LogEvent event;
  event.level = LogLevel::kWarning;
  event.event = "target_state";
  event.job = "job-1";
  event.target = "b";
  event.from = "STREAMING";
  event.to = "SPOOLING";
  event.reason = "2097152 bytes wait for it (1048576 on disk)";
  event.message = "target b STREAMING -> SPOOLING: 2097152 bytes wait for it (1048576 on disk)";
  return event;
}

TEST(EventLogTest, TextLineHasTimeLevelJobTargetAndMessage) {
  EXPECT_EQ(FormatLogLine(TargetEvent(), kTime, LogFormat::kText),
            "2025-06-01T12:00:00.123Z WARNING job=job-1 target=b target b STREAMING -> "
            "SPOOLING: 2097152 bytes wait for it (1048576 on disk)\n");
  LogEvent daemon;
  daemon.event = "daemon";
  daemon.message = "stopped";
  EXPECT_EQ(FormatLogLine(daemon, kTime, LogFormat::kText),
            "2025-06-01T12:00:00.123Z INFO stopped\n");
}

TEST(EventLogTest, JsonLineHasEveryField) {
  EXPECT_EQ(FormatLogLine(TargetEvent(), kTime, LogFormat::kJson),
            R"j({"time":"2025-06-01T12:00:00.123Z","level":"WARNING","job":"job-1","target":"b",)j"
            R"j("event":"target_state","from":"STREAMING","to":"SPOOLING",)j"
            R"j("reason":"2097152 bytes wait for it (1048576 on disk)",)j"
            R"j("message":"target b STREAMING -> SPOOLING: 2097152 bytes wait for it )j"
            R"j((1048576 on disk)"})j"
            "\n");
}

TEST(EventLogTest, JsonEscapesAndTextStaysOneLine) {
  LogEvent event;
  event.level = LogLevel::kError;
  event.event = "job_state";
  event.job = "j";
  event.message = "bad \"key\"\\\n\ttab\x01";
  EXPECT_EQ(FormatLogLine(event, kTime, LogFormat::kJson),
            R"({"time":"2025-06-01T12:00:00.123Z","level":"ERROR","job":"j","event":"job_state",)"
            R"("message":"bad \"key\"\\\n\ttab\u0001"})"
            "\n");
  EXPECT_EQ(FormatLogLine(event, kTime, LogFormat::kText),
            "2025-06-01T12:00:00.123Z ERROR job=j bad \"key\"\\ \ttab\x01\n");
}

TEST(EventLogTest, WritesToItsSinkInItsFormat) {
  EventLog log;
  std::ostringstream sink;
  log.SetSink(&sink);
  log.SetFormat(LogFormat::kJson);
  log.Write(TargetEvent());
  log.SetFormat(LogFormat::kText);
  log.Write(TargetEvent());
  const std::string text = sink.str();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_EQ(text.front(), '{');
  EXPECT_NE(text.find("\n20"), std::string::npos) << text;
}

TEST(EventLogTest, FormatNames) {
  EXPECT_EQ(LogFormatNamed("text"), LogFormat::kText);
  EXPECT_EQ(LogFormatNamed("json"), LogFormat::kJson);
  EXPECT_EQ(LogFormatNamed("yaml"), std::nullopt);
}

}  // namespace
}  // namespace reshard::server
