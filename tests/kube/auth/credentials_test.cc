// Token files, exec plugins (run for real) and the 401 → re-read → retry-once path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kube/auth/exec_credential.h"
#include "kube/auth/kube_config.h"
#include "kube/auth/posix_command_runner.h"
#include "kube/auth/token_source.h"
#include "kube/client/rest_kube_client.h"
#include "kube/transport/bearer_auth_transport.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_http_transport.h"

namespace ephemera::kube {
namespace {

using namespace std::chrono_literals;

const std::string kPlugin = std::string(EPHEMERA_TESTDATA_DIR) + "/kube/exec-plugin.sh";

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("ephemera-kube-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::trunc) << text;
    return file.string();
  }
  std::string Path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

int CountLines(const std::string& path) {
  std::ifstream in(path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

TEST(FileTokenSourceTest, RereadsAtMostEveryMinute) {
  TempDir dir;
  base::FakeClock clock;
  const std::string path = dir.Write("token", "first\n");
  FileTokenSource source(path, clock);
  EXPECT_EQ(source.Credentials()->bearer_token, "first");
  dir.Write("token", "second");
  clock.Advance(59s);
  EXPECT_EQ(source.Credentials()->bearer_token, "first");  // cached
  clock.Advance(1s);
  EXPECT_EQ(source.Credentials()->bearer_token, "second");
}

TEST(FileTokenSourceTest, InvalidateForcesImmediateReread) {
  TempDir dir;
  base::FakeClock clock;
  const std::string path = dir.Write("token", "first");
  FileTokenSource source(path, clock);
  EXPECT_EQ(source.Credentials()->bearer_token, "first");
  dir.Write("token", "rotated");
  EXPECT_TRUE(source.Invalidate());
  EXPECT_EQ(source.Credentials()->bearer_token, "rotated");
}

TEST(FileTokenSourceTest, KeepsOldTokenWhenFileVanishesAndFailsWithoutOne) {
  TempDir dir;
  base::FakeClock clock;
  const std::string path = dir.Write("token", "kept");
  FileTokenSource source(path, clock);
  EXPECT_EQ(source.Credentials()->bearer_token, "kept");
  std::filesystem::remove(path);
  clock.Advance(2min);
  EXPECT_EQ(source.Credentials()->bearer_token, "kept");

  FileTokenSource missing(dir.Path("nothing"), clock);
  auto credentials = missing.Credentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(credentials.status().message().find("nothing"), std::string::npos);
}

TEST(ReadSmallFileTest, SaysWhenThePathIsADirectory) {
  TempDir dir;
  const std::string path = dir.Path("certs");
  std::filesystem::create_directories(path);
  auto contents = ReadSmallFile(path);
  ASSERT_FALSE(contents.ok());
  EXPECT_EQ(contents.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(contents.status().message(), path + " is a directory; give the path of a file");
}

TEST(NewTokenSourceTest, PicksSourceFromKubeconfig) {
  base::FakeClock clock;
  PosixCommandRunner runner;
  auto file_config =
      KubeConfig::FromFile(std::string(EPHEMERA_TESTDATA_DIR) + "/kube/token-file.yaml");
  ASSERT_TRUE(file_config.ok()) << file_config.status().ToString();
  EXPECT_EQ(NewTokenSource(*file_config, clock, runner)->Credentials()->bearer_token,
            "file-token-value-1");

  auto exec_config = KubeConfig::FromFile(std::string(EPHEMERA_TESTDATA_DIR) + "/kube/exec.yaml");
  ASSERT_TRUE(exec_config.ok()) << exec_config.status().ToString();
  auto exec_credentials = NewTokenSource(*exec_config, clock, runner)->Credentials();
  ASSERT_TRUE(exec_credentials.ok()) << exec_credentials.status().ToString();
  // The plugin appends "-info" when KUBERNETES_EXEC_INFO reached it.
  EXPECT_EQ(exec_credentials->bearer_token, "exec-token-value-info");
}

ExecConfig PluginConfig(std::vector<std::string> args) {
  return ExecConfig{.api_version = std::string(kExecCredentialApiVersion),
                    .command = kPlugin,
                    .args = std::move(args),
                    .env = {},
                    .provide_cluster_info = false,
                    .install_hint = "see the docs"};
}

TEST(ExecTokenSourceTest, CachesUntilExpiryThenRunsAgain) {
  TempDir dir;
  base::FakeClock clock;  // 2026-01-01T00:00:00Z
  PosixCommandRunner runner;
  const std::string count = dir.Path("count");
  ExecTokenSource source(
      PluginConfig({"--token", "t", "--count", count, "--expires", "2026-01-01T01:00:00Z"}), {},
      clock, runner);
  EXPECT_EQ(source.Credentials()->bearer_token, "t-info");
  EXPECT_EQ(source.Credentials()->bearer_token, "t-info");
  EXPECT_EQ(CountLines(count), 1);
  clock.Advance(59min);
  EXPECT_TRUE(source.Credentials().ok());
  EXPECT_EQ(CountLines(count), 1);
  clock.Advance(55s);  // within 10s of expiry: treated as expired
  EXPECT_TRUE(source.Credentials().ok());
  EXPECT_EQ(CountLines(count), 2);
}

TEST(ExecTokenSourceTest, InvalidateRunsPluginAgain) {
  TempDir dir;
  base::FakeClock clock;
  PosixCommandRunner runner;
  const std::string count = dir.Path("count");
  ExecTokenSource source(PluginConfig({"--token", "t", "--count", count}), {}, clock, runner);
  ASSERT_TRUE(source.Credentials().ok());
  EXPECT_TRUE(source.Invalidate());
  ASSERT_TRUE(source.Credentials().ok());
  EXPECT_EQ(CountLines(count), 2);
}

TEST(ExecTokenSourceTest, ReportsPluginFailures) {
  base::FakeClock clock;
  PosixCommandRunner runner;
  ExecConfig failing = PluginConfig({"--token", "t"});
  failing.env = {{"PLUGIN_MODE", "fail"}};
  auto failed = ExecTokenSource(failing, {}, clock, runner).Credentials();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(failed.status().message().find("exited with code 3"), std::string::npos);

  ExecConfig garbage = PluginConfig({});
  garbage.env = {{"PLUGIN_MODE", "garbage"}};
  auto bad = ExecTokenSource(garbage, {}, clock, runner).Credentials();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not a JSON object"), std::string::npos);

  ExecConfig missing = PluginConfig({});
  missing.command = "ephemera-no-such-plugin";
  auto absent = ExecTokenSource(missing, {}, clock, runner).Credentials();
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.status().message().find("see the docs"), std::string::npos)
      << absent.status().message();
}

// Standard input replaced by a pipe holding `typed` while it lives, as a person's typing would be.
class TypedStandardInput {
 public:
  explicit TypedStandardInput(const std::string& typed) : saved_(::dup(STDIN_FILENO)) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    EXPECT_EQ(::write(fds[1], typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
    ::close(fds[1]);
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
  }
  TypedStandardInput(const TypedStandardInput&) = delete;
  TypedStandardInput& operator=(const TypedStandardInput&) = delete;
  ~TypedStandardInput() {
    ::dup2(saved_, STDIN_FILENO);
    ::close(saved_);
  }

 private:
  int saved_;
};

ExecConfig PromptingPlugin(ExecInteractiveMode mode, std::vector<std::string> args) {
  ExecConfig config = PluginConfig(std::move(args));
  config.command = std::string(EPHEMERA_TESTDATA_DIR) + "/kube/prompting-plugin.sh";
  config.interactive_mode = mode;
  return config;
}

TEST(ExecTokenSourceTest, APersonAtTheTerminalAnswersAPromptingPluginWithNoTimeLimit) {
  base::FakeClock clock;
  PosixCommandRunner runner;
  TypedStandardInput typed("open sesame\n");
  // The person takes 0.5 s to answer, past the 100 ms that a plugin run without a person gets.
  ExecTokenSource source(PromptingPlugin(ExecInteractiveMode::kIfAvailable, {"--think", "0.5"}), {},
                         clock, runner, 100ms, /*stdin_is_terminal=*/true);
  auto credentials = source.Credentials();
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->bearer_token, "prompted-true") << "KUBERNETES_EXEC_INFO says interactive";
}

TEST(ExecTokenSourceTest, APluginThatMustNotPromptGetsNoStandardInput) {
  base::FakeClock clock;
  PosixCommandRunner runner;
  TypedStandardInput typed("open sesame\n");
  auto never = ExecTokenSource(PromptingPlugin(ExecInteractiveMode::kNever, {}), {}, clock, runner,
                               5s, /*stdin_is_terminal=*/true)
                   .Credentials();
  ASSERT_FALSE(never.ok()) << "interactiveMode Never: the plugin reads /dev/null, not our input";
  EXPECT_NE(never.status().message().find("exited with code 4"), std::string::npos);
  // Without a terminal, IfAvailable runs it the same way, and with the usual time limit.
  auto no_terminal = ExecTokenSource(PromptingPlugin(ExecInteractiveMode::kIfAvailable, {}), {},
                                     clock, runner, 5s, /*stdin_is_terminal=*/false)
                         .Credentials();
  ASSERT_FALSE(no_terminal.ok());
  EXPECT_NE(no_terminal.status().message().find("exited with code 4"), std::string::npos)
      << no_terminal.status().message();
}

TEST(ExecTokenSourceTest, AlwaysInteractiveWithoutATerminalIsRefusedBeforeRunning) {
  TempDir dir;
  base::FakeClock clock;
  PosixCommandRunner runner;
  const std::string count = dir.Path("count");
  auto refused = ExecTokenSource(PromptingPlugin(ExecInteractiveMode::kAlways, {"--count", count}),
                                 {}, clock, runner, 5s, /*stdin_is_terminal=*/false)
                     .Credentials();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("interactiveMode Always"), std::string::npos)
      << refused.status().message();
  EXPECT_FALSE(std::filesystem::exists(count)) << "the plugin must not have run";
}

TEST(PosixCommandRunnerTest, AnInteractiveRunEndsWithTheProgramNotWithWhatItLeftBehind) {
  PosixCommandRunner runner;
  const auto start = std::chrono::steady_clock::now();
  // The background sleep keeps standard output open for 5 s after the program has exited.
  auto result = runner.RunInteractive("sh", {"-c", "sleep 5 & echo answer; exit 3"}, {});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->standard_output, "answer\n");
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST(PosixCommandRunnerTest, KillsCommandsThatOverrunTheirTimeout) {
  PosixCommandRunner runner;
  const auto start = std::chrono::steady_clock::now();
  auto result = runner.Run("sleep", {"10"}, {}, 200ms);
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

// --- 401 handling through BearerAuthTransport ---

TEST(BearerAuthTransportTest, RereadsRotatedTokenAfter401AndRetriesOnce) {
  TempDir dir;
  base::FakeClock clock;
  const std::string path = dir.Write("token", "old-token");
  FileTokenSource tokens(path, clock);
  FakeHttpTransport fake;
  BearerAuthTransport auth(fake, tokens);
  RestKubeClient client(auth, clock);

  ASSERT_TRUE(tokens.Credentials().ok());  // cache "old-token"
  dir.Write("token", "new-token");         // the kubelet rotates it; our cache is still fresh
  fake.Enqueue(FakeReply::ApiStatus(401, "Unauthorized", "Unauthorized"));
  fake.Enqueue(FakeReply::Json(200, {{"kind", "Pod"}, {"metadata", {{"name", "p"}}}}));
  auto pod = client.Get(PodsResource(), {"ns", "p"});
  ASSERT_TRUE(pod.ok()) << pod.status().ToString();
  EXPECT_EQ((*pod)["metadata"]["name"], "p");
  const auto requests = fake.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(FindHeader(requests[0].headers, "Authorization"), "Bearer old-token");
  EXPECT_EQ(FindHeader(requests[1].headers, "Authorization"), "Bearer new-token");
}

TEST(BearerAuthTransportTest, Persistent401IsUnauthenticatedAfterOneAttempt) {
  TempDir dir;
  base::FakeClock clock;
  FileTokenSource tokens(dir.Write("token", "same-token"), clock);
  FakeHttpTransport fake;
  BearerAuthTransport auth(fake, tokens);
  RestKubeClient client(auth, clock);
  fake.SetHandler(
      [](const HttpRequest&) { return FakeReply::ApiStatus(401, "Unauthorized", "Unauthorized"); });
  auto pod = client.Get(PodsResource(), {"ns", "p"});
  EXPECT_EQ(pod.status().code(), StatusCode::kUnauthenticated);
  // The token did not change on re-read, so there was nothing new to retry with.
  EXPECT_EQ(fake.Requests().size(), 1u);
  EXPECT_EQ(pod.status().message().find("same-token"), std::string::npos);
}

TEST(BearerAuthTransportTest, StaticTokenIsNotRetried) {
  base::FakeClock clock;
  StaticTokenSource tokens({.bearer_token = "static"});
  FakeHttpTransport fake;
  BearerAuthTransport auth(fake, tokens);
  fake.Enqueue(FakeReply::ApiStatus(401, "Unauthorized", "Unauthorized"));
  auto response = auth.Send(HttpRequest{});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(fake.Requests().size(), 1u);
}

TEST(BearerAuthTransportTest, ExecPluginIsRerunAfter401) {
  TempDir dir;
  base::FakeClock clock;
  PosixCommandRunner runner;
  const std::string count = dir.Path("count");
  // The plugin embeds its run count nowhere, so vary the token through the count file's size:
  // first run prints "a", the invalidation makes it print "b".
  const std::string script =
      dir.Write("plugin.sh", "#!/bin/sh\necho run >> " + count + "\nn=$(wc -l < " + count +
                                 ")\nprintf '{\"apiVersion\":\"client.authentication."
                                 "k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":"
                                 "{\"token\":\"run-%s\"}}' $n\n");
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  ExecTokenSource tokens(
      ExecConfig{.api_version = std::string(kExecCredentialApiVersion), .command = script}, {},
      clock, runner);
  FakeHttpTransport fake;
  BearerAuthTransport auth(fake, tokens);
  fake.Enqueue(FakeReply::ApiStatus(401, "Unauthorized", "token expired"));
  fake.Enqueue(FakeReply::Json(200, nlohmann::json::object()));
  auto response = auth.Send(HttpRequest{});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  const auto requests = fake.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(FindHeader(requests[0].headers, "Authorization"), "Bearer run-1");
  EXPECT_EQ(FindHeader(requests[1].headers, "Authorization"), "Bearer run-2");
}

}  // namespace
}  // namespace ephemera::kube
