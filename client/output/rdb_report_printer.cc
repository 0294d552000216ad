#include "client/output/rdb_report_printer.h"

#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "client/output/json_writer.h"

namespace reshard::client {
namespace {

// Keys and aux values as a terminal shows them.
std::string Printable(std::string_view s) {
  return absl::CHexEscape(absl::string_view(s.data(), s.size()));
}

void WriteBiggestKeys(const std::vector<RdbKeyInfo>& keys, JsonWriter& json) {
  json.BeginArray();
  for (const RdbKeyInfo& key : keys) {
    json.BeginObject()
        .Key("db")
        .Number(key.db)
        .Key("key")
        .String(key.key)
        .Key("type")
        .String(key.type)
        .Key("bytes")
        .Number(key.bytes)
        .EndObject();
  }
  json.EndArray();
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

}  // namespace

void PrintInspectionJson(const std::string& file, const RdbInspection& r, std::ostream& out) {
  JsonWriter json;
  json.BeginObject()
      .Key("file")
      .String(file)
      .Key("file_bytes")
      .Number(r.file_bytes)
      .Key("version")
      .Number(r.version)
      .Key("magic")
      .String(r.magic)
      .Key("aux")
      .BeginArray();
  for (const auto& [key, value] : r.aux) {
    json.BeginObject().Key("key").String(key).Key("value").String(value).EndObject();
  }
  json.EndArray()
      .Key("keys")
      .Number(r.keys)
      .Key("keys_with_ttl")
      .Number(r.keys_with_ttl)
      .Key("value_bytes")
      .Number(r.value_bytes)
      .Key("functions")
      .Number(r.functions)
      .Key("module_aux")
      .Number(r.module_aux)
      .Key("dbs")
      .BeginArray();
  for (const auto& [db, keys] : r.keys_per_db) {
    json.BeginObject().Key("db").Number(db).Key("keys").Number(keys).EndObject();
  }
  json.EndArray().Key("types").BeginArray();
  for (const auto& [type, stats] : r.types) {
    json.BeginObject()
        .Key("type")
        .String(type)
        .Key("keys")
        .Number(stats.keys)
        .Key("value_bytes")
        .Number(stats.value_bytes)
        .EndObject();
  }
  json.EndArray().Key("biggest_keys");
  WriteBiggestKeys(r.biggest, json);
  json.EndObject();
  out << json.json() << "\n";
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
  JsonWriter json;
  json.BeginObject()
      .Key("version")
      .Number(r.version)
      .Key("keys_read")
      .Number(r.keys_read)
      .Key("keys_unmatched")
      .Number(r.keys_unmatched)
      .Key("keys_multi_matched")
      .Number(r.keys_multi_matched)
      .Key("targets")
      .BeginArray();
  for (const RdbSplitTargetReport& t : r.targets) {
    json.BeginObject().Key("name").String(t.name).Key("filter").String(t.filter);
    if (!t.path.empty()) json.Key("path").String(t.path);
    json.Key("keys").Number(t.keys).Key("bytes").Number(t.bytes).Key("biggest_keys");
    WriteBiggestKeys(t.biggest, json);
    json.EndObject();
  }
  json.EndArray().EndObject();
  out << json.json() << "\n";
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

}  // namespace reshard::client
