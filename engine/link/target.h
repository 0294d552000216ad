#pragma once

// Target: the master side of reshardd for one target Redis. Owns the target's
// listener, its own replication id and offset space, its backlog, and its
// replica session. The job feeds it the filtered snapshot (as an RdbSink,
// framed with an EOF mark) and then the filtered stream. Job thread only,
// except Status(), which the job thread calls to publish.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "asio/any_io_executor.hpp"
#include "asio/ip/tcp.hpp"
#include "asio/steady_timer.hpp"
#include "engine/link/backlog.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"
#include "engine/rdb/rdb_sink.h"

namespace reshard::engine {

class DownstreamSession;

class Target : public RdbSink {
 public:
  enum class Phase {
    kWaiting,    // no replica has asked for a sync yet
    kAttached,   // a replica got +FULLRESYNC and waits for the snapshot
    kSnapshot,   // the snapshot is being sent
    kStreaming,  // the stream is being sent (or kept in the backlog)
  };
  struct Callbacks {
    std::function<void()> on_attach;             // a replica entered kAttached
    std::function<void(absl::Status)> on_fatal;  // the job cannot go on
  };

  Target(size_t index, const TargetSpec& spec, const JobOptions& options,
         asio::any_io_executor executor, Callbacks callbacks);
  ~Target() override;

  // Binds the listener. Errors name "targets[i].listen".
  absl::Status Listen();
  void StartAccepting();
  void Close();

  // Snapshot framing around the RdbSink writes.
  void BeginSnapshot();
  void EndSnapshot();

  // RdbSink: snapshot bytes.
  void Write(std::string_view bytes) override;
  bool Backlogged() const override;
  asio::awaitable<absl::Status> WaitWritable() override;

  // Stream bytes: counted in the offset, kept in the backlog, sent when a
  // replica is connected and has acknowledged its snapshot. Held bytes beyond
  // JobOptions.max_held_stream_bytes fail the job (the target loads too slowly).
  void AppendStream(std::string_view bytes);
  // "\n" to a replica waiting for its snapshot (not counted in the offset).
  void SendKeepalive();

  // Named in the error a target gets when it asks for a full resync later
  // (most often because it could not load the snapshot).
  void set_snapshot_rdb_version(int version) { snapshot_rdb_version_ = version; }

  Phase phase() const { return phase_; }
  const std::string& name() const { return name_; }
  size_t index() const { return index_; }
  uint64_t offset() const { return backlog_.end_offset(); }
  uint64_t queued_bytes() const;
  // Counters the job fills in (keys and commands), and this target's own.
  TargetStatus Status() const;

  // For DownstreamSession.
  const Credentials& credentials() const { return credentials_; }
  std::string OnPsync(std::shared_ptr<DownstreamSession> session, std::string_view replid,
                      std::string_view offset);
  void OnAck(uint64_t offset);
  void OnWritten(uint64_t bytes);
  void OnPendingTaken();
  void OnSessionClosed(DownstreamSession* session, const absl::Status& why);

 private:
  void Attach(std::shared_ptr<DownstreamSession> session);
  asio::awaitable<void> AcceptLoop();

  const size_t index_;
  const std::string name_;
  const std::string listen_;
  const Credentials credentials_;
  const JobOptions options_;
  asio::any_io_executor executor_;
  Callbacks callbacks_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer drained_;  // cancelled when queued bytes drop

  Phase phase_ = Phase::kWaiting;
  std::string replid_;
  std::string eof_mark_;
  Backlog backlog_;
  std::shared_ptr<DownstreamSession> active_;
  std::set<std::shared_ptr<DownstreamSession>> sessions_;
  bool closing_ = false;
  // After an EOF-marked snapshot a replica finds the end mark only at the end
  // of a read, so nothing may follow the mark until the replica has loaded the
  // snapshot and sent its first REPLCONF ACK (as Redis masters do with
  // repl_put_online_on_ack). Stream bytes wait here meanwhile.
  bool waiting_for_first_ack_ = false;
  std::string held_stream_;
  int snapshot_rdb_version_ = 0;

  uint64_t bytes_sent_ = 0;
  uint64_t acked_offset_ = 0;
  std::deque<std::pair<uint64_t, absl::Time>> offset_times_;  // for lag in seconds
};

}  // namespace reshard::engine
