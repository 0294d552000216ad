// CommandRouter::Inspect and the skip-window check it shares with Route.

#include <optional>

#include "engine/route/command_router.h"
#include "engine/route/db_tracker.h"

namespace reshard::engine {

SkipWindows::Hit CommandRouter::CheckWindows(std::vector<KeyRef>* copies) const {
  if (skips_.empty()) return SkipWindows::Hit::kNone;
  bool any = false;
  bool all_covered = true;  // every key it changes
  for (size_t i = 0; i < refs_.size(); ++i) {
    SkipWindows::Hit hit = skips_.Check(refs_[i]);
    any |= hit != SkipWindows::Hit::kNone;
    if (ref_written_[i]) all_covered &= hit == SkipWindows::Hit::kCovered;
  }
  // A key it only reads inside a window is ahead on its target: the command
  // cannot run there, but what it changes can be copied.
  if (!any) return SkipWindows::Hit::kNone;
  if (all_covered) return SkipWindows::Hit::kCovered;
  if (copies != nullptr) {
    // A covered key already holds this command's effect (its copy is as of a
    // later offset): only the others are copied.
    for (size_t i = 0; i < refs_.size(); ++i) {
      if (ref_written_[i] && skips_.Check(refs_[i]) != SkipWindows::Hit::kCovered) {
        copies->push_back(refs_[i]);
      }
    }
  }
  return SkipWindows::Hit::kRecopy;
}

void CommandRouter::Inspect(const RespCommand& cmd, int* db, CommandNeeds* needs) {
  needs->route = RouteKind::kKeyed;
  needs->barrier = false;
  needs->copy = false;
  needs->keys.clear();
  needs->written.clear();
  needs->copies.clear();
  if (cmd.args.empty()) return;
  const CommandInfo* info = table_->Find(cmd.args);
  if (info == nullptr) {
    needs->route = RouteKind::kIntercepted;
    needs->barrier = true;
    return;
  }
  needs->route = info->route;
  switch (info->route) {
    case RouteKind::kKeyed:
    case RouteKind::kSplitKeys: {
      if (!FindKeys(*info, cmd, *db).ok()) {
        needs->barrier = true;  // Route gives the error, in its turn
        return;
      }
      needs->keys = refs_;
      needs->written = written_;
      switch (CheckWindows(&needs->copies)) {
        case SkipWindows::Hit::kCovered:
          return;
        case SkipWindows::Hit::kRecopy:
          needs->copy = true;
          return;
        case SkipWindows::Hit::kNone:
          break;
      }
      if (keys_.size() == 1 || RoutesWhole(*info, cmd) || SplitsAcrossTargets(*info)) return;
      if (fail_on_cross_target_) {
        needs->barrier = true;
      } else {
        needs->copy = true;
        needs->copies = written_;
      }
      return;
    }
    case RouteKind::kBroadcast:
    case RouteKind::kBroadcastInDb:
      // Keyless and changing nothing a later command reads: PING and the
      // publishes may pass commands that wait.
      needs->barrier = info->name != "PING" && info->name != "PUBLISH" && info->name != "SPUBLISH";
      if (info->route == RouteKind::kBroadcastInDb && *db == kUnknownDb) needs->barrier = true;
      if (!skips_.empty()) {
        skips_.AppendAffectedBy(*info, cmd, *db, &needs->keys);
        needs->copy = !needs->keys.empty();
        needs->written = needs->keys;
        needs->copies = needs->keys;
      }
      return;
    case RouteKind::kSelect:
      if (std::optional<int> selected =
              cmd.args.size() == 2 ? ParseDbIndex(cmd.args[1]) : std::nullopt) {
        *db = *selected;
      } else {
        needs->barrier = true;
      }
      return;
    case RouteKind::kMulti:
    case RouteKind::kExec:
    case RouteKind::kDiscard:
      return;
    case RouteKind::kIntercepted:
      needs->barrier = true;
      return;
  }
}

}  // namespace reshard::engine
