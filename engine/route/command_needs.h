#pragma once

// CommandNeeds: what routing one command of the stream needs, as
// CommandRouter::Inspect answers it without routing the command. The job
// uses it to let commands on other keys pass those that wait for copies
// (engine/job/stream_router.h).

#include <vector>

#include "engine/resp/command_table.h"
#include "engine/route/materialization.h"

namespace reshard::engine {

// What routing one command needs (CommandRouter::Inspect).
struct CommandNeeds {
  RouteKind route = RouteKind::kKeyed;  // its row's kind (kIntercepted when unknown)
  // It must be routed after everything before it and before anything after
  // it: a broadcast other than PING and (S)PUBLISH (FLUSHALL, FLUSHDB, SWAPDB,
  // SCRIPT/FUNCTION changes), or a command Route refuses (unknown, keyless,
  // malformed, before the source's db is known, or cross-target with
  // fail_on_cross_target).
  bool barrier = false;
  // Route answers it with copy requests (for `copies`) instead of forwarding
  // it.
  bool copy = false;
  // The (db, key) pairs it touches (for a flush or SWAPDB: the keys inside a
  // window whose copies it changes); those of them it may change (a key its
  // key spec flags read-only is left out, unless it changes none); and
  // those Route would ask copies of, given the windows now. Views into the
  // command or the router, valid until the next call on the router.
  std::vector<KeyRef> keys;
  std::vector<KeyRef> written;
  std::vector<KeyRef> copies;
};

}  // namespace reshard::engine
