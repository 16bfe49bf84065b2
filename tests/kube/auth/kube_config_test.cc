#include "kube/auth/kube_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace ephemera::kube {
namespace {

const std::string kDir = std::string(EPHEMERA_TESTDATA_DIR) + "/kube";

TEST(KubeConfigTest, ParsesInlineDataAndCurrentContext) {
  auto config = KubeConfig::FromFile(kDir + "/valid-data.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://10.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(config->tls_server_name, "kubernetes.default.svc");
  EXPECT_EQ(config->namespace_name, "team-a");
  EXPECT_EQ(config->context_name, "dev");
  EXPECT_NE(config->certificate_authority_pem.find("-----BEGIN CERTIFICATE-----"),
            std::string::npos);
  EXPECT_NE(config->client_certificate_pem.find("ZmFrZS1jbGllbnQtY2VydA=="), std::string::npos);
  EXPECT_NE(config->client_key_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  EXPECT_TRUE(config->token.empty());
  EXPECT_FALSE(config->exec.has_value());
  EXPECT_EQ(config->source, kDir + "/valid-data.yaml");
}

TEST(KubeConfigTest, ExplicitContextOverridesCurrentContext) {
  auto config = KubeConfig::FromFile(kDir + "/valid-data.yaml", {.context = "prod"});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://prod.example.com");
  EXPECT_EQ(config->token, "static-token-value-123");
  EXPECT_EQ(config->namespace_name, "default");
  EXPECT_TRUE(config->client_certificate_pem.empty());
  EXPECT_TRUE(config->tls_server_name.empty());
}

TEST(KubeConfigTest, ReadsFilesRelativeToTheKubeconfig) {
  auto config = KubeConfig::FromFile(kDir + "/valid-files.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_NE(config->certificate_authority_pem.find("ZmFrZS1jYS1mb3ItdGVzdHM="), std::string::npos);
  EXPECT_NE(config->client_certificate_pem.find("ZmFrZS1jbGllbnQtY2VydA=="), std::string::npos);
  EXPECT_NE(config->client_key_pem.find("ZmFrZS1rZXktZm9yLXRlc3Rz"), std::string::npos);
}

TEST(KubeConfigTest, KeepsTokenFilePathForRereading) {
  auto config = KubeConfig::FromFile(kDir + "/token-file.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->token_file, kDir + "/token.txt");
  EXPECT_TRUE(config->token.empty());
  EXPECT_EQ(config->server, "https://[fd00::1]:6443");
  EXPECT_EQ(config->namespace_name, "ephemera-system");
}

TEST(KubeConfigTest, ParsesExecPlugin) {
  auto config = KubeConfig::FromFile(kDir + "/exec.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(config->exec.has_value());
  EXPECT_EQ(config->exec->api_version, "client.authentication.k8s.io/v1");
  EXPECT_EQ(config->exec->command, kDir + "/./exec-plugin.sh");
  EXPECT_EQ(config->exec->args, (std::vector<std::string>{"--token", "exec-token-value"}));
  ASSERT_EQ(config->exec->env.size(), 1u);
  EXPECT_EQ(config->exec->env[0], (std::pair<std::string, std::string>{"PLUGIN_MODE", "token"}));
  EXPECT_TRUE(config->exec->provide_cluster_info);
  EXPECT_EQ(config->exec->interactive_mode, ExecInteractiveMode::kNever);
  EXPECT_EQ(config->exec->install_hint, "install the test plugin");
}

TEST(KubeConfigTest, BareExecCommandIsLeftForPathLookup) {
  auto config = KubeConfig::FromString(R"(
current-context: c
clusters: [{name: c, cluster: {server: "https://k"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: kubelogin}}}]
)",
                                       "inline", "/etc/kube");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->exec->command, "kubelogin");
}

// Every malformed fixture names the field and file in its error, and never leaks its secrets.
TEST(KubeConfigTest, MalformedFixturesGiveTheirExpectedError) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kDir + "/malformed")) {
    std::ifstream in(entry.path());
    std::string first_line;
    std::getline(in, first_line);
    const std::string prefix = "# expect: ";
    ASSERT_EQ(first_line.rfind(prefix, 0), 0u) << entry.path() << " lacks an expect line";
    const std::string expected = first_line.substr(prefix.size());
    auto config = KubeConfig::FromFile(entry.path().string());
    ASSERT_FALSE(config.ok()) << entry.path() << " loaded but should not";
    const std::string message = config.status().message();
    EXPECT_NE(message.find(expected), std::string::npos)
        << entry.path() << "\n  got:  " << message << "\n  want: " << expected;
    EXPECT_EQ(message.rfind(entry.path().string(), 0), 0u) << "error should start with the file";
    EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;
    EXPECT_EQ(message.find("t0ken-not-shown"), std::string::npos) << message;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << message;
    ++checked;
  }
  EXPECT_GE(checked, 20);
}

TEST(KubeConfigTest, MissingFileIsNotFound) {
  auto config = KubeConfig::FromFile(kDir + "/no-such-kubeconfig");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kNotFound);
  EXPECT_NE(config.status().message().find("no-such-kubeconfig"), std::string::npos);
}

TEST(KubeConfigTest, DescribeNeverContainsSecrets) {
  auto config = KubeConfig::FromFile(kDir + "/valid-data.yaml", {.context = "prod"});
  ASSERT_TRUE(config.ok());
  const std::string text = config->Describe();
  EXPECT_EQ(text.find("static-token-value-123"), std::string::npos);
  EXPECT_NE(text.find("auth=token"), std::string::npos);
  EXPECT_NE(text.find("server=https://prod.example.com"), std::string::npos);
  auto dev = KubeConfig::FromFile(kDir + "/valid-data.yaml");
  ASSERT_TRUE(dev.ok());
  EXPECT_NE(dev->Describe().find("auth=client-cert"), std::string::npos);
  EXPECT_EQ(dev->Describe().find("ZmFrZS1rZXk"), std::string::npos);
}

EnvironmentLookup Env(const std::map<std::string, std::string>& values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(KubeConfigTest, LocatesLikeKubectl) {
  const auto home_exists = [](const std::string& path) { return path == "/h/.kube/config"; };
  const auto nothing = [](const std::string&) { return false; };
  EXPECT_EQ(
      LocateKubeConfig("", Env({{"KUBECONFIG", "/a/one:/b/two"}, {"HOME", "/h"}}), home_exists)
          .files,
      (std::vector<std::string>{"/a/one", "/b/two"}));
  EXPECT_EQ(LocateKubeConfig("/flag", Env({{"KUBECONFIG", "/a/one"}}), home_exists).files,
            std::vector<std::string>{"/flag"});
  EXPECT_EQ(LocateKubeConfig("", Env({{"KUBECONFIG", ":"}, {"HOME", "/h"}}), home_exists).files,
            std::vector<std::string>{"/h/.kube/config"})
      << "a KUBECONFIG of empty names is as good as none";
  const KubeConfigLocation pod = LocateKubeConfig(
      "", Env({{"HOME", "/h"}, {"KUBERNETES_SERVICE_HOST", "10.96.0.1"}}), nothing);
  EXPECT_TRUE(pod.in_cluster);
  EXPECT_EQ(pod.Describe(), "the pod's service account");
  EXPECT_FALSE(LocateKubeConfig("", Env({{"HOME", "/h"}, {"KUBERNETES_SERVICE_HOST", "10.96.0.1"}}),
                                home_exists)
                   .in_cluster)
      << "in a pod too, a kubeconfig wins";
  EXPECT_EQ(LocateKubeConfig("", Env({{"HOME", "/h"}}), nothing).files,
            std::vector<std::string>{"/h/.kube/config"});
}

TEST(KubeConfigTest, AnHttpProxyIsKeptASocksProxyRefused) {
  const std::string yaml = R"(apiVersion: v1
kind: Config
current-context: a
contexts: [{name: a, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443", proxy-url: "PROXY"}}]
users: [{name: u, user: {token: t}}]
)";
  const auto with = [&yaml](const std::string& proxy) {
    std::string text = yaml;
    text.replace(text.find("PROXY"), 5, proxy);
    return KubeConfig::FromString(text, "test");
  };
  auto http = with("http://proxy.corp:3128");
  ASSERT_TRUE(http.ok()) << http.status().ToString();
  EXPECT_EQ(http->proxy_url, "http://proxy.corp:3128");
  auto socks = with("socks5://proxy.corp:1080");
  ASSERT_FALSE(socks.ok());
  EXPECT_NE(socks.status().message().find("a SOCKS proxy is not supported"), std::string::npos);
  // A proxy's credentials never reach a message or the description.
  auto secret = with("http://user:hunter2@proxy.corp:3128");
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->Describe().find("hunter2"), std::string::npos);
  EXPECT_EQ(with("ftp://user:hunter2@x").status().message().find("hunter2"), std::string::npos);
}

TEST(KubeConfigTest, InClusterRefusesAContextFlag) {
  auto config = LoadKubeConfig(KubeConfigLocation{{}, true}, {.context = "prod"});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("--context prod"), std::string::npos);
}

// Two kubeconfig files in two directories, as a user with one file per cluster has them.
class KubeConfigMergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::path(::testing::TempDir()) /
            ("merge-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "one");
    std::filesystem::create_directories(root_ / "two");
    Write("one/ca.pem", "-----BEGIN CERTIFICATE-----\nb25lLWNh\n-----END CERTIFICATE-----\n");
    Write("two/ca.pem", "-----BEGIN CERTIFICATE-----\ndHdvLWNh\n-----END CERTIFICATE-----\n");
    std::filesystem::copy_file(kDir + "/client.pem", root_ / "two" / "client.pem");
    std::filesystem::copy_file(kDir + "/client-key.pem", root_ / "two" / "client-key.pem");
    Write("one/config", R"(apiVersion: v1
kind: Config
current-context: a
clusters:
- name: shared
  cluster: {server: "https://one.example:6443", certificate-authority: ca.pem}
contexts:
- name: a
  context: {cluster: shared, user: token-user, namespace: team-a}
users:
- name: token-user
  user: {tokenFile: token.txt}
)");
    Write("two/config", R"(apiVersion: v1
kind: Config
current-context: b
clusters:
- name: shared
  cluster: {server: "https://two.example:6443", certificate-authority: ca.pem}
- name: second
  cluster: {server: "https://second.example:6443", certificate-authority: ca.pem}
contexts:
- name: a
  context: {cluster: second, user: cert-user}
- name: b
  context: {cluster: second, user: cert-user}
users:
- name: token-user
  user: {token: from-the-second-file}
- name: cert-user
  user: {client-certificate: client.pem, client-key: client-key.pem}
)");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void Write(const std::string& relative, const std::string& text) {
    std::ofstream(root_ / relative, std::ios::trunc) << text;
  }
  std::string Path(const std::string& relative) const { return (root_ / relative).string(); }

  std::filesystem::path root_;
};

TEST_F(KubeConfigMergeTest, TheFirstFileToSetANameOrTheCurrentContextWins) {
  auto config = KubeConfig::FromFiles({Path("one/config"), Path("two/config")});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->context_name, "a");  // the second file's current-context is ignored
  EXPECT_EQ(config->server, "https://one.example:6443");
  EXPECT_EQ(config->namespace_name, "team-a");
  // Entries are taken whole from their first file: the second file's token-user is ignored.
  EXPECT_EQ(config->token_file, Path("one/token.txt"));
  EXPECT_TRUE(config->token.empty());
  EXPECT_NE(config->certificate_authority_pem.find("b25lLWNh"), std::string::npos);
  EXPECT_EQ(config->source, Path("one/config") + ":" + Path("two/config"));
}

TEST_F(KubeConfigMergeTest, AContextFromTheSecondFileUsesItsOwnRelativePaths) {
  auto config = KubeConfig::FromFiles({Path("one/config"), Path("two/config")}, {.context = "b"});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://second.example:6443");
  EXPECT_NE(config->certificate_authority_pem.find("dHdvLWNh"), std::string::npos);
  EXPECT_NE(config->client_certificate_pem.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE(config->client_key_pem.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(KubeConfigMergeTest, OrderDecides) {
  auto config = KubeConfig::FromFiles({Path("two/config"), Path("one/config")});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->context_name, "b");
  EXPECT_EQ(config->server, "https://second.example:6443");
  auto a = KubeConfig::FromFiles({Path("two/config"), Path("one/config")}, {.context = "a"});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->server, "https://second.example:6443") << "context a of the first file";
}

TEST_F(KubeConfigMergeTest, MissingAndEmptyNamesAreSkippedButNotAllOfThem) {
  auto config = KubeConfig::FromFiles({"", Path("none"), Path("one/config"), ""});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://one.example:6443");
  auto none = KubeConfig::FromFiles({Path("none"), Path("nor-this")});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("nor-this"), std::string::npos);
}

TEST_F(KubeConfigMergeTest, ABrokenFileIsNamedAndNotSkipped) {
  Write("two/config", "clusters: [unclosed\n");
  auto config = KubeConfig::FromFiles({Path("one/config"), Path("two/config")});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find(Path("two/config") + ": not valid YAML"),
            std::string::npos)
      << config.status().message();
  Write("two/config", "users: {token-user: {token: t}}\n");
  auto shape = KubeConfig::FromFiles({Path("one/config"), Path("two/config")});
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(shape.status().message().find(Path("two/config") + ": users: expected a list"),
            std::string::npos)
      << shape.status().message();
}

}  // namespace
}  // namespace ephemera::kube
