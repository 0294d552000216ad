#include "engine/job/stream_router.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/post.hpp"
#include "asio/redirect_error.hpp"
#include "asio/this_coro.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"
#include "engine/base/status_context.h"
#include "engine/base/status_macros.h"
#include "engine/job/durable_state.h"

namespace reshard::engine {
namespace {

// What a target's pending output may keep of its buffer between appends.
constexpr size_t kKeepOutputCapacity = 1 << 20;

bool IsMulti(const RespCommand& command) {
  return command.args[0].size() == 5 && absl::EqualsIgnoreCase(AsAbsl(command.args[0]), "multi");
}

}  // namespace

// Past this many copies a plan keeps them in a set too.
constexpr size_t kPlanCopiesInSet = 16;

bool StreamRouter::Plan::Copies(const KeyRef& ref) const {
  if (copies.size() > kPlanCopiesInSet) return copy_set.contains(ref);
  DbKeyEq eq;
  return std::any_of(copies.begin(), copies.end(), [&](const DbKey& key) { return eq(key, ref); });
}

void StreamRouter::Plan::Add(const CommandNeeds& needs) {
  barrier |= needs.barrier;
  // A key copied for an earlier command of the unit has a window at this
  // one: every key it changes may be asked for.
  bool after_copy = false;
  for (const KeyRef& ref : needs.keys) {
    if (!copies.empty() && Copies(ref)) after_copy = true;
    key_hashes.push_back(KeyHash(ref));
  }
  for (const KeyRef& ref : after_copy ? needs.written : needs.copies) {
    if (Copies(ref)) continue;
    copies.push_back(DbKey{ref.db, std::string(ref.key)});
    if (copies.size() == kPlanCopiesInSet + 1) {
      copy_set.insert(copies.begin(), copies.end());
    } else if (copies.size() > kPlanCopiesInSet + 1) {
      copy_set.insert(copies.back());
    }
  }
}

StreamRouter::StreamRouter(JobContext& job)
    : job_(job),
      router_(*job.router),
      out_(job.targets.size()),
      progress_(job.io, asio::steady_timer::time_point::max()),
      sent_(job.io, asio::steady_timer::time_point::max()) {
  if (job_.materializer == nullptr) {
    job_.materializer =
        std::make_unique<KeyMaterializer>(job_.io.get_executor(), job_.addresses.source);
  }
  UpdateRoutedOffset();
}

StreamRouter::~StreamRouter() {
  *alive_ = false;
  progress_.cancel();
  sent_.cancel();
}

bool StreamRouter::AnyHeld() const {
  for (const auto& held : job_.held) {
    if (held != nullptr) return true;
  }
  return false;
}

void StreamRouter::FailJob(const absl::Status& status) {
  if (!job_.finished) job_.Fail(status);
}

absl::Status StreamRouter::Add(const RespCommand& command, uint64_t start, uint64_t end) {
  if (command.args.empty()) {
    UpdateRoutedOffset();
    return absl::OkStatus();
  }
  if (txn_.has_value()) return AddToTransaction(command, end);
  router_.SetAppliedOffset(job_.source.routed_offset);
  router_.SetCommandOffset(start);
  if (waiting_.empty() && router_.skipped_keys() == 0 && !IsMulti(command)) {
    // The hot path: nothing waits and no key is inside a window, so the
    // router routes it at once, or asks for copies and sends nothing.
    bool needs_copies = false;
    RETURN_IF_ERROR(
        RouteUnit(std::span<const RespCommand>(&command, 1), start, end, {}, &needs_copies));
    if (!needs_copies) {
      UpdateRoutedOffset();
      return absl::OkStatus();
    }
  }
  int db = router_.source_db();
  router_.Inspect(command, &db, &needs_);
  if (!needs_.barrier && needs_.route == RouteKind::kSelect) {
    // Only changes the source's db (each unit keeps its own): nothing to
    // send, nothing to hold.
    absl::Status routed = router_.Route(command, &out_);
    UpdateRoutedOffset();
    return WithContext(routed, absl::StrCat("source offset ", start, ": "));
  }
  if (!needs_.barrier && needs_.route == RouteKind::kMulti) {
    txn_.emplace();
    txn_->start = start;
    txn_->end = end;
    txn_->db = router_.source_db();
    txn_->now_ms = router_.now_ms();
    txn_->wire.assign(command.wire);
    txn_db_ = txn_->db;
    txn_plan_ = Plan();
    UpdateRoutedOffset();
    return absl::OkStatus();
  }
  // One command: routed now unless it waits for copies or behind a waiting
  // unit (its keys are views into the stream until it is copied).
  const bool defer =
      needs_.copy ||
      (!waiting_.empty() && (needs_.barrier || AnyHeld() || waiting_.MustWait(needs_.keys)));
  if (!defer) {
    RETURN_IF_ERROR(RouteUnit(std::span<const RespCommand>(&command, 1), start, end, {}));
    UpdateRoutedOffset();
    return absl::OkStatus();
  }
  Plan plan;
  plan.Add(needs_);
  StreamUnit unit;
  unit.start = start;
  unit.end = end;
  unit.db = router_.source_db();
  unit.now_ms = router_.now_ms();
  unit.wire.assign(command.wire);
  return Defer(std::move(unit), plan);
}

absl::Status StreamRouter::AddToTransaction(const RespCommand& command, uint64_t end) {
  txn_->wire.append(command.wire);
  txn_->end = end;
  router_.SetCommandOffset(txn_->start);
  router_.Inspect(command, &txn_db_, &needs_);
  if (needs_.route == RouteKind::kMulti) needs_.barrier = true;  // the router refuses it
  if (needs_.route == RouteKind::kDiscard) txn_db_ = txn_->db;   // its SELECTs never ran
  txn_plan_.Add(needs_);
  if (needs_.route != RouteKind::kExec && needs_.route != RouteKind::kDiscard) {
    return absl::OkStatus();
  }
  StreamUnit unit = std::move(*txn_);
  txn_.reset();
  const int db_after = txn_db_;
  const bool defer =
      !txn_plan_.copies.empty() ||
      (!waiting_.empty() && (txn_plan_.barrier || AnyHeld() ||
                             waiting_.MustWait(std::span<const uint64_t>(txn_plan_.key_hashes))));
  if (!defer) {
    ParseUnit(unit.wire);
    RETURN_IF_ERROR(RouteUnit(commands_, unit.start, unit.end, {}));
    UpdateRoutedOffset();
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(Defer(std::move(unit), txn_plan_));
  // Routed later: the stream's db is already the one after it.
  router_.SetSourceDb(db_after);
  return absl::OkStatus();
}

absl::Status StreamRouter::Defer(StreamUnit unit, Plan& plan) {
  unit.barrier = plan.barrier;
  unit.key_hashes = std::move(plan.key_hashes);
  for (const DbKey& key : plan.copies) HoldBatch(unit, batches_.Request(key.ref()));
  waiting_.Push(std::move(unit));
  UpdateRoutedOffset();
  if (batches_.open_keys() < kBatchKeys) return absl::OkStatus();
  batches_.Seal();
  return SendBatches();
}

void StreamRouter::HoldBatch(StreamUnit& unit, uint64_t id) {
  if (std::find(unit.batches.begin(), unit.batches.end(), id) != unit.batches.end()) return;
  unit.batches.push_back(id);
  batches_.Hold(id);
}

void StreamRouter::ParseUnit(const std::string& wire) {
  commands_.clear();
  RespParser parser;
  size_t used = 0;
  while (used < wire.size()) {
    RespCommand command;
    size_t consumed = 0;
    // The bytes parsed once already: whole commands only.
    if (parser.Parse(std::string_view(wire).substr(used), &consumed, &command) !=
        ParseResult::kOk) {
      break;
    }
    used += consumed;
    commands_.push_back(std::move(command));
  }
}

absl::Status StreamRouter::RouteUnit(std::span<const RespCommand> commands, uint64_t start,
                                     uint64_t end, std::span<const uint64_t> batches,
                                     bool* needs_copies) {
  bool holding = false;
  for (size_t i = 0; i < job_.held.size(); ++i) {
    HeldStream* held = job_.held[i].get();
    if (held == nullptr) continue;
    holding = true;
    if (held->NeedsSelect(start)) router_.SetTargetDb(i, kUnknownDb);
  }
  // A copy sent while a target's stream restarts may be dropped from its
  // held stream (when its snapshot is newer than the unit): later commands
  // must copy the key again rather than count on it.
  router_.set_cover_new_windows(!holding);
  router_.SetCommandOffset(start);
  for (const RespCommand& command : commands) {
    requests_.clear();
    absl::Status routed = router_.Route(command, &out_, &requests_);
    if (routed.ok() && !requests_.empty()) {
      if (needs_copies != nullptr && !HasCopies(batches)) {
        // A single command asking for copies has sent nothing yet.
        *needs_copies = true;
        return absl::OkStatus();
      }
      routed = EmitCopies(batches);
    }
    if (!routed.ok()) return WithContext(routed, absl::StrCat("source offset ", start, ": "));
  }
  if (!holding) return absl::OkStatus();
  for (size_t i = 0; i < job_.held.size(); ++i) {
    HeldStream* held = job_.held[i].get();
    if (held == nullptr) continue;
    if (absl::Status added = held->Add(end, out_[i]); !added.ok()) {
      job_.held[i].reset();
      job_.targets[i]->Abandon(absl::StrCat("cannot hold its stream: ", added.message()));
    }
    out_[i].clear();
  }
  return absl::OkStatus();
}

bool StreamRouter::HasCopies(std::span<const uint64_t> batches) const {
  for (const Materialization& request : requests_) {
    for (const std::string& key : request.keys) {
      const MaterializedBatch* batch = nullptr;
      if (batches_.Find(batches, KeyRef{request.db, key}, &batch) == nullptr) return false;
    }
  }
  return true;
}

absl::Status StreamRouter::EmitCopies(std::span<const uint64_t> batches) {
  for (const Materialization& request : requests_) {
    for (const std::string& key : request.keys) {
      const MaterializedBatch* batch = nullptr;
      const MaterializedKey* copy = batches_.Find(batches, KeyRef{request.db, key}, &batch);
      if (copy == nullptr) {
        return absl::InternalError(absl::StrCat("no copy of key '", absl::CHexEscape(key), "' (db ",
                                                request.db,
                                                ") was read for the command that needs it"));
      }
      router_.EmitMaterialized(request.db, *copy, batch->absolute_ttl, batch->source_offset, &out_);
    }
  }
  return absl::OkStatus();
}

absl::Status StreamRouter::DrainReady() {
  while (!waiting_.empty()) {
    StreamUnit& unit = waiting_.front();
    for (uint64_t id : unit.batches) {
      if (!batches_.received(id)) return absl::OkStatus();
    }
    ParseUnit(unit.wire);
    router_.SetAppliedOffset(unit.start);
    bool missing = false;
    auto request_missing = [&](const KeyRef& ref) {
      const MaterializedBatch* batch = nullptr;
      if (batches_.Find(unit.batches, ref, &batch) != nullptr) return;
      HoldBatch(unit, batches_.Request(ref));
      missing = true;
    };
    // A single keyed command asking for a copy sends nothing; a transaction
    // cannot stop half-way, nor a flush (sent before the copies it asks).
    const bool single = commands_.size() == 1 && !unit.barrier;
    if (!single) {
      // Its plan again: a window opened since it was read may want more
      // copies.
      int db = unit.db;
      Plan plan;
      for (const RespCommand& command : commands_) {
        router_.Inspect(command, &db, &needs_);
        plan.Add(needs_);
      }
      for (const DbKey& key : plan.copies) request_missing(key.ref());
    }
    absl::Status routed;
    if (!missing) {
      const int stream_db = router_.source_db();
      const int64_t stream_now = router_.now_ms();
      router_.SetSourceDb(unit.db);
      router_.SetNowMs(unit.now_ms);
      // One command routed sends nothing when it asks for a copy not read.
      bool needs_copies = false;
      routed = RouteUnit(commands_, unit.start, unit.end, unit.batches,
                         single ? &needs_copies : nullptr);
      router_.SetSourceDb(stream_db);
      router_.SetNowMs(stream_now);
      if (needs_copies) {
        for (const Materialization& request : requests_) {
          for (const std::string& key : request.keys) request_missing(KeyRef{request.db, key});
        }
      }
    }
    RETURN_IF_ERROR(routed);
    if (missing) return SendBatches();
    StreamUnit done = waiting_.Pop();
    for (uint64_t batch : done.batches) batches_.Release(batch);
  }
  UpdateRoutedOffset();
  return absl::OkStatus();
}

absl::Status StreamRouter::SendBatches() {
  if (batches_.unsent_keys() == 0) return absl::OkStatus();
  KeyMaterializer& materializer = *job_.materializer;
  if (!materializer.is_open()) {
    if (!connecting_) {
      connecting_ = true;
      asio::co_spawn(job_.io, Connect(alive_), asio::detached);
    }
    return absl::OkStatus();
  }
  // The rest is sent when a reply frees a slot.
  while (batches_.unsent_keys() > 0 && materializer.in_flight() < kMaxInFlight) {
    RETURN_IF_ERROR(materializer.Send(batches_.TakeNext()));
    sent_.cancel();
  }
  return absl::OkStatus();
}

absl::Status StreamRouter::Flush() {
  absl::Status status = DrainReady();
  if (status.ok()) status = SendBatches();
  UpdateRoutedOffset();
  AppendOutput();
  return status;
}

bool StreamRouter::full() const {
  return waiting_.size() >= kMaxWaitingUnits || waiting_.bytes() >= kMaxWaitingBytes ||
         batches_.unsent_keys() >= kMaxUnsentKeys;
}

asio::awaitable<void> StreamRouter::WaitForProgress() {
  progress_.expires_after(std::chrono::seconds(1));
  asio::error_code ec;
  co_await progress_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void StreamRouter::AppendOutput() {
  for (size_t i = 0; i < out_.size(); ++i) {
    TargetMaster& target = *job_.targets[i];
    if (!out_[i].empty()) {
      target.AppendStream(out_[i]);
      out_[i].clear();
      if (out_[i].capacity() > kKeepOutputCapacity) std::string().swap(out_[i]);
    }
    if (job_.held[i] == nullptr && target.phase() == TargetMaster::Phase::kStreaming) {
      // Conservative: what was routed ahead of waiting units is not claimed.
      job_.offset_maps[i].Record(job_.source.routed_offset, target.offset());
    }
  }
}

void StreamRouter::UpdateRoutedOffset() {
  uint64_t routed = job_.source.applied_offset;
  if (txn_.has_value()) routed = std::min(routed, txn_->start);
  if (!waiting_.empty()) routed = std::min(routed, waiting_.front().start);
  job_.source.routed_offset = routed;
}

asio::awaitable<void> StreamRouter::Connect(std::shared_ptr<bool> alive) {
  // Copies are read from the current master only, and only once the job
  // follows it: while the stream reconnects (a failover, a lost link) the
  // values a master has may be behind what the job read.
  const absl::Duration window = absl::Milliseconds(job_.spec.options.reconnect_window_ms);
  absl::Time deadline = absl::Now() + window;
  absl::Duration backoff = absl::Milliseconds(100);
  absl::Status opened;
  while (true) {
    if (job_.reconnecting || job_.source.pending.has_value()) {
      deadline = absl::Now() + window;
      if (!co_await job_.Sleep(absl::Milliseconds(50)) || !*alive) co_return;
      continue;
    }
    opened = co_await job_.materializer->Open();
    if (!*alive || job_.finished) co_return;
    // A master that went away: the stream's reconnect finds the next one.
    if (opened.ok() || opened.code() != absl::StatusCode::kUnavailable ||
        absl::Now() + backoff > deadline) {
      break;
    }
    if (!co_await job_.Sleep(backoff) || !*alive) co_return;
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
  connecting_ = false;
  if (!opened.ok()) {
    FailJob(WithContext(opened, "copying keys for cross-target writes: "));
    co_return;
  }
  sent_.cancel();  // batches sent again by Open
  // One receiver: a connection reopened after a failover keeps the first.
  if (!receiving_) asio::co_spawn(job_.io, ReceiveCopies(alive), asio::detached);
  if (absl::Status sent = SendBatches(); !sent.ok()) FailJob(sent);
}

asio::awaitable<void> StreamRouter::ReceiveCopies(std::shared_ptr<bool> alive) {
  KeyMaterializer& materializer = *job_.materializer;
  receiving_ = true;
  while (*alive && !job_.finished) {
    if (materializer.in_flight() == 0) {
      sent_.expires_at(asio::steady_timer::time_point::max());
      asio::error_code ec;
      co_await sent_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    absl::StatusOr<MaterializedBatch> batch = co_await materializer.Receive();
    if (!*alive || job_.finished) co_return;
    if (!batch.ok() && materializer.to_resend() > 0) {
      // The connection was lost or the source moved: the batches in flight
      // go again on the next connection, to the current master.
      if (!connecting_) {
        connecting_ = true;
        asio::co_spawn(job_.io, Connect(alive), asio::detached);
      }
      continue;
    }
    absl::Status status = batch.status();
    if (status.ok()) status = batches_.Received(*std::move(batch));
    if (status.ok()) status = DrainReady();
    if (status.ok()) status = SendBatches();
    UpdateRoutedOffset();
    AppendOutput();
    RecordJobState(job_);  // what the copies let through may reach the targets
    progress_.cancel();
    if (!status.ok()) {
      FailJob(batch.ok() ? status : WithContext(status, "copying keys for cross-target writes: "));
      co_return;
    }
    // The next reply may be read already (Receive then does not suspend):
    // the stream gets its turn first, so that commands on other keys are
    // not held behind a run of copies.
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    if (!*alive || job_.finished) co_return;
  }
}

}  // namespace reshard::engine
