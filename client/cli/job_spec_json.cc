#include "client/cli/job_spec_json.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace reshard::client {
namespace {

// protobuf 3.21 says "(targets[0].filter) fuzzy: Cannot find field." or
// "(source.address): invalid value 1 for type TYPE_STRING"; turn both into
// "field.path: what".
std::string RewriteJsonError(std::string_view message) {
  std::string rest(message);
  std::string path;
  if (rest.starts_with("(")) {
    size_t close = rest.find(')');
    if (close != std::string::npos) {
      path = rest.substr(1, close - 1);
      rest.erase(0, close + 1);
    }
  }
  constexpr std::string_view kUnknown = ": Cannot find field.";
  if (rest.ends_with(kUnknown) && rest.starts_with(" ")) {
    std::string name = rest.substr(1, rest.size() - 1 - kUnknown.size());
    std::string field = path.empty() ? name : absl::StrCat(path, ".", name);
    std::string text = absl::StrCat(field, ": unknown field");
    if (path == "filter" || path.ends_with(".filter")) {
      absl::StrAppend(&text, "; a filter is one of regex, prefix, glob, slots");
    }
    return text;
  }
  if (rest.starts_with(": ")) rest.erase(0, 2);
  if (rest.find("oneof field 'kind' is already set") != std::string::npos) {
    return absl::StrCat(path, ": only one of regex, prefix, glob, slots may be set");
  }
  if (path.empty()) return absl::StrCat("spec: ", rest);
  return absl::StrCat(path, ": ", rest);
}

}  // namespace

absl::StatusOr<v1::JobSpec> ParseJobSpecJson(std::string_view json) {
  v1::JobSpec spec;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &spec);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        RewriteJsonError(std::string_view(parsed.message().data(), parsed.message().size())));
  }
  return spec;
}

}  // namespace reshard::client
