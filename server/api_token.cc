#include "server/api_token.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "server/private_files.h"

namespace reshard::server {
namespace {

constexpr char kScheme[] = "Bearer ";
constexpr size_t kMinLength = 16;
constexpr size_t kMaxLength = 4096;

std::array<unsigned char, 32> Digest(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

}  // namespace

absl::StatusOr<ApiToken> ApiToken::FromText(std::string_view token, std::string_view what) {
  const absl::string_view stripped = absl::StripAsciiWhitespace(engine::AsAbsl(token));
  token = std::string_view(stripped.data(), stripped.size());
  if (token.size() < kMinLength || token.size() > kMaxLength) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), ": a token is ", kMinLength,
                                                   " to ", kMaxLength, " characters, not ",
                                                   token.size()));
  }
  for (char c : token) {
    // What a gRPC metadata value can carry, without the space that would
    // make "Bearer <token>" ambiguous.
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(what), ": a token is printable ASCII without spaces or control characters"));
    }
  }
  ApiToken result;
  result.digest_ = Digest(token);
  return result;
}

absl::StatusOr<ApiToken> ApiToken::FromFile(const std::string& path) {
  constexpr char kFlag[] = "--auth_token_file";
  ASSIGN_OR_RETURN(std::string contents, ReadPrivateFile(path, kFlag));
  absl::StatusOr<ApiToken> token = FromText(contents, absl::StrCat(kFlag, ": ", path));
  OPENSSL_cleanse(contents.data(), contents.size());
  return token;
}

grpc::Status ApiToken::CheckAuthorization(const std::string_view* authorization) const {
  if (authorization == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "missing authorization metadata: reshardd requires a bearer token "
                        "(reshardctl --token_file or RESHARD_TOKEN)");
  }
  // Any "Bearer " prefix case; the token is whatever follows it.
  std::string_view value = *authorization;
  const size_t scheme = sizeof(kScheme) - 1;
  std::string_view sent;
  if (value.size() >= scheme &&
      absl::EqualsIgnoreCase(absl::string_view(value.data(), scheme), kScheme)) {
    sent = value.substr(scheme);
  }
  const std::array<unsigned char, 32> digest = Digest(sent);
  if (sent.empty() || CRYPTO_memcmp(digest.data(), digest_.data(), digest.size()) != 0) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong bearer token");
  }
  return grpc::Status::OK;
}

grpc::Status ApiToken::Check(const grpc::ServerContext& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return CheckAuthorization(nullptr);
  std::string_view value(it->second.data(), it->second.size());
  return CheckAuthorization(&value);
}

}  // namespace reshard::server
