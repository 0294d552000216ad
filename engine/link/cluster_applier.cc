#include "engine/link/cluster_applier.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"
#include "engine/base/status_context.h"
#include "engine/base/status_macros.h"
#include "engine/rdb/crc64.h"
#include "engine/rdb/rdb_format.h"
#include "engine/rdb/rdb_handler.h"
#include "engine/rdb/rdb_memory_reader.h"
#include "engine/rdb/rdb_reader.h"
#include "engine/resp/resp_parser.h"
#include "engine/route/hash_slot.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kAttachTimeout = absl::Seconds(10);

void AppendLittleEndian(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

bool IsNamed(const RespCommand& command, std::string_view name) {
  return !command.args.empty() && absl::EqualsIgnoreCase(AsAbsl(command.args[0]), AsAbsl(name));
}

}  // namespace

// The snapshot's entries as RESTOREs, sent in batches (RdbHandler's flow
// control: the reader waits while a batch is applied).
class ClusterApplier::SnapshotLoader : public RdbHandler {
 public:
  SnapshotLoader(ClusterApplier& applier) : applier_(applier) {}

  void OnHeader(int version, std::string_view magic) override { version_ = version; }
  void OnAux(std::string_view, std::string_view, std::string_view) override {}
  // A function library is loaded on every master (FUNCTION LOAD REPLACE, as
  // a FUNCTION LOAD in the stream is). Module AUX and Valkey's SLOT_IMPORT
  // records have no command that applies them: not applied (README: what a
  // cluster target does not receive).
  void OnGlobal(uint8_t opcode, std::string_view raw) override {
    if (!error_.ok()) return;
    if (opcode == rdb::kOpFunctionPreGa) {
      error_ = absl::FailedPreconditionError(
          "the snapshot holds a function library in the format of a Redis 7.0 release candidate: "
          "a cluster target cannot load it (upgrade the source to a Redis 7.0 release)");
      return;
    }
    if (opcode != rdb::kOpFunction2) return;
    absl::StatusOr<std::string> code = DecodeRdbString(raw.substr(1));
    if (!code.ok()) {
      error_ = WithContext(code.status(), "the snapshot's FUNCTION2 record: ");
      return;
    }
    batch_.push_back(ClusterUnit{
        ClusterUnit::kEveryMaster, {{"FUNCTION", "LOAD", "REPLACE", *std::move(code)}}, 0});
  }
  void OnSelectDb(int) override {}
  bool OnEntryBegin(const RdbEntry& entry) override {
    if (entry.db != 0 && error_.ok()) {
      error_ = absl::FailedPreconditionError(absl::StrCat(
          "snapshot key '", absl::CHexEscape(AsAbsl(entry.key)), "' is in db ", entry.db,
          ": a cluster has db 0 only (give the target a filter that leaves it out, or "
          "move it to db 0 on the source)"));
    }
    if (!error_.ok()) return false;
    key_.assign(entry.key);
    expire_ms_ = entry.expire_ms;
    payload_.assign(1, static_cast<char>(entry.type));
    return true;
  }
  void OnValueChunk(std::string_view chunk) override { payload_.append(chunk); }
  void OnEntryEnd() override {
    if (!error_.ok()) return;
    ClusterUnit unit;
    unit.slot = KeyHashSlot(key_);
    unit.snapshot_key = true;
    // DUMP's footer: the RDB version (2 bytes) and the CRC64 of all before it.
    AppendLittleEndian(&payload_, version_, 2);
    AppendLittleEndian(&payload_, Crc64(0, payload_), 8);
    std::vector<std::string> restore = {"RESTORE", key_,
                                        std::to_string(expire_ms_ > 0 ? expire_ms_ : 0),
                                        std::move(payload_), "REPLACE"};
    if (expire_ms_ > 0) restore.push_back("ABSTTL");
    bytes_ += key_.size() + restore[3].size();
    unit.commands.push_back(std::move(restore));
    // A payload the masters refuse: its value rebuilt in parts instead.
    if (absl::Status rebuilt = RebuildOversizedRestores(applier_.writer_->max_bulk_bytes(), &unit);
        !rebuilt.ok()) {
      error_ = WithContext(rebuilt,
                           absl::StrCat("target '", applier_.options_.name, "': the snapshot's "));
      return;
    }
    ++keys_;
    batch_.push_back(std::move(unit));
    payload_.clear();
  }
  void OnEnd() override {}
  bool Backlogged() const override {
    return !error_.ok() || bytes_ >= applier_.options_.batch_bytes ||
           batch_.size() >= applier_.options_.batch_units;
  }
  asio::awaitable<absl::Status> WaitWritable() override {
    if (!error_.ok()) co_return error_;
    co_return co_await Send();
  }
  // The last batch sent, and every batch applied.
  asio::awaitable<absl::Status> Flush() {
    if (!error_.ok()) co_return error_;
    CO_RETURN_IF_ERROR(co_await Send());
    co_return co_await WaitInFlight();
  }
  // Until the batch in flight (if any) is applied; its error, if any.
  asio::awaitable<absl::Status> WaitInFlight() {
    if (in_flight_ == nullptr) co_return absl::OkStatus();
    std::shared_ptr<InFlight> flight = std::move(in_flight_);
    while (!flight->done) {
      asio::error_code ec;
      co_await flight->applied.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!flight->status.ok()) co_return flight->status;
    applier_.keys_restored_ += flight->keys;
    co_return absl::OkStatus();
  }

 private:
  // One batch on its way to the masters while the reader gathers the next:
  // the masters restore while reshardd parses (each key is in one batch, so
  // their order does not matter; the stream starts after Flush).
  struct InFlight {
    explicit InFlight(const asio::any_io_executor& executor)
        : applied(executor, asio::steady_timer::time_point::max()) {}
    size_t keys = 0;
    bool done = false;
    absl::Status status;
    asio::steady_timer applied;  // cancelled when done
  };
  static asio::awaitable<void> Apply(ClusterWriter* writer, std::shared_ptr<InFlight> flight,
                                     std::vector<ClusterUnit> batch) {
    flight->status = co_await writer->Apply(std::move(batch));
    flight->done = true;
    flight->applied.cancel();
  }
  // Sends the gathered batch once the one in flight is applied.
  asio::awaitable<absl::Status> Send() {
    CO_RETURN_IF_ERROR(co_await WaitInFlight());
    if (batch_.empty()) co_return absl::OkStatus();
    in_flight_ = std::make_shared<InFlight>(applier_.executor_);
    in_flight_->keys = keys_;
    std::vector<ClusterUnit> batch = std::move(batch_);
    batch_.clear();
    bytes_ = 0;
    keys_ = 0;
    asio::co_spawn(applier_.executor_, Apply(applier_.writer_.get(), in_flight_, std::move(batch)),
                   asio::detached);
    co_return absl::OkStatus();
  }

  ClusterApplier& applier_;
  std::shared_ptr<InFlight> in_flight_;
  int version_ = 0;
  std::string key_;
  int64_t expire_ms_ = -1;
  std::string payload_;
  std::vector<ClusterUnit> batch_;
  size_t bytes_ = 0;
  size_t keys_ = 0;  // snapshot keys in batch_
  absl::Status error_;
};

ClusterApplier::ClusterApplier(Options options, asio::any_io_executor executor,
                               std::unique_ptr<ClusterWriter> writer)
    : options_(std::move(options)), executor_(std::move(executor)), writer_(std::move(writer)) {}

ClusterApplier::~ClusterApplier() {
  *alive_ = false;
  Stop();
}

void ClusterApplier::Stop() {
  stopped_ = true;
  if (link_ != nullptr) link_->Close();
  writer_->Close();
}

void ClusterApplier::Ack(uint64_t offset) {
  acked_offset_ = offset;
  writer_->NoteAppliedThrough(offset);
  if (link_ != nullptr && link_->connected()) link_->SendAck(offset).IgnoreError();
}

asio::awaitable<void> ClusterApplier::AckEverySecond() {
  // A replica ACKs every second even when idle (the master's view of it).
  std::shared_ptr<bool> alive = alive_;
  asio::steady_timer timer(executor_);
  while (*alive && !stopped_) {
    timer.expires_after(std::chrono::seconds(1));
    asio::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!*alive || stopped_) co_return;
    if (acked_offset_ > 0) Ack(acked_offset_);
  }
}

asio::awaitable<absl::Status> ClusterApplier::Run() {
  const std::string what = absl::StrCat("target '", options_.name, "'");
  if (options_.clear_first) {
    absl::Status cleared = co_await writer_->DeleteKeys(options_.clear_first);
    if (!cleared.ok()) {
      co_return WithContext(cleared,
                            absl::StrCat(what, ": deleting its keys before a full sync: "));
    }
  }
  link_ = std::make_unique<UpstreamLink>(executor_, options_.listener, /*announce_port=*/0);
  CO_RETURN_IF_ERROR(co_await link_->Connect(kAttachTimeout));
  CO_ASSIGN_OR_RETURN(FullResync resync, co_await link_->RequestFullSync());
  // The snapshot comes once the job's snapshot starts: no timeout on it.
  CO_ASSIGN_OR_RETURN(RdbFraming framing, co_await link_->ReadRdbFraming(absl::Hours(24 * 365)));
  SnapshotLoader loader(*this);
  uint64_t start = link_->source().consumed();
  RdbReader reader(&link_->source(), &loader);
  absl::Status read = co_await reader.Run();
  if (!read.ok()) {
    // The batch in flight ends first (it refers to the writer).
    (co_await loader.WaitInFlight()).IgnoreError();
    co_return WithContext(read, absl::StrCat(what, ": snapshot: "));
  }
  CO_RETURN_IF_ERROR(co_await loader.Flush());
  CO_RETURN_IF_ERROR(co_await link_->FinishRdbFraming(framing, link_->source().consumed() - start));
  // The TargetMaster sends the stream after the first ACK (as Redis masters do).
  Ack(resync.offset);
  asio::co_spawn(executor_, AckEverySecond(), asio::detached);
  absl::Status streamed = co_await ApplyStream(resync.offset);
  if (stopped_) co_return absl::CancelledError("stopped");
  co_return WithContext(streamed, absl::StrCat(what, ": "));
}

asio::awaitable<absl::Status> ClusterApplier::ApplyStream(uint64_t offset) {
  RespParser parser(RespParser::Limits{});
  parser.Reset(offset);
  read_offset_ = offset;
  int db = 0;
  bool in_multi = false;
  uint64_t multi_offset = 0;
  std::vector<std::vector<std::string>> transaction;
  // The offset every applied command ends at (never inside a MULTI).
  uint64_t applied = offset;
  while (!stopped_) {
    SocketByteSource& source = link_->source();
    std::string_view input = source.Available();
    size_t used = 0;
    std::vector<ClusterUnit> units;
    uint64_t batch_end = applied;
    bool ack_asked = false;
    while (!ack_asked) {
      RespCommand command;
      size_t consumed = 0;
      ParseResult result = parser.Parse(input.substr(used), &consumed, &command);
      if (result == ParseResult::kNeedMore) break;
      if (result == ParseResult::kError) {
        co_return absl::DataLossError(absl::StrCat("stream: ", parser.error()));
      }
      const uint64_t at = offset;
      used += consumed;
      offset += consumed;
      if (command.args.empty()) {
        if (!in_multi) batch_end = offset;
        continue;
      }
      if (IsNamed(command, "REPLCONF")) {
        // GETACK: answered once everything before it is applied.
        ack_asked =
            command.args.size() >= 2 && absl::EqualsIgnoreCase(AsAbsl(command.args[1]), "GETACK");
        if (!in_multi) batch_end = offset;
        continue;
      }
      if (IsNamed(command, "SELECT")) {
        if (command.args.size() != 2 || !absl::SimpleAtoi(AsAbsl(command.args[1]), &db)) {
          co_return absl::DataLossError(absl::StrCat("stream offset ", at, ": malformed SELECT"));
        }
        if (!in_multi) batch_end = offset;
        continue;
      }
      if (IsNamed(command, "MULTI")) {
        in_multi = true;
        multi_offset = at;
        transaction.clear();
        continue;
      }
      if (IsNamed(command, "EXEC")) {
        CO_RETURN_IF_ERROR(
            SplitTransactionForCluster(*options_.commands, transaction, db, multi_offset, &units));
        in_multi = false;
        transaction.clear();
        batch_end = offset;
        continue;
      }
      if (IsNamed(command, "DISCARD")) {
        in_multi = false;
        transaction.clear();
        batch_end = offset;
        continue;
      }
      if (in_multi) {
        transaction.emplace_back(command.args.begin(), command.args.end());
        continue;
      }
      CO_RETURN_IF_ERROR(SplitCommandForCluster(*options_.commands, command.args, db, at, &units));
      batch_end = offset;
    }
    source.Consume(used);
    read_offset_ = offset;
    for (ClusterUnit& unit : units) {
      // A key copied from the source (materialised) may be too big for one RESTORE.
      CO_RETURN_IF_ERROR(RebuildOversizedRestores(writer_->max_bulk_bytes(), &unit));
    }
    if (!units.empty()) CO_RETURN_IF_ERROR(co_await writer_->Apply(std::move(units)));
    if (batch_end != applied || ack_asked) {
      applied = batch_end;
      Ack(applied);
    }
    if (ack_asked) continue;
    CO_RETURN_IF_ERROR(co_await source.Fill(source.Available().size() + 1));
  }
  co_return absl::CancelledError("stopped");
}

}  // namespace reshard::engine
