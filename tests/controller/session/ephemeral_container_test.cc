#include "controller/session/ephemeral_container.h"

#include <gtest/gtest.h>

#include "controller/session/planner.h"
#include "tests/controller/session/session_fixtures.h"

namespace ephemera::session {
namespace {

struct Built {
  DebugSession session;
  PodView pod;
};

Built Fixture() {
  return {*ParseDebugSession(testing::SessionObject()), *ParsePodView(testing::PodObject())};
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
  session.spec.profile = Profile::kPtrace;
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

TEST(EphemeralContainerTest, RestrictedNeedsKnownUser) {
  auto [session, pod] = Fixture();
  pod.containers[0].run_as_user.reset();
  auto c = BuildEphemeralContainer(session, pod, "app", TestPolicy(), testing::kRecipient);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("runAsUser"), std::string::npos);
}

}  // namespace
}  // namespace ephemera::session
