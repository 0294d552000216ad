#include "engine/job/job_context.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"

namespace reshard::engine {

JobContext::JobContext(std::string id, const JobSpec& spec, JobAddresses addresses, Hooks hooks)
    : id(std::move(id)),
      spec(spec),
      addresses(std::move(addresses)),
      wake(io, asio::steady_timer::time_point::max()),
      resync_wake(io, asio::steady_timer::time_point::max()),
      hooks_(std::move(hooks)) {}

Spool::Options JobContext::SpoolOptions(size_t i, std::string_view what) const {
  return Spool::Options{.dir = spec.options.spool_dir.empty()
                                   ? std::filesystem::temp_directory_path().string()
                                   : spec.options.spool_dir,
                        .name = absl::StrCat("reshard-", id, "-", i, "-", AsAbsl(what)),
                        .memory_bytes = spec.options.max_target_queue_bytes};
}

void JobContext::SetState(JobState new_state, std::string new_detail) {
  if (finished) return;
  state = new_state;
  detail = std::move(new_detail);
  hooks_.publish();
}

asio::awaitable<bool> JobContext::Sleep(absl::Duration duration) {
  asio::steady_timer timer(io);
  timer.expires_after(absl::ToChronoNanoseconds(duration));
  asio::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return !finished;
}

}  // namespace reshard::engine
