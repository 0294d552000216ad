#include "tests/support/job_targets.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace reshard::testing {

engine::TargetSpec MakeTarget(std::string name, engine::FilterSpec filter, uint16_t listen_port,
                              const RedisServer* managed) {
  engine::TargetSpec target;
  target.name = std::move(name);
  target.filter = std::move(filter);
  target.listen = absl::StrCat("127.0.0.1:", listen_port);
  if (managed != nullptr) target.replica = engine::Endpoint{managed->address(), {}};
  return target;
}

engine::TargetSpec MakeClusterTarget(std::string name, std::vector<std::string> nodes,
                                     engine::FilterSpec filter) {
  engine::TargetSpec target;
  target.name = std::move(name);
  target.cluster.emplace();
  target.cluster->nodes = std::move(nodes);
  target.filter = std::move(filter);
  return target;
}

}  // namespace reshard::testing
