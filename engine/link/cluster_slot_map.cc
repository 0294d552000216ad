#include "engine/link/cluster_slot_map.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/base/absl_view.h"

namespace reshard::engine {
namespace {

bool IsList(const RespValue& v) {
  return v.type == RespValue::Type::kArray || v.type == RespValue::Type::kMap ||
         v.type == RespValue::Type::kSet;
}

// The value of `field` in a flat [k0, v0, k1, v1, ...] list; nullptr if absent.
const RespValue* Field(const RespValue& map, std::string_view field) {
  for (size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    if (map.elements[i].str == field) return &map.elements[i + 1];
  }
  return nullptr;
}

// A node's address: servers leave the ip empty (or "?") for themselves.
HostPort NodeAddress(std::string host, int64_t port, const HostPort& asked) {
  if (host.empty() || host == "?") host = asked.host;
  return HostPort{std::move(host), static_cast<uint16_t>(port)};
}

absl::Status Malformed(std::string_view command, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(AsAbsl(command), " reply: ", AsAbsl(what)));
}

}  // namespace

int ClusterSlotMap::IndexOf(const HostPort& master) const {
  for (size_t i = 0; i < masters_.size(); ++i) {
    if (masters_[i].host == master.host && masters_[i].port == master.port) return i;
  }
  return -1;
}

int ClusterSlotMap::AddNode(const HostPort& master) {
  int index = IndexOf(master);
  if (index >= 0) return index;
  masters_.push_back(master);
  return masters_.size() - 1;
}

int ClusterSlotMap::SetOwner(int slot, const HostPort& master) {
  int index = AddNode(master);
  owner_[slot] = index;
  return index;
}

std::string ClusterSlotMap::UnservedSlots() const {
  int count = 0;
  return SlotsOf(-1, &count);
}

std::string ClusterSlotMap::SlotsOf(int index, int* count) const {
  std::vector<std::string> ranges;
  *count = 0;
  for (int slot = 0; slot < kClusterSlots;) {
    if (owner_[slot] != index) {
      ++slot;
      continue;
    }
    int end = slot;
    while (end + 1 < kClusterSlots && owner_[end + 1] == index) ++end;
    ranges.push_back(end == slot ? absl::StrCat(slot) : absl::StrCat(slot, "-", end));
    *count += end - slot + 1;
    slot = end + 1;
  }
  return absl::StrJoin(ranges, ",");
}

absl::StatusOr<ClusterSlotMap> ClusterSlotMap::FromShards(const RespValue& reply,
                                                          const HostPort& asked) {
  ClusterSlotMap map;
  map.owner_.fill(-1);
  if (!IsList(reply)) return Malformed("CLUSTER SHARDS", "not an array");
  for (const RespValue& shard : reply.elements) {
    const RespValue* slots = Field(shard, "slots");
    const RespValue* nodes = Field(shard, "nodes");
    if (slots == nullptr || nodes == nullptr) {
      return Malformed("CLUSTER SHARDS", "a shard without slots or nodes");
    }
    if (slots->elements.empty()) continue;  // a shard that serves nothing
    int master = -1;
    for (const RespValue& node : nodes->elements) {
      const RespValue* role = Field(node, "role");
      const RespValue* health = Field(node, "health");
      if (role == nullptr || role->str != "master") continue;
      if (health != nullptr && health->str == "fail") continue;
      const RespValue* ip = Field(node, "ip");
      const RespValue* endpoint = Field(node, "endpoint");
      const RespValue* port = Field(node, "port");
      if (port == nullptr) port = Field(node, "tls-port");
      if (port == nullptr || (ip == nullptr && endpoint == nullptr)) {
        return Malformed("CLUSTER SHARDS", "a master without ip or port");
      }
      std::string host = endpoint != nullptr ? endpoint->str : ip->str;
      master = map.AddNode(NodeAddress(host, port->integer, asked));
    }
    if (master < 0) continue;  // its slots stay unserved
    for (size_t i = 0; i + 1 < slots->elements.size(); i += 2) {
      int64_t begin = slots->elements[i].integer;
      int64_t end = slots->elements[i + 1].integer;
      if (begin < 0 || end >= kClusterSlots || begin > end) {
        return Malformed("CLUSTER SHARDS", absl::StrCat("bad slot range ", begin, "-", end));
      }
      for (int64_t slot = begin; slot <= end; ++slot) map.owner_[slot] = master;
    }
  }
  return map;
}

absl::StatusOr<ClusterSlotMap> ClusterSlotMap::FromSlots(const RespValue& reply,
                                                         const HostPort& asked) {
  ClusterSlotMap map;
  map.owner_.fill(-1);
  if (!IsList(reply)) return Malformed("CLUSTER SLOTS", "not an array");
  for (const RespValue& range : reply.elements) {
    if (range.elements.size() < 3 || range.elements[2].elements.size() < 2) {
      return Malformed("CLUSTER SLOTS", "a range without a master");
    }
    int64_t begin = range.elements[0].integer;
    int64_t end = range.elements[1].integer;
    if (begin < 0 || end >= kClusterSlots || begin > end) {
      return Malformed("CLUSTER SLOTS", absl::StrCat("bad slot range ", begin, "-", end));
    }
    const RespValue& node = range.elements[2];
    int master = map.AddNode(NodeAddress(node.elements[0].str, node.elements[1].integer, asked));
    for (int64_t slot = begin; slot <= end; ++slot) map.owner_[slot] = master;
  }
  return map;
}

absl::StatusOr<ClusterRedirect> ParseClusterRedirect(std::string_view error) {
  std::vector<absl::string_view> parts = absl::StrSplit(AsAbsl(error), ' ');
  ClusterRedirect redirect;
  if (parts.size() != 3 || (parts[0] != "MOVED" && parts[0] != "ASK") ||
      !absl::SimpleAtoi(parts[1], &redirect.slot) || redirect.slot < 0 ||
      redirect.slot >= kClusterSlots) {
    return absl::InvalidArgumentError(absl::StrCat("not a cluster redirection: ", AsAbsl(error)));
  }
  redirect.ask = parts[0] == "ASK";
  // The address may be "host:port" or "[v6]:port"; an empty host means the
  // node that answered (servers write ":port" when they do not know their ip).
  std::string_view address(parts[2].data(), parts[2].size());
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(AsAbsl(address.substr(colon + 1)), &port)) {
    return absl::InvalidArgumentError(absl::StrCat("bad address in redirection: ", AsAbsl(error)));
  }
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  redirect.address = HostPort{std::string(host), static_cast<uint16_t>(port)};
  return redirect;
}

}  // namespace reshard::engine
