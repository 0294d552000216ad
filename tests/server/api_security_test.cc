// The pieces of reshardd's API security that need no network: the bearer
// token's checks (server/api_token.h), which listen addresses count as
// loopback and the refusal of an unprotected one (server/api_security.h),
// the files and directory that hold secrets (server/private_files.h), and the
// redaction of a job's passwords from its status (server/status_redaction.h).

#include "server/api_security.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "server/api_token.h"
#include "server/private_files.h"
#include "server/status_redaction.h"
#include "tests/support/temp_dir.h"

namespace reshard::server {
namespace {

constexpr char kToken[] = "tok-0123456789abcdef";

unsigned ModeOf(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

TEST(ApiTokenTest, AcceptsOnlyTheBearerToken) {
  absl::StatusOr<ApiToken> token = ApiToken::FromText(std::string(kToken) + "\n", "test");
  ASSERT_TRUE(token.ok()) << token.status();
  const std::string_view right = "Bearer tok-0123456789abcdef";
  const std::string_view lower_scheme = "bearer tok-0123456789abcdef";
  EXPECT_TRUE(token->CheckAuthorization(&right).ok());
  EXPECT_TRUE(token->CheckAuthorization(&lower_scheme).ok());

  grpc::Status missing = token->CheckAuthorization(nullptr);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(missing.error_message(),
            "missing authorization metadata: reshardd requires a bearer token (reshardctl "
            "--token_file or RESHARD_TOKEN)");
  for (std::string_view wrong :
       {std::string_view("Bearer tok-0123456789abcdeX"), std::string_view("Bearer "),
        std::string_view("tok-0123456789abcdef"), std::string_view("Basic tok-0123456789abcdef"),
        std::string_view("Bearer tok-0123456789abcdef0"), std::string_view("Bearer tok")}) {
    grpc::Status denied = token->CheckAuthorization(&wrong);
    EXPECT_EQ(denied.error_code(), grpc::StatusCode::UNAUTHENTICATED) << wrong;
    EXPECT_EQ(denied.error_message(), "wrong bearer token") << wrong;
  }
}

TEST(ApiTokenTest, RefusesTokensThatAreTooShortOrNotPrintable) {
  EXPECT_EQ(ApiToken::FromText("short", "--auth_token_file: /t").status().message(),
            "--auth_token_file: /t: a token is 16 to 4096 characters, not 5");
  EXPECT_EQ(
      ApiToken::FromText("has a space in the middle", "--auth_token_file: /t").status().message(),
      "--auth_token_file: /t: a token is printable ASCII without spaces or control "
      "characters");
}

TEST(ApiTokenTest, TheTokenFileMustBeTheOwnersAlone) {
  testing::TempDir dir("api_security_test");
  const std::string path = dir / "token";
  std::ofstream(path) << kToken << "\n";
  ::chmod(path.c_str(), 0640);
  absl::StatusOr<ApiToken> refused = ApiToken::FromFile(path);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "--auth_token_file: " + path +
                " has mode 0640: a secret must be readable by its owner only (chmod 600 " + path +
                ")");
  ::chmod(path.c_str(), 0600);
  absl::StatusOr<ApiToken> token = ApiToken::FromFile(path);
  ASSERT_TRUE(token.ok()) << token.status();
  const std::string_view right = "Bearer tok-0123456789abcdef";
  EXPECT_TRUE(token->CheckAuthorization(&right).ok());
  // The token never appears in an error about its file.
  std::ofstream(path) << "short-token";
  EXPECT_EQ(ApiToken::FromFile(path).status().message().find("short-token"),
            std::string_view::npos);
}

TEST(ListenAddressTest, LoopbackAddresses) {
  for (const char* address : {"127.0.0.1:50051", "127.1.2.3:1", "localhost:50051", "LOCALHOST:1",
                              "[::1]:50051", "[::ffff:127.0.0.1]:1", "unix:/run/reshard.sock"}) {
    EXPECT_TRUE(IsLoopbackListenAddress(address)) << address;
  }
  for (const char* address : {"0.0.0.0:50051", "[::]:50051", "10.0.0.5:50051", ":50051", "50051",
                              "reshard.example.com:50051", "[2001:db8::1]:1"}) {
    EXPECT_FALSE(IsLoopbackListenAddress(address)) << address;
  }
}

TEST(ListenAddressTest, AnUnprotectedNonLoopbackListenerIsRefusedSayingWhy) {
  absl::Status refused =
      CheckListenAddress("--grpc_listen", "0.0.0.0:50051", false, false, "RISK", "REMEDY");
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "--grpc_listen=0.0.0.0:50051 is not a loopback address and nothing protects it: "
            "RISK. REMEDY, listen on 127.0.0.1, or pass --allow_insecure if the network is "
            "trusted");
  EXPECT_TRUE(CheckListenAddress("--grpc_listen", "0.0.0.0:1", true, false, "R", "M").ok());
  EXPECT_TRUE(CheckListenAddress("--grpc_listen", "0.0.0.0:1", false, true, "R", "M").ok());
  EXPECT_TRUE(CheckListenAddress("--grpc_listen", "127.0.0.1:1", false, false, "R", "M").ok());
}

TEST(ApiSecurityTest, FlagsThatGoTogether) {
  ApiSecurityOptions options;
  options.tls_cert_file = "/x.pem";
  EXPECT_EQ(LoadApiSecurity(options).status().message(),
            "--grpc_tls_cert and --grpc_tls_key go together");
  options = {};
  options.tls_client_ca_file = "/ca.pem";
  EXPECT_EQ(LoadApiSecurity(options).status().message(),
            "--grpc_tls_client_ca needs --grpc_tls_cert and --grpc_tls_key (client certificates "
            "are asked for during the TLS handshake)");
  absl::StatusOr<ApiSecurity> none = LoadApiSecurity({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->Describe(), "no TLS, no token");
}

TEST(PrivateFilesTest, TheStateDirIsMadeOrTightenedTo0700) {
  testing::TempDir dir("api_security_test");
  absl::StatusOr<PrivateDirChange> created = MakePrivateDir(dir / "a/b/state", "--state_dir");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->kind, PrivateDirChange::kCreated);
  EXPECT_EQ(ModeOf(dir / "a/b/state"), 0700u);

  std::filesystem::create_directory(dir / "open");
  ::chmod((dir / "open").c_str(), 0755);
  absl::StatusOr<PrivateDirChange> tightened = MakePrivateDir(dir / "open", "--state_dir");
  ASSERT_TRUE(tightened.ok()) << tightened.status();
  EXPECT_EQ(tightened->kind, PrivateDirChange::kTightened);
  EXPECT_EQ(tightened->old_mode, 0755u);
  EXPECT_EQ(ModeOf(dir / "open"), 0700u);
  EXPECT_EQ(MakePrivateDir(dir / "open", "--state_dir")->kind, PrivateDirChange::kNone);

  std::ofstream(dir / "file") << "x";
  EXPECT_EQ(MakePrivateDir(dir / "file", "--state_dir").status().message(),
            "--state_dir: " + (dir / "file") + " is not a directory");
}

TEST(StatusRedactionTest, EveryPasswordOfTheSpecIsCutOutOfTheStatus) {
  engine::JobSpec spec;
  spec.source.credentials.password = "source-pass-1";
  engine::TargetSpec target;
  target.credentials.password = "listener-pass-2";
  target.replica = engine::Endpoint{"127.0.0.1:1", {}};
  target.replica->credentials.password = "replica-pass-3";
  spec.targets.push_back(target);
  engine::TargetSpec short_one;
  short_one.credentials.password = "abc";  // too short to search for
  spec.targets.push_back(short_one);
  const std::vector<std::string> secrets = SpecSecrets(spec);
  EXPECT_EQ(secrets,
            (std::vector<std::string>{"listener-pass-2", "replica-pass-3", "source-pass-1"}));

  engine::JobStatus status;
  status.error = absl::UnknownError("ERR with args beginning with: 'masterauth' 'replica-pass-3'");
  status.detail = "AUTH source-pass-1 failed";
  engine::TargetStatus target_status;
  target_status.state_reason = "listener-pass-2/listener-pass-2";
  status.targets.push_back(target_status);
  status.cutover.emplace();
  status.cutover->error = "step source-pass-1";
  status.cutover->steps = {"ok", "masterauth replica-pass-3"};
  RedactSecrets(secrets, &status);
  EXPECT_EQ(status.error.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(status.error.message(), "ERR with args beginning with: 'masterauth' '(redacted)'");
  EXPECT_EQ(status.detail, "AUTH (redacted) failed");
  EXPECT_EQ(status.targets[0].state_reason, "(redacted)/(redacted)");
  EXPECT_EQ(status.cutover->error, "step (redacted)");
  EXPECT_EQ(status.cutover->steps, (std::vector<std::string>{"ok", "masterauth (redacted)"}));
}

}  // namespace
}  // namespace reshard::server
