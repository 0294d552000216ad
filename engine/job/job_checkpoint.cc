#include "engine/job/job_checkpoint.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "engine/base/absl_view.h"
#include "engine/rdb/crc64.h"

namespace reshard::engine {
namespace {

constexpr char kVersion[] = "v1";
constexpr char kCrcField[] = " crc=";
constexpr size_t kCrcFieldSize = sizeof(kCrcField) - 1;

absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(absl::StrCat("job checkpoint: ", AsAbsl(what)));
}

bool IsReplid(std::string_view id) {
  if (id.size() != 40) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// "<replid>:<offset>" ("-" for no replid when `allow_none`).
bool ParseIdOffset(std::string_view text, bool allow_none, std::string* id, uint64_t* offset) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view head = text.substr(0, colon);
  if (!absl::SimpleAtoi(AsAbsl(text.substr(colon + 1)), offset)) return false;
  if (allow_none && head == "-") {
    id->clear();
    return true;
  }
  if (!IsReplid(head)) return false;
  *id = std::string(head);
  return true;
}

}  // namespace

std::string EncodeCheckpoint(const JobCheckpoint& c) {
  std::string line = absl::StrCat(kVersion, " src=", c.source_replid, ":", c.source_offset,
                                  " db=", c.source_db, " paused=", c.paused ? 1 : 0);
  for (const JobCheckpoint::Target& t : c.targets) {
    absl::StrAppend(&line, " t=", t.replid.empty() ? "-" : t.replid, ":", t.offset);
  }
  for (const JobCheckpoint::SkipWindow& w : c.skip_windows) {
    absl::StrAppend(&line, " w=", w.db, ":", absl::BytesToHexString(AsAbsl(w.key)), ":", w.end);
  }
  absl::StrAppend(&line, kCrcField, absl::StrFormat("%016x", Crc64(0, line)), "\n");
  return line;
}

absl::StatusOr<JobCheckpoint> DecodeCheckpoint(std::string_view line) {
  size_t crc_at = line.rfind(kCrcField);
  if (crc_at == std::string_view::npos) return Malformed("no crc (a torn record)");
  std::string_view body = line.substr(0, crc_at);
  std::string_view crc_text = line.substr(crc_at + kCrcFieldSize);
  uint64_t crc = 0;
  if (crc_text.size() != 16 || !absl::SimpleHexAtoi(AsAbsl(crc_text), &crc)) {
    return Malformed("malformed crc");
  }
  if (crc != Crc64(0, body)) return Malformed("crc mismatch (a damaged record)");
  std::vector<absl::string_view> fields = absl::StrSplit(AsAbsl(body), ' ');
  if (fields.empty() || fields[0] != kVersion) return Malformed("unknown record version");
  JobCheckpoint c;
  bool have_src = false;
  for (size_t i = 1; i < fields.size(); ++i) {
    std::string_view field(fields[i].data(), fields[i].size());
    size_t eq = field.find('=');
    if (eq == std::string_view::npos) return Malformed(absl::StrCat("field '", AsAbsl(field), "'"));
    std::string_view name = field.substr(0, eq);
    std::string_view value = field.substr(eq + 1);
    if (name == "src") {
      if (!ParseIdOffset(value, false, &c.source_replid, &c.source_offset)) {
        return Malformed("malformed src");
      }
      have_src = true;
    } else if (name == "db") {
      if (!absl::SimpleAtoi(AsAbsl(value), &c.source_db)) return Malformed("malformed db");
    } else if (name == "paused") {
      if (value != "0" && value != "1") return Malformed("malformed paused");
      c.paused = value == "1";
    } else if (name == "t") {
      JobCheckpoint::Target t;
      if (!ParseIdOffset(value, true, &t.replid, &t.offset)) return Malformed("malformed t");
      c.targets.push_back(std::move(t));
    } else if (name == "w") {
      std::vector<absl::string_view> parts = absl::StrSplit(AsAbsl(value), ':');
      JobCheckpoint::SkipWindow w;
      if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &w.db) ||
          !absl::SimpleAtoi(parts[2], &w.end) || parts[1].size() % 2 != 0) {
        return Malformed("malformed w");
      }
      w.key = absl::HexStringToBytes(parts[1]);
      c.skip_windows.push_back(std::move(w));
    }
    // Unknown fields: written by a newer reshardd, ignored.
  }
  if (!have_src) return Malformed("no src");
  return c;
}

}  // namespace reshard::engine
