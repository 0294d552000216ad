#include "client/rdb_split.h"

#include <filesystem>
#include <memory>
#include <set>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"
#include "engine/io/file_byte_source.h"
#include "engine/rdb/rdb_reader.h"
#include "engine/rdb/rdb_sink.h"
#include "engine/route/rdb_splitter.h"
#include "proto/reshard/v1/job_spec_convert.h"

namespace reshard::client {
namespace {

namespace fs = std::filesystem;
using engine::AsAbsl;

// A plan's "file": the splitter counts the bytes, nothing is kept.
class DiscardingRdbSink : public engine::RdbSink {
 public:
  void Write(std::string_view data) override {}
};

// Forwards every event to the splitter and to the inspector, the value bytes
// only to those that asked for them. Flow control is the splitter's.
class TeeRdbHandler : public engine::RdbHandler {
 public:
  TeeRdbHandler(engine::RdbSplitter* splitter, RdbInspector* inspector)
      : splitter_(splitter), inspector_(inspector) {}

  void OnHeader(int version, std::string_view magic) override {
    splitter_->OnHeader(version, magic);
    inspector_->OnHeader(version, magic);
  }
  void OnAux(std::string_view key, std::string_view value, std::string_view raw) override {
    splitter_->OnAux(key, value, raw);
    inspector_->OnAux(key, value, raw);
  }
  void OnGlobal(uint8_t opcode, std::string_view raw) override {
    splitter_->OnGlobal(opcode, raw);
    inspector_->OnGlobal(opcode, raw);
  }
  void OnSelectDb(int db) override {
    splitter_->OnSelectDb(db);
    inspector_->OnSelectDb(db);
  }
  bool OnEntryBegin(const engine::RdbEntry& entry) override {
    splitter_wants_ = splitter_->OnEntryBegin(entry);
    inspector_wants_ = inspector_->OnEntryBegin(entry);
    return splitter_wants_ || inspector_wants_;
  }
  void OnValueChunk(std::string_view chunk) override {
    if (splitter_wants_) splitter_->OnValueChunk(chunk);
    if (inspector_wants_) inspector_->OnValueChunk(chunk);
  }
  void OnEntryEnd() override {
    splitter_->OnEntryEnd();
    inspector_->OnEntryEnd();
  }
  void OnEnd() override {
    splitter_->OnEnd();
    inspector_->OnEnd();
  }
  bool Backlogged() const override { return splitter_->Backlogged(); }
  asio::awaitable<absl::Status> WaitWritable() override { return splitter_->WaitWritable(); }

 private:
  engine::RdbSplitter* splitter_;
  RdbInspector* inspector_;
  bool splitter_wants_ = false;
  bool inspector_wants_ = false;
};

std::string TargetField(int index, std::string_view field) {
  return absl::StrCat("targets[", index, "].", AsAbsl(field));
}

// Reads `path` once, routing keys into `sinks` (one per target).
absl::StatusOr<RdbSplitReport> RunSplit(const std::string& path,
                                        const std::vector<RdbSplitTargetSpec>& targets,
                                        const std::vector<engine::RdbSink*>& sinks,
                                        size_t biggest_limit) {
  std::vector<std::unique_ptr<engine::KeyFilter>> filters;
  std::vector<engine::RdbSplitOutput> split_targets;
  for (size_t i = 0; i < targets.size(); ++i) {
    absl::StatusOr<std::unique_ptr<engine::KeyFilter>> filter =
        engine::MakeKeyFilter(targets[i].filter);
    if (!filter.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(TargetField(static_cast<int>(i), "filter"),
                                                     ": ", filter.status().message()));
    }
    filters.push_back(std::move(*filter));
    split_targets.push_back({filters.back().get(), sinks[i]});
  }
  absl::StatusOr<std::unique_ptr<engine::FileByteSource>> source =
      engine::FileByteSource::Open(path);
  if (!source.ok()) return source.status();

  engine::RdbSplitter splitter(std::move(split_targets));
  RdbInspector inspector(/*biggest_limit=*/0);
  std::vector<BiggestKeys> biggest(targets.size(), BiggestKeys(biggest_limit));
  inspector.set_on_key([&](const RdbKeyInfo& key) {
    for (size_t i = 0; i < filters.size(); ++i) {
      if (filters[i]->Matches(key.key)) biggest[i].Offer(key);
    }
  });
  TeeRdbHandler tee(&splitter, &inspector);
  engine::RdbReader reader(source->get(), &tee);
  absl::Status status = engine::RunRdbReaderSync(reader);
  if (!status.ok()) return status;

  RdbSplitReport report;
  report.version = splitter.rdb_version();
  report.keys_read = splitter.keys_read();
  report.keys_unmatched = splitter.keys_unmatched();
  report.keys_multi_matched = splitter.keys_multi_matched();
  for (size_t i = 0; i < targets.size(); ++i) {
    RdbSplitTargetReport& t = report.targets.emplace_back();
    t.name = targets[i].name;
    t.filter = filters[i]->Describe();
    t.keys = splitter.keys_kept(i);
    t.bytes = splitter.bytes_written(i);
    t.biggest = biggest[i].Sorted();
  }
  return report;
}

}  // namespace

absl::StatusOr<std::vector<RdbSplitTargetSpec>> SplitTargetsFromProto(const v1::JobSpec& spec) {
  if (spec.targets_size() == 0) return absl::InvalidArgumentError("targets: at least one required");
  std::vector<RdbSplitTargetSpec> out;
  std::set<std::string> names;
  for (int i = 0; i < spec.targets_size(); ++i) {
    const v1::TargetSpec& target = spec.targets(i);
    const std::string& name = target.name();
    if (name.empty()) return absl::InvalidArgumentError(TargetField(i, "name: required"));
    // The name becomes <out>/<name>.rdb: nothing that leaves the directory.
    if (name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(TargetField(i, "name"), ": '", name, "' cannot be a file name"));
    }
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(TargetField(i, "name"), ": duplicate name '", name, "'"));
    }
    RdbSplitTargetSpec t;
    t.name = name;
    absl::StatusOr<engine::FilterSpec> filter =
        api::FilterFromProto(target.filter(), TargetField(i, "filter"));
    if (!filter.ok()) return filter.status();
    t.filter = *std::move(filter);
    absl::StatusOr<std::unique_ptr<engine::KeyFilter>> built = engine::MakeKeyFilter(t.filter);
    if (!built.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(TargetField(i, "filter"), ".",
                                                     AsAbsl(engine::FilterKindName(t.filter.kind)),
                                                     ": ", built.status().message()));
    }
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<RdbSplitReport> SplitRdbFile(const std::string& path,
                                            const std::vector<RdbSplitTargetSpec>& targets,
                                            const std::string& out_dir, size_t biggest_limit) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create directory ", out_dir, ": ", ec.message()));
  }
  std::vector<std::string> finals;
  std::vector<std::string> temps;
  for (const RdbSplitTargetSpec& t : targets) {
    finals.push_back((fs::path(out_dir) / (t.name + ".rdb")).string());
    temps.push_back(finals.back() + ".tmp");
  }
  auto remove_temps = [&temps] {
    for (const std::string& temp : temps) {
      std::error_code ignored;
      fs::remove(temp, ignored);
    }
  };

  std::vector<std::unique_ptr<engine::FileRdbSink>> files;
  std::vector<engine::RdbSink*> sinks;
  for (const std::string& temp : temps) {
    absl::StatusOr<std::unique_ptr<engine::FileRdbSink>> file = engine::FileRdbSink::Create(temp);
    if (!file.ok()) {
      files.clear();
      remove_temps();
      return file.status();
    }
    sinks.push_back(file->get());
    files.push_back(std::move(*file));
  }
  absl::StatusOr<RdbSplitReport> report = RunSplit(path, targets, sinks, biggest_limit);
  absl::Status closed = absl::OkStatus();
  for (auto& file : files) {
    absl::Status s = file->Close();
    if (closed.ok()) closed = s;
  }
  if (report.ok() && !closed.ok()) report = closed;
  if (!report.ok()) {
    remove_temps();
    return report.status();
  }
  for (size_t i = 0; i < temps.size(); ++i) {
    fs::rename(temps[i], finals[i], ec);
    if (ec) {
      remove_temps();
      return absl::InternalError(
          absl::StrCat("cannot rename ", temps[i], " to ", finals[i], ": ", ec.message()));
    }
    report->targets[i].path = finals[i];
  }
  return report;
}

absl::StatusOr<RdbSplitReport> PlanRdbFile(const std::string& path,
                                           const std::vector<RdbSplitTargetSpec>& targets,
                                           size_t biggest_limit) {
  std::vector<DiscardingRdbSink> discards(targets.size());
  std::vector<engine::RdbSink*> sinks;
  for (DiscardingRdbSink& discard : discards) sinks.push_back(&discard);
  return RunSplit(path, targets, sinks, biggest_limit);
}

}  // namespace reshard::client
