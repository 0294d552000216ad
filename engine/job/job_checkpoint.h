#pragma once

// JobCheckpoint: what a job records so that a restarted reshardd continues
// it without a fork on the source or a full resync of a target: the source's
// replication id and the offset consumed, the stream's db there, each
// target's replication id and offset (its stream routed from the source up
// to that offset, kept in its StreamLog), the materialised keys' skip
// windows, and whether the job was paused. One line of text per record
// (Encode/Decode), with a CRC so a torn or damaged line is never taken.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace reshard::engine {

struct JobCheckpoint {
  std::string source_replid;
  uint64_t source_offset = 0;  // last source byte applied: PSYNC <replid> <offset + 1>
  int source_db = -1;          // the source stream's db there (-1: not known)
  bool paused = false;
  struct Target {
    std::string replid;   // empty: its stream cannot be continued (it needs a full resync)
    uint64_t offset = 0;  // its own offset: everything routed up to source_offset
    bool operator==(const Target&) const = default;
  };
  std::vector<Target> targets;  // index-aligned with the spec's targets
  struct SkipWindow {
    int db = 0;
    std::string key;
    uint64_t end = 0;
    bool operator==(const SkipWindow&) const = default;
  };
  std::vector<SkipWindow> skip_windows;

  bool operator==(const JobCheckpoint&) const = default;
};

// One line, ending in "\n": "v1 src=<replid>:<offset> db=<n> paused=<0|1>
// t=<replid or ->:<offset> ... w=<db>:<hex key>:<end> ... crc=<16 hex>".
std::string EncodeCheckpoint(const JobCheckpoint& checkpoint);
// The inverse, for one line without its "\n". DATA_LOSS naming what is wrong
// (a bad CRC, a missing or malformed field).
absl::StatusOr<JobCheckpoint> DecodeCheckpoint(std::string_view line);

}  // namespace reshard::engine
