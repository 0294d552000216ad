#include "engine/link/target_master.h"

#include <algorithm>
#include <filesystem>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/post.hpp"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"
#include "engine/link/downstream_session.h"
#include "engine/link/replica_listener.h"

namespace reshard::engine {
namespace {

std::string RandomHex(size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  absl::BitGen gen;
  std::string out(n, '0');
  for (char& c : out) c = kHex[absl::Uniform(gen, 0, 16)];
  return out;
}

}  // namespace

TargetMaster::TargetMaster(Options options, asio::any_io_executor executor, Callbacks callbacks)
    : options_(std::move(options)),
      executor_(executor),
      callbacks_(std::move(callbacks)),
      listener_(executor,
                ReplicaListener::Options{.name = options_.name,
                                         .listen_field = options_.listen_field,
                                         .listen = options_.listen,
                                         .max_connections = options_.max_connections,
                                         .tls = options_.listen_tls,
                                         .tls_field = options_.listen_tls_field,
                                         .handshake_timeout = options_.handshake_timeout}),
      drained_(executor, asio::steady_timer::time_point::max()),
      replid_(RandomHex(40)),
      eof_mark_(RandomHex(40)),
      backlog_(options_.backlog_bytes),
      durable_(options_.log),
      outbox_(Spool::Options{
          .dir = options_.spool_dir.empty() ? std::filesystem::temp_directory_path().string()
                                            : options_.spool_dir,
          .name = options_.spool_name.empty() ? absl::StrCat("reshard-", replid_.substr(0, 8))
                                              : options_.spool_name,
          .memory_bytes = options_.max_queue_bytes}) {
  backlog_.Reset(0);
}

TargetMaster::~TargetMaster() {
  *alive_ = false;
  Close();
}

absl::Status TargetMaster::Listen() { return listener_.Listen(); }

uint16_t TargetMaster::bound_port() const { return listener_.bound_port(); }

void TargetMaster::StartAccepting() {
  listener_.StartAccepting(
      [this](NetStream stream) {
        auto session = std::make_shared<DownstreamSession>(
            std::move(stream),
            DownstreamSession::Options{options_.credentials, options_.handshake_timeout},
            static_cast<DownstreamEvents*>(this));
        sessions_.insert(session);
        session->Start();
      },
      [this] { return sessions_.size(); });
}

void TargetMaster::Close() {
  if (closing_) return;
  closing_ = true;
  listener_.Close();
  // Closing calls back OnSessionClosed, which edits sessions_.
  auto sessions = sessions_;
  for (const auto& session : sessions) session->Close(absl::CancelledError("job stopped"));
  sessions_.clear();
  active_.reset();
  outbox_.Clear();
  drained_.cancel();
}

std::string TargetMaster::ReplacementRefusal(const DownstreamSession& session,
                                             const PsyncRequest& request) const {
  if (active_ == nullptr || active_.get() == &session) return "";
  absl::Duration silent = absl::Now() - active_->last_ack_time();
  if (silent >= kSilentReplica) return "";
  if (request.peer_host == active_host_ && request.listening_port == active_listening_port_) {
    return "";  // the same replica, reconnecting (restarted, or a link it gave up on)
  }
  return absl::StrCat("ERR reshard: target '", options_.name, "' already has a live replica (",
                      active_host_, ", listening-port ",
                      active_listening_port_.empty() ? "?" : active_listening_port_,
                      "); another replaces it only from the same host and listening-port, or "
                      "once it has been silent for ",
                      absl::FormatDuration(kSilentReplica));
}

PsyncAnswer TargetMaster::OnPsync(std::shared_ptr<DownstreamSession> session,
                                  const PsyncRequest& request) {
  PsyncAnswer answer;
  if (std::string refusal = ReplacementRefusal(*session, request); !refusal.empty()) {
    answer.error = std::move(refusal);
    return answer;
  }
  switch (phase_) {
    case Phase::kWaiting:
    case Phase::kAttached:
      // A replica that reconnects before the job's snapshot just starts over.
      answer = FullResync(std::move(session), request);
      phase_ = Phase::kAttached;
      if (callbacks_.on_attach) callbacks_.on_attach();
      return answer;
    case Phase::kSnapshot:
      answer.error = absl::StrCat("ERR reshard: target '", options_.name,
                                  "' is receiving its snapshot on another connection");
      return answer;
    case Phase::kStreaming: {
      uint64_t offset = 0;
      if (request.replid == replid_ && absl::SimpleAtoi(AsAbsl(request.offset), &offset) &&
          TryContinue(session, request, offset, &answer)) {
        return answer;
      }
      // As a Redis master: a replica that cannot continue gets a full resync.
      reason_ = absl::StrCat("asked for a full sync: ",
                             RefusalFor(request.replid, request.offset).substr(13));
      EnterNeedsResync(reason_, /*cut_off=*/false);
      [[fallthrough]];
    }
    case Phase::kNeedsResync:
    case Phase::kResyncing: {
      bool was_resyncing = phase_ == Phase::kResyncing;
      if (phase_ == Phase::kNeedsResync && reason_.empty()) reason_ = "asked for a full sync";
      answer = FullResync(std::move(session), request);
      phase_ = Phase::kResyncing;
      if (!was_resyncing) {
        ++resyncs_;
        if (callbacks_.on_resync_needed) callbacks_.on_resync_needed();
      }
      return answer;
    }
  }
  answer.error = "ERR reshard: internal error";
  return answer;
}

PsyncAnswer TargetMaster::FullResync(std::shared_ptr<DownstreamSession> session,
                                     const PsyncRequest& request) {
  Attach(std::move(session), request, "replaced by a new connection");
  replica_version_ = std::string(request.announced_version);
  durable_.StopReplay();
  outbox_.Clear();
  gate_ = UINT64_MAX;
  waiting_for_first_ack_ = false;
  acked_offset_ = backlog_.end_offset();
  offset_times_.clear();
  PsyncAnswer answer;
  answer.kind = PsyncAnswer::Kind::kFullResync;
  answer.replid = replid_;
  answer.offset = backlog_.end_offset();
  return answer;
}

bool TargetMaster::TryContinue(std::shared_ptr<DownstreamSession>& session,
                               const PsyncRequest& request, uint64_t offset, PsyncAnswer* answer) {
  // What the replica lacks: [offset, end]. The outbox holds the unsent tail
  // [outbox_start, end]; the backlog the most recent bytes before it.
  uint64_t end = backlog_.end_offset();
  if (offset > end + 1 || outbox_.popped() < snapshot_end_) return false;
  uint64_t outbox_start = end + 1 - StreamBytesInOutbox();
  std::string from_backlog;
  bool replay = false;
  if (offset < outbox_start) {
    // Older than the backlog (or a backlog lost in a restart): from the log.
    replay = !backlog_.CanContinueFrom(offset);
    if (replay && !durable_.Holds(offset, outbox_start - 1)) return false;
    if (!replay) {
      from_backlog = backlog_.CopyFrom(offset);
      from_backlog.resize(outbox_start - offset);
    }
  } else {
    outbox_.Pop(offset - outbox_start);
  }
  Attach(std::move(session), request, "replaced by a reconnecting replica");
  durable_.StopReplay();
  if (replay) durable_.StartReplay(offset, outbox_start - 1);
  // A replica that continues has loaded its snapshot.
  waiting_for_first_ack_ = false;
  gate_ = UINT64_MAX;
  acked_offset_ = std::max(acked_offset_, offset > 0 ? offset - 1 : 0);
  reason_.clear();
  answer->kind = PsyncAnswer::Kind::kContinue;
  answer->replid = replid_;
  answer->backlog = std::move(from_backlog);
  // After the session has queued +CONTINUE and the backlog part.
  PumpLater();
  return true;
}

std::string TargetMaster::RefusalFor(std::string_view replid, std::string_view offset) const {
  return absl::StrCat(
      "ERR reshard: target '", options_.name, "' cannot continue from offset ", AsAbsl(offset),
      " of replication id ", AsAbsl(replid), " (reshardd has id ", replid_, ", offsets ",
      backlog_.start_offset(), "-", backlog_.end_offset() + 1, ")",
      replid == "?" && snapshot_rdb_version_ > 0
          ? absl::StrCat(" (a target that asks again for a full sync often could not load its "
                         "snapshot: it was RDB version ",
                         snapshot_rdb_version_, "; check the target's log)")
          : std::string());
}

void TargetMaster::EnterNeedsResync(std::string reason, bool cut_off) {
  phase_ = Phase::kNeedsResync;
  cut_off_ = cut_off;
  reason_ = std::move(reason);
  // The stream this target gets from now has a gap: no replica may continue it.
  replid_ = RandomHex(40);
  backlog_.Reset(backlog_.end_offset());
  durable_.Reset(backlog_.end_offset());
  outbox_.Clear();
  snapshot_end_ = 0;
  gate_ = UINT64_MAX;
  waiting_for_first_ack_ = false;
  offset_times_.clear();
  drained_.cancel();
}

void TargetMaster::CutOff(std::string reason) { DropStream(std::move(reason), /*cut_off=*/true); }

void TargetMaster::Abandon(std::string reason) { DropStream(std::move(reason), false); }

void TargetMaster::ResyncFailed(std::string reason) {
  if (phase_ == Phase::kSnapshot) return Abandon(std::move(reason));
  if (phase_ == Phase::kResyncing) reason_ = std::move(reason);
}

void TargetMaster::DropStream(std::string reason, bool cut_off) {
  EnterNeedsResync(reason, cut_off);
  if (active_ != nullptr) {
    auto session = active_;
    active_.reset();
    session->Close(absl::ResourceExhaustedError(reason));
  }
}

void TargetMaster::Attach(std::shared_ptr<DownstreamSession> session, const PsyncRequest& request,
                          std::string_view why_replaced) {
  active_host_ = std::string(request.peer_host);
  active_listening_port_ = std::string(request.listening_port);
  if (active_ != nullptr && active_ != session) {
    auto old = std::move(active_);
    active_.reset();
    old->Close(absl::AbortedError(AsAbsl(why_replaced)));
  }
  active_ = std::move(session);
  cut_off_ = false;
}

void TargetMaster::OnAck(uint64_t offset) {
  if (waiting_for_first_ack_ && phase_ == Phase::kStreaming && outbox_.popped() >= snapshot_end_) {
    // The replica has loaded its snapshot: the stream can flow.
    waiting_for_first_ack_ = false;
    gate_ = UINT64_MAX;
    reason_.clear();
    Pump();
  }
  acked_offset_ = std::min(std::max(acked_offset_, offset), backlog_.end_offset());
  while (!offset_times_.empty() && offset_times_.front().first <= acked_offset_) {
    offset_times_.pop_front();
  }
}

void TargetMaster::OnWritten(uint64_t bytes) {
  bytes_sent_ += bytes;
  Pump();
}

void TargetMaster::OnPendingTaken() { Pump(); }

void TargetMaster::OnSessionClosed(DownstreamSession* session, const absl::Status& why) {
  bool was_active = active_.get() == session;
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->get() == session) {
      sessions_.erase(it);
      break;
    }
  }
  if (!was_active) return;
  active_.reset();
  drained_.cancel();
  if (closing_) return;
  switch (phase_) {
    case Phase::kAttached:
      phase_ = Phase::kWaiting;
      break;
    case Phase::kSnapshot:
      EnterNeedsResync(absl::StrCat("disconnected during its snapshot (", why.message(), ")"),
                       false);
      break;
    case Phase::kStreaming:
      // Bytes of the snapshot that never reached it: it must start over.
      if (outbox_.popped() < snapshot_end_) {
        EnterNeedsResync(
            absl::StrCat("disconnected before its snapshot was sent (", why.message(), ")"), false);
      } else {
        reason_ = absl::StrCat("disconnected (", why.message(), ")");
      }
      break;
    default:
      break;
  }
}

void TargetMaster::BeginSnapshot() {
  if (phase_ != Phase::kWaiting && phase_ != Phase::kAttached && phase_ != Phase::kResyncing) {
    return;
  }
  if (active_ == nullptr) {
    EnterNeedsResync("not connected when its snapshot began", false);
    return;
  }
  phase_ = Phase::kSnapshot;
  wait_interrupted_ = false;
  reason_.clear();
  outbox_.Clear();
  gate_ = UINT64_MAX;
  Write(absl::StrCat("$EOF:", eof_mark_, "\r\n"));
}

void TargetMaster::EndSnapshot() {
  if (phase_ != Phase::kSnapshot) return;
  Write(eof_mark_);
  if (phase_ != Phase::kSnapshot) return;  // cut off by that write
  phase_ = Phase::kStreaming;
  snapshot_end_ = outbox_.pushed();
  gate_ = snapshot_end_;
  waiting_for_first_ack_ = true;
  reason_ = "loading its snapshot";
}

void TargetMaster::Write(std::string_view bytes) {
  if (phase_ != Phase::kSnapshot) return;
  if (absl::Status pushed = outbox_.Push(bytes); !pushed.ok()) {
    CutOff(absl::StrCat("cannot spool its snapshot: ", pushed.message()));
    return;
  }
  Pump();
}

uint64_t TargetMaster::queued_bytes() const {
  return outbox_.size() + (active_ == nullptr ? 0 : active_->queued_bytes());
}

// The snapshot reader waits while half the bound waits for the replica; the
// stream never waits (past the bound the target is cut off instead).
bool TargetMaster::Backlogged() const {
  return phase_ == Phase::kSnapshot && active_ != nullptr &&
         outbox_.size() > std::max(options_.spool_max_bytes / 2, options_.max_queue_bytes);
}

asio::awaitable<absl::Status> TargetMaster::WaitWritable() {
  while (Backlogged()) {
    if (wait_interrupted_) {
      co_return absl::AbortedError(absl::StrCat(
          "target '", options_.name, "': the snapshot's wait for its replica was interrupted"));
    }
    asio::error_code ec;
    drained_.expires_at(asio::steady_timer::time_point::max());
    co_await drained_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (closing_) co_return absl::CancelledError("job stopped");
  }
  co_return absl::OkStatus();
}

void TargetMaster::InterruptWait() {
  wait_interrupted_ = true;
  drained_.cancel();
}

void TargetMaster::AppendStream(std::string_view bytes) {
  if (phase_ != Phase::kStreaming || bytes.empty()) return;
  // On disk before it can be sent; kept while the backlog or the replica may need it.
  durable_.Append(bytes, std::min(backlog_.start_offset(), acked_offset_ + 1));
  backlog_.Append(bytes);
  absl::Time now = absl::Now();
  if (offset_times_.empty() || now - offset_times_.back().second > absl::Milliseconds(100)) {
    offset_times_.emplace_back(backlog_.end_offset(), now);
  } else {
    offset_times_.back().first = backlog_.end_offset();
  }
  absl::Status pushed = outbox_.Push(bytes);
  if (!pushed.ok()) return CutOff(absl::StrCat("cannot spool its stream: ", pushed.message()));
  // What waits for it in all: the outbox and the socket's queue.
  if (uint64_t waiting = queued_bytes(); waiting > options_.spool_max_bytes) {
    return CutOff(absl::StrCat("cut off: ", waiting,
                               " bytes of stream waited for it (options.spool_max_bytes = ",
                               options_.spool_max_bytes, ")"));
  }
  Pump();
}

void TargetMaster::Pump() {
  constexpr uint64_t kSocketQueue = 1 << 20;
  while (active_ != nullptr && !delivery_paused_ && durable_.replaying() &&
         active_->pending_bytes() < kSocketQueue) {
    absl::StatusOr<std::string_view> bytes = durable_.NextReplayBytes(1 << 20);
    if (!bytes.ok()) {
      return Abandon(absl::StrCat("cannot read its stream log: ", bytes.status().message()));
    }
    active_->Enqueue(*bytes);
  }
  if (durable_.replaying()) return;  // the outbox follows the replay
  while (active_ != nullptr && !delivery_paused_ && active_->pending_bytes() < kSocketQueue) {
    uint64_t limit = SendLimit();
    uint64_t allowed =
        limit > outbox_.popped() ? std::min<uint64_t>(outbox_.size(), limit - outbox_.popped()) : 0;
    if (allowed == 0) break;
    absl::StatusOr<std::string_view> front = outbox_.Front(std::min<uint64_t>(allowed, 1 << 20));
    if (!front.ok())
      return CutOff(absl::StrCat("cannot read its spool: ", front.status().message()));
    size_t n = std::min<uint64_t>(front->size(), allowed);
    active_->Enqueue(front->substr(0, n));
    outbox_.Pop(n);
  }
  if (!Backlogged()) drained_.cancel();
}

void TargetMaster::PumpLater() {
  asio::post(executor_, [this, alive = alive_] {
    if (*alive) Pump();
  });
}

uint64_t TargetMaster::StreamBytesInOutbox() const {
  uint64_t snapshot_left = snapshot_end_ > outbox_.popped() ? snapshot_end_ - outbox_.popped() : 0;
  return outbox_.size() - snapshot_left;
}

void TargetMaster::SetDeliveryPaused(bool paused) {
  delivery_paused_ = paused;
  if (!paused) Pump();
}

void TargetMaster::SendKeepalive() {
  if (active_ != nullptr && (phase_ == Phase::kAttached || phase_ == Phase::kResyncing)) {
    active_->Enqueue("\n");
  }
}

TargetLinkStatus TargetMaster::Status() const {
  TargetLinkStatus status;
  status.attached = phase_ != Phase::kWaiting;
  status.connected_replicas = active_ != nullptr ? 1 : 0;
  status.bytes_sent = bytes_sent_;
  status.offset = backlog_.end_offset();
  status.acked_offset = acked_offset_;
  status.spool_bytes = queued_bytes();
  status.spool_disk_bytes = outbox_.disk_bytes();
  status.resyncs = resyncs_;
  status.reason = reason_;
  bool streaming = phase_ == Phase::kStreaming;
  status.lag_bytes = streaming ? status.offset - acked_offset_ : 0;
  if (streaming && !offset_times_.empty() && acked_offset_ < status.offset) {
    status.lag_seconds = absl::ToDoubleSeconds(absl::Now() - offset_times_.front().second);
  }
  switch (phase_) {
    case Phase::kWaiting:
    case Phase::kAttached:
      status.state = TargetLinkState::kWaiting;
      break;
    case Phase::kSnapshot:
      status.state = TargetLinkState::kSnapshot;
      break;
    case Phase::kResyncing:
      status.state = TargetLinkState::kResyncing;
      break;
    case Phase::kNeedsResync:
      status.state = cut_off_ ? TargetLinkState::kCutOff : TargetLinkState::kDisconnected;
      status.reason = absl::StrCat(reason_, "; needs a full resync when it asks again");
      break;
    case Phase::kStreaming:
      if (active_ == nullptr) {
        status.state = TargetLinkState::kDisconnected;
      } else if (waiting_for_first_ack_) {
        status.state = TargetLinkState::kLoading;
      } else if (delivery_paused_) {
        status.state = TargetLinkState::kPaused;
        status.reason = "the job is paused";
      } else if (outbox_.disk_bytes() > 0 || outbox_.size() >= (1 << 20)) {
        status.state = TargetLinkState::kSpooling;
        status.reason = absl::StrCat(status.spool_bytes, " bytes wait for it (",
                                     outbox_.disk_bytes(), " on disk)");
      } else {
        status.state = TargetLinkState::kStreaming;
        status.reason.clear();
      }
      break;
  }
  return status;
}

}  // namespace reshard::engine
