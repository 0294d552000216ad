#include "server/job_store.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "engine/io/atomic_file.h"
#include "google/protobuf/util/json_util.h"
#include "proto/reshard/v1/cutover_convert.h"
#include "proto/reshard/v1/job_spec_convert.h"
#include "proto/reshard/v1/job_status_convert.h"
#include "proto/reshard/v1/verify_convert.h"

namespace reshard::server {
namespace {

constexpr char kJobSuffix[] = ".json";
constexpr char kSecretSuffix[] = ".secret.json";
constexpr char kStateSuffix[] = ".state";

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

using engine::WriteFileAtomically;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status ParseJson(const std::string& path, const std::string& text,
                       google::protobuf::Message* out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // files written by a newer reshardd
  auto parsed = google::protobuf::util::JsonStringToMessage(text, out, options);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": ", std::string(parsed.message())));
  }
  return absl::OkStatus();
}

// The password fields of `spec` and nothing else; empty when it has none.
std::optional<v1::JobSpec> SecretsOf(const engine::JobSpec& spec) {
  v1::JobSpec secrets;
  bool any = !spec.source.credentials.password.empty();
  secrets.mutable_source()->set_password(spec.source.credentials.password);
  if (spec.source.sentinel.has_value() && !spec.source.sentinel->credentials.password.empty()) {
    secrets.mutable_source()->mutable_sentinel()->set_password(
        spec.source.sentinel->credentials.password);
    any = true;
  }
  for (const engine::TargetSpec& target : spec.targets) {
    v1::TargetSpec* t = secrets.add_targets();
    t->set_password(target.credentials.password);
    any = any || !target.credentials.password.empty();
    if (target.replica.has_value()) {
      t->mutable_replica()->set_password(target.replica->credentials.password);
      any = any || !target.replica->credentials.password.empty();
    }
    if (target.cluster.has_value()) {
      t->mutable_cluster()->set_password(target.cluster->credentials.password);
      any = any || !target.cluster->credentials.password.empty();
    }
  }
  if (!any) return std::nullopt;
  return secrets;
}

void ApplySecrets(const v1::JobSpec& secrets, engine::JobSpec* spec) {
  spec->source.credentials.password = secrets.source().password();
  if (spec->source.sentinel.has_value()) {
    spec->source.sentinel->credentials.password = secrets.source().sentinel().password();
  }
  for (size_t i = 0; i < spec->targets.size() && i < size_t(secrets.targets_size()); ++i) {
    engine::TargetSpec& target = spec->targets[i];
    target.credentials.password = secrets.targets(i).password();
    if (target.replica.has_value()) {
      target.replica->credentials.password = secrets.targets(i).replica().password();
    }
    if (target.cluster.has_value()) {
      target.cluster->credentials.password = secrets.targets(i).cluster().password();
    }
  }
}

}  // namespace

absl::StatusOr<std::string> JobStore::SecretFileText(std::string_view id,
                                                     const std::string& json) const {
  if (!box_.has_value()) return json;
  return box_->Seal(json, id);
}

absl::Status JobStore::LoadSecrets(const std::string& path, StoredJob* job) const {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return absl::OkStatus();  // no password in the spec
  const bool sealed = SecretBox::IsSealed(*text);
  std::string json;
  if (sealed) {
    if (!box_.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat(path,
                       ": is encrypted, and reshardd was started without "
                       "--secrets_key_file: start it with the key it was written with"));
    }
    absl::StatusOr<std::string> opened = box_->Open(*text, job->id);
    if (!opened.ok()) {
      return absl::Status(opened.status().code(),
                          absl::StrCat(path, ": ", opened.status().message(),
                                       ": start reshardd with the --secrets_key_file it was "
                                       "written with"));
    }
    json = *std::move(opened);
  } else {
    json = *text;
  }
  OPENSSL_cleanse(text->data(), text->size());
  v1::JobSpec secrets;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  // Not ParseJson: the parser's message may quote the text, a password.
  absl::Status loaded =
      google::protobuf::util::JsonStringToMessage(json, &secrets, options).ok()
          ? absl::OkStatus()
          : absl::DataLossError(absl::StrCat(path, ": not a secret file (JSON of JobSpec)"));
  if (loaded.ok() && box_.has_value() && !sealed) {
    // Written before a key was given: sealed now rather than left in clear.
    absl::StatusOr<std::string> sealed_text = SecretFileText(job->id, json);
    loaded =
        sealed_text.ok() ? WriteFileAtomically(path, *sealed_text, 0600) : sealed_text.status();
  }
  OPENSSL_cleanse(json.data(), json.size());
  RETURN_IF_ERROR(loaded);
  ApplySecrets(secrets, &job->spec);
  return absl::OkStatus();
}

absl::Status JobStore::Save(const StoredJob& job) const {
  v1::Job proto;
  proto.set_id(job.id);
  *proto.mutable_spec() = api::SpecToProto(job.spec);  // no passwords
  engine::JobStatus status;
  status.state = job.state;
  status.error = job.error;
  status.detail = job.detail;
  status.created_unix_ms = job.created_unix_ms;
  status.updated_unix_ms = job.updated_unix_ms;
  v1::JobStatus status_proto = api::StatusToProto(status);
  status_proto.clear_rdb();
  *proto.mutable_status() = status_proto;
  if (job.last_cutover.has_value()) {
    *proto.mutable_last_cutover() = api::CutoverReportToProto(*job.last_cutover);
  }
  if (job.last_verification.has_value()) {
    *proto.mutable_last_verification() =
        api::VerifyReportToProto(job.id, job.spec, *job.last_verification);
  }

  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  std::string text;
  google::protobuf::util::MessageToJsonString(proto, &text, print);
  const std::string base = absl::StrCat(dir_, "/", job.id);
  const std::string secret_path = absl::StrCat(base, kSecretSuffix);
  if (std::optional<v1::JobSpec> secrets = SecretsOf(job.spec)) {
    std::string secret_json;
    google::protobuf::util::MessageToJsonString(*secrets, &secret_json, print);
    absl::StatusOr<std::string> secret_text = SecretFileText(job.id, secret_json);
    OPENSSL_cleanse(secret_json.data(), secret_json.size());
    RETURN_IF_ERROR(secret_text.status());
    RETURN_IF_ERROR(WriteFileAtomically(secret_path, *secret_text, 0600));
  } else {
    std::remove(secret_path.c_str());
  }
  return WriteFileAtomically(absl::StrCat(base, kJobSuffix), text, 0644);
}

absl::Status JobStore::Remove(std::string_view id) const {
  const std::string base = absl::StrCat(dir_, "/", std::string(id));
  for (const char* suffix : {kJobSuffix, kSecretSuffix}) {
    const std::string path = absl::StrCat(base, suffix);
    if (std::remove(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError("cannot remove", path);
    }
  }
  return ClearState(id);
}

std::string JobStore::StateDir(std::string_view id) const {
  return absl::StrCat(dir_, "/", std::string(id), kStateSuffix);
}

absl::Status JobStore::ClearState(std::string_view id) const {
  const std::string path = StateDir(id);
  std::error_code error;
  std::filesystem::remove_all(path, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot remove ", path, ": ", error.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<StoredJob> JobStore::Load(const std::string& path) const {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  v1::Job proto;
  RETURN_IF_ERROR(ParseJson(path, text, &proto));
  StoredJob job;
  job.id = proto.id();
  absl::StatusOr<engine::JobSpec> spec = api::SpecFromProto(proto.spec());
  if (!spec.ok()) {
    return absl::Status(spec.status().code(), absl::StrCat(path, ": ", spec.status().message()));
  }
  job.spec = *std::move(spec);
  const std::string secret_path =
      absl::StrCat(path.substr(0, path.size() - strlen(kJobSuffix)), kSecretSuffix);
  job.id = proto.id();
  absl::Status secrets = LoadSecrets(secret_path, &job);
  // A secret file that does not parse is lost like a job file that does not;
  // one that cannot be opened (another key) is kept for the right key.
  if (secrets.code() == absl::StatusCode::kDataLoss) return secrets;
  job.secrets_error = std::move(secrets);
  absl::StatusOr<engine::JobState> state = api::StateFromProto(proto.status().state());
  job.state = state.ok() ? *state : engine::JobState::kPending;
  job.error = api::ErrorFromProto(proto.status().error());
  job.detail = proto.status().detail();
  job.created_unix_ms = api::UnixMillisFromTimestamp(proto.status().create_time());
  job.updated_unix_ms = api::UnixMillisFromTimestamp(proto.status().update_time());
  if (proto.has_last_cutover())
    job.last_cutover = api::CutoverReportFromProto(proto.last_cutover());
  if (proto.has_last_verification()) {
    job.last_verification = api::VerifyReportFromProto(proto.last_verification());
  }
  return job;
}

absl::StatusOr<std::vector<StoredJob>> JobStore::LoadAll(
    std::vector<std::string>* set_aside) const {
  std::vector<std::string> paths;
  std::error_code error;
  for (const auto& file : std::filesystem::directory_iterator(dir_, error)) {
    const std::string name = file.path().filename().string();
    if (absl::EndsWith(name, kJobSuffix) && !absl::EndsWith(name, kSecretSuffix)) {
      paths.push_back(file.path().string());
    }
  }
  if (error) {
    return absl::InternalError(absl::StrCat("cannot list ", dir_, ": ", error.message()));
  }
  std::sort(paths.begin(), paths.end());

  std::vector<StoredJob> jobs;
  for (const std::string& path : paths) {
    absl::StatusOr<StoredJob> job = Load(path);
    if (job.ok()) {
      jobs.push_back(*std::move(job));
      continue;
    }
    if (set_aside == nullptr) return job.status();
    // One unreadable file must not keep the other jobs from restoring.
    const std::string aside = absl::StrCat(path, ".corrupt");
    std::rename(path.c_str(), aside.c_str());
    const std::string base = path.substr(0, path.size() - strlen(kJobSuffix));
    const std::string secret = absl::StrCat(base, kSecretSuffix);
    std::rename(secret.c_str(), absl::StrCat(secret, ".corrupt").c_str());
    set_aside->push_back(absl::StrCat(job.status().message(), "; moved to ", aside));
  }
  return jobs;
}

}  // namespace reshard::server
