#include "engine/rdb/rdb_sink.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace reshard::engine {

absl::StatusOr<std::unique_ptr<FileRdbSink>> FileRdbSink::Create(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wbe");
  if (f == nullptr) {
    return absl::InternalError(absl::StrCat("create ", path, ": ", std::strerror(errno)));
  }
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  return std::unique_ptr<FileRdbSink>(new FileRdbSink(f, path));
}

FileRdbSink::~FileRdbSink() { (void)Close(); }

void FileRdbSink::Write(std::string_view data) {
  if (file_ == nullptr || !status_.ok() || data.empty()) return;
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    status_ = absl::InternalError(absl::StrCat("write ", path_, ": ", std::strerror(errno)));
  }
}

absl::Status FileRdbSink::Close() {
  if (file_ != nullptr) {
    if (std::fclose(file_) != 0 && status_.ok()) {
      status_ = absl::InternalError(absl::StrCat("close ", path_, ": ", std::strerror(errno)));
    }
    file_ = nullptr;
  }
  return status_;
}

}  // namespace reshard::engine
