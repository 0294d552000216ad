#pragma once

// The values passed between the command router and the key materialiser
// (engine/link/key_materializer.h). When the router cannot forward a command
// exactly it asks for the command's keys as Materializations; the
// materialiser reads them from the source and hands each back as a
// MaterializedKey, which the router sends to the targets
// (CommandRouter::EmitMaterialized). Plain values: copyable, no references
// into other objects except KeyRef, which views a command's bytes.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"

namespace reshard::engine {

// A request to copy keys from the source as they are now: all the keys (read
// and written) of a command that cannot be routed exactly, in one db.
struct Materialization {
  int db = 0;
  std::vector<std::string> keys;

  friend bool operator==(const Materialization&, const Materialization&) = default;
};

// One key as the source had it at a given offset (DUMP and its expiry).
struct MaterializedKey {
  std::string key;
  bool exists = false;
  std::string payload;  // the DUMP payload when it exists
  // 0: no expiry. Else an absolute unix time in ms when the batch's
  // absolute_ttl, a relative ttl in ms otherwise (sources without PEXPIRETIME).
  int64_t ttl_ms = 0;
};

// A key in a db. `key` views bytes owned elsewhere (the command being
// routed, or a skip window's key) and is valid only as long as they are.
struct KeyRef {
  int db = 0;
  std::string_view key;
};

// A key in a db, owned. Hash and equality are transparent: a set or map of
// DbKey is searched with a KeyRef.
struct DbKey {
  int db = 0;
  std::string key;

  KeyRef ref() const { return KeyRef{db, key}; }
  friend bool operator==(const DbKey&, const DbKey&) = default;
};

struct DbKeyHash {
  using is_transparent = void;
  size_t operator()(const KeyRef& ref) const {
    return absl::Hash<std::pair<int, absl::string_view>>()(
        {ref.db, absl::string_view(ref.key.data(), ref.key.size())});
  }
  size_t operator()(const DbKey& key) const { return (*this)(key.ref()); }
};

struct DbKeyEq {
  using is_transparent = void;
  static KeyRef Ref(const KeyRef& ref) { return ref; }
  static KeyRef Ref(const DbKey& key) { return key.ref(); }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    KeyRef x = Ref(a), y = Ref(b);
    return x.db == y.db && x.key == y.key;
  }
};

// Adds each of `refs` to the request for its db in *requests (appending a
// request for a db it lacks), skipping keys already requested: one request
// per db, each key once, in the order first seen.
void AddToRequests(std::span<const KeyRef> refs, std::vector<Materialization>* requests);

}  // namespace reshard::engine
