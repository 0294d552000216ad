#pragma once

// SentinelWatcher: where the master of a Sentinel-monitored source is. It
// asks the Sentinels (in turn, until one answers) SENTINEL
// get-master-addr-by-name <master_name>, then SUBSCRIBEs to +switch-master
// on the same connection and reports each switch of that master. A dropped
// or silent connection (no message for `refresh`) is replaced, and the
// master asked for again: a switch missed meanwhile is reported too. It
// never fails the job; last_error() says what went wrong. Job thread only.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "engine/io/endpoint.h"
#include "engine/resp/resp_reply.h"

namespace reshard::engine {

// The Sentinels to ask and about which master.
struct SentinelConfig {
  std::vector<HostPort> sentinels;
  std::string master_name;
  Credentials credentials;  // the Sentinels' own (AUTH), not the master's
  TlsClientOptions tls;     // tls.enabled: every Sentinel is reached on its tls-port
};

// The master of a get-master-addr-by-name reply ([ip, port]); NOT_FOUND
// when the Sentinel does not know `master_name` (nil), INVALID_ARGUMENT for
// another shape.
absl::StatusOr<HostPort> ParseMasterAddrReply(const RespValue& reply,
                                              const std::string& master_name);
// The new master of a +switch-master message ("<name> <old ip> <old port>
// <new ip> <new port>") when it is about `master_name`; nullopt otherwise.
std::optional<HostPort> ParseSwitchMaster(std::string_view message, const std::string& master_name);

class SentinelWatcher {
 public:
  SentinelWatcher(asio::any_io_executor executor, SentinelConfig config);
  ~SentinelWatcher();  // Close()

  // The current master, asking each Sentinel in turn (each within
  // kConnectTimeout). UNAVAILABLE naming the last failure when none answers,
  // NOT_FOUND when they do not know the master. On a connection of its
  // own: it may run beside Watch.
  asio::awaitable<absl::StatusOr<HostPort>> AskMaster();
  // Spawns the watching coroutine: `on_master(address)` for every master it
  // learns that differs from the last one it reported or was told of
  // (`current`). Runs until Close().
  void Watch(HostPort current, std::function<void(const HostPort&)> on_master,
             absl::Duration refresh = absl::Seconds(10));
  void Close();

  absl::Status last_error() const;
  const SentinelConfig& config() const;

  struct State;  // shared with the coroutine (sentinel_watcher.cc)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace reshard::engine
