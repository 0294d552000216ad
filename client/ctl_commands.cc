#include "client/ctl_commands.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/job_spec_json.h"
#include "reshard/v1/job_service.grpc.pb.h"

namespace reshard::client {
namespace {

constexpr char kUsage[] =
    "usage: reshardctl [--server ADDR] [-o json|table] COMMAND\n"
    "  create -f SPEC.json [--id ID]  create and start a job\n"
    "  list                           list the jobs\n"
    "  get JOB                        show one job\n"
    "  watch JOB                      follow a job until it streams (exit 0) or ends (exit 1)\n"
    "  pause JOB | resume JOB | cancel JOB | delete JOB\n"
    "  rdb ...                        local commands on RDB files\n"
    "ADDR defaults to 127.0.0.1:50051.\n";

// One parsed command line.
struct Invocation {
  CtlOptions options;
  std::string command;
  std::vector<std::string> positional;
  std::string spec_file;  // create -f
  std::string job_id;     // create --id
};

// Returns the value of `--name VALUE` / `--name=VALUE` at args[*i], advancing
// *i; nullopt when args[*i] is not that option.
std::optional<std::string> OptionValue(const std::vector<std::string>& args, size_t* i,
                                       std::initializer_list<std::string_view> names,
                                       std::string* error) {
  const std::string& arg = args[*i];
  for (std::string_view name : names) {
    if (arg == name) {
      if (*i + 1 >= args.size()) {
        *error = absl::StrCat(std::string(name), " needs a value");
        return std::string();
      }
      ++*i;
      return args[*i];
    }
    std::string prefix = absl::StrCat(std::string(name), "=");
    if (absl::StartsWith(arg, prefix)) return arg.substr(prefix.size());
  }
  return std::nullopt;
}

absl::StatusOr<Invocation> ParseArgs(const std::vector<std::string>& args) {
  Invocation inv;
  std::string error;
  for (size_t i = 0; i < args.size(); ++i) {
    if (auto v = OptionValue(args, &i, {"--server", "-s"}, &error)) {
      inv.options.server = *v;
    } else if (auto v = OptionValue(args, &i, {"-o", "--output"}, &error)) {
      if (*v == "json") {
        inv.options.output = OutputFormat::kJson;
      } else if (*v == "table") {
        inv.options.output = OutputFormat::kTable;
      } else if (error.empty()) {
        error = absl::StrCat("-o: expected json or table, got '", *v, "'");
      }
    } else if (auto v = OptionValue(args, &i, {"-f", "--file"}, &error)) {
      inv.spec_file = *v;
    } else if (auto v = OptionValue(args, &i, {"--id"}, &error)) {
      inv.job_id = *v;
    } else if (args[i] == "-h" || args[i] == "--help") {
      inv.command = "help";
    } else if (absl::StartsWith(args[i], "-") && args[i] != "-") {
      error = absl::StrCat("unknown option ", args[i]);
    } else if (inv.command.empty()) {
      inv.command = args[i];
    } else {
      inv.positional.push_back(args[i]);
    }
    if (!error.empty()) return absl::InvalidArgumentError(error);
  }
  if (inv.command.empty()) return absl::InvalidArgumentError("no command given");
  return inv;
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

int ReportRpcError(const grpc::Status& status, const CtlOptions& options, std::ostream& err) {
  err << "reshardctl: " << CodeName(status.error_code()) << ": " << status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    err << " (cannot reach reshardd at " << options.server << ")";
  }
  err << "\n";
  return kExitError;
}

std::string HumanBytes(uint64_t bytes) {
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return absl::StrCat(bytes, " B");
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

std::string FilterText(const v1::Filter& filter) {
  switch (filter.kind_case()) {
    case v1::Filter::kRegex:
      return absl::StrCat("regex:", filter.regex());
    case v1::Filter::kPrefix:
      return absl::StrCat("prefix:", filter.prefix());
    case v1::Filter::kGlob:
      return absl::StrCat("glob:", filter.glob());
    case v1::Filter::kSlots:
      return absl::StrCat("slots:", filter.slots());
    case v1::Filter::KIND_NOT_SET:
      break;
  }
  return "-";
}

// Left-aligned columns separated by two spaces.
void PrintTable(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      absl::StrAppend(&line, row[c]);
      if (c + 1 < row.size()) line.append(widths[c] - row[c].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

std::string StateName(const v1::JobStatus& status) {
  return v1::JobStatus::State_Name(status.state());
}

std::unique_ptr<v1::JobService::Stub> Connect(const CtlOptions& options) {
  return v1::JobService::NewStub(
      grpc::CreateChannel(options.server, grpc::InsecureChannelCredentials()));
}

void SetDeadline(grpc::ClientContext* context, const CtlOptions& options) {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(options.rpc_timeout_ms));
}

void PrintJobOrJson(const v1::Job& job, const CtlOptions& options, std::ostream& out) {
  if (options.output == OutputFormat::kJson) {
    out << MessageToJson(job, /*multi_line=*/true) << "\n";
  } else {
    PrintJob(job, out);
  }
}

int NeedJobId(const Invocation& inv, std::ostream& err) {
  err << "reshardctl: " << inv.command << ": expected one JOB id\n" << kUsage;
  return kExitUsage;
}

int RunCreate(const Invocation& inv, v1::JobService::Stub& stub, std::ostream& out,
              std::ostream& err) {
  if (inv.spec_file.empty() || !inv.positional.empty()) {
    err << "reshardctl: create: expected -f SPEC.json [--id ID]\n";
    return kExitUsage;
  }
  std::string text;
  if (inv.spec_file == "-") {
    std::ostringstream buffer;
    buffer << std::cin.rdbuf();
    text = buffer.str();
  } else {
    std::ifstream in(inv.spec_file, std::ios::binary);
    if (!in) {
      err << "reshardctl: cannot read " << inv.spec_file << "\n";
      return kExitError;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecJson(text);
  if (!spec.ok()) {
    err << "reshardctl: " << inv.spec_file << ": " << absl::StatusCodeToString(spec.status().code())
        << ": " << spec.status().message() << "\n";
    return kExitError;
  }
  v1::CreateJobRequest request;
  *request.mutable_spec() = *std::move(spec);
  request.set_job_id(inv.job_id);
  v1::Job job;
  grpc::ClientContext context;
  SetDeadline(&context, inv.options);
  grpc::Status status = stub.CreateJob(&context, request, &job);
  if (!status.ok()) return ReportRpcError(status, inv.options, err);
  if (inv.options.output == OutputFormat::kJson) {
    out << MessageToJson(job, true) << "\n";
  } else {
    out << "created job " << job.id() << "\n";
  }
  return kExitOk;
}

int RunWatch(const Invocation& inv, v1::JobService::Stub& stub, std::ostream& out,
             std::ostream& err) {
  v1::WatchJobRequest request;
  request.set_id(inv.positional[0]);
  grpc::ClientContext context;  // no deadline: a watch lasts as long as it must
  std::unique_ptr<grpc::ClientReader<v1::Job>> reader = stub.WatchJob(&context, request);
  v1::Job job;
  bool got_any = false;
  // Into a log (no terminal to redraw), a table per second or per state
  // change is enough; the final state is always printed.
  auto last_print = std::chrono::steady_clock::time_point();
  v1::JobStatus::State last_state = v1::JobStatus::STATE_UNSPECIFIED;
  while (reader->Read(&job)) {
    got_any = true;
    v1::JobStatus::State current = job.status().state();
    bool final_state = current == v1::JobStatus::STREAMING || current == v1::JobStatus::FAILED ||
                       current == v1::JobStatus::CANCELLED;
    auto now = std::chrono::steady_clock::now();
    if (inv.options.output == OutputFormat::kJson) {
      out << MessageToJson(job, /*multi_line=*/false) << "\n";
    } else if (inv.options.redraw) {
      out << "\033[H\033[2J";
      PrintJob(job, out);
    } else if (final_state || current != last_state ||
               now - last_print >= std::chrono::seconds(1)) {
      PrintJob(job, out);
      out << "\n";
      last_print = now;
      last_state = current;
    }
    out.flush();
    v1::JobStatus::State state = job.status().state();
    if (state == v1::JobStatus::STREAMING) {
      context.TryCancel();
      reader->Finish();
      return kExitOk;
    }
    if (state == v1::JobStatus::FAILED || state == v1::JobStatus::CANCELLED) {
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
  if (!status.ok()) return ReportRpcError(status, inv.options, err);
  err << "reshardctl: watch of " << inv.positional[0] << " ended"
      << (got_any ? absl::StrCat(" in state ", StateName(job.status())) : std::string()) << "\n";
  return kExitError;
}

}  // namespace

std::string ProgressBar(uint64_t done, uint64_t total, int width) {
  if (total == 0) {
    return absl::StrCat("[", std::string(width, '?'), "]    ?");
  }
  double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  int filled = static_cast<int>(fraction * width);
  return absl::StrFormat("[%s%s] %3d%%", std::string(filled, '#'), std::string(width - filled, '-'),
                         static_cast<int>(fraction * 100));
}

void PrintJob(const v1::Job& job, std::ostream& out) {
  const v1::JobStatus& status = job.status();
  out << "job " << job.id() << ": " << StateName(status) << "\n";
  if (!status.error().code().empty()) {
    out << "  error:    " << status.error().code() << ": " << status.error().message() << "\n";
  }
  if (!status.detail().empty()) out << "  detail:   " << status.detail() << "\n";
  out << "  source:   " << job.spec().source().address() << " ("
      << (status.upstream_connected() ? "connected" : "not connected") << ", offset "
      << status.source_offset() << ", " << status.upstream_reconnects() << " reconnects, "
      << HumanBytes(status.bytes_received()) << " received)\n";
  const v1::RdbProgress& rdb = status.rdb();
  out << "  rdb:      " << ProgressBar(rdb.bytes_read(), rdb.bytes_total(), 30) << " "
      << HumanBytes(rdb.bytes_read());
  if (rdb.bytes_total() != 0) out << " / " << HumanBytes(rdb.bytes_total());
  out << ", " << rdb.keys_read() << " keys\n";

  std::vector<std::vector<std::string>> rows = {
      {"TARGET", "FILTER", "LISTEN", "REPLICAS", "KEYS KEPT", "KEYS DROPPED", "CMDS KEPT",
       "CMDS DROPPED", "SPLIT", "MATERIALIZED", "SENT", "LAG", "LAG S"}};
  for (int i = 0; i < job.spec().targets_size(); ++i) {
    const v1::TargetSpec& spec = job.spec().targets(i);
    v1::TargetStatus target;
    for (const v1::TargetStatus& t : status.targets()) {
      if (t.name() == spec.name()) target = t;
    }
    rows.push_back({spec.name(), FilterText(spec.filter()), spec.listen(),
                    absl::StrCat(target.connected_replicas()), absl::StrCat(target.rdb_keys_kept()),
                    absl::StrCat(target.rdb_keys_dropped()), absl::StrCat(target.commands_kept()),
                    absl::StrCat(target.commands_dropped()), absl::StrCat(target.commands_split()),
                    absl::StrCat(target.keys_materialized()), HumanBytes(target.bytes_sent()),
                    HumanBytes(target.lag_bytes()), absl::StrFormat("%.1f", target.lag_seconds())});
  }
  std::ostringstream table;
  PrintTable(rows, table);
  std::istringstream lines(table.str());
  for (std::string line; std::getline(lines, line);) out << "  " << line << "\n";
}

void PrintJobTable(const v1::ListJobsResponse& jobs, std::ostream& out) {
  std::vector<std::vector<std::string>> rows = {{"ID", "STATE", "SOURCE", "TARGETS", "DETAIL"}};
  for (const v1::Job& job : jobs.jobs()) {
    std::string detail = job.status().detail();
    if (!job.status().error().code().empty()) {
      detail = absl::StrCat(job.status().error().code(), ": ", job.status().error().message());
    }
    rows.push_back({job.id(), StateName(job.status()), job.spec().source().address(),
                    absl::StrCat(job.spec().targets_size()), detail});
  }
  PrintTable(rows, out);
}

int RunCtl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           bool redraw) {
  absl::StatusOr<Invocation> parsed = ParseArgs(args);
  if (!parsed.ok()) {
    err << "reshardctl: " << parsed.status().message() << "\n" << kUsage;
    return kExitUsage;
  }
  Invocation& inv = *parsed;
  inv.options.redraw = redraw;
  if (inv.command == "help") {
    out << kUsage;
    return kExitOk;
  }
  std::unique_ptr<v1::JobService::Stub> stub = Connect(inv.options);
  if (inv.command == "create") return RunCreate(inv, *stub, out, err);
  if (inv.command == "list") {
    if (!inv.positional.empty()) {
      err << "reshardctl: list takes no arguments\n";
      return kExitUsage;
    }
    v1::ListJobsResponse response;
    grpc::ClientContext context;
    SetDeadline(&context, inv.options);
    grpc::Status status = stub->ListJobs(&context, v1::ListJobsRequest(), &response);
    if (!status.ok()) return ReportRpcError(status, inv.options, err);
    if (inv.options.output == OutputFormat::kJson) {
      out << MessageToJson(response, true) << "\n";
    } else {
      PrintJobTable(response, out);
    }
    return kExitOk;
  }

  const bool takes_id = inv.command == "get" || inv.command == "watch" || inv.command == "pause" ||
                        inv.command == "resume" || inv.command == "cancel" ||
                        inv.command == "delete";
  if (!takes_id) {
    err << "reshardctl: unknown command '" << inv.command << "'\n" << kUsage;
    return kExitUsage;
  }
  if (inv.positional.size() != 1) return NeedJobId(inv, err);
  const std::string& id = inv.positional[0];
  if (inv.command == "watch") return RunWatch(inv, *stub, out, err);

  grpc::ClientContext context;
  SetDeadline(&context, inv.options);
  grpc::Status status;
  v1::Job job;
  if (inv.command == "get") {
    v1::GetJobRequest request;
    request.set_id(id);
    status = stub->GetJob(&context, request, &job);
  } else if (inv.command == "pause") {
    v1::PauseJobRequest request;
    request.set_id(id);
    status = stub->PauseJob(&context, request, &job);
  } else if (inv.command == "resume") {
    v1::ResumeJobRequest request;
    request.set_id(id);
    status = stub->ResumeJob(&context, request, &job);
  } else if (inv.command == "cancel") {
    v1::CancelJobRequest request;
    request.set_id(id);
    status = stub->CancelJob(&context, request, &job);
  } else {  // delete
    v1::DeleteJobRequest request;
    request.set_id(id);
    google::protobuf::Empty empty;
    status = stub->DeleteJob(&context, request, &empty);
    if (!status.ok()) return ReportRpcError(status, inv.options, err);
    if (inv.options.output == OutputFormat::kJson) {
      out << "{}\n";
    } else {
      out << "deleted job " << id << "\n";
    }
    return kExitOk;
  }
  if (!status.ok()) return ReportRpcError(status, inv.options, err);
  if (inv.command == "get" || inv.options.output == OutputFormat::kJson) {
    PrintJobOrJson(job, inv.options, out);
  } else {
    // pause/resume/cancel take effect on the job's thread; show what it is now.
    out << inv.command << " requested for job " << id << " (now " << StateName(job.status())
        << ")\n";
  }
  return kExitOk;
}

}  // namespace reshard::client
