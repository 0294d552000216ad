#pragma once

// ClusterSlotMap: which master of a Redis Cluster owns each of the 16384 hash
// slots, as CLUSTER SHARDS (Redis >= 7.0, Valkey) or CLUSTER SLOTS (older
// servers) describe it, and as MOVED redirections update it. Plain data; the
// parsers take the reply of the node `asked` (whose address stands in for an
// empty or "?" ip, as servers write for themselves).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/endpoint.h"
#include "engine/resp/resp_reply.h"
#include "engine/route/hash_slot.h"

namespace reshard::engine {

class ClusterSlotMap {
 public:
  // Masters, in the order they were first seen (and nodes an ASK named).
  const std::vector<HostPort>& masters() const { return masters_; }
  // The index in masters() of the slot's owner; -1 when no master serves it.
  int owner(int slot) const { return owner_[slot]; }
  // Slots no master serves, as "0-99,200" (empty when every slot is served).
  std::string UnservedSlots() const;
  // The slots master `index` owns, as "0-5460,6000", and how many (*count).
  std::string SlotsOf(int index, int* count) const;
  // Makes `master` (added when new) the owner of `slot` (a MOVED reply).
  // Returns its index.
  int SetOwner(int slot, const HostPort& master);
  // The index of `master`, or -1.
  int IndexOf(const HostPort& master) const;
  // The index of `node`, added (owning no slot) when new.
  int AddNode(const HostPort& node);

  // INVALID_ARGUMENT naming what is wrong when the reply has another shape.
  static absl::StatusOr<ClusterSlotMap> FromShards(const RespValue& reply, const HostPort& asked);
  static absl::StatusOr<ClusterSlotMap> FromSlots(const RespValue& reply, const HostPort& asked);

 private:
  std::vector<HostPort> masters_;
  std::array<int16_t, kClusterSlots> owner_{};
};

// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381" (without the
// leading '-'): the slot and the address; INVALID_ARGUMENT otherwise.
struct ClusterRedirect {
  bool ask = false;
  int slot = 0;
  HostPort address;
};
absl::StatusOr<ClusterRedirect> ParseClusterRedirect(std::string_view error);

}  // namespace reshard::engine
