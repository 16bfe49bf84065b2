#include "controller/session/ephemeral_container.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "api/tool_args.h"
#include "controller/session/planner.h"
#include "tests/controller/session/session_fixtures.h"

namespace ephemera::session {
namespace {

struct Built {
  api::DebugSession session;
  PodView pod;
};

Built Fixture() {
  return {*api::ParseDebugSession(testing::SessionObject()), *ParsePodView(testing::PodObject())};
}

Policy TestPolicy() {
  Policy p;
  p.snapshot_image = "ephemera.local/snapshot@sha256:" + std::string(64, 'a');
  return p;
}

TEST(EphemeralContainerTest, RestrictedRunsAsTargetUserWithNoCapabilities) {
  auto [session, pod] = Fixture();
  auto c = BuildEphemeralContainer(session, pod, "app", TestPolicy(), testing::kRecipient);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& sc = (*c)["securityContext"];
  EXPECT_EQ(sc["runAsUser"], 1000);
  EXPECT_EQ(sc["runAsNonRoot"], true);
  EXPECT_EQ(sc["allowPrivilegeEscalation"], false);
  EXPECT_EQ(sc["readOnlyRootFilesystem"], true);
  EXPECT_EQ(sc["capabilities"]["drop"], nlohmann::json::array({"ALL"}));
  EXPECT_FALSE(sc["capabilities"].contains("add"));
  EXPECT_EQ((*c)["targetContainerName"], "app");
  EXPECT_EQ((*c)["name"], EphemeralContainerNameFor(session.uid));
  EXPECT_FALSE(c->contains("volumeMounts"));
  EXPECT_FALSE(c->contains("env"));
}

TEST(EphemeralContainerTest, PtraceAddsOnlyPtraceAndReadSearch) {
  auto [session, pod] = Fixture();
  session.spec.profile = api::Profile::kPtrace;
  auto c = BuildEphemeralContainer(session, pod, "app", TestPolicy(), testing::kRecipient);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["securityContext"]["capabilities"]["add"],
            nlohmann::json::array({"SYS_PTRACE", "DAC_READ_SEARCH"}));
}

TEST(EphemeralContainerTest, ArgsCarryOnlyPublicKeyAndNames) {
  auto [session, pod] = Fixture();
  auto c = BuildEphemeralContainer(session, pod, "app", TestPolicy(), testing::kRecipient);
  ASSERT_TRUE(c.ok());
  const std::string args = (*c)["args"].dump();
  EXPECT_NE(args.find(testing::kRecipient), std::string::npos);
  // Secret-backed env names are passed so they are always redacted; never their values.
  EXPECT_NE(args.find("\"--secret-env\",\"DB_PASSWORD\""), std::string::npos);
  EXPECT_EQ(args.find("AGE-SECRET-KEY"), std::string::npos);
  EXPECT_NE(args.find("process,threads,fds"), std::string::npos);
}

std::vector<std::string> Args(const nlohmann::json& container) {
  return container["args"].get<std::vector<std::string>>();
}

// What the controller writes is what the snapshot tool reads back (api/tool_args.h).
TEST(EphemeralContainerTest, TheToolParsesTheArgsBackIntoTheSessionsOptions) {
  auto [session, pod] = Fixture();
  session.spec.profile = api::Profile::kPtrace;
  session.spec.extra_patterns = {"acme_live_"};
  Policy policy = TestPolicy();
  policy.budget.default_wall = std::chrono::seconds(45);
  auto c = BuildEphemeralContainer(session, pod, "app", policy, testing::kRecipient);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::vector<std::string> args = Args(*c);
  StatusOr<api::ToolArgs> tool = api::ParseToolArgs(args);
  ASSERT_TRUE(tool.ok()) << tool.status().ToString();
  EXPECT_EQ(tool->recipients, std::vector<std::string>({testing::kRecipient}));
  EXPECT_EQ(tool->profile, api::Profile::kPtrace);
  EXPECT_EQ(tool->deadline, std::chrono::seconds(45));
  EXPECT_EQ(tool->cpu_budget, policy.budget.default_cpu);
  EXPECT_EQ(tool->memory_budget_bytes, policy.budget.default_memory_bytes);
  EXPECT_EQ(tool->capture, session.spec.capture);
  EXPECT_FALSE(tool->capture.empty());
  EXPECT_EQ(tool->pii, EffectivePii(session.spec, policy));
  EXPECT_EQ(tool->secret_env, pod.secret_env);
  EXPECT_FALSE(tool->secret_env.empty());
  EXPECT_EQ(tool->extra_patterns, session.spec.extra_patterns);
  EXPECT_FALSE(tool->host_namespaces);
}

// The session's own budget, within the policy's ceilings, is the tool's: spec.budget.wall is its
// deadline, cpu and memoryBytes its --cpu-budget and --memory-budget, in the policy's order.
TEST(EphemeralContainerTest, PassesTheSessionsBudget) {
  auto [session, pod] = Fixture();
  session.spec.budget.cpu = std::chrono::milliseconds(750);
  session.spec.budget.memory_bytes = std::int64_t{48} << 20;
  session.spec.budget.wall = std::chrono::seconds(30);
  auto c = BuildEphemeralContainer(session, pod, "app", TestPolicy(), testing::kRecipient);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::vector<std::string> args = Args(*c);
  ASSERT_GE(args.size(), 10u);
  EXPECT_EQ(std::vector<std::string>(args.begin() + 4, args.begin() + 10),
            std::vector<std::string>(
                {"--deadline", "30s", "--cpu-budget", "750ms", "--memory-budget", "48Mi"}));
  StatusOr<api::ToolArgs> tool = api::ParseToolArgs(args);
  ASSERT_TRUE(tool.ok()) << tool.status().ToString();
  EXPECT_EQ(tool->deadline, std::chrono::seconds(30));
  EXPECT_EQ(tool->cpu_budget, std::chrono::milliseconds(750));
  EXPECT_EQ(tool->memory_budget_bytes, std::int64_t{48} << 20);
}

// H2: the tool is told the target container's ID (from status) so it captures only that
// container; a host session is flagged as such, in the order the admission policy checks.
TEST(EphemeralContainerTest, PassesTheTargetContainerIdAndMarksHostSessions) {
  nlohmann::json object = testing::PodObject();
  object["status"]["containerStatuses"][0]["containerID"] =
      "containerd://0123456789abcdef0123456789abcdef";
  api::DebugSession session = *api::ParseDebugSession(testing::SessionObject());
  PodView pod = *ParsePodView(object);
  auto c = BuildEphemeralContainer(session, pod, "app", TestPolicy(), testing::kRecipient);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::vector<std::string> args = Args(*c);
  ASSERT_GE(args.size(), 12u);
  EXPECT_EQ(args[10], "--container-id");
  EXPECT_EQ(args[11], "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(std::count(args.begin(), args.end(), "--host-namespaces"), 0);

  object["spec"]["hostPID"] = true;
  pod = *ParsePodView(object);
  EXPECT_FALSE(BuildEphemeralContainer(session, pod, "app", TestPolicy(), testing::kRecipient).ok())
      << "never without the policy";
  Policy allow = TestPolicy();
  allow.allow_host_namespaces = true;
  c = BuildEphemeralContainer(session, pod, "app", allow, testing::kRecipient);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  args = Args(*c);
  ASSERT_GE(args.size(), 15u);
  EXPECT_EQ(args[10], "--container-id");
  EXPECT_EQ(args[12], "--host-namespaces");
  EXPECT_EQ(args[13], "allow");
  EXPECT_EQ(args[14], "--capture");
}

// The tool always gets the session's PII mode, the policy's default when the session names none,
// so the tool's own default never decides.
TEST(EphemeralContainerTest, PassesTheEffectivePiiMode) {
  const auto pii_arg = [](const api::DebugSession& session, const Policy& policy) {
    auto c = BuildEphemeralContainer(session, *ParsePodView(testing::PodObject()), "app", policy,
                                     testing::kRecipient);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return std::string();
    std::vector<std::string> args = Args(*c);
    auto flag = std::find(args.begin(), args.end(), "--pii");
    EXPECT_EQ(std::count(args.begin(), args.end(), "--pii"), 1);
    return flag != args.end() && flag + 1 != args.end() ? *(flag + 1) : std::string();
  };
  api::DebugSession session = *api::ParseDebugSession(testing::SessionObject());
  Policy policy = TestPolicy();
  EXPECT_EQ(pii_arg(session, policy), "standard");
  policy.default_pii = api::PiiMode::kStrict;
  EXPECT_EQ(pii_arg(session, policy), "strict");
  session.spec.pii = api::PiiMode::kNone;
  EXPECT_EQ(pii_arg(session, policy), "none");
}

TEST(EphemeralContainerTest, ASharedOrHostPodWithoutAContainerIdIsNotInjected) {
  api::DebugSession session = *api::ParseDebugSession(testing::SessionObject());
  nlohmann::json object = testing::PodObject();
  object["spec"]["shareProcessNamespace"] = true;
  auto c = BuildEphemeralContainer(session, *ParsePodView(object), "app", TestPolicy(),
                                   testing::kRecipient);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("ID of container app"), std::string::npos);
}

// M2: Secret-backed names of every container (a sidecar's too) are always redacted.
TEST(EphemeralContainerTest, SecretEnvNamesComeFromEveryContainer) {
  api::DebugSession session = *api::ParseDebugSession(testing::SessionObject());
  nlohmann::json object = testing::PodObject();
  object["spec"]["containers"].push_back(
      {{"name", "sidecar"},
       {"env",
        {{{"name", "UPSTREAM_KEY_ID"},
          {"valueFrom", {{"secretKeyRef", {{"name", "up"}, {"key", "id"}}}}}}}}});
  object["spec"]["initContainers"] = {
      {{"name", "migrate"},
       {"env",
        {{{"name", "MIGRATION_DSN"},
          {"valueFrom", {{"secretKeyRef", {{"name", "m"}, {"key", "dsn"}}}}}}}}}};
  auto c = BuildEphemeralContainer(session, *ParsePodView(object), "app", TestPolicy(),
                                   testing::kRecipient);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string args = (*c)["args"].dump();
  EXPECT_NE(args.find("\"--secret-env\",\"DB_PASSWORD\""), std::string::npos);
  EXPECT_NE(args.find("\"--secret-env\",\"UPSTREAM_KEY_ID\""), std::string::npos);
  EXPECT_NE(args.find("\"--secret-env\",\"MIGRATION_DSN\""), std::string::npos);
}

std::vector<std::string> AllowEnvArgs(const nlohmann::json& container) {
  std::vector<std::string> args = Args(container), shown;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--allow-env") shown.push_back(args[i + 1]);
  }
  return shown;
}

// M2: allowEnv can never reveal a Secret-backed variable, of any container of the pod.
TEST(EphemeralContainerTest, AllowEnvNeverNamesASecretBackedVariableOfAnyContainer) {
  api::DebugSession session = *api::ParseDebugSession(testing::SessionObject());
  nlohmann::json object = testing::PodObject();
  object["spec"]["containers"].push_back(
      {{"name", "sidecar"},
       {"env",
        {{{"name", "UPSTREAM_ID"},
          {"valueFrom", {{"secretKeyRef", {{"name", "up"}, {"key", "id"}}}}}}}}});
  const PodView pod = *ParsePodView(object);
  session.spec.allow_env = {"LOG_LEVEL", "DB_PASSWORD", "UPSTREAM_ID", "UPSTREAM_*", "FEATURE_*"};
  AllowEnvFilter filter = FilterAllowEnv(session.spec.allow_env, pod);
  EXPECT_EQ(filter.shown, (std::vector<std::string>{"LOG_LEVEL", "FEATURE_*"}));
  EXPECT_EQ(filter.refused, (std::vector<std::string>{"DB_PASSWORD", "UPSTREAM_ID", "UPSTREAM_*"}));
  EXPECT_NE(filter.note.find("UPSTREAM_ID is filled from a Secret by secretKeyRef"),
            std::string::npos)
      << filter.note;
  auto c = BuildEphemeralContainer(session, pod, "app", TestPolicy(), testing::kRecipient);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(AllowEnvArgs(*c), (std::vector<std::string>{"LOG_LEVEL", "FEATURE_*"}));
  // Nothing refused, nothing to say.
  EXPECT_EQ(FilterAllowEnv({"LOG_LEVEL"}, pod).note, "");
}

TEST(EphemeralContainerTest, AllowEnvIsNotHonouredWhenAContainerTakesAWholeSecret) {
  api::DebugSession session = *api::ParseDebugSession(testing::SessionObject());
  nlohmann::json object = testing::PodObject();
  object["spec"]["containers"][0]["envFrom"] = {{{"secretRef", {{"name", "db"}}}}};
  const PodView pod = *ParsePodView(object);
  session.spec.allow_env = {"DB_HOST", "LOG_LEVEL"};
  AllowEnvFilter filter = FilterAllowEnv(session.spec.allow_env, pod);
  EXPECT_TRUE(filter.shown.empty());
  EXPECT_NE(filter.note.find("container app takes its environment from a whole Secret "
                             "(envFrom.secretRef)"),
            std::string::npos)
      << filter.note;
  auto c = BuildEphemeralContainer(session, pod, "app", TestPolicy(), testing::kRecipient);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(AllowEnvArgs(*c).empty());
}

TEST(EphemeralContainerTest, AllowEnvNeverNamesASecretLookingVariable) {
  const PodView pod = *ParsePodView(testing::PodObject());
  for (const char* name : {"STRIPE_API_KEY", "GITHUB_TOKEN", "ADMIN_PASSWORD", "SESSION_*",
                           "ENCRYPTION_KEY", "WEBHOOK_SIGNATURE"}) {
    AllowEnvFilter filter = FilterAllowEnv({name}, pod);
    EXPECT_TRUE(filter.shown.empty()) << name;
    EXPECT_NE(filter.note.find("looks like a secret's name"), std::string::npos) << filter.note;
  }
  EXPECT_EQ(FilterAllowEnv({"AUTHOR_NAME", "TOKENIZER_MODE"}, pod).shown.size(), 2u);
}

TEST(EphemeralContainerTest, RestrictedNeedsKnownUser) {
  auto [session, pod] = Fixture();
  pod.containers[0].run_as_user.reset();
  auto c = BuildEphemeralContainer(session, pod, "app", TestPolicy(), testing::kRecipient);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("runAsUser"), std::string::npos);
  // Says which runtimes would have told it.
  EXPECT_NE(c.status().message().find("containerd 2.0"), std::string::npos) << c.status().message();
}

// A pod that sets no runAsUser (the image's USER decides): the user the runtime reports in
// status.containerStatuses[].user.linux is the one the tool runs as.
TEST(EphemeralContainerTest, RestrictedRunsAsTheUserTheRuntimeReports) {
  nlohmann::json object = testing::PodObject();
  object["spec"]["securityContext"].erase("runAsUser");
  object["status"]["containerStatuses"][0]["user"] = {
      {"linux", {{"uid", 1234}, {"gid", 5678}, {"supplementalGroups", {5678}}}}};
  api::DebugSession session = *api::ParseDebugSession(testing::SessionObject());
  auto c = BuildEphemeralContainer(session, *ParsePodView(object), "app", TestPolicy(),
                                   testing::kRecipient);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const nlohmann::json& sc = (*c)["securityContext"];
  EXPECT_EQ(sc["runAsUser"], 1234);
  EXPECT_EQ(sc["runAsGroup"], 5678);
  EXPECT_EQ(sc["runAsNonRoot"], true);

  // The spec, when it says, decides (the kubelet ran the container as it says).
  object["spec"]["securityContext"]["runAsUser"] = 1000;
  c = BuildEphemeralContainer(session, *ParsePodView(object), "app", TestPolicy(),
                              testing::kRecipient);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)["securityContext"]["runAsUser"], 1000);

  // A reported user of another container is not this one's.
  object = testing::PodObject();
  object["spec"]["securityContext"].erase("runAsUser");
  object["status"]["containerStatuses"][0]["name"] = "sidecar";
  object["status"]["containerStatuses"][0]["user"] = {{"linux", {{"uid", 1234}, {"gid", 1234}}}};
  EXPECT_FALSE(BuildEphemeralContainer(session, *ParsePodView(object), "app", TestPolicy(),
                                       testing::kRecipient)
                   .ok());
}

}  // namespace
}  // namespace ephemera::session
