#include "controller/app/install_check.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::app {
namespace {

using nlohmann::json;

json WhoAmI(const std::string& username) {
  return {{"kind", "SelfSubjectReview"}, {"status", {{"userInfo", {{"username", username}}}}}};
}

// What the API server returns for a dry-run create that Ephemera's mutating webhook stamped.
json Stamped(const std::string& username, bool with_finalizer = true) {
  json session = InstallCheckSession("age1recipient");
  session["spec"]["requestedBy"] = {{"username", username}};
  if (with_finalizer) session["metadata"]["finalizers"] = {"ephemera.dev/cleanup"};
  return session;
}

TEST(InstallCheckTest, SessionAsksForNothingAndNamesNoRequesterUnlessForged) {
  const json plain = InstallCheckSession("age1abc");
  EXPECT_EQ(plain["spec"]["recipients"], json::array({"age1abc"}));
  EXPECT_FALSE(plain["spec"].contains("requestedBy"));
  EXPECT_TRUE(plain["metadata"].contains("generateName"));
  const json forged = InstallCheckSession("age1abc", json{{"username", "mallory"}});
  EXPECT_EQ(forged["spec"]["requestedBy"]["username"], "mallory");
}

TEST(InstallCheckTest, PassesWhenTheWebhookStampsTheSender) {
  const InstallCheckResult r = JudgeStampedSession(WhoAmI("system:serviceaccount:ns:test"),
                                                   Stamped("system:serviceaccount:ns:test"));
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_NE(r.name.find("system:serviceaccount:ns:test"), std::string::npos);
}

TEST(InstallCheckTest, FailsWithTheWebhookHintWhenTheApiServerCannotCallIt) {
  const InstallCheckResult r = JudgeStampedSession(
      WhoAmI("me"),
      UnavailableError("Internal error occurred: failed calling webhook "
                       "\"mutate.debugsessions.ephemera.dev\": x509: certificate signed by unknown "
                       "authority (HTTP 500 InternalError)"));
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.detail.find("x509"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("caBundle"), std::string::npos) << r.detail;
}

TEST(InstallCheckTest, FailsWhenNoWebhookStampedOrSomeoneElseIsNamed) {
  json unstamped = InstallCheckSession("age1recipient");
  const InstallCheckResult none = JudgeStampedSession(WhoAmI("me"), unstamped);
  EXPECT_FALSE(none.passed);
  EXPECT_NE(none.detail.find("without spec.requestedBy"), std::string::npos) << none.detail;

  const InstallCheckResult other = JudgeStampedSession(WhoAmI("me"), Stamped("someone-else"));
  EXPECT_FALSE(other.passed);
  EXPECT_NE(other.detail.find("someone-else"), std::string::npos) << other.detail;

  const InstallCheckResult no_finalizer =
      JudgeStampedSession(WhoAmI("me"), Stamped("me", /*with_finalizer=*/false));
  EXPECT_FALSE(no_finalizer.passed);
  EXPECT_NE(no_finalizer.detail.find("finalizer"), std::string::npos) << no_finalizer.detail;
}

TEST(InstallCheckTest, FailsWhenTheCallerCannotBeIdentified) {
  EXPECT_FALSE(
      JudgeStampedSession(PermissionDeniedError("forbidden (HTTP 403 Forbidden)"), Stamped("me"))
          .passed);
  EXPECT_FALSE(JudgeStampedSession(json{{"status", json::object()}}, Stamped("")).passed);
}

TEST(InstallCheckTest, ForgedRequesterMustBeRefusedForThatReason) {
  EXPECT_TRUE(JudgeForgedSession(
                  InvalidArgumentError("admission webhook denied the request: spec.requestedBy is "
                                       "set by Ephemera from your identity (HTTP 400 BadRequest)"))
                  .passed);
  const InstallCheckResult admitted = JudgeForgedSession(Stamped("ephemera-install-check-forged"));
  EXPECT_FALSE(admitted.passed);
  EXPECT_NE(admitted.detail.find("not enforcing"), std::string::npos) << admitted.detail;
  const InstallCheckResult other_reason =
      JudgeForgedSession(PermissionDeniedError("debugsessions is forbidden (HTTP 403 Forbidden)"));
  EXPECT_FALSE(other_reason.passed);
}

// Over the fake API server, which stores what it is given and runs no webhook: the create comes
// back without requestedBy, so the check must fail, and say so, and exit 1.
TEST(InstallCheckTest, RunFailsAgainstAnApiServerWithoutTheWebhooks) {
  kube::FakeKubeClient client;
  std::ostringstream out;
  EXPECT_EQ(RunInstallCheck(client, "ephemera-system", out), 1);
  EXPECT_NE(out.str().find("FAIL:"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("install check failed"), std::string::npos) << out.str();
}

TEST(InstallCheckTest, ParsesItsFlagsBothWays) {
  auto spaced = ParseInstallCheckArgs({"--namespace", "ns1", "--kubeconfig", "/k"});
  ASSERT_TRUE(spaced.ok()) << spaced.status().message();
  EXPECT_EQ(spaced->namespace_name, "ns1");
  EXPECT_EQ(spaced->kubeconfig, "/k");
  auto joined = ParseInstallCheckArgs({"--namespace=ns2"});
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->namespace_name, "ns2");
  EXPECT_TRUE(joined->kubeconfig.empty());
  EXPECT_FALSE(ParseInstallCheckArgs({"--namespace"}).ok());
  EXPECT_FALSE(ParseInstallCheckArgs({"--namespace="}).ok());
  const auto unknown = ParseInstallCheckArgs({"--nmespace", "x"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("--nmespace"), std::string::npos);
}

}  // namespace
}  // namespace ephemera::app
