#pragma once

// ApiToken: the bearer token every reshard.v1 RPC must carry when reshardd
// runs with --auth_token_file ("authorization: Bearer <token>" metadata;
// the gRPC health service needs none). The comparison takes the same time
// whatever the token sent: both sides are hashed (SHA-256) and the digests
// compared with CRYPTO_memcmp, so neither a prefix nor the length leaks.

#include <grpcpp/grpcpp.h>

#include <array>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reshard::server {

class ApiToken {
 public:
  // The token in `path` (surrounding whitespace, such as the final newline,
  // ignored): 16 to 4096 printable ASCII characters without spaces. The file
  // must be readable by its owner only (server/private_files.h); errors name
  // "--auth_token_file" and the file, never the token.
  static absl::StatusOr<ApiToken> FromFile(const std::string& path);
  // The same checks on a token given directly (tests); errors name `what`.
  static absl::StatusOr<ApiToken> FromText(std::string_view token, std::string_view what);

  // OK when the call's metadata has "authorization: Bearer <this token>";
  // UNAUTHENTICATED "missing authorization metadata: ..." or "wrong bearer
  // token" otherwise. Never echoes what the client sent.
  grpc::Status Check(const grpc::ServerContext& context) const;
  // The same on the metadata value alone (nullptr: no such metadata).
  grpc::Status CheckAuthorization(const std::string_view* authorization) const;

 private:
  ApiToken() = default;

  std::array<unsigned char, 32> digest_{};  // SHA-256 of the token
};

}  // namespace reshard::server
