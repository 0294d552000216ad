#pragma once

// SecretBox: authenticated encryption of small secret files at rest,
// AES-256-GCM through OpenSSL's EVP API. One key (--secrets_key_file) for the
// whole state dir; every Seal draws a fresh random 96-bit nonce, and the
// caller's associated data binds a sealed file to what owns it (a job's
// secret file is sealed with the job id: copied under another job's name, it
// does not open). Used by JobStore for the secret files; any other file of
// the state dir can be sealed the same way.
//
// Sealed form: the line "reshard-sealed-v1\n", then nonce (12 bytes) |
// ciphertext (as long as the plaintext) | GCM tag (16 bytes).
//
// Thread-safe (Seal and Open are const and share nothing but the key).

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reshard::server {

class SecretBox {
 public:
  static constexpr size_t kKeySize = 32;    // AES-256
  static constexpr size_t kNonceSize = 12;  // GCM's 96-bit IV
  static constexpr size_t kTagSize = 16;
  static constexpr std::string_view kMagic = "reshard-sealed-v1\n";

  // The key in `path`: 64 hex digits (what `openssl rand -hex 32` prints;
  // surrounding whitespace ignored) or exactly 32 raw bytes. The file must be
  // readable by its owner only (server/private_files.h). Errors name
  // "--secrets_key_file" and the file.
  static absl::StatusOr<SecretBox> FromKeyFile(const std::string& path);
  // `key` is 32 raw bytes; INVALID_ARGUMENT otherwise.
  static absl::StatusOr<SecretBox> FromKey(std::string_view key);

  SecretBox(const SecretBox&) = default;
  SecretBox& operator=(const SecretBox&) = default;
  ~SecretBox();  // wipes the key

  // `plaintext` sealed; INTERNAL only when OpenSSL fails (no randomness).
  absl::StatusOr<std::string> Seal(std::string_view plaintext,
                                   std::string_view associated_data) const;
  // The plaintext of a sealed text. INVALID_ARGUMENT "not a sealed file" for
  // a text without the magic line or too short to hold a nonce and a tag;
  // FAILED_PRECONDITION "cannot be decrypted with this key (another key, or
  // the file was altered)" when the tag does not match: a wrong key, other
  // associated data, or a changed byte.
  absl::StatusOr<std::string> Open(std::string_view sealed, std::string_view associated_data) const;

  // Whether `text` starts with the magic line (it may still fail to Open).
  static bool IsSealed(std::string_view text);

 private:
  SecretBox() = default;

  std::array<unsigned char, kKeySize> key_{};
};

}  // namespace reshard::server
