#pragma once

// RdbSink: where one target's RDB bytes go. The live job's sink is the
// target's backlog/socket (written by the job); StringRdbSink and FileRdbSink
// are for tests and offline splitting.

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asio/awaitable.hpp"

namespace reshard::engine {

class RdbSink {
 public:
  virtual ~RdbSink() = default;
  // Appends bytes. Never blocks; data is copied before returning.
  virtual void Write(std::string_view data) = 0;
  // True when the consumer is behind and the producer should wait.
  virtual bool Backlogged() const { return false; }
  // Completes when the sink is no longer backlogged (or failed).
  virtual asio::awaitable<absl::Status> WaitWritable() { co_return absl::OkStatus(); }
};

// Appends everything to a string it owns.
class StringRdbSink : public RdbSink {
 public:
  void Write(std::string_view data) override { out_.append(data); }
  const std::string& data() const { return out_; }
  std::string& mutable_data() { return out_; }

 private:
  std::string out_;
};

// Writes to a file through a stdio buffer. The first write error is kept and
// returned by Close() (and WaitWritable()).
class FileRdbSink : public RdbSink {
 public:
  // Creates/truncates path. INTERNAL naming the path and errno on failure.
  static absl::StatusOr<std::unique_ptr<FileRdbSink>> Create(const std::string& path);
  ~FileRdbSink() override;

  void Write(std::string_view data) override;
  asio::awaitable<absl::Status> WaitWritable() override { co_return status_; }
  // Flushes and closes; returns the first error seen. Idempotent.
  absl::Status Close();

 private:
  FileRdbSink(std::FILE* f, std::string path) : file_(f), path_(std::move(path)) {}
  std::FILE* file_;
  std::string path_;
  absl::Status status_;
};

}  // namespace reshard::engine
