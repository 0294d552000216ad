#include "engine/route/materialization.h"

#include <algorithm>

namespace reshard::engine {

void AddToRequests(std::span<const KeyRef> refs, std::vector<Materialization>* requests) {
  for (const KeyRef& ref : refs) {
    auto it = std::find_if(requests->begin(), requests->end(),
                           [&](const Materialization& m) { return m.db == ref.db; });
    if (it == requests->end()) {
      requests->push_back(Materialization{ref.db, {}});
      it = requests->end() - 1;
    }
    if (std::find(it->keys.begin(), it->keys.end(), ref.key) == it->keys.end()) {
      it->keys.emplace_back(ref.key);
    }
  }
}

}  // namespace reshard::engine
