#pragma once

// RdbInspector: what `reshardctl rdb inspect` reports about one RDB file,
// gathered in one streaming pass (values are counted, never held): version
// and magic, aux fields, keys per db and per type, value bytes per type, keys
// with an expiry, dataset-wide records (functions, module aux) and the
// biggest keys.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/rdb/rdb_handler.h"

namespace reshard::client {

// The name `reshardctl rdb inspect` prints for an RDB value type byte:
// "string", "list-quicklist2", "hash-listpack", "set-intset", "stream-v2",
// "module2", ... Type 22 is "hash2" in Valkey's RDB 80 and
// "hash-metadata-pre-ga" otherwise. Unknown bytes: "type-N".
std::string RdbTypeName(uint8_t type, int rdb_version);

// One key of the snapshot. `bytes` counts the encoded value as stored in the
// RDB (after LZF compression), without the key and its prefix opcodes.
struct RdbKeyInfo {
  int db = 0;
  std::string key;
  std::string type;  // RdbTypeName
  uint64_t bytes = 0;
  int64_t expire_ms = -1;
};

// Keeps the `limit` keys with the most bytes (ties: the key seen first).
class BiggestKeys {
 public:
  explicit BiggestKeys(size_t limit) : limit_(limit) {}
  void Offer(const RdbKeyInfo& key);
  // Biggest first.
  std::vector<RdbKeyInfo> Sorted() const;

 private:
  size_t limit_;
  uint64_t seen_ = 0;
  // (bytes, -sequence) -> key; the smallest is evicted first.
  std::map<std::pair<uint64_t, int64_t>, RdbKeyInfo> keys_;
};

struct RdbTypeStats {
  uint64_t keys = 0;
  uint64_t value_bytes = 0;
};

struct RdbInspection {
  int version = 0;
  std::string magic;  // "REDIS0011", "VALKEY080"
  uint64_t file_bytes = 0;
  std::vector<std::pair<std::string, std::string>> aux;  // in file order
  std::map<int, uint64_t> keys_per_db;
  std::map<std::string, RdbTypeStats> types;  // by RdbTypeName
  uint64_t keys = 0;
  uint64_t keys_with_ttl = 0;
  uint64_t value_bytes = 0;
  uint64_t functions = 0;           // FUNCTION2 / FUNCTION (7.0-rc) records
  uint64_t module_aux = 0;          // MODULE_AUX records
  uint64_t other_globals = 0;       // Valkey SLOT_IMPORT
  std::vector<RdbKeyInfo> biggest;  // filled by RdbInspector::Finish
};

// An RdbHandler that fills an RdbInspection. Wants every value (to count its
// bytes). Not thread-safe.
class RdbInspector : public engine::RdbHandler {
 public:
  explicit RdbInspector(size_t biggest_limit = 10) : biggest_(biggest_limit) {}

  // Called after each key with its complete RdbKeyInfo (e.g. to rank keys
  // per target in `rdb plan`).
  void set_on_key(std::function<void(const RdbKeyInfo&)> on_key) { on_key_ = std::move(on_key); }

  void OnHeader(int version, std::string_view magic) override;
  void OnAux(std::string_view key, std::string_view value, std::string_view raw) override;
  void OnGlobal(uint8_t opcode, std::string_view raw) override;
  void OnSelectDb(int db) override {}
  bool OnEntryBegin(const engine::RdbEntry& entry) override;
  void OnValueChunk(std::string_view chunk) override { current_.bytes += chunk.size(); }
  void OnEntryEnd() override;
  void OnEnd() override {}

  // Copies the biggest keys into the inspection and returns it.
  RdbInspection Finish();

 private:
  RdbInspection result_;
  BiggestKeys biggest_;
  RdbKeyInfo current_;
  std::function<void(const RdbKeyInfo&)> on_key_;
};

// Reads `path` through an RdbInspector. Errors: the file's (NOT_FOUND, ...)
// or the reader's (DATA_LOSS "rdb offset N: ...: ...").
absl::StatusOr<RdbInspection> InspectRdbFile(const std::string& path, size_t biggest_limit = 10);

}  // namespace reshard::client
