// reshardctl's help and completion scripts: every command has help, the
// usage lists every command and the exit codes, and both completion scripts
// offer every command; the bash one completes for real (bash is run on it).

#include "client/cli/ctl_help.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "client/cli/completion.h"
#include "client/cli/ctl_args.h"
#include "client/rpc/ctl_commands.h"

namespace reshard::client {
namespace {

using ::testing::HasSubstr;

struct CtlRun {
  int code;
  std::string out;
  std::string err;
};

CtlRun Ctl(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = RunCtl(args, out, err, /*redraw=*/false);
  return {code, out.str(), err.str()};
}

TEST(CtlHelpTest, UsageListsEveryCommandAndTheExitCodes) {
  CtlRun help = Ctl({"help"});
  EXPECT_EQ(help.code, 0);
  for (const CommandHelp& command : CtlCommandHelp()) {
    EXPECT_THAT(help.out, HasSubstr("  " + std::string(command.synopsis) + " ")) << command.name;
  }
  EXPECT_THAT(help.out, HasSubstr("Exit codes: 0 success"));
  EXPECT_EQ(Ctl({"--help"}).out, help.out);
  EXPECT_EQ(Ctl({"-h"}).out, help.out);
}

TEST(CtlHelpTest, HelpCommandAndCommandDashDashHelpAreTheSame) {
  for (const CommandHelp& command : CtlCommandHelp()) {
    const std::string name(command.name);
    CtlRun help = Ctl({"help", name});
    EXPECT_EQ(help.code, 0) << name;
    EXPECT_THAT(help.out, HasSubstr("usage: reshardctl [--server ADDR] [-o table|wide|json] " +
                                    std::string(command.synopsis) + "\n"));
    EXPECT_THAT(help.out, HasSubstr("Exit codes:"));
    EXPECT_EQ(Ctl({name, "--help"}).out, help.out) << name;
  }
  EXPECT_THAT(Ctl({"help", "watch"}).out, HasSubstr("redrawn in place"));
  CtlRun unknown = Ctl({"help", "frobnicate"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("reshardctl: help: unknown command 'frobnicate'\n"));
}

TEST(CtlHelpTest, VersionBothWays) {
  CtlRun version = Ctl({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_THAT(version.out, ::testing::MatchesRegex("reshardctl [0-9]+\\.[0-9]+\\.[0-9]+\n"));
  EXPECT_EQ(Ctl({"version"}).out, version.out);
}

TEST(CtlHelpTest, CompletionForAnUnknownShellIsAUsageError) {
  CtlRun fish = Ctl({"completion", "fish"});
  EXPECT_EQ(fish.code, 2);
  EXPECT_EQ(fish.err, "reshardctl: completion: expected bash or zsh, got 'fish'\n");
  EXPECT_EQ(Ctl({"completion"}).code, 2);
}

TEST(CtlHelpTest, BothScriptsOfferEveryCommand) {
  for (const char* shell : {"bash", "zsh"}) {
    std::optional<std::string> script = CompletionScript(shell);
    ASSERT_TRUE(script.has_value()) << shell;
    EXPECT_EQ(Ctl({"completion", shell}).out, *script);
    EXPECT_THAT(*script, ::testing::Not(::testing::ContainsRegex("@[A-Z_]+@")))
        << "a placeholder left in " << shell;
    for (const CommandHelp& command : CtlCommandHelp()) {
      EXPECT_THAT(*script, HasSubstr(std::string(command.name))) << shell;
    }
  }
  EXPECT_THAT(
      *CompletionScript("bash"),
      HasSubstr("get|watch|pause|resume|cancel|delete|verify|cutover|set-source) COMPREPLY="));
  EXPECT_THAT(*CompletionScript("zsh"), HasSubstr("'watch:follow a job until it streams"));
}

// Runs the bash script's completion function on `line` (words; the last is
// the one being completed) and returns COMPREPLY, one per line.
std::string BashComplete(const std::string& words) {
  // Per process: ctest runs this binary's tests in parallel processes.
  const std::string dir = ::testing::TempDir() + "/ctl_help_test." + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string script = dir + "/reshardctl.bash";
  std::ofstream(script) << *CompletionScript("bash");
  const std::string out = dir + "/complete.out";
  const std::string command = "bash --norc -c 'source " + script + "; COMP_WORDS=(" + words +
                              "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _reshardctl; "
                              "printf \"%s\\n\" \"${COMPREPLY[@]}\"' > " +
                              out + " 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(CtlHelpTest, BashCompletesCommandsOptionsAndFormats) {
  if (std::system("bash --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no bash";
  EXPECT_EQ(BashComplete("reshardctl w"), "watch\n");
  EXPECT_EQ(BashComplete("reshardctl --server 127.0.0.1:1 c"),
            "create\ncancel\ncutover\ncompletion\n");
  EXPECT_EQ(BashComplete("reshardctl se"), "set-source\n");
  EXPECT_EQ(BashComplete("reshardctl -o w"), "wide\n");
  EXPECT_EQ(BashComplete("reshardctl completion \"\""), "bash\nzsh\n");
  EXPECT_EQ(BashComplete("reshardctl help ve"), "verify\nversion\n");
  EXPECT_EQ(BashComplete("reshardctl --ver"), "--version\n");
  EXPECT_EQ(BashComplete("reshardctl create --i"), "--id\n");
  EXPECT_EQ(BashComplete("reshardctl verify j --s"), "--server\n--sample\n");
  EXPECT_EQ(BashComplete("reshardctl cutover --rate 1 j --p"), "--promote\n");
}

TEST(CtlHelpTest, ZshLoadsTheScript) {
  if (std::system("zsh --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "zsh not installed";
  const std::string dir = ::testing::TempDir() + "/ctl_help_test." + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string script = dir + "/_reshardctl";
  std::ofstream(script) << *CompletionScript("zsh");
  // It parses, and sourcing it registers the function for reshardctl.
  EXPECT_EQ(std::system(("zsh -n " + script).c_str()), 0);
  const std::string out = dir + "/zsh.out";
  const std::string command = "zsh -f -c 'autoload -U compinit && compinit -u -D && source " +
                              script + " && print -r -- ${_comps[reshardctl]}' > " + out + " 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "_reshardctl\n");
}

}  // namespace
}  // namespace reshard::client
