#pragma once

// TempDir: a fresh directory for one test, removed with everything in it when
// the TempDir is destroyed (errors ignored).

#include <string>
#include <vector>

namespace reshard::testing {

class TempDir {
 public:
  // mkdtemp() of $TMPDIR (or /tmp)/<prefix>.XXXXXX; path() is empty when that
  // failed (the test then fails on its first file operation).
  explicit TempDir(const std::string& prefix);
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  // The names of the entries in the directory, sorted.
  std::vector<std::string> Files() const;

 private:
  std::string path_;
};

}  // namespace reshard::testing
