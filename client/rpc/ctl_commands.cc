#include "client/rpc/ctl_commands.h"

#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "client/cli/completion.h"
#include "client/cli/ctl_args.h"
#include "client/cli/ctl_help.h"
#include "client/cli/exit_code.h"
#include "client/cli/job_spec_json.h"
#include "client/output/cutover_printer.h"
#include "client/output/job_printer.h"
#include "client/output/json_writer.h"
#include "client/output/verify_printer.h"
#include "client/rpc/server_connection.h"
#include "client/rpc/watch_loop.h"

namespace reshard::client {
namespace {

// What a command reads and writes.
struct CommandContext {
  const CtlInvocation& inv;
  ServerConnection& server;
  std::ostream& out;
  std::ostream& err;
};

// The arguments a command takes; checked before it runs.
enum class Arguments {
  kSpecFile,  // -f SPEC.json [--id ID], no positional
  kNone,
  kOneJobId,
  kOptionalOne,      // help [COMMAND]
  kOne,              // completion SHELL
  kJobIdAndAddress,  // set-source JOB HOST:PORT
};

struct Command {
  std::string_view name;
  Arguments arguments;
  std::function<int(CommandContext&)> run;
};

std::string ReadAll(std::istream& in) {
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

int RunCreate(CommandContext& c) {
  std::string text;
  if (c.inv.spec_file == "-") {
    text = ReadAll(std::cin);
  } else {
    std::ifstream in(c.inv.spec_file, std::ios::binary);
    if (!in) {
      c.err << "reshardctl: cannot read " << c.inv.spec_file << "\n";
      return kExitError;
    }
    text = ReadAll(in);
  }
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecJson(text);
  if (!spec.ok()) {
    c.err << "reshardctl: " << c.inv.spec_file << ": "
          << absl::StatusCodeToString(spec.status().code()) << ": " << spec.status().message()
          << "\n";
    return kExitError;
  }
  v1::CreateJobRequest request;
  *request.mutable_spec() = *std::move(spec);
  request.set_job_id(c.inv.job_id);
  v1::Job job;
  grpc::ClientContext context;
  c.server.PrepareCall(&context);
  grpc::Status status = c.server.stub().CreateJob(&context, request, &job);
  if (!status.ok()) return c.server.ReportError(status, c.err);
  if (c.inv.options.output == OutputFormat::kJson) {
    c.out << MessageToJson(job, /*multi_line=*/true) << "\n";
  } else {
    c.out << "created job " << job.id() << "\n";
  }
  return kExitOk;
}

int RunList(CommandContext& c) {
  v1::ListJobsResponse response;
  grpc::ClientContext context;
  c.server.PrepareCall(&context);
  grpc::Status status = c.server.stub().ListJobs(&context, v1::ListJobsRequest(), &response);
  if (!status.ok()) return c.server.ReportError(status, c.err);
  if (c.inv.options.output == OutputFormat::kJson) {
    c.out << MessageToJson(response, /*multi_line=*/true) << "\n";
  } else {
    PrintJobTable(response, c.inv.options.output == OutputFormat::kWide, c.out);
  }
  return kExitOk;
}

// A unary call on one job that returns the job: the request of type `Request`
// with the id set, through `call`.
template <typename Request>
using JobCall = grpc::Status (v1::JobService::Stub::*)(grpc::ClientContext*, const Request&,
                                                       v1::Job*);

template <typename Request>
grpc::Status CallOnJob(CommandContext& c, JobCall<Request> call, v1::Job* job) {
  Request request;
  request.set_id(c.inv.positional[0]);
  grpc::ClientContext context;
  c.server.PrepareCall(&context);
  return (c.server.stub().*call)(&context, request, job);
}

int RunGet(CommandContext& c) {
  v1::Job job;
  grpc::Status status = CallOnJob<v1::GetJobRequest>(c, &v1::JobService::Stub::GetJob, &job);
  if (!status.ok()) return c.server.ReportError(status, c.err);
  PrintJobAs(job, c.inv.options.output, c.out);
  return kExitOk;
}

// pause, resume, cancel: they take effect on the job's thread; the table form
// says what the job is now.
template <typename Request>
int RunJobAction(CommandContext& c, JobCall<Request> call) {
  v1::Job job;
  grpc::Status status = CallOnJob<Request>(c, call, &job);
  if (!status.ok()) return c.server.ReportError(status, c.err);
  if (c.inv.options.output == OutputFormat::kJson) {
    PrintJobAs(job, OutputFormat::kJson, c.out);
  } else {
    c.out << c.inv.command << " requested for job " << c.inv.positional[0] << " (now "
          << StateName(job.status()) << ")\n";
  }
  return kExitOk;
}

int RunSetSource(CommandContext& c) {
  v1::UpdateJobSourceRequest request;
  request.set_id(c.inv.positional[0]);
  request.set_address(c.inv.positional[1]);
  v1::Job job;
  grpc::ClientContext context;
  c.server.PrepareCall(&context);
  grpc::Status status = c.server.stub().UpdateJobSource(&context, request, &job);
  if (!status.ok()) return c.server.ReportError(status, c.err);
  if (c.inv.options.output == OutputFormat::kJson) {
    PrintJobAs(job, OutputFormat::kJson, c.out);
  } else {
    c.out << "job " << c.inv.positional[0] << " follows its source to " << c.inv.positional[1]
          << " (now " << StateName(job.status()) << "; get shows how the failover went)\n";
  }
  return kExitOk;
}

int RunDelete(CommandContext& c) {
  const std::string& id = c.inv.positional[0];
  v1::DeleteJobRequest request;
  request.set_id(id);
  google::protobuf::Empty empty;
  grpc::ClientContext context;
  c.server.PrepareCall(&context);
  grpc::Status status = c.server.stub().DeleteJob(&context, request, &empty);
  if (!status.ok()) return c.server.ReportError(status, c.err);
  if (c.inv.options.output == OutputFormat::kJson) {
    c.out << JsonWriter().BeginObject().EndObject().json() << "\n";
  } else {
    c.out << "deleted job " << id << "\n";
  }
  return kExitOk;
}

// The job, read again (GetJob).
grpc::Status FetchJob(CommandContext& c, v1::Job* job) {
  return CallOnJob<v1::GetJobRequest>(c, &v1::JobService::Stub::GetJob, job);
}

bool SameStart(const google::protobuf::Timestamp& a, const google::protobuf::Timestamp& b) {
  return a.seconds() == b.seconds() && a.nanos() == b.nanos();
}

// Starts a verification, then follows it (GetJob every 250 ms) with a
// progress line on `err` until it ends; Ctrl-C leaves it running on the
// server (`get` shows it). Exit 0: no problems; 3: problems; 1: it failed.
int RunVerify(CommandContext& c) {
  v1::VerifyJobRequest request;
  request.set_id(c.inv.positional[0]);
  if (c.inv.sample.has_value()) request.set_sample_fraction(*c.inv.sample);
  // --rate 0 is unlimited, which the API spells as a negative rate.
  if (c.inv.rate.has_value()) request.set_rate_keys_per_second(*c.inv.rate == 0 ? -1 : *c.inv.rate);
  for (const auto& [name, address] : c.inv.target_addresses) {
    (*request.mutable_target_addresses())[name] = address;
    if (!c.inv.target_tls.enabled) continue;
    v1::ClientTls& tls = (*request.mutable_target_tls())[name];
    tls.set_ca_file(c.inv.target_tls.ca_file);
    tls.set_cert_file(c.inv.target_tls.cert_file);
    tls.set_key_file(c.inv.target_tls.key_file);
    tls.set_server_name(c.inv.target_tls.server_name);
  }
  v1::Job job;
  {
    grpc::ClientContext context;
    c.server.PrepareCall(&context);
    grpc::Status status = c.server.stub().VerifyJob(&context, request, &job);
    if (!status.ok()) return c.server.ReportError(status, c.err);
  }
  const google::protobuf::Timestamp started = job.last_verification().start_time();
  auto last_line = std::chrono::steady_clock::now();
  while (job.last_verification().state() == v1::VerifyReport::RUNNING) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    grpc::Status status = FetchJob(c, &job);
    if (!status.ok()) return c.server.ReportError(status, c.err);
    if (!SameStart(job.last_verification().start_time(), started)) {
      c.err << "reshardctl: another verification of job " << job.id() << " replaced this one\n";
      return kExitError;
    }
    auto now = std::chrono::steady_clock::now();
    if (job.last_verification().state() == v1::VerifyReport::RUNNING) {
      if (c.inv.options.redraw) {
        c.err << "\r\033[K" << VerifyProgressLine(job.last_verification()) << std::flush;
      } else if (now - last_line >= std::chrono::seconds(10)) {
        c.err << VerifyProgressLine(job.last_verification()) << "\n";
        last_line = now;
      }
    }
  }
  if (c.inv.options.redraw) c.err << "\r\033[K" << std::flush;
  const v1::VerifyReport& report = job.last_verification();
  PrintVerifyReportAs(report, c.inv.options.output, c.out);
  if (report.state() == v1::VerifyReport::FAILED) {
    c.err << "reshardctl: the verification of job " << job.id() << " failed: " << report.error()
          << "\n";
    return kExitError;
  }
  bool problems = report.missing() + report.stray() + report.different() > 0;
  return problems ? kExitProblems : kExitOk;
}

// Starts a cutover, then follows it (GetJob every 20 ms), printing each step
// as it is done, until the job is DONE (exit 0) or the cutover rolled back
// (exit 1, the job streams on).
int RunCutover(CommandContext& c) {
  v1::CutoverJobRequest request;
  request.set_id(c.inv.positional[0]);
  request.set_max_write_pause_ms(c.inv.max_write_pause_ms);
  request.set_promote(c.inv.promote);
  request.set_leave_source_paused(c.inv.leave_source_paused);
  v1::Job job;
  {
    grpc::ClientContext context;
    c.server.PrepareCall(&context);
    grpc::Status status = c.server.stub().CutoverJob(&context, request, &job);
    if (!status.ok()) return c.server.ReportError(status, c.err);
  }
  const bool table = c.inv.options.output != OutputFormat::kJson;
  int printed = 0;
  while (true) {
    const v1::CutoverReport& report = job.last_cutover();
    // Every step as it is done (the last ones with the outcome below).
    if (table && report.state() == v1::CutoverReport::RUNNING) {
      for (; printed < report.steps_size(); ++printed) {
        c.out << CutoverStepLine(report.steps(printed)) << "\n" << std::flush;
      }
    }
    if (job.has_last_cutover() && report.state() != v1::CutoverReport::RUNNING) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    grpc::Status status = FetchJob(c, &job);
    if (!status.ok()) return c.server.ReportError(status, c.err);
  }
  v1::CutoverReport report = job.last_cutover();
  if (table) {
    // The steps already printed are not printed again.
    v1::CutoverReport rest = report;
    rest.clear_steps();
    for (int i = printed; i < report.steps_size(); ++i) rest.add_steps(report.steps(i));
    PrintCutoverReport(rest, c.inv.options.output, c.out);
  } else {
    PrintCutoverReport(report, c.inv.options.output, c.out);
  }
  if (report.state() != v1::CutoverReport::DONE) {
    c.err << "reshardctl: the cutover of job " << job.id() << " rolled back: " << report.error()
          << "\n";
    return kExitError;
  }
  return kExitOk;
}

int RunWatch(CommandContext& c) {
  return WatchJob(c.inv.positional[0], c.inv.options, c.server, c.out, c.err);
}

// help, completion, version: local, the server is not called.
int RunHelp(CommandContext& c) {
  if (c.inv.positional.empty()) {
    c.out << CtlUsage();
    return kExitOk;
  }
  const CommandHelp* help = FindCommandHelp(c.inv.positional[0]);
  if (help == nullptr) {
    c.err << "reshardctl: help: unknown command '" << c.inv.positional[0] << "'\n" << CtlUsage();
    return kExitUsage;
  }
  c.out << CommandHelpText(*help);
  return kExitOk;
}

int RunCompletion(CommandContext& c) {
  std::optional<std::string> script = CompletionScript(c.inv.positional[0]);
  if (!script) {
    c.err << "reshardctl: completion: expected bash or zsh, got '" << c.inv.positional[0] << "'\n";
    return kExitUsage;
  }
  c.out << *script;
  return kExitOk;
}

int RunVersion(CommandContext& c) {
  c.out << "reshardctl " << RESHARD_VERSION << "\n";
  return kExitOk;
}

const Command kCommands[] = {
    {"create", Arguments::kSpecFile, RunCreate},
    {"list", Arguments::kNone, RunList},
    {"get", Arguments::kOneJobId, RunGet},
    {"watch", Arguments::kOneJobId, RunWatch},
    {"pause", Arguments::kOneJobId,
     [](CommandContext& c) {
       return RunJobAction<v1::PauseJobRequest>(c, &v1::JobService::Stub::PauseJob);
     }},
    {"resume", Arguments::kOneJobId,
     [](CommandContext& c) {
       return RunJobAction<v1::ResumeJobRequest>(c, &v1::JobService::Stub::ResumeJob);
     }},
    {"cancel", Arguments::kOneJobId,
     [](CommandContext& c) {
       return RunJobAction<v1::CancelJobRequest>(c, &v1::JobService::Stub::CancelJob);
     }},
    {"delete", Arguments::kOneJobId, RunDelete},
    {"help", Arguments::kOptionalOne, RunHelp},
    {"completion", Arguments::kOne, RunCompletion},
    {"version", Arguments::kNone, RunVersion},
    {"verify", Arguments::kOneJobId, RunVerify},
    {"cutover", Arguments::kOneJobId, RunCutover},
    {"set-source", Arguments::kJobIdAndAddress, RunSetSource},
};

// help, completion and version: answered without reshardd.
bool IsLocal(const Command& command) {
  return command.name == "help" || command.name == "completion" || command.name == "version";
}

const Command* FindCommand(std::string_view name) {
  for (const Command& command : kCommands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

// Nullopt when `inv` has the arguments `command` takes; else the exit code
// after the usage error is printed.
std::optional<int> CheckArguments(const Command& command, const CtlInvocation& inv,
                                  std::ostream& err) {
  switch (command.arguments) {
    case Arguments::kSpecFile:
      if (!inv.spec_file.empty() && inv.positional.empty()) return std::nullopt;
      err << "reshardctl: " << inv.command << ": expected -f SPEC.json [--id ID]\n";
      return kExitUsage;
    case Arguments::kNone:
      if (inv.positional.empty()) return std::nullopt;
      err << "reshardctl: " << inv.command << " takes no arguments\n";
      return kExitUsage;
    case Arguments::kOneJobId:
      if (inv.positional.size() == 1) return std::nullopt;
      err << "reshardctl: " << inv.command << ": expected one JOB id\n" << CtlUsage();
      return kExitUsage;
    case Arguments::kJobIdAndAddress:
      if (inv.positional.size() == 2) return std::nullopt;
      err << "reshardctl: " << inv.command << ": expected JOB HOST:PORT\n" << CtlUsage();
      return kExitUsage;
    case Arguments::kOptionalOne:
      if (inv.positional.size() <= 1) return std::nullopt;
      err << "reshardctl: " << inv.command << ": expected at most one argument\n";
      return kExitUsage;
    case Arguments::kOne:
      if (inv.positional.size() == 1) return std::nullopt;
      err << "reshardctl: " << inv.command << ": expected one argument\n";
      return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace

int RunCtl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           bool redraw) {
  absl::StatusOr<CtlInvocation> parsed = ParseCtlArgs(args);
  if (!parsed.ok()) {
    err << "reshardctl: " << parsed.status().message() << "\n" << CtlUsage();
    return kExitUsage;
  }
  CtlInvocation& inv = *parsed;
  inv.options.redraw = redraw;
  const Command* command = FindCommand(inv.command);
  if (command == nullptr) {
    err << "reshardctl: unknown command '" << inv.command << "'\n" << CtlUsage();
    return kExitUsage;
  }
  if (std::optional<int> usage_error = CheckArguments(*command, inv, err)) return *usage_error;
  ServerConnection server(inv.options);
  if (!IsLocal(*command)) {
    if (absl::Status opened = server.Open(); !opened.ok()) {
      err << "reshardctl: " << opened.message() << "\n";
      return kExitError;
    }
  }
  CommandContext context{inv, server, out, err};
  return command->run(context);
}

}  // namespace reshard::client
