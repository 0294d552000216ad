#include "server/secret_box.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "server/private_files.h"

namespace reshard::server {
namespace {

constexpr char kFlag[] = "--secrets_key_file";

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext NewContext() { return CipherContext(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free); }

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

absl::Status OpenSslError(const char* what) {
  return absl::InternalError(absl::StrCat("OpenSSL: ", what, " failed"));
}

}  // namespace

absl::StatusOr<SecretBox> SecretBox::FromKey(std::string_view key) {
  if (key.size() != kKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("a key is ", kKeySize, " bytes, not ", key.size()));
  }
  SecretBox box;
  std::copy(key.begin(), key.end(), box.key_.begin());
  return box;
}

absl::StatusOr<SecretBox> SecretBox::FromKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string contents, ReadPrivateFile(path, kFlag));
  absl::StatusOr<SecretBox> box = absl::InvalidArgumentError("");
  if (contents.size() == kKeySize) {
    box = FromKey(contents);
  } else {
    absl::string_view hex = absl::StripAsciiWhitespace(contents);
    const bool is_hex =
        hex.size() == 2 * kKeySize &&
        std::all_of(hex.begin(), hex.end(), [](char c) { return absl::ascii_isxdigit(c); });
    if (is_hex) {
      std::string key = absl::HexStringToBytes(hex);
      box = FromKey(key);
      OPENSSL_cleanse(key.data(), key.size());
    }
  }
  OPENSSL_cleanse(contents.data(), contents.size());
  if (!box.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kFlag, ": ", path, " must hold a 256-bit key: 64 hex digits (openssl rand -hex 32) or ",
        kKeySize, " raw bytes"));
  }
  return box;
}

SecretBox::~SecretBox() { OPENSSL_cleanse(key_.data(), key_.size()); }

bool SecretBox::IsSealed(std::string_view text) { return text.starts_with(kMagic); }

absl::StatusOr<std::string> SecretBox::Seal(std::string_view plaintext,
                                            std::string_view associated_data) const {
  std::string sealed(kMagic);
  const size_t nonce_at = sealed.size();
  sealed.resize(nonce_at + kNonceSize + plaintext.size() + kTagSize);
  unsigned char* nonce = reinterpret_cast<unsigned char*>(&sealed[nonce_at]);
  unsigned char* out = nonce + kNonceSize;
  if (RAND_bytes(nonce, kNonceSize) != 1) return OpenSslError("RAND_bytes");
  CipherContext context = NewContext();
  int length = 0;
  if (context == nullptr ||
      EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) != 1 ||
      EVP_EncryptUpdate(context.get(), nullptr, &length, Bytes(associated_data),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_EncryptUpdate(context.get(), out, &length, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(context.get(), out + length, &length) != 1 ||
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, out + plaintext.size()) !=
          1) {
    return OpenSslError("AES-256-GCM encryption");
  }
  return sealed;
}

absl::StatusOr<std::string> SecretBox::Open(std::string_view sealed,
                                            std::string_view associated_data) const {
  if (!IsSealed(sealed) || sealed.size() < kMagic.size() + kNonceSize + kTagSize) {
    return absl::InvalidArgumentError("not a sealed file");
  }
  std::string_view rest = sealed.substr(kMagic.size());
  std::string_view nonce = rest.substr(0, kNonceSize);
  std::string_view ciphertext = rest.substr(kNonceSize, rest.size() - kNonceSize - kTagSize);
  std::string tag(rest.substr(rest.size() - kTagSize));
  std::string plaintext(ciphertext.size(), '\0');
  unsigned char* out = reinterpret_cast<unsigned char*>(plaintext.data());
  CipherContext context = NewContext();
  int length = 0;
  if (context == nullptr ||
      EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key_.data(), Bytes(nonce)) !=
          1 ||
      EVP_DecryptUpdate(context.get(), nullptr, &length, Bytes(associated_data),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_DecryptUpdate(context.get(), out, &length, Bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) != 1) {
    return OpenSslError("AES-256-GCM decryption");
  }
  // The tag is checked here: nothing decrypted is returned unless it matches.
  if (EVP_DecryptFinal_ex(context.get(), out + length, &length) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return absl::FailedPreconditionError(
        "cannot be decrypted with this key (another key, or the file was altered)");
  }
  return plaintext;
}

}  // namespace reshard::server
