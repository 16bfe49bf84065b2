#include "cli/commands/api_failure.h"

#include <gtest/gtest.h>

#include "kube/client/api_error.h"

namespace ephemera::commands {
namespace {

using command_line::ExitCode;

ApiRequest CreateSession() {
  return {"create", "debugsessions.ephemera.dev", "team-a", "", "https://10.244.0.1:6443"};
}

Status Api(int code, const std::string& reason, const std::string& message) {
  return kube::ParseApiError(
      code, R"({"kind":"Status","reason":")" + reason + R"(","message":")" + message + R"("})");
}

bool Has(const CommandOutcome& outcome, std::string_view part) {
  return outcome.message.find(part) != std::string::npos;
}

TEST(ApiFailureTest, TransportFailureNamesTheServerAndWhatToCheck) {
  auto outcome = ExplainApiFailure(UnavailableError("Connection refused"), CreateSession());
  EXPECT_EQ(outcome.exit_code, ExitCode::kUnreachable);
  EXPECT_TRUE(Has(outcome, "cannot reach the cluster at https://10.244.0.1:6443"));
  EXPECT_TRUE(Has(outcome, "Connection refused"));
  EXPECT_TRUE(Has(outcome, "is the cluster up, and is --kubeconfig right?"));
}

TEST(ApiFailureTest, ForbiddenNamesVerbResourceNamespaceUserAndWhomToAsk) {
  auto outcome = ExplainApiFailure(
      Api(403, "Forbidden",
          "debugsessions.ephemera.dev is forbidden: User \\\"bob\\\" cannot create resource "
          "\\\"debugsessions\\\" in API group \\\"ephemera.dev\\\" in the namespace "
          "\\\"team-a\\\""),
      CreateSession());
  EXPECT_EQ(outcome.exit_code, ExitCode::kForbidden);
  EXPECT_TRUE(
      Has(outcome, "you (bob) may not create debugsessions.ephemera.dev in namespace team-a"))
      << outcome.message;
  EXPECT_TRUE(Has(outcome, "ask an administrator of namespace team-a"));
}

TEST(ApiFailureTest, AdmissionDenialIsADenialWithTheServersReason) {
  auto outcome = ExplainApiFailure(
      Api(403, "Forbidden",
          "admission webhook \\\"policy.ephemera.dev\\\" denied the request: spec.ttl: 2h exceeds "
          "the cluster's maximum of 1h"),
      CreateSession());
  EXPECT_EQ(outcome.exit_code, ExitCode::kDenied);
  EXPECT_TRUE(Has(outcome, "spec.ttl: 2h exceeds the cluster's maximum of 1h"));
  EXPECT_FALSE(Has(outcome, "(HTTP 403"));
}

TEST(ApiFailureTest, NotFoundNamesTheObject) {
  ApiRequest get{"get", "debugsessions.ephemera.dev", "team-a", "s-1", ""};
  auto outcome = ExplainApiFailure(
      Api(404, "NotFound", "debugsessions.ephemera.dev \\\"s-1\\\" not found"), get);
  EXPECT_EQ(outcome.exit_code, ExitCode::kNotFound);
  EXPECT_EQ(outcome.message, "debugsessions.ephemera.dev s-1 not found in namespace team-a");
}

TEST(ApiFailureTest, MissingResourceTypeMeansEphemeraIsNotInstalled) {
  ApiRequest list{"list", "debugsessions.ephemera.dev", "team-a", "", "https://k:6443"};
  auto outcome = ExplainApiFailure(
      Api(404, "NotFound", "the server could not find the requested resource"), list);
  EXPECT_EQ(outcome.exit_code, ExitCode::kNotFound);
  EXPECT_TRUE(Has(outcome, "Ephemera is not installed"));
}

TEST(ApiFailureTest, ValidationFailureIsAUsageErrorWithTheServersWords) {
  auto outcome =
      ExplainApiFailure(Api(422, "Invalid",
                            "DebugSession.ephemera.dev \\\"x\\\" is invalid: spec.reason: reason "
                            "must say why in at least 10 characters"),
                        CreateSession());
  EXPECT_EQ(outcome.exit_code, ExitCode::kUsage);
  EXPECT_TRUE(Has(outcome, "reason must say why in at least 10 characters"));
}

TEST(ApiFailureTest, UnauthorizedAndServerTroubleAreClusterProblems) {
  EXPECT_EQ(ExplainApiFailure(Api(401, "Unauthorized", "Unauthorized"), CreateSession()).exit_code,
            ExitCode::kUnreachable);
  auto busy = ExplainApiFailure(Api(503, "ServiceUnavailable", "etcd down"), CreateSession());
  EXPECT_EQ(busy.exit_code, ExitCode::kUnreachable);
  EXPECT_TRUE(Has(busy, "HTTP 503"));
  EXPECT_TRUE(Has(busy, "try again"));
}

TEST(ApiFailureTest, MissingKubeconfigSaysHowToPointAtOne) {
  auto outcome = ExplainKubeconfigFailure(NotFoundError("x"),
                                          kube::KubeConfigLocation{{"/home/a/.kube/config"}});
  EXPECT_EQ(outcome.exit_code, ExitCode::kUnreachable);
  EXPECT_TRUE(Has(outcome, "no kubeconfig at /home/a/.kube/config"));
  EXPECT_TRUE(Has(outcome, "--kubeconfig"));
  auto merged = ExplainKubeconfigFailure(InvalidArgumentError("/b: users: expected a list"),
                                         kube::KubeConfigLocation{{"/a", "/b"}});
  EXPECT_TRUE(Has(merged, "cannot use kubeconfig /a:/b (KUBECONFIG): /b: users: expected a list"));
  auto pod =
      ExplainKubeconfigFailure(UnauthenticatedError("in-cluster service-account token: gone"),
                               kube::KubeConfigLocation{{}, true});
  EXPECT_TRUE(Has(pod, "cannot use the pod's service account: in-cluster service-account token"));
}

}  // namespace
}  // namespace ephemera::commands
