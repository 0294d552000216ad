#pragma once

// RdbSplitter: an RdbHandler that routes each key of one input RDB to every
// target whose filter matches it (none: the key is dropped everywhere;
// several: each gets a copy) and writes one complete RDB per target through
// an RdbWriter. A target's RDB is completed (EOF + CRC64) only in OnEnd, which
// the reader calls only after the input verified: corrupt input never yields
// a complete target RDB.
//
// The splitter writes only through the sinks it is given (not owned); each
// must outlive it. Counters are written by the reader's thread and may be
// read from any thread (relaxed atomics).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/rdb/rdb_handler.h"
#include "engine/rdb/rdb_sink.h"
#include "engine/rdb/rdb_writer.h"
#include "engine/route/key_filter.h"

namespace reshard::engine {

// Where one target's RDB goes: the keys `filter` selects, written to `sink`.
// Output i of the constructor is target i in the counters below.
struct RdbSplitOutput {
  const KeyFilter* filter = nullptr;  // not owned; outlives the splitter
  RdbSink* sink = nullptr;            // not owned; outlives the splitter
};

class RdbSplitter : public RdbHandler {
 public:
  explicit RdbSplitter(std::vector<RdbSplitOutput> outputs);
  ~RdbSplitter() override;

  // RdbHandler.
  void OnHeader(int version, std::string_view magic) override;
  void OnAux(std::string_view key, std::string_view value, std::string_view raw) override;
  void OnGlobal(uint8_t opcode, std::string_view raw) override;
  void OnSelectDb(int db) override;
  void OnResizeDb(int db, uint64_t db_size, uint64_t expires_size) override;
  bool OnEntryBegin(const RdbEntry& entry) override;
  void OnValueChunk(std::string_view chunk) override;
  void OnEntryEnd() override;
  void OnEnd() override;
  // True while any target's sink is backlogged.
  bool Backlogged() const override;
  // Waits for every backlogged sink; the first error wins.
  asio::awaitable<absl::Status> WaitWritable() override;

  size_t num_targets() const { return targets_.size(); }
  uint64_t keys_kept(size_t target) const;
  uint64_t keys_dropped(size_t target) const;
  uint64_t bytes_written(size_t target) const;
  uint64_t keys_read() const { return keys_read_.load(std::memory_order_relaxed); }
  uint64_t keys_unmatched() const { return keys_unmatched_.load(std::memory_order_relaxed); }
  uint64_t keys_multi_matched() const {
    return keys_multi_matched_.load(std::memory_order_relaxed);
  }
  // The input's RDB version (0 before the header).
  int rdb_version() const { return rdb_version_.load(std::memory_order_relaxed); }
  // The source's "repl-stream-db" aux field, -1 if absent: the db the
  // replication stream starts in after the RDB.
  int source_stream_db() const { return source_stream_db_.load(std::memory_order_relaxed); }
  // OnEnd was called: every target RDB is complete.
  bool finished() const { return finished_.load(std::memory_order_acquire); }

 private:
  struct Output;
  static void Bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::vector<std::unique_ptr<Output>> targets_;
  std::vector<size_t> current_;  // targets of the entry being read
  std::atomic<uint64_t> keys_read_{0};
  std::atomic<uint64_t> keys_unmatched_{0};
  std::atomic<uint64_t> keys_multi_matched_{0};
  std::atomic<int> rdb_version_{0};
  std::atomic<int> source_stream_db_{-1};
  std::atomic<bool> finished_{false};
};

}  // namespace reshard::engine
