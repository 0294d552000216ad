#include "engine/route/rdb_splitter.h"

#include "absl/strings/numbers.h"
#include "engine/base/status_macros.h"

namespace reshard::engine {

struct RdbSplitter::Output {
  explicit Output(const RdbSplitOutput& o) : filter(o.filter), sink(o.sink), writer(o.sink) {}
  const KeyFilter* filter;
  RdbSink* sink;
  RdbWriter writer;
  std::atomic<uint64_t> kept{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> bytes{0};
};

RdbSplitter::RdbSplitter(std::vector<RdbSplitOutput> outputs) {
  targets_.reserve(outputs.size());
  for (const RdbSplitOutput& o : outputs) targets_.push_back(std::make_unique<Output>(o));
  current_.reserve(targets_.size());
}

RdbSplitter::~RdbSplitter() = default;

uint64_t RdbSplitter::keys_kept(size_t target) const {
  return targets_[target]->kept.load(std::memory_order_relaxed);
}
uint64_t RdbSplitter::keys_dropped(size_t target) const {
  return targets_[target]->dropped.load(std::memory_order_relaxed);
}
uint64_t RdbSplitter::bytes_written(size_t target) const {
  return targets_[target]->bytes.load(std::memory_order_relaxed);
}

void RdbSplitter::OnHeader(int version, std::string_view magic) {
  rdb_version_.store(version, std::memory_order_relaxed);
  for (auto& t : targets_) t->writer.WriteHeader(version, magic);
}

void RdbSplitter::OnAux(std::string_view key, std::string_view value, std::string_view raw) {
  if (key == "repl-stream-db") {
    int db = -1;
    if (absl::SimpleAtoi(absl::string_view(value.data(), value.size()), &db) && db >= 0) {
      source_stream_db_.store(db, std::memory_order_relaxed);
    }
  }
  for (auto& t : targets_) t->writer.WriteAux(key, raw);
}

void RdbSplitter::OnGlobal(uint8_t opcode, std::string_view raw) {
  for (auto& t : targets_) t->writer.WriteGlobal(opcode, raw);
}

// SELECTDB is written lazily by each writer, before its first kept key.
void RdbSplitter::OnSelectDb(int /*db*/) {}

// Each target gets its share of the source's counts as its sizing hint: exact
// for one target, about right for an even split; a loader that over-sizes a
// table shrinks it again once it is mostly empty.
void RdbSplitter::OnResizeDb(int db, uint64_t db_size, uint64_t expires_size) {
  uint64_t n = targets_.size();
  for (auto& t : targets_)
    t->writer.SetResizeHint(db, (db_size + n - 1) / n, (expires_size + n - 1) / n);
}

bool RdbSplitter::OnEntryBegin(const RdbEntry& entry) {
  current_.clear();
  for (size_t i = 0; i < targets_.size(); ++i) {
    Output& t = *targets_[i];
    if (t.filter->Matches(entry.key)) {
      current_.push_back(i);
      t.writer.BeginEntry(entry.db, entry.raw_header);
      Bump(t.kept);
    } else {
      Bump(t.dropped);
    }
  }
  Bump(keys_read_);
  if (current_.empty()) Bump(keys_unmatched_);
  if (current_.size() > 1) Bump(keys_multi_matched_);
  return !current_.empty();
}

void RdbSplitter::OnValueChunk(std::string_view chunk) {
  for (size_t i : current_) targets_[i]->writer.WriteValue(chunk);
}

void RdbSplitter::OnEntryEnd() {
  for (size_t i : current_) {
    Output& t = *targets_[i];
    t.bytes.store(t.writer.bytes_written(), std::memory_order_relaxed);
  }
  current_.clear();
}

void RdbSplitter::OnEnd() {
  for (auto& t : targets_) {
    t->writer.Finish();
    t->bytes.store(t->writer.bytes_written(), std::memory_order_relaxed);
  }
  finished_.store(true, std::memory_order_release);
}

bool RdbSplitter::Backlogged() const {
  for (const auto& t : targets_) {
    if (t->sink->Backlogged()) return true;
  }
  return false;
}

asio::awaitable<absl::Status> RdbSplitter::WaitWritable() {
  for (auto& t : targets_) {
    // Hand buffered bytes over so that the sink can drain them.
    t->writer.FlushBuffer();
    if (t->sink->Backlogged()) CO_RETURN_IF_ERROR(co_await t->sink->WaitWritable());
  }
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
