#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "kube/auth/kube_config.h"

namespace ephemera::kube {
namespace {

class InClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ephemera-incluster-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    Write("token", "sa-token-value\n");
    Write("ca.crt", "-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n");
    Write("namespace", "ephemera-system");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  InClusterOptions Options(const std::map<std::string, std::string>& env) {
    InClusterOptions options;
    options.service_account_dir = dir_.string();
    options.getenv = [env](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    return options;
  }
  std::filesystem::path dir_;
};

TEST_F(InClusterTest, BuildsServerAndReadsMount) {
  auto config = KubeConfig::InCluster(
      Options({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->token_file, (dir_ / "token").string());
  EXPECT_TRUE(config->token.empty());  // read through FileTokenSource, so rotation is seen
  EXPECT_EQ(config->namespace_name, "ephemera-system");
  EXPECT_NE(config->certificate_authority_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(config->source, "in-cluster");
}

TEST_F(InClusterTest, BracketsIpv6Host) {
  auto config = KubeConfig::InCluster(
      Options({{"KUBERNETES_SERVICE_HOST", "fd00:10:96::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://[fd00:10:96::1]:6443");
}

TEST_F(InClusterTest, NotInClusterWithoutEnvironment) {
  auto config = KubeConfig::InCluster(Options({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(config.status().message().find("KUBERNETES_SERVICE_PORT"), std::string::npos);
}

TEST_F(InClusterTest, MissingTokenIsUnauthenticated) {
  std::filesystem::remove(dir_ / "token");
  auto config = KubeConfig::InCluster(
      Options({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace ephemera::kube
