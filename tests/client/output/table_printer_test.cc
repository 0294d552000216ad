// PrintTable: left-aligned columns, two spaces apart.

#include "client/output/table_printer.h"

#include <gtest/gtest.h>

#include <sstream>

namespace reshard::client {
namespace {

TEST(TablePrinterTest, LeftAlignedColumnsTwoSpacesApartNoTrailingSpace) {
  std::ostringstream out;
  PrintTable({{"ID", "STATE", "X"}, {"job-long-name", "OK", ""}, {"a", "STREAMING", "1"}}, out);
  EXPECT_EQ(out.str(),
            "ID             STATE      X\n"
            "job-long-name  OK         \n"
            "a              STREAMING  1\n");
}

}  // namespace
}  // namespace reshard::client
