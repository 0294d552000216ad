#include "client/rdb_commands.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/ctl_commands.h"
#include "client/job_spec_json.h"
#include "client/rdb_inspect.h"
#include "client/rdb_split.h"

namespace reshard::client {
namespace {

constexpr char kUsage[] =
    "usage: reshardctl rdb inspect FILE [-o table|json] [--top N]\n"
    "       reshardctl rdb split FILE -f SPEC.json --out DIR [-o table|json]\n"
    "       reshardctl rdb plan FILE -f SPEC.json [-o table|json]\n";

struct RdbArgs {
  std::string command;
  std::string file;
  std::string spec_path;
  std::string out_dir;
  OutputFormat output = OutputFormat::kTable;
  size_t top = 10;
};

// Parses the arguments after "rdb"; an error message for a usage error.
std::optional<std::string> ParseRdbArgs(const std::vector<std::string>& args, RdbArgs* parsed) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string* out) -> std::optional<std::string> {
      if (i + 1 >= args.size()) return absl::StrCat(arg, " needs a value");
      *out = args[++i];
      return std::nullopt;
    };
    std::string text;
    if (arg == "-f" || arg == "--file") {
      if (auto e = value(&parsed->spec_path)) return e;
    } else if (arg == "--out") {
      if (auto e = value(&parsed->out_dir)) return e;
    } else if (arg == "-o" || arg == "--output") {
      if (auto e = value(&text)) return e;
      if (text == "json") {
        parsed->output = OutputFormat::kJson;
      } else if (text == "table") {
        parsed->output = OutputFormat::kTable;
      } else {
        return absl::StrCat("-o takes table or json, not '", text, "'");
      }
    } else if (arg == "--top") {
      if (auto e = value(&text)) return e;
      if (!absl::SimpleAtoi(text, &parsed->top))
        return absl::StrCat("--top: bad number '", text, "'");
    } else if (arg.size() > 1 && arg[0] == '-') {
      return absl::StrCat("unknown option ", arg);
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.empty()) return "missing command";
  parsed->command = positional[0];
  if (parsed->command != "inspect" && parsed->command != "split" && parsed->command != "plan") {
    return absl::StrCat("unknown command '", parsed->command, "'");
  }
  if (positional.size() != 2) return absl::StrCat(parsed->command, " takes exactly one FILE");
  parsed->file = positional[1];
  if (parsed->command != "inspect" && parsed->spec_path.empty()) {
    return absl::StrCat(parsed->command, " needs -f SPEC.json");
  }
  if (parsed->command == "split" && parsed->out_dir.empty()) return "split needs --out DIR";
  return std::nullopt;
}

// A JSON string literal; bytes outside printable ASCII become \u00XX.
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

// Keys and aux values as a terminal shows them.
std::string Printable(std::string_view s) {
  return absl::CHexEscape(absl::string_view(s.data(), s.size()));
}

std::string BiggestKeysJson(const std::vector<RdbKeyInfo>& keys) {
  std::string out = "[";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += ",";
    absl::StrAppend(&out, "{\"db\":", keys[i].db, ",\"key\":", JsonString(keys[i].key),
                    ",\"type\":", JsonString(keys[i].type), ",\"bytes\":", keys[i].bytes, "}");
  }
  return out + "]";
}

void PrintBiggestKeys(const std::vector<RdbKeyInfo>& keys, std::string_view indent,
                      std::ostream& out) {
  if (keys.empty()) return;
  out << indent << absl::StrFormat("%-4s %-20s %12s  %s\n", "DB", "TYPE", "BYTES", "KEY");
  for (const RdbKeyInfo& key : keys) {
    out << indent
        << absl::StrFormat("%-4d %-20s %12d  %s\n", key.db, key.type, key.bytes,
                           Printable(key.key));
  }
}

void PrintInspectionJson(const std::string& file, const RdbInspection& r, std::ostream& out) {
  std::string json =
      absl::StrCat("{\"file\":", JsonString(file), ",\"file_bytes\":", r.file_bytes,
                   ",\"version\":", r.version, ",\"magic\":", JsonString(r.magic), ",\"aux\":[");
  for (size_t i = 0; i < r.aux.size(); ++i) {
    if (i > 0) json += ",";
    absl::StrAppend(&json, "{\"key\":", JsonString(r.aux[i].first),
                    ",\"value\":", JsonString(r.aux[i].second), "}");
  }
  absl::StrAppend(&json, "],\"keys\":", r.keys, ",\"keys_with_ttl\":", r.keys_with_ttl,
                  ",\"value_bytes\":", r.value_bytes, ",\"functions\":", r.functions,
                  ",\"module_aux\":", r.module_aux, ",\"dbs\":[");
  bool first = true;
  for (const auto& [db, keys] : r.keys_per_db) {
    if (!first) json += ",";
    first = false;
    absl::StrAppend(&json, "{\"db\":", db, ",\"keys\":", keys, "}");
  }
  json += "],\"types\":[";
  first = true;
  for (const auto& [type, stats] : r.types) {
    if (!first) json += ",";
    first = false;
    absl::StrAppend(&json, "{\"type\":", JsonString(type), ",\"keys\":", stats.keys,
                    ",\"value_bytes\":", stats.value_bytes, "}");
  }
  absl::StrAppend(&json, "],\"biggest_keys\":", BiggestKeysJson(r.biggest), "}");
  out << json << "\n";
}

void PrintInspection(const std::string& file, const RdbInspection& r, std::ostream& out) {
  out << "file:              " << file << " (" << r.file_bytes << " bytes)\n";
  out << "rdb version:       " << r.version << " (" << r.magic << ")\n";
  for (const auto& [key, value] : r.aux) {
    out << absl::StrFormat("aux %-14s %s\n", Printable(key), Printable(value));
  }
  out << "keys:              " << r.keys << " (with ttl: " << r.keys_with_ttl << ")\n";
  out << "value bytes:       " << r.value_bytes << "\n";
  if (r.functions > 0) out << "functions:         " << r.functions << "\n";
  if (r.module_aux > 0) out << "module aux:        " << r.module_aux << "\n";
  for (const auto& [db, keys] : r.keys_per_db) {
    out << absl::StrFormat("db %-15d %d keys\n", db, keys);
  }
  if (!r.types.empty()) {
    out << "\n" << absl::StrFormat("%-24s %10s %14s\n", "TYPE", "KEYS", "VALUE BYTES");
    for (const auto& [type, stats] : r.types) {
      out << absl::StrFormat("%-24s %10d %14d\n", type, stats.keys, stats.value_bytes);
    }
  }
  if (!r.biggest.empty()) {
    out << "\nbiggest keys:\n";
    PrintBiggestKeys(r.biggest, "  ", out);
  }
}

void PrintSplitReportJson(const RdbSplitReport& r, std::ostream& out) {
  std::string json =
      absl::StrCat("{\"version\":", r.version, ",\"keys_read\":", r.keys_read,
                   ",\"keys_unmatched\":", r.keys_unmatched,
                   ",\"keys_multi_matched\":", r.keys_multi_matched, ",\"targets\":[");
  for (size_t i = 0; i < r.targets.size(); ++i) {
    const RdbSplitTargetReport& t = r.targets[i];
    if (i > 0) json += ",";
    absl::StrAppend(&json, "{\"name\":", JsonString(t.name), ",\"filter\":", JsonString(t.filter));
    if (!t.path.empty()) absl::StrAppend(&json, ",\"path\":", JsonString(t.path));
    absl::StrAppend(&json, ",\"keys\":", t.keys, ",\"bytes\":", t.bytes,
                    ",\"biggest_keys\":", BiggestKeysJson(t.biggest), "}");
  }
  out << json << "]}\n";
}

void PrintSplitReport(const RdbSplitReport& r, bool show_biggest, std::ostream& out) {
  out << absl::StrFormat("%-16s %-24s %10s %14s  %s\n", "TARGET", "FILTER", "KEYS", "BYTES",
                         show_biggest ? "" : "FILE");
  for (const RdbSplitTargetReport& t : r.targets) {
    out << absl::StrFormat("%-16s %-24s %10d %14d  %s\n", t.name, Printable(t.filter), t.keys,
                           t.bytes, t.path);
  }
  out << "keys read: " << r.keys_read << ", unmatched (written nowhere): " << r.keys_unmatched
      << ", matched several targets: " << r.keys_multi_matched << "\n";
  if (!show_biggest) return;
  for (const RdbSplitTargetReport& t : r.targets) {
    if (t.biggest.empty()) continue;
    out << "\nbiggest keys of " << t.name << ":\n";
    PrintBiggestKeys(t.biggest, "  ", out);
  }
}

int Fail(const absl::Status& status, std::ostream& err) {
  err << "reshardctl rdb: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
      << "\n";
  return kExitError;
}

absl::StatusOr<std::vector<RdbSplitTargetSpec>> ReadSplitTargets(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read spec ", path));
  std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecJson(json);
  if (!spec.ok()) return spec.status();
  return SplitTargetsFromProto(*spec);
}

}  // namespace

int RunRdb(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  RdbArgs parsed;
  if (std::optional<std::string> usage_error = ParseRdbArgs(args, &parsed)) {
    err << "reshardctl rdb: " << *usage_error << "\n" << kUsage;
    return kExitUsage;
  }
  const bool json = parsed.output == OutputFormat::kJson;
  if (parsed.command == "inspect") {
    absl::StatusOr<RdbInspection> inspection = InspectRdbFile(parsed.file, parsed.top);
    if (!inspection.ok()) return Fail(inspection.status(), err);
    json ? PrintInspectionJson(parsed.file, *inspection, out)
         : PrintInspection(parsed.file, *inspection, out);
    return kExitOk;
  }
  absl::StatusOr<std::vector<RdbSplitTargetSpec>> targets = ReadSplitTargets(parsed.spec_path);
  if (!targets.ok()) return Fail(targets.status(), err);
  absl::StatusOr<RdbSplitReport> report =
      parsed.command == "split" ? SplitRdbFile(parsed.file, *targets, parsed.out_dir, parsed.top)
                                : PlanRdbFile(parsed.file, *targets, parsed.top);
  if (!report.ok()) return Fail(report.status(), err);
  json ? PrintSplitReportJson(*report, out)
       : PrintSplitReport(*report, /*show_biggest=*/parsed.command == "plan", out);
  return kExitOk;
}

int RunRdbCommand(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return RunRdb(args, std::cout, std::cerr);
}

}  // namespace reshard::client
