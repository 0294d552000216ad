#pragma once

// TrimFreeMemory: gives the memory the allocator holds free back to the
// system. Each job thread allocates from its own glibc arena, whose freed
// blocks (a snapshot's buffers, a burst's queues) stay resident until
// malloc_trim returns them: without it, ten idle jobs keep what their
// snapshots once needed. Process-wide and rate-limited (one trim per
// `min_interval`, whichever thread asks); a no-op without glibc.

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace reshard::engine {

inline void TrimFreeMemory(absl::Duration min_interval) {
#if defined(__GLIBC__)
  static std::atomic<int64_t> last_ms{0};
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  int64_t last = last_ms.load(std::memory_order_relaxed);
  if (now_ms - last < absl::ToInt64Milliseconds(min_interval)) return;
  if (!last_ms.compare_exchange_strong(last, now_ms)) return;  // another thread trims
  malloc_trim(0);
#else
  (void)min_interval;
#endif
}

}  // namespace reshard::engine
