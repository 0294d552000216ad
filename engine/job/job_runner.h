#pragma once

// JobRunner: the event-loop side of a Job. Everything below the public
// methods runs on the job's own thread; the public methods only post work to
// it or read the published status under a mutex.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "asio/awaitable.hpp"
#include "asio/io_context.hpp"
#include "asio/steady_timer.hpp"
#include "engine/route/command_router.h"
#include "engine/resp/command_table.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"
#include "engine/route/key_filter.h"
#include "engine/link/key_materializer.h"
#include "engine/route/rdb_splitter.h"
#include "engine/rdb/rdb_version.h"
#include "engine/link/target.h"
#include "engine/link/upstream_link.h"

namespace reshard::engine {

class JobRunner {
 public:
  JobRunner(std::string id, const JobSpec& spec);
  ~JobRunner();

  void Start();
  void Cancel();
  absl::Status Pause();
  absl::Status Resume();
  JobStatus Snapshot() const;
  JobStatus WaitForChange(uint64_t seen, absl::Duration timeout) const;

 private:
  // Job thread.
  void ThreadMain();
  asio::awaitable<void> Main();
  asio::awaitable<absl::Status> Run();
  asio::awaitable<absl::Status> ConnectSource();
  asio::awaitable<void> LoadCommandTable();
  asio::awaitable<absl::Status> ConfigureManagedTargets();
  asio::awaitable<absl::Status> WaitForTargets();
  asio::awaitable<absl::Status> SyncSnapshot();
  // FAILED_PRECONDITION naming both sides when a managed target is too old
  // for the source's RDB version.
  absl::Status CheckTargetsCanLoad(int rdb_version) const;
  asio::awaitable<absl::Status> StreamCommands();
  // After the link to the source dropped while streaming: reconnects with
  // backoff and continues the stream at applied_offset_ + 1, within the
  // reconnect window. Errors: the last failure, or FAILED_PRECONDITION when
  // the source can only offer a full resync.
  asio::awaitable<absl::Status> ReconnectSource(absl::Status lost);
  // Copies the requested keys from the source and hands them to the router,
  // which appends the RESTOREs and DELs to `out`.
  asio::awaitable<absl::Status> MaterializeKeys(const std::vector<Materialization>& requests,
                                                std::vector<std::string>* out);
  asio::awaitable<void> TickLoop();
  void Finish(JobState state, absl::Status error);
  void SetState(JobState state, std::string detail);
  void Publish();

  const std::string id_;
  const JobSpec spec_;
  asio::io_context io_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  JobStatus status_ ABSL_GUARDED_BY(mu_);
  bool thread_done_ ABSL_GUARDED_BY(mu_) = false;

  // Job thread only.
  JobState state_ = JobState::kPending;
  std::string detail_;
  bool finished_ = false;
  bool paused_ = false;
  bool reconnecting_ = false;  // no ACKs while a new link does its handshake
  asio::steady_timer wake_;    // cancelled on attach, resume and finish
  std::vector<std::unique_ptr<KeyFilter>> filters_;
  std::vector<std::unique_ptr<Target>> targets_;
  std::unique_ptr<UpstreamLink> upstream_;
  std::unique_ptr<RdbSplitter> splitter_;
  // Key positions: from the source's COMMAND reply when it has one, else the
  // built-in table.
  std::unique_ptr<CommandTable> source_command_table_;
  std::string command_table_note_;  // where the key positions came from
  // Versions from INFO server, when known: the source's, and each managed
  // target's (index-aligned with targets_; nullopt for unmanaged targets).
  std::optional<ServerVersion> source_version_;
  std::vector<std::optional<ServerVersion>> target_versions_;
  const CommandTable* command_table_ = &CommandTable::Builtin();
  std::unique_ptr<CommandRouter> router_;
  // The source connection that copies keys for cross-target writes; opened
  // on first need.
  std::unique_ptr<KeyMaterializer> materializer_;
  uint64_t applied_offset_ = 0;  // source offset of the last command applied
  std::string source_replid_;    // the source's replication id (for PSYNC)
  uint64_t rdb_start_ = 0;       // upstream consumed() when the RDB began
  uint64_t rdb_total_ = 0;
  uint64_t reconnects_ = 0;
  int64_t created_unix_ms_ = 0;
};

}  // namespace reshard::engine
