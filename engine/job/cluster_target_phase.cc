#include "engine/job/cluster_target_phase.h"

#include "absl/strings/str_cat.h"
#include "asio/co_spawn.hpp"
#include "engine/base/status_macros.h"
#include "engine/job/target_phase.h"
#include "engine/job/version_policy.h"

namespace reshard::engine {

asio::awaitable<absl::Status> StartClusterAppliers(JobContext& job) {
  job.cluster_appliers.resize(job.spec.targets.size());
  for (size_t i = 0; i < job.spec.targets.size(); ++i) {
    const TargetSpec& spec = job.spec.targets[i];
    if (!spec.cluster.has_value()) continue;
    job.SetState(JobState::kConnecting,
                 absl::StrCat("reading the slot map of cluster target '", spec.name, "'"));
    ClusterWriter::Options options;
    options.name = spec.name;
    for (size_t n = 0; n < spec.cluster->nodes.size(); ++n) {
      CO_ASSIGN_OR_RETURN(HostPort node,
                          ParseHostPort(spec.cluster->nodes[n],
                                        absl::StrCat("targets[", i, "].cluster.nodes[", n, "]")));
      options.seeds.push_back(std::move(node));
    }
    options.credentials = spec.cluster->credentials;
    options.tls = spec.cluster->tls;
    // A master of the cluster that stops answering: its replica has this
    // long to take over (as the source's link has to come back).
    options.failover_window = absl::Milliseconds(job.spec.options.reconnect_window_ms);
    auto writer = std::make_unique<ClusterWriter>(std::move(options), job.io.get_executor());
    CO_RETURN_IF_ERROR(co_await writer->Discover());
    job.target_versions[i] = writer->version();
    // Checked again against the snapshot's own header (SyncSnapshot).
    if (std::optional<int> rdb_version =
            job.source.version.has_value() ? RdbVersionSentBy(*job.source.version) : std::nullopt;
        rdb_version.has_value()) {
      CO_RETURN_IF_ERROR(CheckTargetsCanLoad(job, *rdb_version));
    }
    ClusterApplier::Options applier;
    applier.name = spec.name;
    applier.listener = RedisEndpoint{HostPort{"127.0.0.1", job.targets[i]->bound_port()},
                                     spec.credentials, TlsClientOptions{}};
    if (job.spec.options.restored) {
      // What each master applied before the restart is not recorded (a
      // write sent again could double): a full sync of its own, over the
      // keys its filter selects, deleted first (the source may have deleted
      // some meanwhile).
      const KeyFilter* filter = job.filters[i].get();
      applier.clear_first = [filter](std::string_view key) { return filter->Matches(key); };
    }
    job.cluster_appliers[i] = std::make_unique<ClusterApplier>(
        std::move(applier), job.io.get_executor(), std::move(writer));
    asio::co_spawn(job.io, job.cluster_appliers[i]->Run(),
                   [&job](std::exception_ptr error, absl::Status status) {
                     if (job.finished) return;
                     if (error != nullptr) {
                       status = absl::InternalError("cluster applier: unexpected exception");
                     }
                     if (status.ok()) status = absl::UnavailableError("cluster applier stopped");
                     job.Fail(status);
                   });
  }
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
