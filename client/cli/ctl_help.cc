#include "client/cli/ctl_help.h"

#include "absl/strings/str_cat.h"

namespace reshard::client {
namespace {

constexpr CommandHelp kHelp[] = {
    {"create", "create -f SPEC.json [--id ID]", "create and start a job",
     "Reads a job spec (the protobuf JSON mapping of reshard.v1.JobSpec; -f - reads stdin),\n"
     "creates the job and prints its id. --id chooses the id (lowercase letters, digits, '-').\n"
     "The server checks the spec; an error names the field (targets[1].filter.regex: ...).\n",
     false},
    {"list", "list", "list the jobs",
     "One line per job: id, state, source, number of targets, detail or error.\n"
     "-o wide adds the lag behind the source, the upstream link and each target's state.\n",
     false},
    {"get", "get JOB", "show one job",
     "The job's state, error, detail, source link, lag behind the source, RDB progress and\n"
     "a table of its targets with the reason of each target that is not STREAMING.\n"
     "-o wide shows every column (filter, listen address, commands, offsets); -o json the\n"
     "whole reshard.v1.Job.\n",
     true},
    {"watch", "watch JOB", "follow a job until it streams (exit 0) or ends (exit 1)",
     "On a terminal the job's screen is redrawn in place at every change, with the RDB\n"
     "progress, its rate and ETA, and the rate read from the source; into a pipe or file\n"
     "a plain frame is printed per state change and at most one a second. -o json prints\n"
     "one reshard.v1.Job per line. A DEGRADED job is watched on. Exit 0 once the job is\n"
     "STREAMING; 1 when it FAILED or was CANCELLED (the error on stderr) or the watch broke.\n",
     true},
    {"pause", "pause JOB", "stop delivering to the targets (the source is still read)",
     "Only a STREAMING job can be paused; its targets' streams are spooled until resume.\n", true},
    {"resume", "resume JOB", "deliver the spooled streams again",
     "Only a PAUSED job can be resumed.\n", true},
    {"cancel", "cancel JOB", "stop a job (it stays listed as CANCELLED)",
     "The targets keep what they received; nothing more is sent to them.\n", true},
    {"delete", "delete JOB", "cancel a job if it runs, and forget it", "", true},
    {"rdb", "rdb inspect|plan|split FILE ...", "work on RDB files, no server needed",
     "reshardctl rdb inspect FILE [-o json] [--top N]\n"
     "reshardctl rdb plan FILE -f SPEC.json          (what each target would get)\n"
     "reshardctl rdb split FILE -f SPEC.json --out DIR  (one RDB per target)\n",
     false},
    {"completion", "completion bash|zsh", "print a shell completion script",
     "bash:  source <(reshardctl completion bash)   (or save it in\n"
     "       /etc/bash_completion.d/reshardctl)\n"
     "zsh:   reshardctl completion zsh > \"${fpath[1]}/_reshardctl\"\n"
     "Job ids are completed from `reshardctl list` on the server given by --server.\n",
     false},
    {"help", "help [COMMAND]", "show the commands, or one command's help", "", false},
    {"version", "version", "print reshardctl's version (also --version)", "", false},
};

}  // namespace

const char kCtlExitCodes[] =
    "Exit codes: 0 success (watch: the job streams); 1 the server refused the request or\n"
    "cannot be reached, or (watch) the job failed or was cancelled; 2 the command line is\n"
    "wrong.\n";

const char kCtlSecurityHelp[] =
    "TLS: --tls_ca PEM (the CA of reshardd's certificate; --tls alone: the system's roots),\n"
    "--tls_cert PEM --tls_key PEM (reshardctl's certificate, when reshardd requires one),\n"
    "--tls_server_name NAME (the name reshardd's certificate carries, if not the host of\n"
    "--server). Token: --token_file FILE, else $RESHARD_TOKEN.\n";

std::span<const CommandHelp> CtlCommandHelp() { return kHelp; }

const CommandHelp* FindCommandHelp(std::string_view name) {
  for (const CommandHelp& help : kHelp) {
    if (help.name == name) return &help;
  }
  return nullptr;
}

std::string CommandHelpText(const CommandHelp& help) {
  std::string text =
      absl::StrCat("usage: reshardctl [--server ADDR] [-o table|wide|json] ",
                   std::string(help.synopsis), "\n", std::string(help.summary), "\n");
  if (!help.details.empty()) absl::StrAppend(&text, "\n", std::string(help.details));
  absl::StrAppend(&text,
                  "\nGlobal options: --server, -s ADDR (default 127.0.0.1:50051); -o, --output "
                  "table|wide|json.\n",
                  kCtlSecurityHelp, kCtlExitCodes);
  return text;
}

}  // namespace reshard::client
