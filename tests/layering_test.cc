// The folders are the pipeline: a file may include only from its own stage
// and the stages before it (docs/ARCHITECTURE.md), the engine knows nothing
// of the server, the client, the API or Prometheus, and no source file sits
// in engine/ outside a stage folder. This test reads every source file of the
// tree and fails naming each include that breaks the rule.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;

// What each top-level part of the tree may include, by include prefix.
// Engine stages in data-flow order; rdb and resp are siblings.
const std::map<std::string, std::set<std::string>>& AllowedIncludes() {
  static const auto* allowed = new std::map<std::string, std::set<std::string>>{
      {"engine/base", {"engine/base"}},
      {"engine/io", {"engine/base", "engine/io"}},
      {"engine/rdb", {"engine/base", "engine/io", "engine/rdb"}},
      {"engine/resp", {"engine/base", "engine/io", "engine/resp"}},
      {"engine/route", {"engine/base", "engine/io", "engine/rdb", "engine/resp", "engine/route"}},
      {"engine/link",
       {"engine/base", "engine/io", "engine/rdb", "engine/resp", "engine/route", "engine/link"}},
      {"engine/job",
       {"engine/base", "engine/io", "engine/rdb", "engine/resp", "engine/route", "engine/link",
        "engine/job"}},
      {"proto", {"engine", "proto", "reshard/v1"}},
      {"server", {"engine", "proto", "reshard/v1", "server"}},
      {"client", {"engine", "proto", "reshard/v1", "client"}},
  };
  return *allowed;
}

// The part of the tree `path` (relative to the source root) belongs to:
// "engine/<stage>", "server", "client", "proto"; "" when it is not checked;
// "engine" for a file directly in engine/.
std::string PartOf(const std::string& path) {
  if (path.rfind("engine/", 0) == 0) {
    size_t slash = path.find('/', 7);
    if (slash == std::string::npos) return "engine";
    return path.substr(0, slash);
  }
  for (const char* part : {"server", "client", "proto"}) {
    if (path.rfind(std::string(part) + "/", 0) == 0) return part;
  }
  return "";
}

// Libraries only the server may know.
bool IsServerOnlyLibrary(const std::string& include) {
  return include.rfind("grpcpp/", 0) == 0 || include.rfind("grpc/", 0) == 0 ||
         include.rfind("prometheus/", 0) == 0 || include.rfind("google/protobuf", 0) == 0;
}

// The violations in one file: "path:line: includes X (stage may include ...)".
std::vector<std::string> Violations(const std::string& path, std::istream& content) {
  std::vector<std::string> out;
  std::string part = PartOf(path);
  if (part.empty()) return out;
  if (part == "engine") {
    out.push_back(path + ": a source file outside a stage folder of engine/");
    return out;
  }
  auto allowed_it = AllowedIncludes().find(part);
  if (allowed_it == AllowedIncludes().end()) {
    out.push_back(path + ": engine/" + part.substr(7) + " is not a known stage");
    return out;
  }
  const std::set<std::string>& allowed = allowed_it->second;
  std::string line;
  int number = 0;
  while (std::getline(content, line)) {
    ++number;
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line.compare(start, 8, "#include") != 0) continue;
    size_t open = line.find_first_of("\"<", start + 8);
    if (open == std::string::npos) continue;
    size_t close = line.find(line[open] == '"' ? '"' : '>', open + 1);
    if (close == std::string::npos) continue;
    std::string include = line.substr(open + 1, close - open - 1);
    std::string where = path + ":" + std::to_string(number) + ": includes " + include;
    if (part.rfind("engine/", 0) == 0 && IsServerOnlyLibrary(include)) {
      out.push_back(where + " (the engine knows nothing of gRPC, protobuf or Prometheus)");
      continue;
    }
    if (line[open] != '"') continue;
    // Only project includes are checked from here on.
    std::string include_part = PartOf(include);
    bool project = !include_part.empty() || include.rfind("reshard/v1/", 0) == 0 ||
                   include.rfind("tests/", 0) == 0;
    if (!project) continue;
    bool ok = false;
    for (const std::string& prefix : allowed) {
      if (include.rfind(prefix + "/", 0) == 0) ok = true;
    }
    if (!ok) {
      std::string list;
      for (const std::string& prefix : allowed) list += (list.empty() ? "" : ", ") + prefix;
      out.push_back(where + " (" + part + " may include only " + list + ")");
    }
  }
  return out;
}

std::vector<std::string> ViolationsOf(const std::string& path, const std::string& text) {
  std::istringstream in(text);
  return Violations(path, in);
}

TEST(LayeringRuleTest, AllowsEarlierStagesAndItsOwn) {
  EXPECT_THAT(ViolationsOf("engine/route/command_router.h",
                           "#include \"engine/resp/resp_parser.h\"\n"
                           "#include \"engine/route/key_filter.h\"\n"
                           "#include <vector>\n"),
              testing::IsEmpty());
}

TEST(LayeringRuleTest, FlagsAnIncludeFromALaterStage) {
  EXPECT_THAT(ViolationsOf("engine/rdb/rdb_reader.cc", "#include \"engine/link/target.h\"\n"),
              testing::ElementsAre(testing::HasSubstr(
                  "engine/rdb/rdb_reader.cc:1: includes engine/link/target.h (engine/rdb may "
                  "include only engine/base, engine/io, engine/rdb)")));
}

TEST(LayeringRuleTest, FlagsSiblingFormats) {
  EXPECT_THAT(ViolationsOf("engine/resp/resp_parser.h", "#include \"engine/rdb/rdb_format.h\"\n"),
              testing::SizeIs(1));
}

TEST(LayeringRuleTest, FlagsServerClientAndApiIncludesInTheEngine) {
  EXPECT_THAT(ViolationsOf("engine/job/job.cc",
                           "#include \"server/job_manager.h\"\n"
                           "#include \"client/ctl_commands.h\"\n"
                           "#include \"reshard/v1/job_service.pb.h\"\n"
                           "#include <grpcpp/grpcpp.h>\n"
                           "#include \"prometheus/registry.h\"\n"),
              testing::SizeIs(5));
}

TEST(LayeringRuleTest, FlagsAFileOutsideAStageFolder) {
  EXPECT_THAT(ViolationsOf("engine/glue.cc", ""),
              testing::ElementsAre(testing::HasSubstr("outside a stage folder")));
}

TEST(LayeringRuleTest, ClientAndServerDoNotIncludeEachOther) {
  EXPECT_THAT(ViolationsOf("client/ctl_commands.cc", "#include \"server/job_store.h\"\n"),
              testing::SizeIs(1));
  EXPECT_THAT(ViolationsOf("server/job_service.cc", "#include \"client/rdb_split.h\"\n"),
              testing::SizeIs(1));
}

TEST(LayeringTest, EveryFileOfTheTreeIncludesOnlyEarlierStages) {
  fs::path root = RESHARD_SOURCE_DIR;
  std::vector<std::string> violations;
  int files = 0;
  for (const char* top : {"engine", "server", "client", "proto"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / top)) {
      if (!entry.is_regular_file()) continue;
      std::string ext = entry.path().extension().string();
      if (ext != ".h" && ext != ".cc") continue;
      std::string relative = fs::relative(entry.path(), root).generic_string();
      std::ifstream in(entry.path());
      ASSERT_TRUE(in) << "cannot read " << entry.path();
      ++files;
      for (std::string& v : Violations(relative, in)) violations.push_back(std::move(v));
    }
  }
  EXPECT_GT(files, 50);
  EXPECT_THAT(violations, testing::IsEmpty());
}

}  // namespace
