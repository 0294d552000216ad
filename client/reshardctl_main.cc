// reshardctl: the command-line client of reshardd (see client/rpc/ctl_commands.h)
// and local RDB tools (client/rdb_commands.h).

#include <unistd.h>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "client/rdb_commands.h"
#include "client/rpc/ctl_commands.h"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "rdb") == 0) {
    return reshard::client::RunRdbCommand(argc - 1, argv + 1);
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  return reshard::client::RunCtl(args, std::cout, std::cerr, /*redraw=*/isatty(1) != 0);
}
