#include "controller/app/install_check.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "controller/admission/debug_session_admission.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::app {
namespace {

using nlohmann::json;

json WhoAmI(const std::string& username) {
  return {{"kind", "SelfSubjectReview"}, {"status", {{"userInfo", {{"username", username}}}}}};
}

// What the API server returns for a dry-run create that Ephemera's mutating webhook stamped.
json Stamped(const std::string& username, bool with_finalizer = true) {
  json session = BuildInstallCheckSession("age1recipient");
  session["spec"]["requestedBy"] = {{"username", username}};
  if (with_finalizer) session["metadata"]["finalizers"] = {"ephemera.dev/cleanup"};
  return session;
}

TEST(InstallCheckTest, SessionAsksForNothingAndNamesNoRequesterUnlessForged) {
  const json plain = BuildInstallCheckSession("age1abc");
  EXPECT_EQ(plain["spec"]["recipients"], json::array({"age1abc"}));
  EXPECT_FALSE(plain["spec"].contains("requestedBy"));
  EXPECT_TRUE(plain["metadata"].contains("generateName"));
  const json forged = BuildInstallCheckSession("age1abc", json{{"username", "mallory"}});
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
  json unstamped = BuildInstallCheckSession("age1recipient");
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
  const InstallCheckResult refused =
      JudgeStampedSession(PermissionDeniedError("forbidden (HTTP 403 Forbidden)"), Stamped("me"));
  EXPECT_FALSE(refused.passed);
  EXPECT_NE(refused.detail.find("SelfSubjectReview"), std::string::npos) << refused.detail;
  const InstallCheckResult nameless =
      JudgeStampedSession(json{{"status", json::object()}}, Stamped(""));
  EXPECT_FALSE(nameless.passed);
  EXPECT_NE(nameless.detail.find("names no user"), std::string::npos) << nameless.detail;
}

TEST(InstallCheckTest, ForgedRequesterMustBeRefusedForThatReason) {
  EXPECT_TRUE(
      JudgeForgedSession(InvalidArgumentError("admission webhook denied the request: " +
                                              std::string(admission::kRequesterIsBoundMessage) +
                                              " (HTTP 400 BadRequest)"))
          .passed);
  const InstallCheckResult admitted = JudgeForgedSession(Stamped("ephemera-install-check-forged"));
  EXPECT_FALSE(admitted.passed);
  EXPECT_NE(admitted.detail.find("not enforcing"), std::string::npos) << admitted.detail;
  const InstallCheckResult other_reason =
      JudgeForgedSession(PermissionDeniedError("debugsessions is forbidden (HTTP 403 Forbidden)"));
  EXPECT_FALSE(other_reason.passed);
  // The validating webhook's requester mismatch names requestedBy too, but is not this refusal.
  EXPECT_FALSE(JudgeForgedSession(
                   InvalidArgumentError("admission webhook denied the request: spec.requestedBy "
                                        "does not match the user who sent this request"))
                   .passed);
}

// The API server's side as the fake plays it: who the caller is, and each DebugSession create
// answered as Ephemera's mutating webhook would (stamped, or refused when it names a requester).
// Every create the check sends is recorded with its options.
struct ScriptedServer {
  kube::FakeKubeClient client;
  std::vector<bool> dry_runs;
  bool webhook_answers = true;

  ScriptedServer() {
    client.SetCreateAnswer("selfsubjectreviews", [](const json&) { return WhoAmI("sa:test"); });
    client.SetCreateAnswer(
        "debugsessions",
        [this](const json& session, const kube::WriteOptions& options) -> StatusOr<json> {
          dry_runs.push_back(options.dry_run);
          if (!webhook_answers) {
            return UnavailableError(
                "Internal error occurred: failed calling webhook: tls: failed to verify "
                "certificate: x509: certificate signed by unknown authority (HTTP 500)");
          }
          if (session["spec"].contains("requestedBy")) {
            return InvalidArgumentError("admission webhook denied the request: " +
                                        std::string(admission::kRequesterIsBoundMessage));
          }
          json stamped = session;
          stamped["spec"]["requestedBy"] = {{"username", "sa:test"}};
          stamped["metadata"]["finalizers"] = {"ephemera.dev/cleanup"};
          return stamped;
        });
  }
};

TEST(InstallCheckTest, RunPassesWithOnlyDryRunsWhenTheWebhooksAnswer) {
  ScriptedServer server;
  std::ostringstream out;
  EXPECT_EQ(RunInstallCheck(server.client, "ephemera-system", out), 0) << out.str();
  EXPECT_EQ(out.str().find("FAIL"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("ok: a session that names its own requester is refused"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(server.dry_runs, (std::vector<bool>{true, true}));
}

TEST(InstallCheckTest, RunFailsNamingTheCertificatesWhenTheWebhookCannotBeCalled) {
  ScriptedServer server;
  server.webhook_answers = false;
  std::ostringstream out;
  EXPECT_EQ(RunInstallCheck(server.client, "ephemera-system", out), 1);
  EXPECT_NE(out.str().find("FAIL: the API server calls Ephemera's webhooks"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("caBundle"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("install check failed"), std::string::npos) << out.str();
}

// Over the fake API server with no webhook at all: the check must fail and say so.
TEST(InstallCheckTest, RunFailsAgainstAnApiServerWithoutTheWebhooks) {
  kube::FakeKubeClient client;
  client.SetCreateAnswer("selfsubjectreviews", [](const json&) { return WhoAmI("sa:test"); });
  client.SetCreateAnswer("debugsessions", [](const json& session) { return session; });
  std::ostringstream out;
  EXPECT_EQ(RunInstallCheck(client, "ephemera-system", out), 1);
  EXPECT_NE(out.str().find("without spec.requestedBy"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("was admitted: Ephemera's mutating webhook is not enforcing"),
            std::string::npos)
      << out.str();
}

TEST(InstallCheckTest, ExplainsARefusalByItsCause) {
  EXPECT_NE(ExplainCreateRefusal(UnavailableError("failed calling webhook \"x\": x509: ..."))
                .find("caBundle"),
            std::string::npos);
  const std::string policy = ExplainCreateRefusal(InvalidArgumentError(
      "admission webhook \"policy.debugsessions.ephemera.dev\" denied the request: "
      "metadata.namespace: cluster policy does not allow debug sessions in namespace ns"));
  EXPECT_NE(policy.find("policy.forbiddenNamespaces"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("caBundle"), std::string::npos) << policy;
  const std::string rbac = ExplainCreateRefusal(
      PermissionDeniedError("debugsessions.ephemera.dev is forbidden (HTTP 403 Forbidden)"));
  EXPECT_NE(rbac.find("rbac.create=false"), std::string::npos) << rbac;
  EXPECT_EQ(rbac.find("caBundle"), std::string::npos) << rbac;
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
