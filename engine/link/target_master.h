#pragma once

// TargetMaster: reshardd as the master of one target Redis. Owns the target's
// listener, its own replication id and offset space, its backlog, and its
// replica sessions (DownstreamSession, which reports back through
// DownstreamEvents). The job feeds it the filtered snapshot (as an RdbSink,
// framed with an EOF mark) and then the filtered stream. It reports its own
// status (TargetLinkStatus); the job maps that into the job's status.
// Single-threaded: the executor it is given (the job thread).

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
#include "engine/io/endpoint.h"
#include "engine/link/backlog.h"
#include "engine/link/downstream_events.h"
#include "engine/rdb/rdb_sink.h"

namespace reshard::engine {

class DownstreamSession;

// A target master's view of itself, for the job's status.
struct TargetLinkStatus {
  bool attached = false;  // a replica has sent PSYNC to the listener
  uint32_t connected_replicas = 0;
  uint64_t bytes_sent = 0;    // bytes written to the replica (RDB + stream)
  uint64_t offset = 0;        // the target's own replication offset
  uint64_t acked_offset = 0;  // last REPLCONF ACK from the replica
  uint64_t lag_bytes = 0;     // offset - acked_offset while streaming
  double lag_seconds = 0;     // age of the oldest unacknowledged stream byte
};

class TargetMaster : public RdbSink, private DownstreamEvents {
 public:
  enum class Phase {
    kWaiting,    // no replica has asked for a sync yet
    kAttached,   // a replica got +FULLRESYNC and waits for the snapshot
    kSnapshot,   // the snapshot is being sent
    kStreaming,  // the stream is being sent (or kept in the backlog)
  };
  struct Options {
    std::string name;          // the target's name, in errors and replies
    std::string listen_field;  // names the listen address in errors ("targets[1].listen")
    HostPort listen;
    Credentials credentials;  // what the replica must AUTH with (empty password: none)
    uint64_t backlog_bytes = 16 << 20;
    // The producer waits while more than this is waiting for the next socket write.
    uint64_t max_queue_bytes = 4 << 20;
    // Stream bytes held between the end of the snapshot and the replica's
    // first ACK; past this on_fatal is called (the target loads too slowly).
    uint64_t max_held_stream_bytes = 256ull << 20;
  };
  struct Callbacks {
    std::function<void()> on_attach;             // a replica entered kAttached
    std::function<void(absl::Status)> on_fatal;  // the job cannot go on
  };

  TargetMaster(Options options, asio::any_io_executor executor, Callbacks callbacks);
  ~TargetMaster() override;

  // Binds the listener. INVALID_ARGUMENT / UNAVAILABLE naming options.listen_field.
  absl::Status Listen();
  void StartAccepting();
  // Closes the listener and every session. Idempotent.
  void Close();
  // The port the listener is bound to (after Listen; useful with port 0).
  uint16_t bound_port() const;

  // Snapshot framing around the RdbSink writes.
  void BeginSnapshot();
  void EndSnapshot();
  // RdbSink: snapshot bytes.
  void Write(std::string_view bytes) override;
  bool Backlogged() const override;
  asio::awaitable<absl::Status> WaitWritable() override;
  // Stream bytes: counted in the offset, kept in the backlog, sent when a
  // replica is connected and has acknowledged its snapshot.
  void AppendStream(std::string_view bytes);
  // "\n" to a replica waiting for its snapshot (not counted in the offset).
  void SendKeepalive();
  // Named in the error a target gets when it asks for a full resync later
  // (most often because it could not load the snapshot).
  void set_snapshot_rdb_version(int version) { snapshot_rdb_version_ = version; }

  Phase phase() const { return phase_; }
  const std::string& name() const { return options_.name; }
  const std::string& replid() const { return replid_; }
  // What the replica that attached last announced with REPLCONF version
  // (Valkey replicas do); empty when it announced nothing.
  const std::string& replica_version() const { return replica_version_; }
  uint64_t offset() const { return backlog_.end_offset(); }
  uint64_t queued_bytes() const;
  TargetLinkStatus Status() const;

 private:
  // DownstreamEvents.
  PsyncAnswer OnPsync(std::shared_ptr<DownstreamSession> session,
                      const PsyncRequest& request) override;
  void OnAck(uint64_t offset) override;
  void OnWritten(uint64_t bytes) override;
  void OnPendingTaken() override;
  void OnSessionClosed(DownstreamSession* session, const absl::Status& why) override;

  // Makes `session` the one the snapshot and stream go to, closing another.
  void Attach(std::shared_ptr<DownstreamSession> session, std::string_view why_replaced);
  std::string RefusalFor(std::string_view replid, std::string_view offset) const;
  asio::awaitable<void> AcceptLoop();

  const Options options_;
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
  std::string replica_version_;
  uint64_t bytes_sent_ = 0;
  uint64_t acked_offset_ = 0;
  std::deque<std::pair<uint64_t, absl::Time>> offset_times_;  // for lag in seconds
};

}  // namespace reshard::engine
