#pragma once

// FillRichDataset: every data type in db 0, in compact and large encodings
// (a 2 MiB string, a 300-member set, hash, sorted set, list and stream with
// a consumer group), some keys with expiries, about `n` small keys of which
// the hashes share one slot ({h}). Fails the calling test on an error reply.

#include "tests/support/redis_client.h"

namespace reshard::testing {

void FillRichDataset(RedisClient& client, int n);

}  // namespace reshard::testing
