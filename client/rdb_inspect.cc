#include "client/rdb_inspect.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"
#include "engine/io/file_byte_source.h"
#include "engine/rdb/rdb_format.h"
#include "engine/rdb/rdb_reader.h"

namespace reshard::client {

namespace rdb = engine::rdb;

std::string RdbTypeName(uint8_t type, int rdb_version) {
  switch (type) {
    case rdb::kTypeString:
      return "string";
    case rdb::kTypeList:
      return "list";
    case rdb::kTypeSet:
      return "set";
    case rdb::kTypeZset:
      return "zset";
    case rdb::kTypeHash:
      return "hash";
    case rdb::kTypeZset2:
      return "zset2";
    case rdb::kTypeModulePreGa:
      return "module-pre-ga";
    case rdb::kTypeModule2:
      return "module2";
    case rdb::kTypeHashZipmap:
      return "hash-zipmap";
    case rdb::kTypeListZiplist:
      return "list-ziplist";
    case rdb::kTypeSetIntset:
      return "set-intset";
    case rdb::kTypeZsetZiplist:
      return "zset-ziplist";
    case rdb::kTypeHashZiplist:
      return "hash-ziplist";
    case rdb::kTypeListQuicklist:
      return "list-quicklist";
    case rdb::kTypeStreamListpacks:
      return "stream-v1";
    case rdb::kTypeHashListpack:
      return "hash-listpack";
    case rdb::kTypeZsetListpack:
      return "zset-listpack";
    case rdb::kTypeListQuicklist2:
      return "list-quicklist2";
    case rdb::kTypeStreamListpacks2:
      return "stream-v2";
    case rdb::kTypeSetListpack:
      return "set-listpack";
    case rdb::kTypeStreamListpacks3:
      return "stream-v3";
    case rdb::kTypeHashMetadataPreGa:
      // The same byte is Valkey 9's HASH_2.
      return rdb_version == rdb::kValkeyVersion ? "hash2" : "hash-metadata-pre-ga";
    case rdb::kTypeHashListpackExPreGa:
      return "hash-listpack-ex-pre-ga";
    case rdb::kTypeHashMetadata:
      return "hash-metadata";
    case rdb::kTypeHashListpackEx:
      return "hash-listpack-ex";
    case rdb::kTypeStreamListpacks4:
      return "stream-v4";
  }
  return absl::StrCat("type-", type);
}

void BiggestKeys::Offer(const RdbKeyInfo& key) {
  const int64_t sequence = static_cast<int64_t>(seen_++);
  if (limit_ == 0) return;
  std::pair<uint64_t, int64_t> rank{key.bytes, -sequence};
  if (keys_.size() == limit_) {
    if (rank < keys_.begin()->first) return;
    keys_.erase(keys_.begin());
  }
  keys_.emplace(rank, key);
}

std::vector<RdbKeyInfo> BiggestKeys::Sorted() const {
  std::vector<RdbKeyInfo> out;
  for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) out.push_back(it->second);
  return out;
}

void RdbInspector::OnHeader(int version, std::string_view magic) {
  result_.version = version;
  result_.magic = std::string(magic);
}

void RdbInspector::OnAux(std::string_view key, std::string_view value, std::string_view raw) {
  result_.aux.emplace_back(std::string(key), std::string(value));
}

void RdbInspector::OnGlobal(uint8_t opcode, std::string_view raw) {
  if (opcode == rdb::kOpFunction2 || opcode == rdb::kOpFunctionPreGa) {
    ++result_.functions;
  } else if (opcode == rdb::kOpModuleAux) {
    ++result_.module_aux;
  } else {
    ++result_.other_globals;
  }
}

bool RdbInspector::OnEntryBegin(const engine::RdbEntry& entry) {
  current_.db = entry.db;
  current_.key.assign(entry.key.data(), entry.key.size());
  current_.type = RdbTypeName(entry.type, result_.version);
  current_.bytes = 0;
  current_.expire_ms = entry.expire_ms;
  return true;
}

void RdbInspector::OnEntryEnd() {
  ++result_.keys;
  ++result_.keys_per_db[current_.db];
  if (current_.expire_ms >= 0) ++result_.keys_with_ttl;
  RdbTypeStats& type = result_.types[current_.type];
  ++type.keys;
  type.value_bytes += current_.bytes;
  result_.value_bytes += current_.bytes;
  biggest_.Offer(current_);
  if (on_key_) on_key_(current_);
}

RdbInspection RdbInspector::Finish() {
  result_.biggest = biggest_.Sorted();
  return result_;
}

absl::StatusOr<RdbInspection> InspectRdbFile(const std::string& path, size_t biggest_limit) {
  absl::StatusOr<std::unique_ptr<engine::FileByteSource>> source =
      engine::FileByteSource::Open(path);
  if (!source.ok()) return source.status();
  RdbInspector inspector(biggest_limit);
  engine::RdbReader reader(source->get(), &inspector);
  absl::Status status = engine::RunRdbReaderSync(reader);
  if (!status.ok()) return status;
  RdbInspection inspection = inspector.Finish();
  inspection.file_bytes = reader.offset();
  return inspection;
}

}  // namespace reshard::client
