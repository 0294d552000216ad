#pragma once

// StreamRouter: the stream phase's routing (stream_phase.h). It takes the
// source's commands in order, keeps each MULTI ... EXEC together as one unit,
// and routes every unit through the job's CommandRouter into the targets'
// masters, or into the held stream of a target that waits for a snapshot of
// its own (tagged with the unit's end offset).
//
// A unit that needs key copies (a cross-target write, a key inside a skip
// window) waits in DeferredUnits while its copies are read from the source
// in pipelined batches (CopyBatches, KeyMaterializer: many keys per round
// trip, several round trips in flight), and the stream goes on:
//  - a unit touching a key of a waiting unit waits behind it, so the
//    commands on a key reach each target in the source's order;
//  - a unit on other keys is routed at once, ahead of the waiting ones;
//  - a barrier (FLUSHALL, FLUSHDB, SWAPDB, SCRIPT/FUNCTION changes, what the
//    router refuses) waits for everything before it, and everything after
//    it waits for it;
//  - while a target waits for its own snapshot nothing passes a waiting
//    unit (a held stream is dropped up to an offset, so it must be in the
//    source's order), and the windows opened then do not cover.
// A waiting unit is routed when its copies are in: its plan is made again
// (a window opened meanwhile may want more copies: they are read first),
// then its commands go through the router, which asks for copies where it
// would have before and gets the ones read for this unit, inside the unit's
// transaction when it is one. A copy is read after every unit that waits
// for it was read, so it holds their effects (see skip_windows.h).
//
// job.source.routed_offset is kept current: every command before it has
// been routed (the rest waits for copies, or is a transaction not complete).
// Job thread only; lives in the stream phase. Copy errors fail the job.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "asio/steady_timer.hpp"
#include "engine/job/copy_batches.h"
#include "engine/job/deferred_units.h"
#include "engine/job/job_context.h"
#include "engine/resp/resp_parser.h"
#include "engine/route/command_router.h"

namespace reshard::engine {

class StreamRouter {
 public:
  // Keys per batch: a full one is sealed and sent without waiting for the
  // end of a read (or once a slot is free).
  static constexpr size_t kBatchKeys = 512;
  // Batches in flight on the copy connection.
  static constexpr size_t kMaxInFlight = 16;
  // Bounds of what waits; past them the stream is not read (full()). Well
  // past what is in flight, so that the stream runs ahead of the copies and
  // commands on other keys pass a burst of cross-target writes.
  static constexpr size_t kMaxWaitingUnits = 65536;
  static constexpr uint64_t kMaxWaitingBytes = 16 << 20;
  static constexpr size_t kMaxUnsentKeys = 128 * kBatchKeys;

  // Uses (and creates when missing) job.materializer.
  explicit StreamRouter(JobContext& job);
  ~StreamRouter();
  StreamRouter(const StreamRouter&) = delete;
  StreamRouter& operator=(const StreamRouter&) = delete;

  // One command of the stream, [start, end) in source offsets, not REPLCONF
  // (the job answers it); an empty one (a keepalive) only moves the offset.
  // Routed now, or copied to wait. Errors are the router's (prefixed with
  // the source offset): the job must stop.
  absl::Status Add(const RespCommand& command, uint64_t start, uint64_t end);
  // Routes the waiting units whose copies are in, sends the batches not
  // sent (connecting first when needed), appends what was routed to the
  // targets. Call after a run of Add, before waiting for anything: nothing
  // routed waits for the source.
  absl::Status Flush();
  // Whether what waits reached its bounds: stop reading, Flush, then
  // WaitForProgress.
  bool full() const;
  // Returns when a batch of copies has arrived (or after a second).
  asio::awaitable<void> WaitForProgress();

  size_t waiting_units() const { return waiting_.size(); }

 private:
  // What a unit's commands need together (CommandRouter::Inspect of each).
  struct Plan {
    bool barrier = false;
    std::vector<uint64_t> key_hashes;  // KeyHash of every key it touches
    std::vector<DbKey> copies;         // the keys to copy for it, each once
    // copies as a set, once there are more than a few.
    absl::flat_hash_set<DbKey, DbKeyHash, DbKeyEq> copy_set;

    bool Copies(const KeyRef& ref) const;

    // A command after the ones added: the keys the router would copy for
    // it, or, when it touches a key copied for an earlier one (whose window
    // is then open at it), every key it changes.
    void Add(const CommandNeeds& needs);
  };

  // The transaction being read (MULTI seen, EXEC not yet).
  absl::Status AddToTransaction(const RespCommand& command, uint64_t end);
  // Routes or defers a complete unit.
  absl::Status AddUnit(StreamUnit unit, Plan& plan, std::span<const RespCommand> commands);
  // Queues `unit` with its copies requested.
  absl::Status Defer(StreamUnit unit, Plan& plan);
  // Routes `commands` (a unit from `start` to `end`), serving the copies
  // the router asks for from `batches`. With `needs_copies` (one keyed
  // command: it sends nothing when it asks for copies): when a copy it asks
  // for is not there, sets it and leaves the request in requests_.
  absl::Status RouteUnit(std::span<const RespCommand> commands, uint64_t start, uint64_t end,
                         std::span<const uint64_t> batches, bool* needs_copies = nullptr);
  // Whether every copy in requests_ is in `batches`.
  bool HasCopies(std::span<const uint64_t> batches) const;
  absl::Status EmitCopies(std::span<const uint64_t> batches);
  // Routes the waiting units, oldest first, while their copies are in.
  absl::Status DrainReady();
  // Sends the unsent batches, oldest first, while connected and a slot is
  // free.
  absl::Status SendBatches();
  // Adds batch `id` to the ones `unit` holds (once).
  void HoldBatch(StreamUnit& unit, uint64_t id);
  // Parses a unit's bytes into commands_.
  void ParseUnit(const std::string& wire);
  void AppendOutput();
  void UpdateRoutedOffset();
  bool AnyHeld() const;
  // Opens the key copies' connection (retrying a source that went away,
  // within options.reconnect_window_ms; waiting while the stream reconnects,
  // so copies come from the master the job follows), then sends.
  asio::awaitable<void> Connect(std::shared_ptr<bool> alive);
  // Receives batches; a lost connection or a moved source reconnects and
  // sends the batches in flight again (KeyMaterializer::to_resend).
  asio::awaitable<void> ReceiveCopies(std::shared_ptr<bool> alive);
  void FailJob(const absl::Status& status);

  JobContext& job_;
  CommandRouter& router_;
  DeferredUnits waiting_;
  CopyBatches batches_;
  std::vector<std::string> out_;  // per target, what was routed since the last append
  std::optional<StreamUnit> txn_;
  Plan txn_plan_;
  int txn_db_ = kUnknownDb;  // the source's db inside the transaction being read
  // Scratch.
  CommandNeeds needs_;
  std::vector<Materialization> requests_;
  std::vector<RespCommand> commands_;
  asio::steady_timer progress_;  // cancelled when a batch of copies arrived
  asio::steady_timer sent_;      // cancelled when a batch is sent
  bool connecting_ = false;
  bool receiving_ = false;  // ReceiveCopies runs (it runs until the router or job ends)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace reshard::engine
