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
     "one reshard.v1.Job per line. A DEGRADED or CUTOVER job is watched on. Exit 0 once it is\n"
     "STREAMING or DONE; 1 when it FAILED or was CANCELLED (the error on stderr) or the watch\n"
     "broke.\n",
     true},
    {"pause", "pause JOB", "stop delivering to the targets (the source is still read)",
     "Only a STREAMING job can be paused; its targets' streams are spooled until resume.\n", true},
    {"resume", "resume JOB", "deliver the spooled streams again",
     "Only a PAUSED job can be resumed.\n", true},
    {"cancel", "cancel JOB", "stop a job (it stays listed as CANCELLED)",
     "The targets keep what they received; nothing more is sent to them.\n", true},
    {"delete", "delete JOB", "cancel a job if it runs, and forget it", "", true},
    {"verify",
     "verify JOB [--full | --sample F] [--rate K] [--target NAME=ADDR ...] [--target_tls ...]",
     "compare the source with the targets (exit 3: problems found)",
     "A pre-check (per db, the keys each target should hold against its DBSIZE), then every\n"
     "key (or --sample F, a fraction in (0, 1]) compared by value and TTL with the target\n"
     "its filter selects, and every target key checked for a stray. A difference is checked\n"
     "again once the target has applied the source's offset (lag is not loss). --rate K\n"
     "bounds the keys read a second (default 10000; 0: unlimited). --target NAME=HOST:PORT\n"
     "gives a target's Redis address (required for an unmanaged target; for a cluster target,\n"
     "a node its slot map is read from); --target_tls, or\n"
     "--target_tls_ca PEM [--target_tls_cert PEM --target_tls_key PEM] [--target_tls_server_name\n"
     "NAME], reads every --target over TLS (its tls-port; a managed one keeps its own TLS\n"
     "otherwise). Progress and an ETA\n"
     "are shown; Ctrl-C leaves the verification running (get shows its report).\n"
     "Exit 0: exact; 3: problems (the first of each kind are listed); 1: it failed.\n",
     true},
    {"cutover", "cutover JOB [--max-write-pause D] [--promote] [--leave-source-paused]",
     "pause the source's writes, drain, promote the targets: DONE",
     "1 lag: waits (up to 60 s) until every target streams within 1 MiB of the source;\n"
     "2 pause: CLIENT PAUSE <max-write-pause> WRITE on the source, its final offset read;\n"
     "3 drain: waits until every target has applied that offset;\n"
     "4 promote (--promote): REPLICAOF NO ONE on every managed target;\n"
     "5 unpause: CLIENT UNPAUSE (unless --leave-source-paused). Then the job is DONE.\n"
     "Steps 3-5 must fit in --max-write-pause (default 2s): otherwise, or when a step fails,\n"
     "the source is unpaused at once, the cutover ROLLED_BACK and the job streams on (exit 1).\n"
     "The steps are printed as they pass, then the measured write pause.\n",
     true},
    {"set-source", "set-source JOB HOST:PORT", "follow the source to a new master (a failover)",
     "Points the job at HOST:PORT, e.g. the replica promoted after the source failed over.\n"
     "reshardd reconnects there with PSYNC of the replication id and offset it followed:\n"
     "a promoted replica of the old master keeps that id (its replid2) and continues the\n"
     "stream without a new snapshot. get shows the source's address and each failover\n"
     "(PARTIAL: continued; FULL: a new snapshot, and why). The address is kept with the\n"
     "job: a restarted reshardd reads from it. Credentials stay the spec's.\n",
     true},
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
    "cannot be reached, or (watch) the job failed or was cancelled, or (cutover) it was\n"
    "rolled back; 2 the command line is wrong; 3 (verify) problems were found.\n";

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
