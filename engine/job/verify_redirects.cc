// The keys of a cluster target's slots that move while a verification runs
// (verifier.h): read where the cluster sends a client, as a client would
// (MOVED updates the slot map, ASK is followed with ASKING).

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "engine/job/verifier.h"
#include "engine/link/redis_reply.h"

namespace reshard::engine {
namespace {

// Redirections followed for one key before the verification gives up (a
// slot that moves again and again, or nodes that disagree).
constexpr int kMaxRedirects = 5;

}  // namespace

asio::awaitable<absl::StatusOr<VerifyServer*>> Verifier::NodeAt(size_t t, const HostPort& address) {
  VerifyTarget& target = targets_[t];
  int index = target.cluster->IndexOf(address);
  if (index < 0) index = target.cluster->AddNode(address);
  if (static_cast<size_t>(index) < target.nodes.size()) co_return &target.nodes[index];
  // A master the map did not list (a node added to the cluster since).
  VerifyServer node;
  node.what = absl::StrCat("target '", target.name, "' node ", address.ToString());
  node.endpoint =
      RedisEndpoint{address, target.nodes[0].endpoint.credentials, target.nodes[0].endpoint.tls};
  CO_RETURN_IF_ERROR(co_await OpenVerifyServer(executor_, node));
  target.nodes.push_back(std::move(node));
  co_return &target.nodes.back();
}

asio::awaitable<absl::StatusOr<Verifier::TargetRead>> Verifier::ReadTargetKey(
    size_t t, const std::string& key) {
  VerifyTarget& target = targets_[t];
  TargetRead found;
  found.node = &target.ServerOf(key);
  const std::string expiry = ExpiryCommand();
  for (int hop = 0;; ++hop) {
    std::vector<std::vector<std::string>> commands;
    if (found.asking) commands.push_back({"ASKING"});
    commands.push_back({"DUMP", key});
    if (found.asking) commands.push_back({"ASKING"});
    commands.push_back({expiry, key});
    RedisConnection& connection = *found.node->main;
    CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies,
                        co_await connection.Pipeline(commands, kVerifyReplyTimeout));
    if (found.asking) {
      for (size_t i : {size_t{0}, size_t{2}}) {
        if (replies[i].IsError()) co_return UnexpectedReply(connection, "ASKING", replies[i]);
      }
      replies = {std::move(replies[1]), std::move(replies[3])};
    }
    const RespValue* redirect = nullptr;
    if (target.is_cluster()) {
      for (const RespValue& reply : replies) {
        if (IsClusterRedirect(reply)) redirect = &reply;
      }
    }
    if (redirect == nullptr) {
      size_t at = 0;
      CO_ASSIGN_OR_RETURN(std::vector<KeyRead> reads,
                          TakeKeyReads(connection, replies, &at, 1, expiry));
      found.read = std::move(reads[0]);
      co_return found;
    }
    if (hop == kMaxRedirects) {
      co_return absl::FailedPreconditionError(absl::StrCat(
          "target '", target.name, "': '", key, "' still redirected after ", kMaxRedirects,
          " redirections (last from ", connection.peer(), ": ", redirect->str,
          "): its slot keeps moving; run the verification again once the cluster is stable"));
    }
    absl::StatusOr<ClusterRedirect> to = ParseClusterRedirect(redirect->str);
    if (!to.ok()) co_return UnexpectedReply(connection, "DUMP", *redirect);
    CO_ASSIGN_OR_RETURN(found.node, co_await NodeAt(t, to->address));
    found.asking = to->ask;
    // MOVED: the slot is the named master's now, for the rest of the run.
    if (!to->ask) target.cluster->SetOwner(to->slot, to->address);
  }
}

asio::awaitable<absl::Status> Verifier::FollowRedirects(int db) {
  std::vector<Redirected> redirected = std::move(redirected_);
  redirected_.clear();
  for (Redirected& r : redirected) {
    CO_ASSIGN_OR_RETURN(TargetRead found, co_await ReadTargetKey(r.target, r.key));
    Judge(r.key, r.target, r.source, std::move(found), r.offset);
  }
  std::vector<Misplaced> misplaced = std::move(misplaced_);
  misplaced_.clear();
  std::vector<std::vector<std::string>> on_source(targets_.size());
  for (Misplaced& m : misplaced) {
    VerifyTarget& target = targets_[m.target];
    VerifyServer& node = target.nodes[m.node];
    CO_ASSIGN_OR_RETURN(TargetRead found, co_await ReadTargetKey(m.target, m.key));
    if (found.node == &node && found.read.exists) {
      // The cluster sends clients here (a slot half moved): a key like any.
      on_source[m.target].push_back(std::move(m.key));
      continue;
    }
    // Still on the node the SCAN found it on? (ASKING: the node may be
    // importing the slot.) Gone: moved away since, and read where it went.
    std::vector<std::vector<std::string>> exists = {{"ASKING"}, {"EXISTS", m.key}};
    CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies,
                        co_await node.main->Pipeline(exists, kVerifyReplyTimeout));
    if (replies[1].type == RespValue::Type::kInteger && replies[1].integer == 0) continue;
    if (replies[1].type != RespValue::Type::kInteger && !IsClusterRedirect(replies[1])) {
      co_return UnexpectedReply(*node.main, "EXISTS", replies[1]);
    }
    // There, or there without the node serving its slot (MOVED even after
    // ASKING): no client reaches it.
    Report(db, {std::move(m.key),
                m.target,
                {VerifyProblemKind::kStray,
                 absl::StrCat("on a master that does not own its slot (the owner is ",
                              found.node->endpoint.address.ToString(), ")")},
                &node});
  }
  for (size_t t = 0; t < on_source.size(); ++t) {
    CO_RETURN_IF_ERROR(co_await CheckOnSource(t, std::move(on_source[t])));
  }
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
