#include "kube/auth/kube_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

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

TEST(KubeConfigTest, DefaultPathPrefersKubeconfigVariable) {
  auto env = [](const std::map<std::string, std::string>& values) {
    return [values](const std::string& name) -> std::optional<std::string> {
      auto it = values.find(name);
      if (it == values.end()) return std::nullopt;
      return it->second;
    };
  };
  EXPECT_EQ(DefaultKubeConfigPath(env({{"KUBECONFIG", "/a/one:/b/two"}, {"HOME", "/h"}})),
            "/a/one");
  EXPECT_EQ(DefaultKubeConfigPath(env({{"HOME", "/home/me"}})), "/home/me/.kube/config");
}

}  // namespace
}  // namespace ephemera::kube
