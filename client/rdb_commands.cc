#include "client/rdb_commands.h"

#include <iostream>

namespace reshard::client {

int RunRdbCommand(int argc, char** argv) {
  std::cerr << "reshardctl rdb: not implemented yet" << std::endl;
  return 2;
}

}  // namespace reshard::client
