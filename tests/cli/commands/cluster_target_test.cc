#include "cli/commands/cluster_target.h"

#include <gtest/gtest.h>

namespace ephemera::commands {
namespace {

TEST(ClusterTargetTest, NamespaceFlagThenContextThenDefault) {
  kube::KubeConfig config;
  config.namespace_name = "team-a";
  command_line::GlobalOptions flag{"", "shop", ""};
  EXPECT_EQ(ResolveNamespace(flag, config), "shop");
  command_line::GlobalOptions none;
  EXPECT_EQ(ResolveNamespace(none, config), "team-a");
  config.namespace_name.clear();
  EXPECT_EQ(ResolveNamespace(none, config), "default");
}

TEST(ClusterTargetTest, ContextNamespaceComesFromTheKubeconfig) {
  const std::string yaml = R"(apiVersion: v1
kind: Config
current-context: a
contexts:
- name: a
  context: {cluster: c, user: u, namespace: team-a}
- name: b
  context: {cluster: c, user: u}
clusters:
- name: c
  cluster: {server: "https://10.0.0.1:6443"}
users:
- name: u
  user: {token: t}
)";
  command_line::GlobalOptions none;
  auto a = kube::KubeConfig::FromString(yaml, "test");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(ResolveNamespace(none, *a), "team-a");
  auto b = kube::KubeConfig::FromString(yaml, "test", "", kube::KubeConfigOptions{"b"});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(ResolveNamespace(none, *b), "default");
}

}  // namespace
}  // namespace ephemera::commands
