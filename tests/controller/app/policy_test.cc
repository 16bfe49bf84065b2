#include "controller/app/policy.h"

#include <gtest/gtest.h>

#include <string>

namespace ephemera::app {
namespace {

config::ControllerConfig Config() {
  config::ControllerConfig config;
  config.snapshot_image = "ephemera.local/snapshot@sha256:00";
  return config;
}

TEST(PolicyFromTest, CopiesTheSettings) {
  config::ControllerConfig config = Config();
  config.policy.allowed_namespaces = {"team-a"};
  config.policy.forbidden_namespaces = {"kube-system", "vault"};
  config.policy.default_ttl = std::chrono::seconds(120);
  config.policy.max_ttl = std::chrono::seconds(900);
  config.policy.allowed_profiles = {"ptrace"};
  config.policy.strict_audit = true;
  config.policy.annotate_debugged_pods = true;
  config.policy.recycle_debugged_pods = true;
  config.policy.ephemeral_containers = "enforce";
  config.policy.host_namespaces = "allow";
  config.policy.pii_default = "strict";
  config.policy.pii_minimum = "standard";
  config.policy.budget_default_cpu = std::chrono::seconds(3);
  config.policy.budget_max_cpu = std::chrono::seconds(7);
  config.policy.budget_default_memory_bytes = 32 << 20;
  config.policy.budget_max_memory_bytes = 96 << 20;
  config.policy.budget_default_wall = std::chrono::seconds(25);
  config.policy.budget_max_wall = std::chrono::seconds(50);

  auto policy = PolicyFrom(config);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->allowed_namespaces, std::vector<std::string>{"team-a"});
  EXPECT_EQ(policy->forbidden_namespaces, (std::vector<std::string>{"kube-system", "vault"}));
  EXPECT_EQ(policy->default_ttl, std::chrono::seconds(120));
  EXPECT_EQ(policy->max_ttl, std::chrono::seconds(900));
  EXPECT_EQ(policy->allowed_profiles, std::vector<api::Profile>{api::Profile::kPtrace});
  EXPECT_EQ(policy->snapshot_image, "ephemera.local/snapshot@sha256:00");
  EXPECT_TRUE(policy->strict_audit);
  EXPECT_TRUE(policy->annotate_debugged_pods);
  EXPECT_TRUE(policy->recycle_debugged_pods);
  EXPECT_EQ(policy->unsanctioned_containers, session::UnsanctionedContainers::kEnforce);
  EXPECT_TRUE(policy->allow_host_namespaces);
  EXPECT_EQ(policy->default_pii, api::PiiMode::kStrict);
  EXPECT_EQ(policy->minimum_pii, api::PiiMode::kStandard);
  EXPECT_EQ(policy->budget.default_cpu, std::chrono::seconds(3));
  EXPECT_EQ(policy->budget.max_cpu, std::chrono::seconds(7));
  EXPECT_EQ(policy->budget.default_memory_bytes, 32 << 20);
  EXPECT_EQ(policy->budget.max_memory_bytes, 96 << 20);
  EXPECT_EQ(policy->budget.default_wall, std::chrono::seconds(25));
  EXPECT_EQ(policy->budget.max_wall, std::chrono::seconds(50));
}

// The configuration's defaults are the policy's own (a session passes the same budget whether the
// controller was configured or not).
TEST(PolicyFromTest, TheDefaultBudgetSettingsAreThePolicysDefaults) {
  auto policy = PolicyFrom(Config());
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const session::BudgetPolicy defaults;
  EXPECT_EQ(policy->budget.default_cpu, defaults.default_cpu);
  EXPECT_EQ(policy->budget.max_cpu, defaults.max_cpu);
  EXPECT_EQ(policy->budget.default_memory_bytes, defaults.default_memory_bytes);
  EXPECT_EQ(policy->budget.max_memory_bytes, defaults.max_memory_bytes);
  EXPECT_EQ(policy->budget.default_wall, defaults.default_wall);
  EXPECT_EQ(policy->budget.max_wall, defaults.max_wall);
}

TEST(PolicyFromTest, TheDefaultSettingsGiveTheDefaultModes) {
  auto policy = PolicyFrom(Config());
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->allowed_profiles,
            (std::vector<api::Profile>{api::Profile::kRestricted, api::Profile::kPtrace}));
  EXPECT_EQ(policy->unsanctioned_containers, session::UnsanctionedContainers::kAudit);
  EXPECT_FALSE(policy->allow_host_namespaces);
  EXPECT_EQ(policy->default_pii, api::PiiMode::kStandard);
  EXPECT_EQ(policy->minimum_pii, api::PiiMode::kNone);
}

// Each setting given a value the controller does not know: the error names the setting, the value
// and what it may be, instead of quietly choosing a mode.
struct BadValue {
  std::string setting;
  void (*set)(config::PolicySettings&);
  std::string value;
  std::string allowed;
};

TEST(PolicyFromTest, AnUnknownValueIsAnErrorNamingSettingValueAndChoices) {
  const std::vector<BadValue> cases = {
      {"policy.allowedProfiles",
       [](config::PolicySettings& p) {
         p.allowed_profiles = {"restricted", "Ptrace"};
       },
       "Ptrace", "restricted, ptrace"},
      {"policy.ephemeralContainers",
       [](config::PolicySettings& p) { p.ephemeral_containers = "deny"; }, "deny",
       "audit, enforce"},
      {"policy.hostNamespaces", [](config::PolicySettings& p) { p.host_namespaces = "yes"; }, "yes",
       "deny, allow"},
      {"policy.pii.default", [](config::PolicySettings& p) { p.pii_default = "max"; }, "max",
       "none, standard, strict"},
      {"policy.pii.minimum", [](config::PolicySettings& p) { p.pii_minimum = ""; }, "",
       "none, standard, strict"},
  };
  for (const BadValue& bad : cases) {
    SCOPED_TRACE(bad.setting);
    config::ControllerConfig config = Config();
    bad.set(config.policy);
    auto policy = PolicyFrom(config);
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(policy.status().message(),
              bad.setting + ": unknown value \"" + bad.value + "\"; allowed: " + bad.allowed);
  }
}

}  // namespace
}  // namespace ephemera::app
