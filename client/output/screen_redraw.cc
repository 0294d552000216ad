#include "client/output/screen_redraw.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace reshard::client {
namespace {

// The first bytes of `line` that fill at most `columns` columns, counting
// one column per UTF-8 character (continuation bytes are 10xxxxxx).
std::string_view CutToColumns(std::string_view line, int columns) {
  int used = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const bool continuation = (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80;
    if (continuation) continue;
    if (used == columns) return line.substr(0, i);
    ++used;
  }
  return line;
}

std::vector<std::string_view> SplitLines(std::string_view frame) {
  std::vector<std::string_view> lines;
  while (!frame.empty()) {
    size_t end = frame.find('\n');
    if (end == std::string_view::npos) end = frame.size();
    lines.push_back(frame.substr(0, end));
    frame.remove_prefix(std::min(frame.size(), end + 1));
  }
  return lines;
}

}  // namespace

TerminalSize StdoutTerminalSize() {
  TerminalSize size;
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
    size.columns = ws.ws_col;
    size.rows = ws.ws_row;
  }
  return size;
}

std::string ScreenRedraw::Replace(std::string_view frame, TerminalSize size) {
  const int columns = std::max(1, size.columns - 1);
  const int max_lines = std::max(1, size.rows - 1);
  std::vector<std::string_view> lines = SplitLines(frame);
  std::string more;
  if (static_cast<int>(lines.size()) > max_lines) {
    more = absl::StrCat("... ", lines.size() - max_lines + 1, " more lines");
    lines.resize(max_lines - 1);
    lines.push_back(more);
  }
  std::string out;
  // Back to the first column of the previous frame's first line.
  out += '\r';
  if (lines_drawn_ > 0) absl::StrAppend(&out, "\033[", lines_drawn_, "A");
  for (std::string_view line : lines) {
    out.append(CutToColumns(line, columns));
    out += "\033[K\n";
  }
  out += "\033[J";  // whatever the previous frame had below this one
  lines_drawn_ = static_cast<int>(lines.size());
  return out;
}

}  // namespace reshard::client
