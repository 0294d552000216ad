#pragma once

// Verifier: one run of a verification (key_verifier.h says what it checks),
// on the executor it is given; internal to engine/job. Its pieces live in a
// file each: key_verifier.cc (the run, the pre-check, reporting, pacing),
// verify_source_pass.cc (source keys read on the source and the targets,
// compared), verify_target_pass.cc (target keys checked against the filter
// and the source), verify_recheck.cc (differences checked again once the
// targets have applied the offset they were read at), verify_redirects.cc
// (the keys of a cluster target's slots that move while it runs, read
// where the cluster sends clients). Single-threaded.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "engine/job/key_comparison.h"
#include "engine/job/verify_report.h"
#include "engine/job/verify_server.h"

namespace reshard::engine {

// How long a pipeline's replies may take (DUMPs of large values).
inline constexpr absl::Duration kVerifyReplyTimeout = absl::Seconds(60);

class Verifier {
 public:
  // `options` must outlive the verifier.
  Verifier(asio::any_io_executor executor, VerifyServer source, std::vector<VerifyTarget> targets,
           const VerifyOptions& options)
      : executor_(std::move(executor)),
        source_(std::move(source)),
        targets_(std::move(targets)),
        options_(options) {}

  // The whole run; the report is kDone, or kFailed with the error.
  asio::awaitable<VerifyReport> Run();

 private:
  // A difference seen once; reported only if it still holds once the target
  // has applied the source offset at which the source was read.
  struct Suspect {
    std::string key;
    size_t target = 0;
    KeyDifference difference;
    uint64_t offset = 0;  // the source's offset when it was read
    KeyRead source;       // what the source held then
  };
  // A key as a target holds it, and where: for a cluster target the master
  // a client reaches (MOVED and ASK followed; `asking`: behind an ASK, so
  // every read there needs ASKING first).
  struct TargetRead {
    KeyRead read;
    VerifyServer* node = nullptr;
    bool asking = false;
  };
  // A key whose payloads differed: compared by value after the passes.
  struct ByValue {
    std::string key;
    size_t target = 0;
    KeyRead source;
    TargetRead target_read;
    uint64_t offset = 0;
  };
  // A source key a cluster node redirected in the source pass (its slot is
  // moving): read where the redirection leads after the passes.
  struct Redirected {
    std::string key;
    size_t target = 0;
    KeyRead source;
    uint64_t offset = 0;
  };
  // A key the target pass found on a master that, by the slot map, does not
  // own its slot: a stray unless the cluster sends clients there (a slot
  // that is moving), which is looked up after the passes.
  struct Misplaced {
    std::string key;
    size_t target = 0;
    size_t node = 0;  // index in the target's nodes
  };
  // One batch of the source pass: a SCAN's keys, read on the source and on
  // every target that selects them.
  struct SourceBatch {
    std::vector<std::string> keys;
    std::vector<size_t> sampled;  // indexes into keys
    // Per target, per node (VerifyTarget::NodeOf): indexes into keys.
    std::vector<std::vector<std::vector<size_t>>> selected;
    size_t source_commands = 0;
    bool more = false;                  // the source's replies end with the next SCAN's
    std::vector<KeyRead> source_reads;  // index-aligned with sampled
    uint64_t offset = 0;                // the source's offset after the reads
  };
  struct Found {
    std::string key;
    size_t target;
    KeyDifference difference;
    // A cluster target's master the key was found on (nullptr: the one
    // owning its slot); named in the problem's detail.
    const VerifyServer* node = nullptr;
  };
  // A pass's pace (rate_keys_per_second).
  struct Pacer {
    absl::Time start = absl::InfinitePast();
    uint64_t keys = 0;
  };

  // key_verifier.cc
  asio::awaitable<absl::Status> RunChecks();
  asio::awaitable<absl::Status> SelectDb(int db);  // on every connection
  // The source SCANned (keys only) and counted through each target's filter,
  // then every DBSIZE, read as the SCAN ends.
  asio::awaitable<absl::StatusOr<DbPrecheck>> Precheck(int db);
  void Report(int db, Found found);
  absl::Status Cancelled() const;
  void Progress(bool force);
  asio::awaitable<void> Sleep(absl::Duration duration);
  asio::awaitable<void> Pace(Pacer* pacer, uint64_t keys);
  std::string ExpiryCommand() const { return absolute_ ? "PEXPIRETIME" : "PTTL"; }
  bool WantOffsets() const { return static_cast<bool>(options_.applied_offsets); }
  // A cluster target in a db other than 0: it cannot hold a key there (its
  // servers are not read; the keys its filter selects are missing).
  bool OutsideTarget(const VerifyTarget& target) const { return target.is_cluster() && db_ != 0; }

  // verify_source_pass.cc
  // Two batches deep: the next batch's reads are sent before this one's are
  // compared, so the servers never wait for the comparison.
  asio::awaitable<absl::Status> SourcePass(int db);
  // Sends the batch's reads: to the source (then INFO replication, then the
  // next SCAN) and to each target whose filter selects them.
  absl::StatusOr<SourceBatch> StartBatch(RespValue scan);
  // The source's replies to the batch; the next SCAN's reply when there is one.
  asio::awaitable<absl::StatusOr<std::optional<RespValue>>> ReadSourceReplies(SourceBatch& batch);
  // Each target's replies to the batch, compared with the source's.
  asio::awaitable<absl::Status> CompareBatch(SourceBatch& batch);
  // The replies of node n of target t to the batch (read_of: key index ->
  // source_reads index).
  asio::awaitable<absl::Status> CompareBatchOn(SourceBatch& batch,
                                               const std::vector<size_t>& read_of, size_t t,
                                               size_t n);
  // The keys whose payloads differed in the source pass, compared by value.
  asio::awaitable<absl::Status> CompareByValue();
  // QuickCompare, with kSourceAbsent as a stray.
  QuickVerdict Quick(const KeyRead& source, const KeyRead& target, KeyDifference* difference);
  // nullopt when the target holds the key as the source does.
  asio::awaitable<absl::StatusOr<std::optional<KeyDifference>>> Compare(size_t t,
                                                                        const std::string& key,
                                                                        const KeyRead& source,
                                                                        const TargetRead& target);
  // The payloads differ: compares what they hold, on the main connections
  // (no reply may be pending on them when this is called).
  asio::awaitable<absl::StatusOr<std::optional<KeyDifference>>> CompareValues(
      size_t t, const std::string& key, const KeyRead& source, const TargetRead& target);
  // A source key's reads on the source and on target t, judged: equal, to be
  // compared by value after the passes, or a suspect.
  void Judge(const std::string& key, size_t t, const KeyRead& source, TargetRead target,
             uint64_t offset);

  // verify_redirects.cc
  // Reads `key` on target t where a client would: on a cluster target, the
  // master owning its slot by the map, then wherever MOVED (which updates
  // the map) or ASK sends the read. On the main connections, after the
  // passes.
  asio::awaitable<absl::StatusOr<TargetRead>> ReadTargetKey(size_t t, const std::string& key);
  // The master of cluster target t at `address`, connected when it is new.
  asio::awaitable<absl::StatusOr<VerifyServer*>> NodeAt(size_t t, const HostPort& address);
  // The redirected keys read where they are now, then the misplaced ones
  // looked up (strays, unless the cluster sends their clients there).
  asio::awaitable<absl::Status> FollowRedirects(int db);

  // verify_target_pass.cc
  // One target after the other, on the side connections: every key a target
  // holds must be selected by its filter and be on the source.
  asio::awaitable<absl::Status> TargetPasses(int db);
  asio::awaitable<absl::Status> TargetPass(int db, size_t t);
  // One server of target t (each master of a cluster in turn).
  asio::awaitable<absl::Status> TargetNodePass(int db, size_t t, size_t n);
  // Which of `keys` (of target t) the source lacks: suspects. One EXISTS of
  // them all (it counts a key once per mention: equal to the number of keys
  // only when every one exists, duplicates or not); one EXISTS per key only
  // when it counts fewer.
  asio::awaitable<absl::Status> CheckOnSource(size_t t, std::vector<std::string> keys);

  // verify_recheck.cc
  // Waits until every target that has suspects has applied the source offset
  // they were read at; returns the targets that did not within recheck_wait.
  asio::awaitable<std::set<size_t>> WaitForOffsets(const std::vector<Suspect>& suspects);
  // Checks the suspects of `db` again until each is settled, reported, or
  // out of attempts (unsettled).
  asio::awaitable<absl::Status> Recheck(int db);

  asio::any_io_executor executor_;
  VerifyServer source_;
  std::vector<VerifyTarget> targets_;
  const VerifyOptions& options_;
  bool absolute_ = false;  // expiries are PEXPIRETIME (unix ms), not PTTL
  int db_ = 0;             // the db being checked (SelectDb)
  VerifyReport report_;
  std::vector<Suspect> suspects_;       // of the db being checked
  std::vector<ByValue> by_value_;       // of the db being checked
  std::vector<Redirected> redirected_;  // of the db being checked
  std::vector<Misplaced> misplaced_;    // of the db being checked
  Pacer source_pace_;
  Pacer target_pace_;
  absl::Time last_progress_;
};

}  // namespace reshard::engine
