// reshardd's API protected (issue 12): an in-process Daemon over TLS with a
// bearer token, and with client certificates (mTLS), driven by reshardctl's
// own RunCtl. Certificates are made at test time (tests/support/test_pki.h).
// Also: which listen addresses Daemon::Start refuses without protection.

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "client/rpc/ctl_commands.h"
#include "google/protobuf/descriptor.h"
#include "reshard/v1/job_service.grpc.pb.h"
#include "server/daemon.h"
#include "tests/support/free_port.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace reshard::server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kToken[] = "api-tls-test-token-0123456789";
constexpr char kMissingToken[] =
    "reshardctl: UNAUTHENTICATED: missing authorization metadata: reshardd requires a bearer "
    "token (reshardctl --token_file or RESHARD_TOKEN)\n";
constexpr char kWrongToken[] = "reshardctl: UNAUTHENTICATED: wrong bearer token\n";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string WriteSecret(const std::string& path, const std::string& text) {
  std::ofstream(path) << text << "\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

struct CtlResult {
  int code = -1;
  std::string out;
  std::string err;
};

CtlResult Ctl(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  CtlResult result;
  result.code = client::RunCtl(args, out, err, /*redraw=*/false);
  result.out = out.str();
  result.err = err.str();
  return result;
}

class ApiTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::TestPki> pki = testing::MakeTestPki(dir_.path());
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *pki;
    token_file_ = WriteSecret(dir_ / "token", kToken);
    wrong_token_file_ = WriteSecret(dir_ / "wrong_token", "not-the-token-0123456789");
    ::unsetenv("RESHARD_TOKEN");
  }
  void TearDown() override { ::unsetenv("RESHARD_TOKEN"); }

  void StartDaemon(bool token, bool client_ca) {
    DaemonOptions options;
    options.grpc_listen = "127.0.0.1:0";
    options.metrics_listen = "";
    options.api.tls_cert_file = pki_.server_cert;
    options.api.tls_key_file = pki_.server_key;
    if (client_ca) options.api.tls_client_ca_file = pki_.ca;
    if (token) options.api.auth_token_file = token_file_;
    absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(options);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
    address_ = "127.0.0.1:" + std::to_string(daemon_->grpc_port());
  }

  // reshardctl --server <daemon> --rpc options... args.
  CtlResult Run(std::vector<std::string> options, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"--server", address_};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return Ctl(argv);
  }

  std::shared_ptr<grpc::Channel> TlsChannel(bool client_cert = false) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(pki_.ca);
    if (client_cert) {
      ssl.pem_cert_chain = ReadFile(pki_.client_cert);
      ssl.pem_private_key = ReadFile(pki_.client_key);
    }
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    return grpc::CreateCustomChannel(address_, grpc::SslCredentials(ssl), arguments);
  }

  testing::TempDir dir_{"api_tls_test"};
  testing::TestPki pki_;
  std::string token_file_;
  std::string wrong_token_file_;
  std::unique_ptr<Daemon> daemon_;
  std::string address_;
};

TEST_F(ApiTlsTest, ReshardctlWorksOverTlsWithTheTokenAndIsRefusedWithoutIt) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*token=*/true, /*client_ca=*/false));
  EXPECT_EQ(daemon_->api_security().Describe(), "TLS, bearer token required");
  const std::vector<std::string> tls = {"--tls_ca", pki_.ca, "--tls_server_name", "localhost"};
  std::vector<std::string> with_token = tls;
  with_token.insert(with_token.end(), {"--token_file", token_file_});

  // A job's whole life with the token: create, get, list, delete.
  const std::string spec_path = dir_ / "spec.json";
  std::ofstream(spec_path) << R"({"source": {"address": "127.0.0.1:)" << testing::PickFreePort()
                           << R"("}, "options": {"connectAttempts": 1}, "targets": [{"name": "a",
                              "filter": {"prefix": "a:"}, "listen": "127.0.0.1:)"
                           << testing::PickFreePort() << R"("}]})";
  CtlResult created = Run(with_token, {"create", "-f", spec_path, "--id", "tls-job"});
  EXPECT_EQ(created.code, 0) << created.err;
  EXPECT_EQ(created.out, "created job tls-job\n");
  CtlResult got = Run(with_token, {"get", "tls-job", "-o", "json"});
  EXPECT_EQ(got.code, 0) << got.err;
  EXPECT_THAT(got.out, HasSubstr("\"id\": \"tls-job\""));
  CtlResult listed = Run(with_token, {"list"});
  EXPECT_EQ(listed.code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("tls-job"));

  // No token, a wrong token, the right one from $RESHARD_TOKEN.
  CtlResult none = Run(tls, {"list"});
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.err, kMissingToken);
  EXPECT_EQ(none.out, "");
  std::vector<std::string> wrong = tls;
  wrong.insert(wrong.end(), {"--token_file", wrong_token_file_});
  CtlResult wrong_result = Run(wrong, {"get", "tls-job"});
  EXPECT_EQ(wrong_result.code, 1);
  EXPECT_EQ(wrong_result.err, kWrongToken);
  ::setenv("RESHARD_TOKEN", "not-the-token-either-01234", 1);
  EXPECT_EQ(Run(tls, {"list"}).err, kWrongToken);
  ::setenv("RESHARD_TOKEN", kToken, 1);
  CtlResult from_env = Run(tls, {"list"});
  EXPECT_EQ(from_env.code, 0) << from_env.err;
  EXPECT_THAT(from_env.out, HasSubstr("tls-job"));
  // --token_file wins over the environment.
  EXPECT_EQ(Run(wrong, {"list"}).err, kWrongToken);
  ::unsetenv("RESHARD_TOKEN");

  // A watch (a stream) carries the token too; without it, refused.
  CtlResult watch_denied = Run(tls, {"watch", "tls-job"});
  EXPECT_EQ(watch_denied.code, 1);
  EXPECT_THAT(watch_denied.err, HasSubstr("UNAUTHENTICATED"));
  CtlResult deleted = Run(with_token, {"delete", "tls-job"});
  EXPECT_EQ(deleted.code, 0) << deleted.err;

  // Plaintext to a TLS listener, or a CA that did not sign its certificate:
  // no connection at all.
  CtlResult plain = Run({"--token_file", token_file_}, {"list"});
  EXPECT_EQ(plain.code, 1);
  EXPECT_THAT(plain.err, StartsWith("reshardctl: UNAVAILABLE: "));
  CtlResult other_ca = Run(
      {"--tls_ca", pki_.other_ca, "--tls_server_name", "localhost", "--token_file", token_file_},
      {"list"});
  EXPECT_EQ(other_ca.code, 1);
  EXPECT_THAT(other_ca.err, StartsWith("reshardctl: UNAVAILABLE: "));
  EXPECT_THAT(other_ca.err, HasSubstr("(cannot reach reshardd at " + address_ + ")"));
  // A name the certificate does not carry.
  CtlResult wrong_name = Run({"--tls_ca", pki_.ca, "--tls_server_name", "reshard.example.com",
                              "--token_file", token_file_},
                             {"list"});
  EXPECT_EQ(wrong_name.code, 1);
  EXPECT_THAT(wrong_name.err, StartsWith("reshardctl: UNAVAILABLE: "));

  // Files reshardctl cannot read are named.
  CtlResult no_ca = Run({"--tls_ca", dir_ / "missing.pem"}, {"list"});
  EXPECT_EQ(no_ca.code, 1);
  EXPECT_EQ(no_ca.err, "reshardctl: --tls_ca: cannot read " + (dir_ / "missing.pem") + "\n");
  CtlResult half = Run({"--tls_cert", pki_.client_cert}, {"list"});
  EXPECT_EQ(half.err, "reshardctl: --tls_cert and --tls_key go together\n");
}

TEST_F(ApiTlsTest, EveryRpcButHealthNeedsTheToken) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*token=*/true, /*client_ca=*/false));
  std::shared_ptr<grpc::Channel> channel = TlsChannel();
  auto stub = v1::JobService::NewStub(channel);
  // Every method of the service is called below: a new one must be added
  // here (and to JobServiceImpl's token check).
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          "reshard.v1.JobService");
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(service->method_count(), 11);

  std::vector<std::pair<std::string, grpc::Status>> results;
  auto call = [&](const char* name, auto&& rpc) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    results.emplace_back(name, rpc(&context));
  };
  v1::Job job;
  call("CreateJob", [&](grpc::ClientContext* c) {
    v1::CreateJobRequest request;
    request.mutable_spec()->mutable_source()->set_address("127.0.0.1:1");
    return stub->CreateJob(c, request, &job);
  });
  call("GetJob", [&](grpc::ClientContext* c) { return stub->GetJob(c, {}, &job); });
  call("ListJobs", [&](grpc::ClientContext* c) {
    v1::ListJobsResponse response;
    return stub->ListJobs(c, {}, &response);
  });
  call("WatchJob", [&](grpc::ClientContext* c) {
    auto reader = stub->WatchJob(c, {});
    while (reader->Read(&job)) {
    }
    return reader->Finish();
  });
  call("PauseJob", [&](grpc::ClientContext* c) { return stub->PauseJob(c, {}, &job); });
  call("ResumeJob", [&](grpc::ClientContext* c) { return stub->ResumeJob(c, {}, &job); });
  call("CancelJob", [&](grpc::ClientContext* c) { return stub->CancelJob(c, {}, &job); });
  call("DeleteJob", [&](grpc::ClientContext* c) {
    google::protobuf::Empty empty;
    return stub->DeleteJob(c, {}, &empty);
  });
  call("VerifyJob", [&](grpc::ClientContext* c) { return stub->VerifyJob(c, {}, &job); });
  call("CutoverJob", [&](grpc::ClientContext* c) { return stub->CutoverJob(c, {}, &job); });
  call("UpdateJobSource",
       [&](grpc::ClientContext* c) { return stub->UpdateJobSource(c, {}, &job); });
  call("ListJobs with a wrong token", [&](grpc::ClientContext* c) {
    c->AddMetadata("authorization", "Bearer api-tls-test-token-0123456780");
    v1::ListJobsResponse response;
    return stub->ListJobs(c, {}, &response);
  });
  ASSERT_EQ(results.size(), 12u);
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string name = service->method(i)->name();
    EXPECT_TRUE(std::any_of(results.begin(), results.end(),
                            [&](const auto& result) { return result.first == name; }))
        << name << " is not called by this test";
  }
  for (const auto& [name, status] : results) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << name;
  }
  EXPECT_TRUE(daemon_->manager().List().empty());

  // grpc.health.v1.Health/Check answers SERVING without a token.
  grpc::GenericStub generic(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status status) { done.set_value(status); });
  grpc::Status health = done.get_future().get();
  EXPECT_TRUE(health.ok()) << health.error_message();

  // Reflection cannot check a token: it is not served at all.
  grpc::ClientContext reflection_context;
  reflection_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::promise<grpc::Status> reflected;
  generic.UnaryCall(&reflection_context,
                    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                    grpc::StubOptions(), &request, &response,
                    [&](grpc::Status status) { reflected.set_value(status); });
  EXPECT_EQ(reflected.get_future().get().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(ApiTlsTest, MutualTlsRefusesAClientWithoutACertificateFromTheCa) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*token=*/false, /*client_ca=*/true));
  EXPECT_EQ(daemon_->api_security().Describe(), "TLS, client certificates required, no token");
  const std::vector<std::string> tls = {"--tls_ca", pki_.ca, "--tls_server_name", "localhost"};
  std::vector<std::string> with_cert = tls;
  with_cert.insert(with_cert.end(), {"--tls_cert", pki_.client_cert, "--tls_key", pki_.client_key});
  CtlResult ok = Run(with_cert, {"list"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(ok.out, StartsWith("ID"));

  CtlResult no_cert = Run(tls, {"list"});
  EXPECT_EQ(no_cert.code, 1);
  EXPECT_THAT(no_cert.err, StartsWith("reshardctl: UNAVAILABLE: "));
  std::vector<std::string> other = tls;
  other.insert(other.end(),
               {"--tls_cert", pki_.other_client_cert, "--tls_key", pki_.other_client_key});
  CtlResult other_cert = Run(other, {"list"});
  EXPECT_EQ(other_cert.code, 1);
  EXPECT_THAT(other_cert.err, StartsWith("reshardctl: UNAVAILABLE: "));

  // Without a token, reflection is served (once: no duplicate registration).
  grpc::GenericStub generic(TlsChannel(/*client_cert=*/true));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> reflected;
  generic.UnaryCall(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                    grpc::StubOptions(), &request, &response,
                    [&](grpc::Status status) { reflected.set_value(status); });
  EXPECT_NE(reflected.get_future().get().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(ApiTlsTest, CertificateFilesThatCannotBeUsedAreNamed) {
  DaemonOptions options;
  options.grpc_listen = "127.0.0.1:0";
  options.metrics_listen = "";
  options.api.tls_cert_file = pki_.server_cert;
  options.api.tls_key_file = pki_.client_key;
  absl::StatusOr<std::unique_ptr<Daemon>> mismatch = Daemon::Start(options);
  EXPECT_EQ(mismatch.status().message(),
            "--grpc_tls_key: " + pki_.client_key +
                " does not match the certificate of --grpc_tls_cert (" + pki_.server_cert + ")");
  options.api.tls_key_file = pki_.server_key;
  options.api.tls_cert_file = pki_.server_key;
  EXPECT_EQ(Daemon::Start(options).status().message(),
            "--grpc_tls_cert: " + pki_.server_key + ": not a PEM certificate");
}

constexpr char kGrpcRefused[] =
    "--grpc_listen=0.0.0.0:0 is not a loopback address and nothing protects it: anyone who "
    "reaches it could create jobs and make reshardd send REPLICAOF and CONFIG SET to any Redis it "
    "can reach. Give --grpc_tls_cert/--grpc_tls_key (and --grpc_tls_client_ca), "
    "--auth_token_file, or both, listen on 127.0.0.1, or pass --allow_insecure if the network is "
    "trusted";

TEST_F(ApiTlsTest, AnUnprotectedNonLoopbackListenIsRefusedUnlessAllowed) {
  DaemonOptions options;
  options.grpc_listen = "0.0.0.0:0";
  options.metrics_listen = "";
  absl::StatusOr<std::unique_ptr<Daemon>> refused = Daemon::Start(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(), kGrpcRefused);

  options.metrics_listen = "0.0.0.0:0";
  options.api.auth_token_file = token_file_;
  absl::StatusOr<std::unique_ptr<Daemon>> metrics = Daemon::Start(options);
  EXPECT_EQ(metrics.status().message(),
            "--metrics_listen=0.0.0.0:0 is not a loopback address and nothing protects it: "
            "/metrics has neither TLS nor a token, and anyone who reaches it reads every job's "
            "metrics. Scrape it through a proxy that adds TLS and authentication, listen on "
            "127.0.0.1, or pass --allow_insecure if the network is trusted");

  // A token protects the API; --allow_insecure accepts both as they are.
  options.metrics_listen = "";
  absl::StatusOr<std::unique_ptr<Daemon>> with_token = Daemon::Start(options);
  ASSERT_TRUE(with_token.ok()) << with_token.status();
  EXPECT_GT((*with_token)->grpc_port(), 0);
  with_token->reset();
  options.api.auth_token_file = "";
  options.metrics_listen = "0.0.0.0:0";
  options.api.allow_insecure = true;
  absl::StatusOr<std::unique_ptr<Daemon>> allowed = Daemon::Start(options);
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_GT((*allowed)->grpc_port(), 0);
  EXPECT_GT((*allowed)->metrics_port(), 0);
}

}  // namespace
}  // namespace reshard::server
