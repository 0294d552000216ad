#pragma once

// TargetMaster: reshardd as the master of one target Redis. Owns the target's
// listener, its own replication id and offset space, its backlog, its outbox
// (a Spool: what waits to be written to the replica, in memory then on disk)
// and its replica sessions (DownstreamSession, which reports back through
// DownstreamEvents). The job feeds it a filtered snapshot (as an RdbSink,
// framed with an EOF mark) and then the filtered stream; neither ever waits
// for the replica during the stream: a slow, stopped, paused or disconnected
// target's bytes wait in its outbox, bounded by Options::spool_max_bytes.
//
// Like a Redis master, it gives a replica that cannot continue (PSYNC ? -1,
// an unknown replication id, an offset no longer held) a full resync: the
// target enters kResyncing and on_resync_needed asks the job for a snapshot
// of its own (BeginSnapshot ... EndSnapshot, then the stream it held for it).
// A target that loses its replica during a snapshot, or whose outbox passes
// its bound (cut off), enters kNeedsResync and takes a new replication id, so
// no replica can continue a stream with a gap in it.
// With options.log, the stream is also kept on disk (DurableStream): a
// replica behind the backlog continues from the log, a restarted reshardd
// continues the stream from it (RestoreStream), and no stream byte past what
// the job recorded (SetRecordedOffset) is sent.
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
#include "engine/link/durable_stream.h"
#include "engine/link/replica_listener.h"
#include "engine/link/spool.h"
#include "engine/link/target_link_status.h"
#include "engine/rdb/rdb_sink.h"

namespace reshard::engine {

class DownstreamSession;

class TargetMaster : public RdbSink, private DownstreamEvents {
 public:
  enum class Phase {
    kWaiting,      // no replica has asked for a sync yet
    kAttached,     // a replica got +FULLRESYNC and waits for the job's snapshot
    kSnapshot,     // a snapshot is being sent
    kStreaming,    // the stream is being sent (or kept in backlog and outbox)
    kResyncing,    // a replica got +FULLRESYNC while the job streams
    kNeedsResync,  // lost its stream (see above); its share is dropped
  };
  struct Options {
    std::string name;          // the target's name, in errors and replies
    std::string listen_field;  // names the listen address in errors ("targets[1].listen")
    HostPort listen;
    Credentials credentials;       // what the replica must AUTH with (empty password: none)
    TlsServerOptions listen_tls;   // TLS on the listener (listen_tls.enabled)
    std::string listen_tls_field;  // names it in errors ("targets[1].listen_tls")
    uint64_t backlog_bytes = 16 << 20;
    uint64_t max_queue_bytes = 4 << 20;     // outbox bytes kept in memory
    uint64_t spool_max_bytes = 1ull << 30;  // outbox bound (memory + disk)
    std::string spool_dir;                  // empty: the system's temp dir
    std::string spool_name;                 // file name prefix (unique per job and target)
    absl::Duration handshake_timeout = absl::Seconds(10);
    int max_connections = 16;
    StreamLog::Options log;  // empty dir: the stream is not kept on disk
  };
  struct Callbacks {
    std::function<void()> on_attach;             // a replica entered kAttached
    std::function<void()> on_resync_needed;      // entered kResyncing
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

  // Snapshot framing around the RdbSink writes: from kAttached (the job's
  // snapshot) or kResyncing (the target's own); from kWaiting (its replica
  // went away) too. A target without a replica
  // enters kNeedsResync instead. Writes and EndSnapshot are ignored unless
  // the phase is kSnapshot (the replica may go away meanwhile).
  void BeginSnapshot();
  void EndSnapshot();
  // RdbSink: snapshot bytes. Backlogged while half the outbox bound waits.
  void Write(std::string_view bytes) override;
  bool Backlogged() const override;
  asio::awaitable<absl::Status> WaitWritable() override;
  // Ends a WaitWritable at once, and any until the next snapshot begins:
  // the job abandons the snapshot (its source moves). The wait returns
  // kAborted.
  void InterruptWait();
  // Stream bytes, in kStreaming only (dropped otherwise: a target that is
  // resyncing gets its share from the job): counted in the offset, kept in
  // the backlog and the outbox, written as the replica takes them.
  void AppendStream(std::string_view bytes);
  // "\n" to a replica waiting for its snapshot (not counted in the offset).
  void SendKeepalive();
  // Gives up the target's stream (e.g. the stream held for it cannot be
  // read): closes its replica, which must then resync.
  void Abandon(std::string reason);
  // The job could not get a resync snapshot: a target that got part of one
  // is abandoned; one still waiting for it shows `reason`.
  void ResyncFailed(std::string reason);
  // Stops or restarts writing to the replica (a paused job).
  void SetDeliveryPaused(bool paused);
  // The stream on disk (target_master_restore.cc; no-ops without options.log):
  // StartLog before the job's snapshot; after a restart RestoreStream
  // continues stream `replid` at `offset` from the log (kStreaming, no
  // replica yet; on an error as RestoreNeedingResync: kNeedsResync, new log).
  absl::Status StartLog() { return durable_.Start(backlog_.end_offset()); }
  absl::Status RestoreStream(std::string replid, uint64_t offset);
  void RestoreNeedingResync(uint64_t offset, std::string reason);
  void SetRecordedOffset(uint64_t offset);  // bytes past it wait for the job's record
  bool continuable() const;                 // a replica could continue the stream after a restart
  DurableStream& durable() { return durable_; }
  // Named in the error a target gets when it asks for a full resync later
  // (most often because it could not load the snapshot).
  void set_snapshot_rdb_version(int version) { snapshot_rdb_version_ = version; }

  Phase phase() const { return phase_; }
  // In kStreaming with the snapshot loaded: its acked offset is meaningful.
  bool loaded() const { return phase_ == Phase::kStreaming && !waiting_for_first_ack_; }
  const std::string& name() const { return options_.name; }
  const std::string& replid() const { return replid_; }
  // What the replica that attached last announced with REPLCONF version
  // (Valkey replicas do); empty when it announced nothing.
  const std::string& replica_version() const { return replica_version_; }
  uint64_t offset() const { return backlog_.end_offset(); }
  uint64_t acked_offset() const { return acked_offset_; }
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

  // +FULLRESYNC for `session`; the phase it leads to is the caller's.
  PsyncAnswer FullResync(std::shared_ptr<DownstreamSession> session, const PsyncRequest& request);
  // +CONTINUE from `offset` when the backlog and outbox hold it.
  bool TryContinue(std::shared_ptr<DownstreamSession>& session, const PsyncRequest& request,
                   uint64_t offset, PsyncAnswer* answer);
  // Drops the stream: new replication id, empty backlog and outbox.
  void EnterNeedsResync(std::string reason, bool cut_off);
  void CutOff(std::string reason);
  // Enters kNeedsResync and closes the replica.
  void DropStream(std::string reason, bool cut_off);
  // Makes `session` the one the snapshot and stream go to, closing another.
  void Attach(std::shared_ptr<DownstreamSession> session, const PsyncRequest& request,
              std::string_view why_replaced);
  // Moves replayed log bytes, then outbox bytes up to SendLimit(), to the
  // replica's socket queue while it has room.
  void Pump();
  uint64_t SendLimit() const;
  void PumpLater();
  // Bytes of the outbox that belong to the stream (after the snapshot's end).
  uint64_t StreamBytesInOutbox() const;
  std::string RefusalFor(std::string_view replid, std::string_view offset) const;
  // Why `session`'s PSYNC may not replace the attached replica; empty when
  // it may (none attached, the same host and listening-port, or silent).
  std::string ReplacementRefusal(const DownstreamSession& session,
                                 const PsyncRequest& request) const;

  static constexpr absl::Duration kSilentReplica = absl::Seconds(5);

  const Options options_;
  asio::any_io_executor executor_;
  Callbacks callbacks_;
  ReplicaListener listener_;
  asio::steady_timer drained_;  // cancelled when the outbox drains
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  Phase phase_ = Phase::kWaiting;
  std::string replid_;
  std::string eof_mark_;
  Backlog backlog_;
  DurableStream durable_;
  Spool outbox_;
  // Outbox positions (Spool::popped() terms): where the current snapshot
  // ends, and how far the replica may be given bytes (the stream after an
  // EOF-marked snapshot waits for the replica's first ACK, as Redis masters
  // do with repl_put_online_on_ack).
  uint64_t snapshot_end_ = 0;
  uint64_t gate_ = UINT64_MAX;
  bool waiting_for_first_ack_ = false;
  bool delivery_paused_ = false;
  bool cut_off_ = false;
  std::string reason_;  // why the phase is what it is (kNeedsResync, kResyncing)
  std::shared_ptr<DownstreamSession> active_;
  std::string active_host_;            // where the attached replica connects from
  std::string active_listening_port_;  // and the port it announced
  std::set<std::shared_ptr<DownstreamSession>> sessions_;
  bool closing_ = false;
  bool wait_interrupted_ = false;  // InterruptWait, until BeginSnapshot
  int snapshot_rdb_version_ = 0;
  std::string replica_version_;
  uint64_t bytes_sent_ = 0;
  uint64_t acked_offset_ = 0;
  uint64_t resyncs_ = 0;
  std::deque<std::pair<uint64_t, absl::Time>> offset_times_;  // for lag in seconds
};

}  // namespace reshard::engine
