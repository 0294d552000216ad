#include "client/rpc/watch_loop.h"

#include <chrono>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/cli/exit_code.h"
#include "client/output/job_printer.h"
#include "client/output/json_writer.h"
#include "client/output/progress_rate.h"
#include "client/output/screen_redraw.h"

namespace reshard::client {

int WatchJob(const std::string& id, const CtlOptions& options, ServerConnection& server,
             std::ostream& out, std::ostream& err) {
  v1::WatchJobRequest request;
  request.set_id(id);
  grpc::ClientContext context;  // no deadline: a watch lasts as long as it must
  server.Authorize(&context);
  std::unique_ptr<grpc::ClientReader<v1::Job>> reader = server.stub().WatchJob(&context, request);
  v1::Job job;
  bool got_any = false;
  // Into a log (no terminal to redraw), a table per second or per state
  // change is enough; the final state is always printed.
  auto last_print = std::chrono::steady_clock::time_point();
  v1::JobStatus::State last_state = v1::JobStatus::STATE_UNSPECIFIED;
  ProgressRate rdb_bytes, rdb_keys, received;
  ScreenRedraw screen;
  while (reader->Read(&job)) {
    got_any = true;
    // DEGRADED (a target not receiving its stream) is not final: the watch
    // goes on until the job streams or ends.
    v1::JobStatus::State current = job.status().state();
    bool final_state = current == v1::JobStatus::STREAMING || current == v1::JobStatus::DONE ||
                       current == v1::JobStatus::FAILED || current == v1::JobStatus::CANCELLED;
    auto now = std::chrono::steady_clock::now();
    rdb_bytes.Add(job.status().rdb().bytes_read(), now);
    rdb_keys.Add(job.status().rdb().keys_read(), now);
    received.Add(job.status().bytes_received(), now);
    const WatchRates rates{rdb_bytes.PerSecond(), rdb_keys.PerSecond(), received.PerSecond()};
    if (options.output == OutputFormat::kJson) {
      out << MessageToJson(job, /*multi_line=*/false) << "\n";
    } else if (options.redraw) {
      std::ostringstream frame;
      PrintJobCompact(job, rates, frame);
      out << screen.Replace(frame.str(), StdoutTerminalSize());
    } else if (final_state || current != last_state ||
               now - last_print >= std::chrono::seconds(1)) {
      PrintJobCompact(job, rates, out);
      out << "\n";
      last_print = now;
      last_state = current;
    }
    out.flush();
    if (current == v1::JobStatus::STREAMING || current == v1::JobStatus::DONE) {
      context.TryCancel();
      reader->Finish();
      return kExitOk;
    }
    if (current == v1::JobStatus::FAILED || current == v1::JobStatus::CANCELLED) {
      context.TryCancel();
      reader->Finish();
      err << "reshardctl: job " << job.id() << " " << StateName(job.status());
      if (!job.status().error().code().empty()) {
        err << ": " << job.status().error().code() << ": " << job.status().error().message();
      }
      err << "\n";
      return kExitError;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return server.ReportError(status, err);
  err << "reshardctl: watch of " << id << " ended"
      << (got_any ? absl::StrCat(" in state ", StateName(job.status())) : std::string()) << "\n";
  return kExitError;
}

}  // namespace reshard::client
