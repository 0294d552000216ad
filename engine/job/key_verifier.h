#pragma once

// VerifyJobData: compares a job's source with every target against the
// filters, while the job streams (or after it ended).
//
// For every db (those INFO keyspace shows on the source or any target):
//   1. pre-check: the source's and every target's DBSIZE; what each target
//      should hold is counted through its filter during the source SCAN;
//   2. the source is SCANned; for each sampled key, every target whose filter
//      selects it must hold it with an equal value (the DUMP payloads, or the
//      logical value when they differ: verify_logical.h) and expiry
//      (PEXPIRETIME where every server has it, else PTTL; within the
//      tolerance); beside it, every target is SCANned: each sampled key there
//      must be one its filter selects and one the source has;
//   3. lag is not loss: a difference is read together with the source's
//      replication offset, and checked again only once every target
//      concerned has applied that offset (options.applied_offsets); it is
//      reported when it holds against a source that did not change the key
//      meanwhile, and counted as unsettled when the source kept changing it
//      through every attempt or a target never applied the offset in time.
// Reads are pipelined (a SCAN batch per round trip, the next SCAN in the
// same pipeline, the servers read at once), paced to
// options.rate_keys_per_second, on connections of its own.

#include "absl/status/statusor.h"
#include "engine/job/job_spec.h"
#include "engine/job/verify_report.h"

namespace reshard::engine {

// Resolves where each target's Redis is: options.target_endpoints, else its
// managed replica. INVALID_ARGUMENT for bad options, a bad filter, or a
// target without an address ("targets[0] 'a': not a managed target, so its
// Redis address must be given (target_addresses)").
absl::Status CheckVerifyOptions(const JobSpec& spec, const VerifyOptions& options);

// Runs the verification on the calling thread (its own event loop). The
// report is kDone, or kFailed with the error of the server that could not
// be read (the counts so far are kept); the Status is not OK only for
// CheckVerifyOptions's errors.
absl::StatusOr<VerifyReport> VerifyJobData(const JobSpec& spec, const VerifyOptions& options);

}  // namespace reshard::engine
