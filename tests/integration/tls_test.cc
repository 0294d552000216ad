// TLS end to end, on Debian's redis-server built with TLS: a TLS-only source
// (client certificates required) split onto targets that replicate from TLS
// listeners, under writes, compared exactly; the generated replication
// password of managed targets (set as their masterauth, shown nowhere); a
// rogue client on a listener; a wrong CA and a wrong name, which fail the job
// naming the source before anything reaches a target. Certificates are made
// for each run in the test's temp directory.

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/job/job.h"
#include "engine/job/key_verifier.h"
#include "google/protobuf/util/json_util.h"
#include "proto/reshard/v1/job_status_convert.h"
#include "tests/integration/split_harness.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace reshard::integration {
namespace {

using testing::TestCertificates;

engine::TlsClientOptions ClientTls(const TestCertificates& certs) {
  engine::TlsClientOptions tls;
  tls.enabled = true;
  tls.ca_file = certs.ca_file;
  tls.cert_file = certs.client_cert;
  tls.key_file = certs.client_key;
  return tls;
}

std::string ConfigGet(RedisClient& client, const std::string& name) {
  absl::StatusOr<engine::RespValue> reply = client.CheckedCommand({"CONFIG", "GET", name});
  if (!reply.ok() || reply->elements.size() != 2) return "<" + reply.status().ToString() + ">";
  return reply->elements[1].str;
}

class TlsHalvesTest : public HalvesTest {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificates> certs = testing::MakeTestCertificates(dir_.path());
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
    // Every server TLS-only with client certificates required; the targets
    // start without tls-replication: reshardd sets it.
    server_options_.tls = certs_.Server(/*auth_clients=*/true, /*tls_replication=*/false);
    source_tls_ = ClientTls(certs_);
    replica_tls_ = ClientTls(certs_);
    listen_tls_ = {.enabled = true,
                   .cert_file = certs_.server_cert,
                   .key_file = certs_.server_key,
                   .ca_file = certs_.ca_file};
  }

  testing::TempDir dir_{"reshard-tls"};
  TestCertificates certs_;
};

TEST_F(TlsHalvesTest, TlsSourceToTlsListenersWithWritesDuringTheSyncIsExact) {
  ASSERT_NO_FATAL_FAILURE(StartServers(5000));
  RedisClient& source_client = *source_client_;
  // Slow the snapshot down so that traffic certainly lands during it.
  ASSERT_TRUE(source_client.CheckedCommand({"CONFIG", "SET", "rdb-key-save-delay", "100"}).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteTraffic, source_.get(), &stop, &rounds);
  StartJob("tls");
  JobStatus status = WaitForState(*job_, JobState::kSyncing, absl::Seconds(30));
  EXPECT_EQ(status.state, JobState::kSyncing) << status.error << " " << status.detail;
  int rounds_at_sync_start = rounds.load();
  status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(120));
  EXPECT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  EXPECT_GT(rounds.load(), rounds_at_sync_start) << "no writes landed during the snapshot";
  source_client.CheckedCommand({"CONFIG", "SET", "rdb-key-save-delay", "0"}).IgnoreError();
  int rounds_at_stream_start = rounds.load();
  EXPECT_TRUE(RedisClient::WaitFor([&] { return rounds.load() > rounds_at_stream_start + 20; },
                                   absl::Seconds(30))
                  .ok());
  stop = true;
  writer.join();
  ASSERT_EQ(status.state, JobState::kStreaming);
  // A write across the halves: the key copies read the source over TLS too.
  ASSERT_TRUE(source_client.CheckedCommand({"SELECT", "0"}).ok());
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "1:moved", "v"}).ok());
  ASSERT_TRUE(source_client.CheckedCommand({"RENAME", "1:moved", "6:moved"}).ok());
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  EXPECT_GE(job_->Snapshot().targets[1].keys_materialized, 1u);  // 6:moved, copied to b
  // verify reads the source and the managed targets over TLS as well.
  engine::VerifyOptions verify;
  verify.rate_keys_per_second = 0;
  absl::StatusOr<engine::VerifyReport> verified = engine::VerifyJobData(spec_, verify);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->state, engine::VerifyState::kDone) << verified->error;
  EXPECT_EQ(verified->problem_count(), 0u);
  EXPECT_GT(verified->keys_checked, 4000u);
  EXPECT_GT(report_.keys_per_target[0], 2000u);
  EXPECT_GT(report_.keys_per_target[1], 2000u);

  // Each managed target replicates over TLS with a generated password.
  std::string passwords[2];
  RedisClient* targets[2] = {&*a_, &*b_};
  for (int t = 0; t < 2; ++t) {
    EXPECT_EQ(ConfigGet(*targets[t], "tls-replication"), "yes");
    passwords[t] = ConfigGet(*targets[t], "masterauth");
    EXPECT_EQ(passwords[t].size(), 64u) << passwords[t];
    EXPECT_EQ(passwords[t].find_first_not_of("0123456789abcdef"), std::string::npos);
  }
  EXPECT_NE(passwords[0], passwords[1]);

  // The passwords appear nowhere in the job's status (as the API shows it).
  std::string json;
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(api::StatusToProto(job_->Snapshot()), &json)
          .ok());
  EXPECT_NE(json.find("\"state\":\"STREAMING\""), std::string::npos) << json;
  for (const std::string& password : passwords) {
    EXPECT_EQ(json.find(password), std::string::npos);
  }

  // A rogue client on target a's listener (TLS, with a client certificate:
  // it got that far) but without the password gets no data, and never takes
  // the place of the real replica.
  uint32_t listen_a = 0;
  ASSERT_TRUE(absl::SimpleAtoi(spec_.targets[0].listen.substr(10), &listen_a));
  absl::StatusOr<RedisClient> rogue =
      RedisClient::ConnectTls("127.0.0.1", static_cast<uint16_t>(listen_a), certs_.Client());
  ASSERT_TRUE(rogue.ok()) << rogue.status();
  const std::vector<std::vector<std::string>> tries = {
      {"REPLCONF", "capa", "eof"}, {"PSYNC", "?", "-1"}, {"SYNC"}, {"PING"}};
  for (const std::vector<std::string>& command : tries) {
    absl::StatusOr<engine::RespValue> reply = rogue->Command(command);
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->ToString(), "-NOAUTH Authentication required.") << command[0];
  }
  absl::StatusOr<engine::RespValue> wrong = rogue->Command({"AUTH", "guess"});
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_TRUE(wrong->IsError()) << wrong->ToString();
  // The real replica keeps streaming: a marker written now arrives.
  ASSERT_NO_FATAL_FAILURE(
      WaitForMarkers(source_client, {&*a_, &*b_}, {"0:after-rogue", "5:after-rogue"}));
  EXPECT_EQ(job_->Snapshot().state, JobState::kStreaming);
  absl::StatusOr<std::string> link = a_->InfoField("replication", "master_link_status");
  EXPECT_TRUE(link.ok() && *link == "up") << (link.ok() ? *link : link.status().ToString());

  // The source monitor polls the source's offset over TLS.
  EXPECT_TRUE(RedisClient::WaitFor([&] { return job_->Snapshot().source_master_offset > 0; },
                                   absl::Seconds(10), "the source's offset")
                  .ok());
  // The cutover: its pause of the source and the promotion of the managed
  // targets go over TLS too.
  engine::CutoverOptions cutover;
  cutover.max_write_pause = absl::Seconds(20);
  cutover.promote = true;
  ASSERT_TRUE(job_->Cutover(cutover).ok());
  status = WaitForState(*job_, JobState::kDone, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kDone)
      << status.error << " " << (status.cutover.has_value() ? status.cutover->error : "");
  for (RedisClient* target : targets) {
    absl::StatusOr<std::string> role = target->InfoField("replication", "role");
    EXPECT_TRUE(role.ok() && *role == "master") << (role.ok() ? *role : role.status().ToString());
  }
}

// A Sentinel that serves TLS only (client certificates required) names a
// plain source: the job asks it over TLS (source.sentinel.tls), streams, and
// splits exactly.
class TlsSentinelTest : public HalvesTest {};

TEST_F(TlsSentinelTest, TheJobAsksATlsSentinelForTheSource) {
  testing::TempDir dir("reshard-tls-sentinel");
  absl::StatusOr<TestCertificates> certs = testing::MakeTestCertificates(dir.path());
  ASSERT_TRUE(certs.ok()) << certs.status();
  ASSERT_NO_FATAL_FAILURE(StartServers(200));
  {
    std::ofstream conf(dir / "sentinel.conf");
    conf << "sentinel monitor mymaster 127.0.0.1 " << source_->port() << " 1\n";
  }
  testing::RedisServerOptions sentinel_options;
  sentinel_options.config_file = dir / "sentinel.conf";
  sentinel_options.dir = dir.path();
  sentinel_options.extra_args = {"--sentinel"};
  sentinel_options.tls = certs->Server(/*auth_clients=*/true, /*tls_replication=*/false);
  std::unique_ptr<RedisServer> sentinel = StartServer(sentinel_options);
  ASSERT_TRUE(sentinel);

  spec_.source.address = "";  // the Sentinel's to say
  spec_.source.sentinel = engine::SentinelSpec{
      {sentinel->address()}, "mymaster", engine::Credentials{}, ClientTls(*certs)};
  spec_.targets.push_back(
      MakeTarget("a", {FilterKind::kRegex, "^[0-4]"}, testing::PickFreePort(), target_a_.get()));
  spec_.targets.push_back(
      MakeTarget("b", {FilterKind::kRegex, "^[5-9]"}, testing::PickFreePort(), target_b_.get()));
  ASSERT_TRUE(engine::ValidateJobSpec(spec_).ok()) << engine::ValidateJobSpec(spec_);
  job_ = std::make_unique<Job>("tls-sentinel", spec_);
  job_->Start();
  JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  EXPECT_EQ(status.source_address, source_->address());
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
}

// A job on the TLS source whose TLS options are wrong: it fails naming the
// source and the reason, and its managed target is never touched.
class TlsSourceErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificates> certs = testing::MakeTestCertificates(dir_.path());
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
    testing::RedisServerOptions options;
    options.tls = certs_.Server(/*auth_clients=*/true, /*tls_replication=*/false);
    source_ = StartServer(options);
    target_ = StartServer();
    ASSERT_TRUE(source_ && target_);
  }

  // Runs a job with `tls` to the source until it fails; returns its error.
  absl::Status FailedJob(const engine::TlsClientOptions& tls) {
    JobSpec spec;
    spec.source.address = source_->address();
    spec.source.tls = tls;
    spec.targets.push_back(
        MakeTarget("a", {FilterKind::kGlob, "*"}, testing::PickFreePort(), target_.get()));
    EXPECT_TRUE(engine::ValidateJobSpec(spec).ok());
    // The source's command count, read twice by this client: the second
    // INFO counts the first and nothing else when the job sent nothing.
    RedisClient source = Connect(*source_);
    absl::StatusOr<std::string> before = source.InfoField("stats", "total_commands_processed");
    Job job("tls-error", spec);
    job.Start();
    JobStatus status = WaitForState(job, JobState::kFailed, absl::Seconds(20));
    EXPECT_EQ(status.state, JobState::kFailed);
    absl::StatusOr<std::string> after = source.InfoField("stats", "total_commands_processed");
    int64_t before_count = -1, after_count = -1;
    EXPECT_TRUE(before.ok() && after.ok() && absl::SimpleAtoi(*before, &before_count) &&
                absl::SimpleAtoi(*after, &after_count));
    EXPECT_EQ(after_count, before_count + 1) << "the job sent commands to the source";
    // Nothing reached the target: it is still a master, with no data.
    RedisClient target = Connect(*target_);
    absl::StatusOr<std::string> role = target.InfoField("replication", "role");
    EXPECT_TRUE(role.ok() && *role == "master") << (role.ok() ? *role : role.status().ToString());
    EXPECT_EQ(ConfigGet(target, "masterauth"), "");
    return status.error;
  }

  testing::TempDir dir_{"reshard-tls-errors"};
  TestCertificates certs_;
  std::unique_ptr<RedisServer> source_, target_;
};

TEST_F(TlsSourceErrorsTest, WrongCaOrWrongNameFailsNamingTheSource) {
  engine::TlsClientOptions wrong_ca = ClientTls(certs_);
  wrong_ca.ca_file = certs_.other_ca_file;
  absl::Status error = FailedJob(wrong_ca);
  EXPECT_EQ(error.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(error.message()),
            absl::StrCat("source ", source_->address(),
                         ": TLS handshake failed: certificate verify failed (self-signed "
                         "certificate in certificate chain)"));

  engine::TlsClientOptions wrong_name = ClientTls(certs_);
  wrong_name.server_name = "redis.example.com";
  error = FailedJob(wrong_name);
  EXPECT_EQ(error.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(error.message()),
            absl::StrCat("source ", source_->address(),
                         ": TLS handshake failed: certificate verify failed (hostname mismatch)"));

  // A source whose certificate has expired.
  testing::RedisServerOptions expired_options;
  expired_options.tls = certs_.Server(/*auth_clients=*/true, /*tls_replication=*/false);
  expired_options.tls->cert_file = certs_.expired_cert;
  expired_options.tls->key_file = certs_.expired_key;
  expired_options.tls->client.ca_file = "";  // the test's own client does not verify
  std::unique_ptr<RedisServer> expired = StartServer(expired_options);
  ASSERT_TRUE(expired);
  std::swap(source_, expired);
  error = FailedJob(ClientTls(certs_));
  std::swap(source_, expired);
  EXPECT_EQ(error.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(error.message()),
            absl::StrCat("source ", expired->address(),
                         ": TLS handshake failed: certificate verify failed (certificate has "
                         "expired)"));

  // The right CA with the certificate's other name works.
  engine::TlsClientOptions by_name = ClientTls(certs_);
  by_name.server_name = "localhost";
  JobSpec spec;
  spec.source.address = source_->address();
  spec.source.tls = by_name;
  spec.targets.push_back(
      MakeTarget("a", {FilterKind::kGlob, "*"}, testing::PickFreePort(), target_.get()));
  Job job("tls-by-name", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kStreaming, absl::Seconds(30));
  EXPECT_EQ(status.state, JobState::kStreaming) << status.error;
}

TEST_F(TlsSourceErrorsTest, PlainConnectionToTheTlsPortAndMissingClientCertificateFail) {
  // No TLS to a TLS-only port: the source drops the connection.
  JobSpec spec;
  spec.source.address = source_->address();
  spec.options.connect_attempts = 1;
  spec.targets.push_back(
      MakeTarget("a", {FilterKind::kGlob, "*"}, testing::PickFreePort(), nullptr));
  {
    Job job("plain", spec);
    job.Start();
    JobStatus status = WaitForState(job, JobState::kFailed, absl::Seconds(20));
    EXPECT_EQ(status.state, JobState::kFailed);
    EXPECT_TRUE(
        absl::StartsWith(status.error.message(), absl::StrCat("source ", source_->address(), ": ")))
        << status.error;
  }
  // TLS without the client certificate the source requires.
  engine::TlsClientOptions no_cert;
  no_cert.enabled = true;
  no_cert.ca_file = certs_.ca_file;
  absl::Status error = FailedJob(no_cert);
  EXPECT_TRUE(absl::StartsWith(error.message(), absl::StrCat("source ", source_->address(), ": ")))
      << error;
}

TEST(TlsSpecTest, UnreadableTlsFilesAreNamedBeforeTheJobStarts) {
  JobSpec spec;
  spec.source.address = "127.0.0.1:6390";
  spec.source.tls.enabled = true;
  spec.source.tls.ca_file = "/nonexistent/ca.crt";
  spec.targets.push_back(MakeTarget("a", {FilterKind::kGlob, "*"}, 7001, nullptr));
  absl::Status status = engine::ValidateJobSpec(spec);
  EXPECT_EQ(std::string(status.message()),
            "source.tls.ca_file: cannot read '/nonexistent/ca.crt': No such file or directory");
  spec.source.tls = {};
  spec.targets[0].listen_tls.enabled = true;
  spec.targets[0].listen_tls.cert_file = "/nonexistent/server.crt";
  status = engine::ValidateJobSpec(spec);
  EXPECT_EQ(std::string(status.message()),
            "targets[0].listen_tls: a TLS listener needs cert_file and key_file");
  spec.targets[0].listen_tls.key_file = "/nonexistent/server.key";
  status = engine::ValidateJobSpec(spec);
  EXPECT_EQ(std::string(status.message()),
            "targets[0].listen_tls.cert_file: cannot read '/nonexistent/server.crt': No such file "
            "or directory");
}

}  // namespace
}  // namespace reshard::integration
