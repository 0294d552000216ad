// JobStore: one <id>.json per job (no passwords) and an <id>.secret.json
// (mode 0600) only when the spec has a password, both replaced atomically;
// LoadAll gives them back with the passwords, or an error naming the file.

#include "server/job_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace reshard::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::vector<std::string> FileNames(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& file : fs::directory_iterator(dir)) names.push_back(file.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

engine::TargetSpec Target(std::string name, std::string prefix, std::string listen) {
  engine::TargetSpec target;
  target.name = std::move(name);
  target.filter = {engine::FilterKind::kPrefix, std::move(prefix)};
  target.listen = std::move(listen);
  return target;
}

StoredJob JobWithoutPasswords(std::string id) {
  StoredJob job;
  job.id = std::move(id);
  job.spec.source.address = "127.0.0.1:6379";
  job.spec.targets.push_back(Target("a", "user:", "127.0.0.1:7001"));
  job.spec.targets.push_back(Target("b", "order:", "127.0.0.1:7002"));
  job.spec.options.ack_interval_ms = 250;
  job.state = engine::JobState::kFailed;
  job.error = absl::UnavailableError("connect 127.0.0.1:6379: Connection refused");
  job.detail = "connecting";
  job.created_unix_ms = 1700000000123;
  job.updated_unix_ms = 1700000001456;
  return job;
}

StoredJob JobWithPasswords(std::string id) {
  StoredJob job = JobWithoutPasswords(std::move(id));
  job.spec.source.credentials = {"repl", "src-secret"};
  job.spec.targets[0].credentials = {"", "tgt-secret"};
  job.spec.targets[1].replica = engine::Endpoint{"127.0.0.1:7102", {"admin", "rep-secret"}};
  return job;
}

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("job_store_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_F(JobStoreTest, SavedJobLoadsBackWithEveryField) {
  JobStore store(dir_.string());
  ASSERT_TRUE(store.Save(JobWithPasswords("job-1")).ok());
  absl::StatusOr<std::vector<StoredJob>> jobs = store.LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 1u);
  const StoredJob& job = (*jobs)[0];
  EXPECT_EQ(job.id, "job-1");
  EXPECT_EQ(job.spec.source.address, "127.0.0.1:6379");
  EXPECT_EQ(job.spec.source.credentials.username, "repl");
  EXPECT_EQ(job.spec.source.credentials.password, "src-secret");
  ASSERT_EQ(job.spec.targets.size(), 2u);
  EXPECT_EQ(job.spec.targets[0].filter.kind, engine::FilterKind::kPrefix);
  EXPECT_EQ(job.spec.targets[0].filter.pattern, "user:");
  EXPECT_EQ(job.spec.targets[0].credentials.password, "tgt-secret");
  EXPECT_EQ(job.spec.targets[1].listen, "127.0.0.1:7002");
  ASSERT_TRUE(job.spec.targets[1].replica.has_value());
  EXPECT_EQ(job.spec.targets[1].replica->credentials.username, "admin");
  EXPECT_EQ(job.spec.targets[1].replica->credentials.password, "rep-secret");
  EXPECT_EQ(job.spec.options.ack_interval_ms, 250);
  EXPECT_EQ(job.state, engine::JobState::kFailed);
  EXPECT_EQ(job.error, absl::UnavailableError("connect 127.0.0.1:6379: Connection refused"));
  EXPECT_EQ(job.detail, "connecting");
  EXPECT_EQ(job.created_unix_ms, 1700000000123);
  EXPECT_EQ(job.updated_unix_ms, 1700000001456);
}

// A DONE job keeps its cutover and its last verification, and loads back
// DONE (terminal: a restarted reshardd does not start it again).
TEST_F(JobStoreTest, CutoverAndVerificationLoadBack) {
  JobStore store(dir_.string());
  StoredJob job = JobWithoutPasswords("job-1");
  job.state = engine::JobState::kDone;
  job.error = absl::OkStatus();
  engine::CutoverReport cutover;
  cutover.state = engine::CutoverState::kDone;
  cutover.write_pause_ms = 4.5;
  cutover.final_offset = 12345;
  cutover.steps = {"1 lag", "2 pause", "3 drain", "4 promote", "5 unpause"};
  cutover.targets.push_back({"a", 12345, true, true, {{0, 7}}, 7});
  job.last_cutover = cutover;
  engine::VerifyReport verification;
  verification.state = engine::VerifyState::kDone;
  verification.keys_checked = 14;
  verification.stray = 1;
  verification.problems.push_back({0, "user:x", "a", engine::VerifyProblemKind::kStray, "why"});
  job.last_verification = verification;
  ASSERT_TRUE(store.Save(job).ok());
  EXPECT_THAT(ReadFile(dir_ / "job-1.json"), HasSubstr("\"last_cutover\""));
  absl::StatusOr<std::vector<StoredJob>> jobs = store.LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 1u);
  const StoredJob& back = (*jobs)[0];
  EXPECT_EQ(back.state, engine::JobState::kDone);
  EXPECT_TRUE(engine::IsTerminal(back.state));
  ASSERT_TRUE(back.last_cutover.has_value());
  EXPECT_EQ(back.last_cutover->state, engine::CutoverState::kDone);
  EXPECT_EQ(back.last_cutover->write_pause_ms, 4.5);
  EXPECT_EQ(back.last_cutover->steps, cutover.steps);
  EXPECT_EQ(back.last_cutover->targets, cutover.targets);
  ASSERT_TRUE(back.last_verification.has_value());
  EXPECT_EQ(back.last_verification->state, engine::VerifyState::kDone);
  EXPECT_EQ(back.last_verification->keys_checked, 14u);
  EXPECT_EQ(back.last_verification->problems, verification.problems);
  // A job saved without them has none.
  ASSERT_TRUE(store.Save(JobWithoutPasswords("job-2")).ok());
  jobs = store.LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_FALSE((*jobs)[1].last_cutover.has_value());
  EXPECT_FALSE((*jobs)[1].last_verification.has_value());
}

TEST_F(JobStoreTest, PasswordsLiveOnlyInTheSecretFileWithMode0600) {
  JobStore store(dir_.string());
  ASSERT_TRUE(store.Save(JobWithPasswords("job-1")).ok());
  EXPECT_THAT(FileNames(dir_), ::testing::ElementsAre("job-1.json", "job-1.secret.json"));
  const std::string job_text = ReadFile(dir_ / "job-1.json");
  EXPECT_THAT(job_text, Not(HasSubstr("secret")));
  EXPECT_THAT(job_text, HasSubstr("\"username\": \"repl\""));
  const std::string secret_text = ReadFile(dir_ / "job-1.secret.json");
  EXPECT_THAT(secret_text, HasSubstr("src-secret"));
  EXPECT_THAT(secret_text, HasSubstr("rep-secret"));
  EXPECT_THAT(secret_text, Not(HasSubstr("127.0.0.1")));  // passwords and nothing else
  struct stat info {};
  ASSERT_EQ(::stat((dir_ / "job-1.secret.json").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(JobStoreTest, NoSecretFileWithoutPasswordsAndAnOldOneIsRemoved) {
  JobStore store(dir_.string());
  ASSERT_TRUE(store.Save(JobWithoutPasswords("job-1")).ok());
  EXPECT_THAT(FileNames(dir_), ::testing::ElementsAre("job-1.json"));
  ASSERT_TRUE(store.Save(JobWithPasswords("job-2")).ok());
  ASSERT_TRUE(store.Save(JobWithoutPasswords("job-2")).ok());
  EXPECT_THAT(FileNames(dir_), ::testing::ElementsAre("job-1.json", "job-2.json"));
  absl::StatusOr<std::vector<StoredJob>> jobs = store.LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ((*jobs)[1].spec.source.credentials.password, "");
}

TEST_F(JobStoreTest, SaveReplacesTheFileWholeAndLeavesNoTemporaryFile) {
  JobStore store(dir_.string());
  StoredJob job = JobWithPasswords("job-1");
  ASSERT_TRUE(store.Save(job).ok());
  job.state = engine::JobState::kCancelled;
  job.error = absl::OkStatus();
  job.detail = "cancelled";
  job.spec.source.credentials.password = "rotated";
  ASSERT_TRUE(store.Save(job).ok());
  EXPECT_THAT(FileNames(dir_), ::testing::ElementsAre("job-1.json", "job-1.secret.json"));
  absl::StatusOr<std::vector<StoredJob>> jobs = store.LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].state, engine::JobState::kCancelled);
  EXPECT_TRUE((*jobs)[0].error.ok());
  EXPECT_EQ((*jobs)[0].detail, "cancelled");
  EXPECT_EQ((*jobs)[0].spec.source.credentials.password, "rotated");
}

TEST_F(JobStoreTest, LoadAllIsOrderedByIdAndSkipsOtherFiles) {
  JobStore store(dir_.string());
  for (const char* id : {"job-c", "job-a", "job-b"}) {
    ASSERT_TRUE(store.Save(JobWithoutPasswords(id)).ok());
  }
  WriteFile(dir_ / "notes.txt", "not a job");
  absl::StatusOr<std::vector<StoredJob>> jobs = store.LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[0].id, "job-a");
  EXPECT_EQ((*jobs)[1].id, "job-b");
  EXPECT_EQ((*jobs)[2].id, "job-c");
}

TEST_F(JobStoreTest, RemoveDeletesBothFilesAndIsOkWhenThereAreNone) {
  JobStore store(dir_.string());
  ASSERT_TRUE(store.Save(JobWithPasswords("job-1")).ok());
  ASSERT_TRUE(store.Save(JobWithoutPasswords("job-2")).ok());
  EXPECT_TRUE(store.Remove("job-1").ok());
  EXPECT_THAT(FileNames(dir_), ::testing::ElementsAre("job-2.json"));
  EXPECT_TRUE(store.Remove("job-1").ok());
  EXPECT_TRUE(store.Remove("never-saved").ok());
}

TEST_F(JobStoreTest, CorruptJobFileIsDataLossNamingTheFile) {
  JobStore store(dir_.string());
  ASSERT_TRUE(store.Save(JobWithoutPasswords("job-1")).ok());
  WriteFile(dir_ / "job-2.json", "{\"id\": \"job-2\", \"spec\": ");
  absl::StatusOr<std::vector<StoredJob>> jobs = store.LoadAll();
  ASSERT_FALSE(jobs.ok());
  EXPECT_EQ(jobs.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(jobs.status().message(), HasSubstr((dir_ / "job-2.json").string() + ": "));
}

TEST_F(JobStoreTest, AnUnreadableJobFileIsSetAsideAndTheOthersLoad) {
  JobStore store(dir_.string());
  ASSERT_TRUE(store.Save(JobWithoutPasswords("job-1")).ok());
  ASSERT_TRUE(store.Save(JobWithPasswords("job-2")).ok());
  ASSERT_TRUE(store.Save(JobWithoutPasswords("job-3")).ok());
  WriteFile(dir_ / "job-2.json", "{\"id\": \"job-2\", \"spec\": ");
  std::vector<std::string> set_aside;
  absl::StatusOr<std::vector<StoredJob>> jobs = store.LoadAll(&set_aside);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].id, "job-1");
  EXPECT_EQ((*jobs)[1].id, "job-3");
  const std::string path = (dir_ / "job-2.json").string();
  ASSERT_EQ(set_aside.size(), 1u);
  EXPECT_THAT(set_aside[0], ::testing::StartsWith(path + ": "));
  EXPECT_THAT(set_aside[0], ::testing::EndsWith("; moved to " + path + ".corrupt"));
  EXPECT_THAT(FileNames(dir_), ::testing::ElementsAre("job-1.json", "job-2.json.corrupt",
                                                      "job-2.secret.json.corrupt", "job-3.json"));
  // Loading again finds the same jobs and nothing more to set aside.
  set_aside.clear();
  EXPECT_EQ(store.LoadAll(&set_aside)->size(), 2u);
  EXPECT_TRUE(set_aside.empty());
}

TEST_F(JobStoreTest, StateDirIsPerJobAndGoesWithIt) {
  JobStore store(dir_.string());
  ASSERT_TRUE(store.Save(JobWithoutPasswords("job-1")).ok());
  EXPECT_EQ(store.StateDir("job-1"), (dir_ / "job-1.state").string());
  fs::create_directories(dir_ / "job-1.state");
  WriteFile(dir_ / "job-1.state/journal", "x");
  ASSERT_TRUE(store.ClearState("job-1").ok());
  EXPECT_FALSE(fs::exists(dir_ / "job-1.state"));
  fs::create_directories(dir_ / "job-1.state");
  ASSERT_TRUE(store.Remove("job-1").ok());
  EXPECT_TRUE(FileNames(dir_).empty());
}

TEST_F(JobStoreTest, CorruptSecretFileIsDataLossNamingTheFile) {
  JobStore store(dir_.string());
  ASSERT_TRUE(store.Save(JobWithPasswords("job-1")).ok());
  WriteFile(dir_ / "job-1.secret.json", "[1, 2");
  absl::StatusOr<std::vector<StoredJob>> jobs = store.LoadAll();
  ASSERT_FALSE(jobs.ok());
  EXPECT_EQ(jobs.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(jobs.status().message(), HasSubstr((dir_ / "job-1.secret.json").string() + ": "));
}

TEST_F(JobStoreTest, MissingSecretFileLoadsTheJobWithoutPasswords) {
  JobStore store(dir_.string());
  ASSERT_TRUE(store.Save(JobWithPasswords("job-1")).ok());
  fs::remove(dir_ / "job-1.secret.json");
  absl::StatusOr<std::vector<StoredJob>> jobs = store.LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ((*jobs)[0].spec.source.credentials.password, "");
  EXPECT_EQ((*jobs)[0].spec.source.credentials.username, "repl");
}

TEST_F(JobStoreTest, FieldsOfANewerReshardAreIgnored) {
  WriteFile(dir_ / "job-1.json",
            R"({"id":"job-1","from_the_future":1,"spec":{"source":{"address":"127.0.0.1:1"},)"
            R"("targets":[{"name":"a","filter":{"prefix":"a"},"listen":"127.0.0.1:2"}]},)"
            R"("status":{"state":"PAUSED"}})");
  absl::StatusOr<std::vector<StoredJob>> jobs = JobStore(dir_.string()).LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].state, engine::JobState::kPaused);
  EXPECT_EQ((*jobs)[0].spec.targets[0].filter.pattern, "a");
}

TEST_F(JobStoreTest, SpecThatIsNoLongerAJobSpecNamesTheField) {
  WriteFile(dir_ / "job-1.json", R"({"id":"job-1","spec":{"source":{"address":"127.0.0.1:1"},)"
                                 R"("targets":[{"name":"a","listen":"127.0.0.1:2"}]}})");
  absl::StatusOr<std::vector<StoredJob>> jobs = JobStore(dir_.string()).LoadAll();
  ASSERT_FALSE(jobs.ok());
  EXPECT_EQ(jobs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(jobs.status().message(),
            (dir_ / "job-1.json").string() +
                ": targets[0].filter: required: set one of regex, prefix, glob, slots");
}

TEST_F(JobStoreTest, MissingDirectoryGivesClearErrors) {
  const fs::path missing = dir_ / "missing";
  JobStore store(missing.string());
  absl::StatusOr<std::vector<StoredJob>> jobs = store.LoadAll();
  ASSERT_FALSE(jobs.ok());
  EXPECT_EQ(jobs.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(jobs.status().message(), HasSubstr("cannot list " + missing.string()));
  absl::Status saved = store.Save(JobWithoutPasswords("job-1"));
  EXPECT_EQ(saved.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(saved.message(), HasSubstr("cannot create " + (missing / "job-1.json.tmp").string()));
}

}  // namespace
}  // namespace reshard::server

namespace reshard::server {
namespace {

SecretBox Key(char byte) { return *SecretBox::FromKey(std::string(SecretBox::kKeySize, byte)); }

TEST_F(JobStoreTest, WithAKeySecretFilesAreSealedAndOpenOnlyWithIt) {
  JobStore sealed(dir_.string(), Key('k'));
  ASSERT_TRUE(sealed.Save(JobWithPasswords("job-1")).ok());
  const std::string secret_path = (dir_ / "job-1.secret.json").string();
  const std::string text = ReadFile(secret_path);
  EXPECT_TRUE(SecretBox::IsSealed(text));
  for (const char* secret : {"src-secret", "tgt-secret", "rep-secret", "password"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  }
  absl::StatusOr<std::vector<StoredJob>> jobs = sealed.LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_TRUE((*jobs)[0].secrets_error.ok()) << (*jobs)[0].secrets_error;
  EXPECT_EQ((*jobs)[0].spec.source.credentials.password, "src-secret");
  EXPECT_EQ((*jobs)[0].spec.targets[1].replica->credentials.password, "rep-secret");

  // Another key, or none: the job loads without passwords and says why; its
  // file is left as it was.
  jobs = JobStore(dir_.string(), Key('x')).LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ((*jobs)[0].spec.source.credentials.password, "");
  EXPECT_EQ((*jobs)[0].secrets_error.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*jobs)[0].secrets_error.message(),
            secret_path +
                ": cannot be decrypted with this key (another key, or the file was altered): "
                "start reshardd with the --secrets_key_file it was written with");
  jobs = JobStore(dir_.string()).LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ((*jobs)[0].secrets_error.message(),
            secret_path +
                ": is encrypted, and reshardd was started without --secrets_key_file: start it "
                "with the key it was written with");
  EXPECT_EQ(ReadFile(secret_path), text);
}

TEST_F(JobStoreTest, APlainSecretFileIsSealedWhenAKeyIsGiven) {
  ASSERT_TRUE(JobStore(dir_.string()).Save(JobWithPasswords("job-1")).ok());
  const std::string secret_path = (dir_ / "job-1.secret.json").string();
  EXPECT_NE(ReadFile(secret_path).find("src-secret"), std::string::npos);
  absl::StatusOr<std::vector<StoredJob>> jobs = JobStore(dir_.string(), Key('k')).LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ((*jobs)[0].spec.source.credentials.password, "src-secret");
  const std::string text = ReadFile(secret_path);
  EXPECT_TRUE(SecretBox::IsSealed(text));
  EXPECT_EQ(text.find("src-secret"), std::string::npos);
  struct stat info {};
  ASSERT_EQ(::stat(secret_path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace reshard::server
