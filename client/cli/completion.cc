#include "client/cli/completion.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/cli/ctl_help.h"

namespace reshard::client {
namespace {

// The names of the commands, space-separated; or those that take a job id,
// as a case pattern ("get|watch|...").
std::string CommandNames(bool only_job_ids) {
  std::vector<std::string> names;
  for (const CommandHelp& help : CtlCommandHelp()) {
    if (!only_job_ids || help.takes_job_id) names.emplace_back(help.name);
  }
  return absl::StrJoin(names, only_job_ids ? "|" : " ");
}

constexpr char kBash[] = R"sh(# bash completion for reshardctl: source <(reshardctl completion bash)
_reshardctl_jobs() {
  local server=() i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      -s | --server | --tls_ca | --tls_cert | --tls_key | --tls_server_name | --token_file)
        server+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
      --server=* | --tls) server+=("${COMP_WORDS[i]}") ;;
    esac
  done
  "${COMP_WORDS[0]}" "${server[@]}" list 2> /dev/null | awk 'NR > 1 { print $1 }'
}

_reshardctl() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD - 1]}"
  case "$prev" in
    -o | --output) COMPREPLY=($(compgen -W "table wide json" -- "$cur")); return ;;
    -s | --server | --id | --top | --sample | --rate | --target | --max-write-pause | \
      --tls_server_name | --target_tls_server_name) COMPREPLY=(); return ;;
    -f | --file | --out | --tls_ca | --tls_cert | --tls_key | --token_file | --target_tls_ca | \
      --target_tls_cert | --target_tls_key)
      COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  # The command is the first word that is neither an option nor its value.
  local cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      -o | --output | -s | --server | -f | --file | --id | --sample | --rate | --target | \
        --max-write-pause | --tls_ca | --tls_cert | --tls_key | --tls_server_name | \
        --token_file | --target_tls_ca | --target_tls_cert | --target_tls_key | \
        --target_tls_server_name) ((i++)) ;;
      -*) ;;
      *) cmd="${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ "$cur" == -* ]]; then
    local options="--server --output --tls --tls_ca --tls_cert --tls_key --tls_server_name"
    options+=" --token_file --help --version"
    [[ "$cmd" == create ]] && options+=" --file --id"
    [[ "$cmd" == verify ]] && options+=" --full --sample --rate --target --target_tls --target_tls_ca"
    [[ "$cmd" == verify ]] && options+=" --target_tls_cert --target_tls_key --target_tls_server_name"
    [[ "$cmd" == cutover ]] && options+=" --max-write-pause --promote --leave-source-paused"
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
    return
  fi
  case "$cmd" in
    "") COMPREPLY=($(compgen -W "@COMMANDS@" -- "$cur")) ;;
    @JOB_COMMANDS@) COMPREPLY=($(compgen -W "$(_reshardctl_jobs)" -- "$cur")) ;;
    help) COMPREPLY=($(compgen -W "@COMMANDS@" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    rdb)
      if [[ "$prev" == rdb ]]; then
        COMPREPLY=($(compgen -W "inspect plan split" -- "$cur"))
      else
        COMPREPLY=($(compgen -f -- "$cur"))
      fi
      ;;
    *) COMPREPLY=() ;;
  esac
}
complete -o filenames -F _reshardctl reshardctl
)sh";

constexpr char kZsh[] = R"sh(#compdef reshardctl
# zsh completion for reshardctl: reshardctl completion zsh > "${fpath[1]}/_reshardctl"
# (or, for this shell only: source <(reshardctl completion zsh))
_reshardctl_jobs() {
  local -a jobs
  jobs=(${(f)"$($_reshardctl_program "${_reshardctl_server[@]}" list 2> /dev/null | awk 'NR > 1 { print $1 }')"})
  _describe -t jobs 'job' jobs
}

_reshardctl() {
  local -a commands
  local i state
  commands=(
@ZSH_COMMANDS@
  )
  # The --server (and TLS and token options) of this line, for the job ids (words shift below).
  typeset -ga _reshardctl_server
  typeset -g _reshardctl_program=${words[1]}
  _reshardctl_server=()
  for ((i = 2; i < CURRENT; i++)); do
    case "${words[i]}" in
      -s | --server | --tls_ca | --tls_cert | --tls_key | --tls_server_name | --token_file)
        _reshardctl_server+=("${words[i]}" "${words[i + 1]}") ;;
      --server=* | --tls) _reshardctl_server+=("${words[i]}") ;;
    esac
  done
  _arguments -C \
    '(-s --server)'{-s,--server}'[address of reshardd'"'"'s gRPC API]:address:' \
    '(-o --output)'{-o,--output}'[output format]:format:(table wide json)' \
    '--tls[TLS to reshardd, the system'"'"'s roots]' \
    '--tls_ca[CA of reshardd'"'"'s certificate]:PEM:_files' \
    '--tls_cert[reshardctl'"'"'s certificate]:PEM:_files' \
    '--tls_key[key of --tls_cert]:PEM:_files' \
    '--tls_server_name[name in reshardd'"'"'s certificate]:name:' \
    '--token_file[file with reshardd'"'"'s bearer token]:file:_files' \
    '(- *)'{-h,--help}'[show the commands]' \
    '(- *)--version[print the version]' \
    '1:command:->command' \
    '*::argument:->argument'
  case $state in
    command) _describe -t commands 'reshardctl command' commands ;;
    argument)
      case ${words[1]} in
        verify)
          _arguments '1:job:_reshardctl_jobs' '(--sample)--full[every key]' \
            '(--full)--sample[a fraction of the keys]:fraction:' \
            '--rate[keys read a second, 0 unlimited]:keys/s:' \
            '*--target[a target'"'"'s Redis address]:NAME=HOST\:PORT:' \
            '--target_tls[TLS to the --target servers, the system'"'"'s roots]' \
            '--target_tls_ca[CA of the --target servers'"'"' certificates]:PEM:_files' \
            '--target_tls_cert[client certificate for the --target servers]:PEM:_files' \
            '--target_tls_key[key of --target_tls_cert]:PEM:_files' \
            '--target_tls_server_name[name in the --target servers'"'"' certificates]:name:'
          ;;
        cutover)
          _arguments '1:job:_reshardctl_jobs' '--max-write-pause[bound of the write pause]:duration:' \
            '--promote[REPLICAOF NO ONE on managed targets]' \
            '--leave-source-paused[do not unpause the source]'
          ;;
        @JOB_COMMANDS@) _reshardctl_jobs ;;
        create) _arguments '(-f --file)'{-f,--file}'[job spec (JSON)]:spec:_files' '--id[job id]:id:' ;;
        help) _describe -t commands 'command' commands ;;
        completion) _values 'shell' bash zsh ;;
        rdb)
          if ((CURRENT == 2)); then _values 'rdb command' inspect plan split; else _files; fi
          ;;
      esac
      ;;
  esac
}

if [[ "${funcstack[1]}" == _reshardctl ]]; then
  _reshardctl "$@"
else
  compdef _reshardctl reshardctl
fi
)sh";

std::string ZshCommands() {
  std::vector<std::string> lines;
  for (const CommandHelp& help : CtlCommandHelp()) {
    // _describe's NAME:DESCRIPTION, inside single quotes.
    std::string summary =
        absl::StrReplaceAll(std::string(help.summary), {{"'", "'\"'\"'"}, {":", "\\:"}});
    lines.push_back(absl::StrCat("    '", std::string(help.name), ":", summary, "'"));
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace

std::optional<std::string> CompletionScript(std::string_view shell) {
  if (shell == "bash") {
    return absl::StrReplaceAll(
        kBash, {{"@COMMANDS@", CommandNames(false)}, {"@JOB_COMMANDS@", CommandNames(true)}});
  }
  if (shell == "zsh") {
    return absl::StrReplaceAll(
        kZsh, {{"@ZSH_COMMANDS@", ZshCommands()}, {"@JOB_COMMANDS@", CommandNames(true)}});
  }
  return std::nullopt;
}

}  // namespace reshard::client
