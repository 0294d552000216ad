#pragma once

// ScreenRedraw: draws `watch` frames on a terminal in place. Each frame
// overwrites the one before (cursor up, each line rewritten and cleared to
// its end, what is left below cleared), so the terminal shows one screen and
// its scrollback keeps only the last frame, whatever the number of updates.
// Lines are cut to the terminal's width and the frame to its height, so that
// no line wraps and the cursor arithmetic holds.

#include <string>
#include <string_view>

namespace reshard::client {

struct TerminalSize {
  int columns = 80;
  int rows = 24;
};
// The size of the terminal on standard output (80x24 when it has none).
TerminalSize StdoutTerminalSize();

class ScreenRedraw {
 public:
  // The bytes that replace the previous frame (none on the first call) with
  // `frame`: lines separated by '\n' (a final '\n' is optional), each cut to
  // size.columns - 1 columns (UTF-8 sequences kept whole), at most
  // size.rows - 1 lines (the last shown says how many more there were).
  std::string Replace(std::string_view frame, TerminalSize size);

 private:
  int lines_drawn_ = 0;
};

}  // namespace reshard::client
