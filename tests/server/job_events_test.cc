// JobStatusEvents: each change between two published statuses is one event,
// with its level and reason; nothing that did not change is logged again.

#include "server/job_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace reshard::server {
namespace {

using engine::JobState;
using engine::JobStatus;
using engine::TargetState;

JobStatus Status(JobState state, std::vector<TargetState> targets) {
  JobStatus status;
  status.state = state;
  for (size_t i = 0; i < targets.size(); ++i) {
    engine::TargetStatus target;
    target.name = std::string(1, static_cast<char>('a' + i));
    target.state = targets[i];
    status.targets.push_back(target);
  }
  return status;
}

std::vector<std::string> Lines(const std::vector<LogEvent>& events) {
  std::vector<std::string> lines;
  for (const LogEvent& event : events) {
    std::string line = std::string(LogLevelName(event.level)) + " " + event.event;
    if (!event.target.empty()) line += " target=" + event.target;
    line += ": " + event.message;
    EXPECT_EQ(event.job, "j");
    lines.push_back(line);
  }
  return lines;
}

TEST(JobEventsTest, FirstStatusLogsTheJobStateButNotWaitingTargets) {
  JobStatus first = Status(JobState::kConnecting, {TargetState::kWaiting, TargetState::kWaiting});
  first.detail = "waiting for target a";
  EXPECT_THAT(Lines(JobStatusEvents("j", nullptr, first)),
              ::testing::ElementsAre("INFO job_state: job PENDING -> CONNECTING: waiting for "
                                     "target a"));
  // The same status again: nothing.
  EXPECT_THAT(JobStatusEvents("j", &first, first), ::testing::IsEmpty());
}

TEST(JobEventsTest, TargetFaultThenDegradedJobThenRecovery) {
  JobStatus streaming =
      Status(JobState::kStreaming, {TargetState::kStreaming, TargetState::kStreaming});
  streaming.upstream_connected = true;
  JobStatus spooling = streaming;
  spooling.state = JobState::kDegraded;
  spooling.detail = "not every target receives its stream: target 'b' SPOOLING: 2 MiB wait";
  spooling.targets[1].state = TargetState::kSpooling;
  spooling.targets[1].state_reason = "2097152 bytes wait for it (0 on disk)";
  EXPECT_THAT(
      Lines(JobStatusEvents("j", &streaming, spooling)),
      ::testing::ElementsAre(
          "WARNING target_state target=b: target b STREAMING -> SPOOLING: 2097152 bytes wait "
          "for it (0 on disk)",
          "WARNING job_state: job STREAMING -> DEGRADED: not every target receives its stream: "
          "target 'b' SPOOLING: 2 MiB wait"));
  // The reason's figures change, the state does not: nothing more.
  JobStatus more = spooling;
  more.targets[1].state_reason = "4194304 bytes wait for it (0 on disk)";
  EXPECT_THAT(JobStatusEvents("j", &spooling, more), ::testing::IsEmpty());

  JobStatus cut = more;
  cut.targets[1].state = TargetState::kCutOff;
  cut.targets[1].state_reason = "its spool passed spool_max_bytes (1073741824)";
  EXPECT_THAT(Lines(JobStatusEvents("j", &more, cut)),
              ::testing::ElementsAre("ERROR target_state target=b: target b SPOOLING -> CUT_OFF: "
                                     "its spool passed spool_max_bytes (1073741824)"));

  JobStatus resyncing = cut;
  resyncing.targets[1].state = TargetState::kResyncing;
  resyncing.targets[1].state_reason = "its replica asked for a full sync";
  resyncing.targets[1].resyncs = 1;
  EXPECT_THAT(Lines(JobStatusEvents("j", &cut, resyncing)),
              ::testing::ElementsAre("WARNING target_state target=b: target b CUT_OFF -> "
                                     "RESYNCING: resync 1; its replica asked for a full sync"));

  JobStatus back = streaming;
  back.targets[1].resyncs = 1;
  EXPECT_THAT(Lines(JobStatusEvents("j", &resyncing, back)),
              ::testing::ElementsAre("INFO target_state target=b: target b RESYNCING -> STREAMING",
                                     "INFO job_state: job DEGRADED -> STREAMING"));
}

TEST(JobEventsTest, ResyncWithoutAStateChangeIsItsOwnEvent) {
  JobStatus before = Status(JobState::kDegraded, {TargetState::kSnapshot});
  JobStatus after = before;
  after.targets[0].resyncs = 2;
  EXPECT_THAT(Lines(JobStatusEvents("j", &before, after)),
              ::testing::ElementsAre("WARNING target_resync target=a: target a full resync 2"));
}

TEST(JobEventsTest, SourceLinkLostAndContinued) {
  JobStatus up = Status(JobState::kStreaming, {TargetState::kStreaming});
  up.upstream_connected = true;
  JobStatus down = up;
  down.upstream_connected = false;
  down.upstream_reconnects = 1;
  down.detail = "source link lost (connection reset); reconnecting, attempt 1";
  EXPECT_THAT(Lines(JobStatusEvents("j", &up, down)),
              ::testing::ElementsAre("WARNING upstream_lost: lost the link to the source: source "
                                     "link lost (connection reset); reconnecting, attempt 1"));
  JobStatus trying = down;
  trying.upstream_reconnects = 2;
  EXPECT_THAT(JobStatusEvents("j", &down, trying), ::testing::IsEmpty());
  JobStatus again = trying;
  again.upstream_connected = true;
  again.detail = "streaming; reconnected to the source at offset 1234";
  EXPECT_THAT(Lines(JobStatusEvents("j", &trying, again)),
              ::testing::ElementsAre("INFO upstream_reconnected: reconnected to the source (2 "
                                     "reconnect attempts so far): streaming; reconnected to the "
                                     "source at offset 1234"));
  // Dropped and continued between two statuses: still one event, a WARNING.
  JobStatus quick = again;
  quick.upstream_reconnects = 3;
  EXPECT_THAT(Lines(JobStatusEvents("j", &again, quick)),
              ::testing::ElementsAre(::testing::StartsWith("WARNING upstream_reconnected: ")));
}

TEST(JobEventsTest, FailureIsAnErrorWithItsStatusAndTheLinkClosingIsNotAFault) {
  JobStatus up = Status(JobState::kSyncing, {TargetState::kSnapshot});
  up.upstream_connected = true;
  JobStatus failed = up;
  failed.state = JobState::kFailed;
  failed.upstream_connected = false;
  failed.error = absl::DataLossError("rdb offset 18234: bad CRC64");
  EXPECT_THAT(
      Lines(JobStatusEvents("j", &up, failed)),
      ::testing::ElementsAre(
          "ERROR job_state: job SYNCING -> FAILED: DATA_LOSS: rdb offset 18234: bad CRC64"));
}

TEST(JobEventsTest, ACutoverEndIsLoggedOnceEvenIfItPassedBetweenTwoStatuses) {
  JobStatus streaming = Status(JobState::kStreaming, {TargetState::kStreaming});
  JobStatus running = streaming;
  running.state = JobState::kCutover;
  running.cutover.emplace();
  running.cutover->started_unix_ms = 1000;
  EXPECT_FALSE(CutoverEnded(&streaming, running));
  // Rolled back between two looks: the job is STREAMING again, as before.
  JobStatus rolled_back = streaming;
  rolled_back.cutover = running.cutover;
  rolled_back.cutover->state = engine::CutoverState::kRolledBack;
  rolled_back.cutover->error = "cutover step 3 (drain): not within 100 ms; source unpaused";
  EXPECT_TRUE(CutoverEnded(&streaming, rolled_back));
  EXPECT_THAT(Lines(JobStatusEvents("j", &streaming, rolled_back)),
              ::testing::ElementsAre("ERROR cutover_ended: cutover ROLLED_BACK: cutover step 3 "
                                     "(drain): not within 100 ms; source unpaused"));
  EXPECT_THAT(JobStatusEvents("j", &rolled_back, rolled_back), ::testing::IsEmpty());
  // The next one is done.
  JobStatus done = rolled_back;
  done.state = JobState::kDone;
  done.cutover->started_unix_ms = 2000;
  done.cutover->state = engine::CutoverState::kDone;
  done.cutover->error.clear();
  done.cutover->write_pause_ms = 2.25;
  done.cutover->final_offset = 1234;
  EXPECT_THAT(Lines(JobStatusEvents("j", &rolled_back, done)),
              ::testing::ElementsAre(
                  "INFO cutover_ended: cutover DONE: write pause 2.2 ms, final offset 1234",
                  "INFO job_state: job STREAMING -> DONE"));
}

TEST(JobEventsTest, RestartTextsAreLoggedWhenTheyChangeNotWhenTheirFiguresDo) {
  JobStatus quiet = Status(JobState::kStreaming, {TargetState::kStreaming});
  JobStatus advised = quiet;
  advised.source_backlog_advice = "the source's repl-backlog-size (16384 bytes) holds 0.5 s";
  EXPECT_THAT(Lines(JobStatusEvents("j", &quiet, advised)),
              ::testing::ElementsAre("WARNING source_backlog: source backlog: the source's "
                                     "repl-backlog-size (16384 bytes) holds 0.5 s"));
  JobStatus moved = advised;
  moved.source_backlog_advice = "the source's repl-backlog-size (16384 bytes) holds 0.4 s";
  EXPECT_THAT(JobStatusEvents("j", &advised, moved), ::testing::IsEmpty());
  JobStatus set = moved;
  set.source_backlog_advice = "reshardd set the source's repl-backlog-size from 16384 to 1048576";
  set.durable_state_error = "cannot write the journal: No space left on device";
  EXPECT_THAT(Lines(JobStatusEvents("j", &moved, set)),
              ::testing::ElementsAre("WARNING source_backlog: source backlog: reshardd set the "
                                     "source's repl-backlog-size from 16384 to 1048576",
                                     "ERROR durable_state_error: durable state: cannot write the "
                                     "journal: No space left on device"));
}

}  // namespace
}  // namespace reshard::server
