#pragma once

// DownstreamEvents: what a DownstreamSession reports to the per-target master
// that accepted it, and the master's answer to the replica's PSYNC. The
// session knows only this interface, so the two do not call each other's
// concrete classes (TargetMaster implements it).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace reshard::engine {

class DownstreamSession;

// A replica's PSYNC and what it announced before it.
struct PsyncRequest {
  std::string_view replid;  // as sent: "?" for a full sync
  std::string_view offset;  // as sent, unparsed
  // REPLCONF version <x.y.z> (Valkey replicas send it); empty when not sent.
  std::string_view announced_version;
  std::string_view peer_host;       // the connection's address, without the port
  std::string_view listening_port;  // REPLCONF listening-port; empty when not sent
};

// The master's answer to PSYNC <replid> <offset>.
struct PsyncAnswer {
  enum class Kind {
    kFullResync,  // +FULLRESYNC <replid> <offset>; the snapshot follows later
    kContinue,    // +CONTINUE <replid>, then `backlog` (the bytes from the offset asked)
    kRefused,     // -<error>; the session stays in its handshake
  };
  Kind kind = Kind::kRefused;
  std::string replid;
  uint64_t offset = 0;  // kFullResync: the offset the stream will continue from
  std::string backlog;  // kContinue
  std::string error;    // kRefused: the message, without "-" and CRLF ("ERR reshard: ...")
};

class DownstreamEvents {
 public:
  virtual ~DownstreamEvents() = default;
  // The replica sent PSYNC. `session` is the caller; the master may keep it
  // as its active session. The request's views are valid during the call.
  virtual PsyncAnswer OnPsync(std::shared_ptr<DownstreamSession> session,
                              const PsyncRequest& request) = 0;
  // REPLCONF ACK <offset> after a successful PSYNC.
  virtual void OnAck(uint64_t offset) = 0;
  // `bytes` were written to the socket.
  virtual void OnWritten(uint64_t bytes) = 0;
  // The writer took the pending bytes for its next write (the queue emptied).
  virtual void OnPendingTaken() = 0;
  // The session closed (once per session); `session` is not valid after return
  // unless the master still holds a shared_ptr to it.
  virtual void OnSessionClosed(DownstreamSession* session, const absl::Status& why) = 0;
};

}  // namespace reshard::engine
