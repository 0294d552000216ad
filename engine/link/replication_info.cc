#include "engine/link/replication_info.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/base/absl_view.h"

namespace reshard::engine {

std::string InfoField(std::string_view info, std::string_view name) {
  std::string key = absl::StrCat(AsAbsl(name), ":");
  for (absl::string_view line : absl::StrSplit(AsAbsl(info), absl::ByAnyChar("\r\n"))) {
    if (absl::StartsWith(line, key)) return std::string(line.substr(key.size()));
  }
  return "";
}

absl::StatusOr<ReplicationInfo> ParseReplicationInfo(std::string_view info) {
  ReplicationInfo out;
  bool have_role = false;
  for (absl::string_view line :
       absl::StrSplit(AsAbsl(info), absl::ByAnyChar("\r\n"), absl::SkipEmpty())) {
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    absl::string_view name = line.substr(0, colon);
    absl::string_view value = line.substr(colon + 1);
    auto number = [&](auto* field) -> absl::Status {
      if (absl::SimpleAtoi(value, field)) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat("INFO replication: ", name, " is not a number: '", value, "'"));
    };
    absl::Status parsed;
    if (name == "role") {
      out.role = std::string(value);
      have_role = true;
    } else if (name == "master_host") {
      out.master_host = std::string(value);
    } else if (name == "master_port") {
      uint32_t port = 0;
      parsed = number(&port);
      out.master_port = static_cast<uint16_t>(port);
    } else if (name == "master_link_status") {
      out.master_link_status = std::string(value);
    } else if (name == "master_replid") {
      out.replid = std::string(value);
    } else if (name == "master_replid2") {
      out.replid2 = std::string(value);
    } else if (name == "master_repl_offset") {
      parsed = number(&out.master_repl_offset);
    } else if (name == "second_repl_offset") {
      parsed = number(&out.second_repl_offset);
    } else if (name == "repl_backlog_active") {
      out.backlog_active = value == "1";
    } else if (name == "repl_backlog_size") {
      parsed = number(&out.backlog_size);
    } else if (name == "repl_backlog_first_byte_offset") {
      parsed = number(&out.backlog_first_byte_offset);
    } else if (name == "repl_backlog_histlen") {
      parsed = number(&out.backlog_histlen);
    }
    if (!parsed.ok()) return parsed;
  }
  if (!have_role) return absl::InvalidArgumentError("INFO replication has no role");
  return out;
}

std::string WhyNoPartialSync(const ReplicationInfo& info, std::string_view replid,
                             uint64_t psync_offset) {
  bool current = replid == info.replid;
  bool previous = !info.replid2.empty() && replid == info.replid2 && info.second_repl_offset >= 0 &&
                  psync_offset <= static_cast<uint64_t>(info.second_repl_offset);
  if (!current && !previous) {
    return absl::StrCat("the source's replication id is ", info.replid, ", the job streamed ",
                        AsAbsl(replid), " (the source restarted or failed over)");
  }
  if (!info.backlog_active) {
    return "the source has no replication backlog (no replica for longer than its "
           "repl-backlog-ttl, or it restarted)";
  }
  uint64_t first = info.backlog_first_byte_offset;
  uint64_t end = first + info.backlog_histlen;
  if (psync_offset < first) {
    return absl::StrCat("the source's backlog starts at offset ", first,
                        ", after the job's offset ", psync_offset - 1,
                        ": it moved on while reshardd was down (repl-backlog-size ",
                        info.backlog_size, ")");
  }
  if (psync_offset > end) {
    return absl::StrCat("the source's backlog ends at offset ", end - 1,
                        ", before the job's offset ", psync_offset - 1);
  }
  return "";
}

}  // namespace reshard::engine
