// SecretBox (server/secret_box.h): AES-256-GCM sealing of the state dir's
// secret files. A sealed text opens with its key and associated data only;
// any changed byte, another key or another job id is refused; key files are
// read in hex or raw and must be the owner's alone.

#include "server/secret_box.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace reshard::server {
namespace {

const std::string kKey(SecretBox::kKeySize, '\x42');
const std::string kOtherKey(SecretBox::kKeySize, '\x43');
constexpr char kSecret[] = R"({"source":{"password":"s3cret-source-pass"}})";
constexpr char kCannotDecrypt[] =
    "cannot be decrypted with this key (another key, or the file was altered)";

SecretBox Box(const std::string& key) {
  absl::StatusOr<SecretBox> box = SecretBox::FromKey(key);
  EXPECT_TRUE(box.ok()) << box.status();
  return *box;
}

std::string WriteFile(const std::string& path, const std::string& contents, mode_t mode) {
  std::ofstream(path, std::ios::binary) << contents;
  ::chmod(path.c_str(), mode);
  return path;
}

TEST(SecretBoxTest, SealsAndOpensWithTheSameKeyAndAssociatedData) {
  SecretBox box = Box(kKey);
  absl::StatusOr<std::string> sealed = box.Seal(kSecret, "job-1");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_TRUE(SecretBox::IsSealed(*sealed));
  EXPECT_EQ(sealed->find("s3cret"), std::string::npos);
  EXPECT_EQ(sealed->size(), SecretBox::kMagic.size() + SecretBox::kNonceSize +
                                std::string(kSecret).size() + SecretBox::kTagSize);
  absl::StatusOr<std::string> opened = box.Open(*sealed, "job-1");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kSecret);

  // A fresh nonce each time: the same plaintext never seals the same twice.
  absl::StatusOr<std::string> again = box.Seal(kSecret, "job-1");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *sealed);
  EXPECT_EQ(*box.Open(*again, "job-1"), kSecret);

  absl::StatusOr<std::string> empty = box.Seal("", "job-1");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*box.Open(*empty, "job-1"), "");
}

TEST(SecretBoxTest, EveryChangedByteIsDetected) {
  SecretBox box = Box(kKey);
  const std::string sealed = *box.Seal(kSecret, "job-1");
  // Each byte after the magic line: the nonce, the ciphertext and the tag.
  for (size_t i = SecretBox::kMagic.size(); i < sealed.size(); ++i) {
    std::string altered = sealed;
    altered[i] ^= 0x01;
    absl::StatusOr<std::string> opened = box.Open(altered, "job-1");
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(opened.status().message(), kCannotDecrypt);
  }
  // Cut short, or one byte more.
  EXPECT_EQ(box.Open(sealed.substr(0, sealed.size() - 1), "job-1").status().message(),
            kCannotDecrypt);
  EXPECT_EQ(box.Open(sealed + "x", "job-1").status().message(), kCannotDecrypt);
}

TEST(SecretBoxTest, AnotherKeyOrAnotherJobIdDoesNotOpen) {
  const std::string sealed = *Box(kKey).Seal(kSecret, "job-1");
  EXPECT_EQ(Box(kOtherKey).Open(sealed, "job-1").status().message(), kCannotDecrypt);
  EXPECT_EQ(Box(kKey).Open(sealed, "job-2").status().message(), kCannotDecrypt);
}

TEST(SecretBoxTest, TextsThatAreNotSealedAreNamedSo) {
  SecretBox box = Box(kKey);
  EXPECT_FALSE(SecretBox::IsSealed(kSecret));
  absl::StatusOr<std::string> plain = box.Open(kSecret, "job-1");
  EXPECT_EQ(plain.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plain.status().message(), "not a sealed file");
  EXPECT_EQ(box.Open(std::string(SecretBox::kMagic) + "short", "job-1").status().message(),
            "not a sealed file");
}

TEST(SecretBoxTest, KeysAreThirtyTwoBytes) {
  absl::StatusOr<SecretBox> short_key = SecretBox::FromKey("0123456789");
  EXPECT_EQ(short_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(short_key.status().message(), "a key is 32 bytes, not 10");
}

TEST(SecretBoxTest, KeyFilesInHexOrRawAndReadableByTheOwnerOnly) {
  testing::TempDir dir("secret_box_test");
  const std::string hex = std::string(64, 'a');
  const std::string hex_file = WriteFile(dir / "hex.key", hex + "\n", 0600);
  const std::string raw_file = WriteFile(dir / "raw.key", std::string(32, '\xaa'), 0400);
  absl::StatusOr<SecretBox> from_hex = SecretBox::FromKeyFile(hex_file);
  absl::StatusOr<SecretBox> from_raw = SecretBox::FromKeyFile(raw_file);
  ASSERT_TRUE(from_hex.ok()) << from_hex.status();
  ASSERT_TRUE(from_raw.ok()) << from_raw.status();
  // The same 32 bytes (0xaa each) either way.
  EXPECT_EQ(*from_raw->Open(*from_hex->Seal(kSecret, "j"), "j"), kSecret);

  const std::string open_file = WriteFile(dir / "open.key", hex, 0644);
  absl::StatusOr<SecretBox> too_open = SecretBox::FromKeyFile(open_file);
  EXPECT_EQ(too_open.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(too_open.status().message(),
            "--secrets_key_file: " + open_file +
                " has mode 0644: a secret must be readable by its owner only (chmod 600 " +
                open_file + ")");

  const std::string bad_file = WriteFile(dir / "bad.key", "not a key at all", 0600);
  EXPECT_EQ(SecretBox::FromKeyFile(bad_file).status().message(),
            "--secrets_key_file: " + bad_file +
                " must hold a 256-bit key: 64 hex digits (openssl rand -hex 32) or 32 raw bytes");
  EXPECT_EQ(SecretBox::FromKeyFile(dir / "missing.key").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace reshard::server
