#include "engine/link/target_master.h"

#include <algorithm>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"
#include "engine/link/downstream_session.h"

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
      acceptor_(executor),
      drained_(executor, asio::steady_timer::time_point::max()),
      replid_(RandomHex(40)),
      eof_mark_(RandomHex(40)),
      backlog_(options_.backlog_bytes) {
  backlog_.Reset(0);
}

TargetMaster::~TargetMaster() { Close(); }

absl::Status TargetMaster::Listen() {
  const std::string& field = options_.listen_field;
  const HostPort* address = &options_.listen;
  asio::error_code ec;
  asio::ip::address ip = asio::ip::make_address(address->host, ec);
  if (ec) {
    asio::ip::tcp::resolver resolver(executor_);
    auto results = resolver.resolve(address->host, std::to_string(address->port), ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": cannot resolve '", address->host, "'"));
    }
    ip = results.begin()->endpoint().address();
  }
  asio::ip::tcp::endpoint endpoint(ip, address->port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat(field, ": cannot listen on ", address->ToString(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

uint16_t TargetMaster::bound_port() const {
  asio::error_code ec;
  auto endpoint = acceptor_.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void TargetMaster::StartAccepting() { asio::co_spawn(executor_, AcceptLoop(), asio::detached); }

asio::awaitable<void> TargetMaster::AcceptLoop() {
  while (!closing_) {
    asio::error_code ec;
    asio::ip::tcp::socket socket =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (closing_ || ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving
    }
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    auto session = std::make_shared<DownstreamSession>(
        std::move(socket), DownstreamSession::Options{options_.credentials, absl::Seconds(10)},
        static_cast<DownstreamEvents*>(this));
    sessions_.insert(session);
    session->Start();
  }
}

void TargetMaster::Close() {
  if (closing_) return;
  closing_ = true;
  asio::error_code ec;
  acceptor_.close(ec);
  // Closing calls back OnSessionClosed, which edits sessions_.
  auto sessions = sessions_;
  for (const auto& session : sessions) session->Close(absl::CancelledError("job stopped"));
  sessions_.clear();
  active_.reset();
  drained_.cancel();
}

PsyncAnswer TargetMaster::OnPsync(std::shared_ptr<DownstreamSession> session,
                                  const PsyncRequest& request) {
  std::string_view replid = request.replid;
  std::string_view offset_text = request.offset;
  PsyncAnswer answer;
  switch (phase_) {
    case Phase::kWaiting:
    case Phase::kAttached:
      // A replica that reconnects before its snapshot started just starts over.
      Attach(std::move(session), "replaced by a new connection");
      replica_version_ = std::string(request.announced_version);
      phase_ = Phase::kAttached;
      if (callbacks_.on_attach) callbacks_.on_attach();
      answer.kind = PsyncAnswer::Kind::kFullResync;
      answer.replid = replid_;
      answer.offset = backlog_.end_offset();
      return answer;
    case Phase::kSnapshot:
      answer.error = absl::StrCat("ERR reshard: target '", options_.name,
                                  "' is receiving its snapshot on another connection");
      return answer;
    case Phase::kStreaming: {
      uint64_t offset = 0;
      if (replid == replid_ && absl::SimpleAtoi(AsAbsl(offset_text), &offset) &&
          backlog_.CanContinueFrom(offset)) {
        Attach(std::move(session), "replaced by a reconnecting replica");
        // A replica that continues has loaded its snapshot.
        waiting_for_first_ack_ = false;
        std::string().swap(held_stream_);
        answer.kind = PsyncAnswer::Kind::kContinue;
        answer.replid = replid_;
        answer.backlog = backlog_.CopyFrom(offset);
        return answer;
      }
      answer.error = RefusalFor(replid, offset_text);
      return answer;
    }
  }
  answer.error = "ERR reshard: internal error";
  return answer;
}

std::string TargetMaster::RefusalFor(std::string_view replid, std::string_view offset) const {
  return absl::StrCat(
      "ERR reshard: target '", options_.name, "' cannot continue from offset ", AsAbsl(offset),
      " of replication id ", AsAbsl(replid), " (reshardd has id ", replid_, ", offsets ",
      backlog_.start_offset(), "-", backlog_.end_offset() + 1,
      "); a full resync of this target needs a new job",
      replid == "?" && snapshot_rdb_version_ > 0
          ? absl::StrCat(" (a target that asks again for a full sync often could not load its "
                         "snapshot: it was RDB version ",
                         snapshot_rdb_version_, "; check the target's log)")
          : std::string());
}

void TargetMaster::Attach(std::shared_ptr<DownstreamSession> session,
                          std::string_view why_replaced) {
  if (active_ != nullptr && active_ != session) {
    active_->Close(absl::AbortedError(AsAbsl(why_replaced)));
  }
  active_ = std::move(session);
}

void TargetMaster::OnAck(uint64_t offset) {
  if (waiting_for_first_ack_ && phase_ == Phase::kStreaming) {
    // The replica has loaded its snapshot: the stream can flow.
    waiting_for_first_ack_ = false;
    if (active_ != nullptr && !held_stream_.empty()) active_->Enqueue(held_stream_);
    std::string().swap(held_stream_);
  }
  acked_offset_ = std::min(offset, backlog_.end_offset());
  while (!offset_times_.empty() && offset_times_.front().first <= acked_offset_) {
    offset_times_.pop_front();
  }
}

void TargetMaster::OnWritten(uint64_t bytes) {
  bytes_sent_ += bytes;
  if (!Backlogged()) drained_.cancel();
}

void TargetMaster::OnPendingTaken() {
  if (!Backlogged()) drained_.cancel();
}

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
  if (phase_ == Phase::kSnapshot && !closing_ && callbacks_.on_fatal) {
    callbacks_.on_fatal(absl::UnavailableError(absl::StrCat(
        "target '", options_.name, "' disconnected during its snapshot: ", why.message())));
  }
}

void TargetMaster::BeginSnapshot() {
  phase_ = Phase::kSnapshot;
  if (active_ != nullptr) active_->Enqueue(absl::StrCat("$EOF:", eof_mark_, "\r\n"));
}

void TargetMaster::EndSnapshot() {
  if (active_ != nullptr) active_->Enqueue(eof_mark_);
  phase_ = Phase::kStreaming;
  waiting_for_first_ack_ = true;
}

void TargetMaster::Write(std::string_view bytes) {
  if (active_ != nullptr) active_->Enqueue(bytes);
}

uint64_t TargetMaster::queued_bytes() const {
  return active_ == nullptr ? 0 : active_->queued_bytes();
}

// Only bytes not yet handed to the socket count: the producer refills while a
// write is in flight, so reading the source and writing the target overlap.
bool TargetMaster::Backlogged() const {
  return active_ != nullptr && active_->pending_bytes() > options_.max_queue_bytes;
}

asio::awaitable<absl::Status> TargetMaster::WaitWritable() {
  while (Backlogged()) {
    asio::error_code ec;
    drained_.expires_at(asio::steady_timer::time_point::max());
    co_await drained_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (closing_) co_return absl::CancelledError("job stopped");
  }
  if (phase_ == Phase::kSnapshot && active_ == nullptr) {
    co_return absl::UnavailableError(
        absl::StrCat("target '", options_.name, "' disconnected during its snapshot"));
  }
  co_return absl::OkStatus();
}

void TargetMaster::AppendStream(std::string_view bytes) {
  backlog_.Append(bytes);
  absl::Time now = absl::Now();
  if (offset_times_.empty() || now - offset_times_.back().second > absl::Milliseconds(100)) {
    offset_times_.emplace_back(backlog_.end_offset(), now);
  } else {
    offset_times_.back().first = backlog_.end_offset();
  }
  if (active_ == nullptr || phase_ != Phase::kStreaming) return;
  if (!waiting_for_first_ack_) {
    active_->Enqueue(bytes);
    return;
  }
  held_stream_.append(bytes.data(), bytes.size());
  if (held_stream_.size() > options_.max_held_stream_bytes && callbacks_.on_fatal) {
    callbacks_.on_fatal(absl::ResourceExhaustedError(absl::StrCat(
        "target '", options_.name, "' has not confirmed loading its snapshot while ",
        held_stream_.size(), " bytes of stream piled up for it (options.max_held_stream_bytes)")));
  }
}

void TargetMaster::SendKeepalive() {
  if (active_ != nullptr && phase_ == Phase::kAttached) active_->Enqueue("\n");
}

TargetLinkStatus TargetMaster::Status() const {
  TargetLinkStatus status;
  status.attached = phase_ != Phase::kWaiting;
  status.connected_replicas = active_ != nullptr ? 1 : 0;
  status.bytes_sent = bytes_sent_;
  status.offset = backlog_.end_offset();
  status.acked_offset = acked_offset_;
  status.lag_bytes = phase_ == Phase::kStreaming ? status.offset - acked_offset_ : 0;
  if (phase_ == Phase::kStreaming && !offset_times_.empty() && acked_offset_ < status.offset) {
    status.lag_seconds = absl::ToDoubleSeconds(absl::Now() - offset_times_.front().second);
  }
  return status;
}

}  // namespace reshard::engine
