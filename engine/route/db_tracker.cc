#include "engine/route/db_tracker.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {

std::optional<int> ParseDbIndex(std::string_view arg) {
  int db = kUnknownDb;
  auto [ptr, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), db);
  if (ec != std::errc() || ptr != arg.data() + arg.size() || db < 0) return std::nullopt;
  return db;
}

void SelectDbIn(int db, int* selected, std::string* stream) {
  if (*selected == db) return;
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), db);
  AppendCommand(stream, {"SELECT", std::string_view(buf, end - buf)});
  *selected = db;
}

absl::Status DbTracker::RequireSourceDb(std::string_view command) const {
  if (source_db_ != kUnknownDb) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(AsAbsl(command), " before the source's db is known (no SELECT yet)"));
}

}  // namespace reshard::engine
