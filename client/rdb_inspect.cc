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
  // Only Valkey's RDB 80 gives any type byte a meaning of its own (22).
  return rdb::TypeName(type, rdb_version == rdb::kValkeyVersion ? rdb::RdbFlavour::kValkey
                                                                : rdb::RdbFlavour::kRedis);
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
