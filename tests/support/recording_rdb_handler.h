#pragma once

// RecordingRdbHandler: an RdbHandler that writes down every event as text
// (for exact comparisons) and keeps each key's raw value bytes.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/rdb/rdb_handler.h"

namespace reshard::engine::testing {

class RecordingRdbHandler : public RdbHandler {
 public:
  struct Key {
    int db;
    int type;
    int64_t expire_ms;
    std::string raw_header;
    std::string value;
    bool operator==(const Key& o) const {
      return db == o.db && type == o.type && expire_ms == o.expire_ms &&
             raw_header == o.raw_header && value == o.value;
    }
  };

  void OnHeader(int version, std::string_view magic) override {
    events.push_back(absl::StrCat("header ", version, " ", std::string(magic)));
  }
  void OnAux(std::string_view key, std::string_view value, std::string_view raw) override {
    events.push_back(absl::StrCat("aux ", std::string(key), "=", std::string(value)));
    aux[std::string(key)] = std::string(value);
  }
  void OnGlobal(uint8_t opcode, std::string_view raw) override {
    events.push_back(absl::StrCat("global ", opcode, " ", absl::CHexEscape(std::string(raw))));
  }
  void OnSelectDb(int db) override { events.push_back(absl::StrCat("select ", db)); }
  bool OnEntryBegin(const RdbEntry& e) override {
    current = std::string(e.key);
    events.push_back(absl::StrCat("entry db=", e.db, " type=", e.type,
                                  " key=", absl::CHexEscape(current), " expire=", e.expire_ms));
    keys[current] = Key{e.db, e.type, e.expire_ms, std::string(e.raw_header), ""};
    entries.push_back(Entry{current, keys[current]});
    order.push_back(current);
    return want_values;
  }
  void OnValueChunk(std::string_view chunk) override {
    ++chunks;
    if (chunk.size() > max_chunk) max_chunk = chunk.size();
    keys[current].value.append(chunk);
    entries.back().second.value.append(chunk);
  }
  void OnEntryEnd() override { events.push_back("end-entry"); }
  void OnEnd() override {
    events.push_back("end");
    ended = true;
  }

  using Entry = std::pair<std::string, Key>;

  bool want_values = true;
  // Every entry in file order (the same key may appear in several dbs).
  std::vector<Entry> entries;
  std::vector<std::string> events;
  std::map<std::string, std::string> aux;
  std::map<std::string, Key> keys;
  std::vector<std::string> order;
  std::string current;
  size_t chunks = 0;
  size_t max_chunk = 0;
  bool ended = false;
};

}  // namespace reshard::engine::testing
