#include "engine/job/backlog_advisor.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/job/job_context.h"
#include "engine/link/redis_connection.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kPeriod = absl::Seconds(2);
constexpr absl::Duration kRateWindow = absl::Minutes(1);
constexpr uint64_t kMiB = 1 << 20;

// CONFIG SET repl-backlog-size on a side connection. The error names what
// refused it.
asio::awaitable<absl::Status> SetSourceBacklog(JobContext& job, uint64_t bytes) {
  absl::StatusOr<std::unique_ptr<RedisConnection>> connection = co_await RedisConnection::Connect(
      job.io.get_executor(), job.addresses.source, "source", kConnectTimeout);
  if (!connection.ok()) co_return connection.status();
  absl::Status auth = co_await (*connection)->Authenticate(job.addresses.source.credentials);
  if (!auth.ok()) co_return auth;
  std::vector<std::string> command = {"CONFIG", "SET", "repl-backlog-size", std::to_string(bytes)};
  absl::StatusOr<RespValue> reply = co_await (*connection)->Command(std::move(command));
  (*connection)->Close();
  if (!reply.ok()) co_return reply.status();
  if (reply->IsError()) co_return absl::PermissionDeniedError(reply->str);
  co_return absl::OkStatus();
}

}  // namespace

BacklogAdvice AdviseSourceBacklog(uint64_t backlog_bytes, double bytes_per_second,
                                  absl::Duration down_time) {
  BacklogAdvice advice;
  advice.backlog_bytes = backlog_bytes;
  if (bytes_per_second <= 0) return advice;
  advice.covers_seconds = static_cast<double>(backlog_bytes) / bytes_per_second;
  const double down_seconds = absl::ToDoubleSeconds(down_time);
  if (advice.covers_seconds >= down_seconds) return advice;
  double wanted = bytes_per_second * down_seconds * 1.5;
  advice.recommended_bytes = static_cast<uint64_t>(std::ceil(wanted / kMiB)) * kMiB;
  advice.text = absl::StrFormat(
      "the source's repl-backlog-size (%d bytes) holds %.1f s of its writes (%.0f bytes/s): a "
      "restart of reshardd longer than that costs a fork on the source and a full sync of every "
      "target; set repl-backlog-size to at least %d (options.restart_down_time_ms = %d ms of "
      "writes, plus half), or let reshardd set it (options.set_source_backlog)",
      backlog_bytes, advice.covers_seconds, bytes_per_second, advice.recommended_bytes,
      absl::ToInt64Milliseconds(down_time));
  return advice;
}

asio::awaitable<void> RunBacklogAdvisor(JobContext& job) {
  const absl::Duration down_time = absl::Milliseconds(job.spec.options.restart_down_time_ms);
  uint64_t set_to = 0;  // the largest size reshardd set
  std::string set_note;
  while (co_await job.Sleep(kPeriod)) {
    if (job.monitor == nullptr) continue;
    std::optional<uint64_t> size = job.monitor->backlog_size();
    std::optional<double> rate = job.monitor->WriteRate(kRateWindow);
    if (!size.has_value() || !rate.has_value()) continue;
    BacklogAdvice advice = AdviseSourceBacklog(*size, *rate, down_time);
    if (advice.recommended_bytes > set_to && job.spec.options.set_source_backlog) {
      absl::Status set = co_await SetSourceBacklog(job, advice.recommended_bytes);
      if (job.finished) co_return;
      if (set.ok()) {
        set_to = advice.recommended_bytes;
        set_note = absl::StrCat("reshardd set the source's repl-backlog-size from ", *size, " to ",
                                set_to, " (options.set_source_backlog)");
        advice.text.clear();  // done: what it did says the rest
      } else {
        set_note = absl::StrCat("CONFIG SET repl-backlog-size ", advice.recommended_bytes,
                                " failed: ", set.message());
      }
    }
    // What reshardd did stays in the status (it changed the source's config).
    if (!set_note.empty()) {
      advice.text = advice.text.empty() ? set_note : absl::StrCat(advice.text, "; ", set_note);
    }
    job.backlog_advice = std::move(advice);
  }
}

}  // namespace reshard::engine
