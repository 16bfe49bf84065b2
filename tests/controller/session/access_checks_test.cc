#include "controller/session/access_checks.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/controller/session/session_fixtures.h"

namespace ephemera::session {
namespace {

using nlohmann::json;

api::DebugSession SessionRequestedBy(const json& requested_by, const std::string& profile) {
  json object = testing::SessionObject();
  object["spec"]["requestedBy"] = requested_by;
  object["spec"]["profile"] = profile;
  auto parsed = api::ParseDebugSession(object);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : api::DebugSession{};
}

const json kBob = {
    {"username", "bob@example.com"}, {"uid", "u-42"}, {"groups", {"sre", "system:authenticated"}}};

// The reviews ask about the requester from spec.requestedBy, never about the controller's own
// identity (which is what a confused deputy would check).
// The review is about bob as admission recorded him (not about the controller), in the session's
// namespace.
void ExpectAsksAboutBobInTeamA(const kube::AccessReviewRequest& request) {
  EXPECT_EQ(request.user, "bob@example.com");
  EXPECT_EQ(request.uid, "u-42");
  EXPECT_EQ(request.groups, (std::vector<std::string>{"sre", "system:authenticated"}));
  EXPECT_EQ(request.resource.namespace_name, "team-a");
}

TEST(AccessChecksTest, AsksWhetherTheRequesterMayGetTheTargetPod) {
  const std::vector<AccessCheck> checks =
      AccessChecksFor(SessionRequestedBy(kBob, "restricted"), Policy{});
  ASSERT_EQ(checks.size(), 1u) << "restricted needs no profile grant";
  const kube::AccessReviewRequest& request = checks[0].request;
  ExpectAsksAboutBobInTeamA(request);
  EXPECT_TRUE(request.extra.empty());
  EXPECT_EQ(request.resource.verb, "get");
  EXPECT_EQ(request.resource.group, "");
  EXPECT_EQ(request.resource.version, "v1");
  EXPECT_EQ(request.resource.resource, "pods");
  EXPECT_EQ(request.resource.subresource, "");
  EXPECT_EQ(request.resource.name, "shop-1");
  EXPECT_EQ(checks[0].description, "get pods/shop-1 in namespace team-a");

  // The review object the API server gets carries the same user.
  auto review = kube::BuildSubjectAccessReview(request);
  ASSERT_TRUE(review.ok()) << review.status().ToString();
  EXPECT_EQ((*review)["spec"]["user"], "bob@example.com");
  EXPECT_EQ((*review)["spec"]["uid"], "u-42");
  EXPECT_EQ((*review)["spec"]["groups"], json({"sre", "system:authenticated"}));
  EXPECT_EQ((*review)["spec"]["resourceAttributes"]["name"], "shop-1");
}

TEST(AccessChecksTest, ThePtraceProfileAlsoNeedsUseOnDebugprofilesPtrace) {
  const std::vector<AccessCheck> checks =
      AccessChecksFor(SessionRequestedBy(kBob, "ptrace"), Policy{});
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].request.resource.resource, "pods") << "the pod is still checked first";
  const kube::AccessReviewRequest& request = checks[1].request;
  ExpectAsksAboutBobInTeamA(request);
  EXPECT_EQ(request.resource.verb, "use");
  EXPECT_EQ(request.resource.group, "ephemera.dev");
  EXPECT_EQ(request.resource.resource, "debugprofiles");
  EXPECT_EQ(request.resource.name, "ptrace");
  EXPECT_EQ(checks[1].description, "use debugprofiles/ptrace (ephemera.dev) in namespace team-a");
}

// H2: a target that shares the node's namespaces needs a separate, cluster-scoped grant.
TEST(AccessChecksTest, AHostNamespacePodAlsoNeedsUseOnDebugprofilesHostClusterWide) {
  const api::DebugSession bob = SessionRequestedBy(kBob, "restricted");
  json object = testing::PodObject();
  Policy allow;
  allow.allow_host_namespaces = true;
  const PodView ordinary = *ParsePodView(object);
  EXPECT_EQ(AccessChecksFor(bob, allow, &ordinary).size(), 1u);
  object["spec"]["hostPID"] = true;
  const PodView host = *ParsePodView(object);
  // Under the default policy the planner refuses the pod itself (HostNamespacesNotAllowed).
  EXPECT_EQ(AccessChecksFor(bob, Policy{}, &host).size(), 1u);
  std::vector<AccessCheck> checks = AccessChecksFor(bob, allow, &host);
  ASSERT_EQ(checks.size(), 2u);
  const kube::AccessReviewRequest& request = checks[1].request;
  EXPECT_EQ(request.user, "bob@example.com");
  EXPECT_EQ(request.resource.namespace_name, "") << "cluster-scoped: no namespace";
  EXPECT_EQ(request.resource.verb, "use");
  EXPECT_EQ(request.resource.group, "ephemera.dev");
  EXPECT_EQ(request.resource.resource, "debugprofiles");
  EXPECT_EQ(request.resource.name, "host");
  EXPECT_NE(AccessDeniedMessage("bob", checks[1], "").find("(hostPID)"), std::string::npos);
  auto review = kube::BuildSubjectAccessReview(request);
  ASSERT_TRUE(review.ok());
  EXPECT_FALSE((*review)["spec"]["resourceAttributes"].contains("namespace") &&
               (*review)["spec"]["resourceAttributes"]["namespace"] != "");

  json privileged = testing::PodObject();
  privileged["spec"]["containers"][0]["securityContext"] = {{"privileged", true}};
  const PodView privileged_view = *ParsePodView(privileged);
  EXPECT_EQ(AccessChecksFor(bob, allow, &privileged_view).size(), 2u);
}

TEST(AccessChecksTest, ARequesterWithoutUidOrGroupsIsAskedAboutAsIs) {
  const std::vector<AccessCheck> checks =
      AccessChecksFor(SessionRequestedBy({{"username", "carol"}}, "ptrace"), Policy{});
  ASSERT_EQ(checks.size(), 2u);
  for (const AccessCheck& check : checks) {
    EXPECT_EQ(check.request.user, "carol");
    EXPECT_EQ(check.request.uid, "");
    EXPECT_TRUE(check.request.groups.empty()) << "no groups are made up for the requester";
  }
}

// L8: authorizers that restrict by the authenticator's extra attributes (scoped tokens, webhook
// authorizers) see them: every review carries requestedBy.extra, and so does the object POSTed.
TEST(AccessChecksTest, EveryReviewCarriesTheRequestersExtra) {
  json bob = kBob;
  bob["extra"] = {{"scopes.authorization.openshift.io", {"user:info"}},
                  {"authentication.kubernetes.io/credential-id", {"JTI=1"}}};
  Policy policy;
  policy.annotate_debugged_pods = true;
  policy.recycle_debugged_pods = true;
  const std::vector<AccessCheck> checks =
      AccessChecksFor(SessionRequestedBy(bob, "ptrace"), policy);
  ASSERT_EQ(checks.size(), 4u);
  const std::map<std::string, std::vector<std::string>> extra = {
      {"authentication.kubernetes.io/credential-id", {"JTI=1"}},
      {"scopes.authorization.openshift.io", {"user:info"}}};
  for (const AccessCheck& check : checks) {
    ExpectAsksAboutBobInTeamA(check.request);
    EXPECT_EQ(check.request.extra, extra) << check.description;
    auto review = kube::BuildSubjectAccessReview(check.request);
    ASSERT_TRUE(review.ok()) << review.status().ToString();
    EXPECT_EQ((*review)["spec"]["extra"], bob["extra"]) << check.description;
  }
}

// L7: when the cluster policy makes the controller annotate or delete the debugged pod, the
// requester must hold that right on the pod too; otherwise one who may only read a pod could have
// it patched or deleted (a confused deputy).
TEST(AccessChecksTest, PolicyActionsOnThePodNeedTheRequestersPatchAndDeleteRights) {
  const api::DebugSession bob = SessionRequestedBy(kBob, "restricted");
  Policy annotate;
  annotate.annotate_debugged_pods = true;
  std::vector<AccessCheck> checks = AccessChecksFor(bob, annotate);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[1].request.resource.verb, "patch");
  EXPECT_EQ(checks[1].request.resource.resource, "pods");
  EXPECT_EQ(checks[1].request.resource.version, "v1");
  EXPECT_EQ(checks[1].request.resource.name, "shop-1");
  ExpectAsksAboutBobInTeamA(checks[1].request);
  EXPECT_EQ(AccessDeniedMessage("bob@example.com", checks[1], "no RBAC rule"),
            "bob@example.com may not patch pods/shop-1 in namespace team-a, which is required "
            "because the cluster policy annotateDebuggedPods annotates the debugged pod (no RBAC "
            "rule)");

  Policy recycle;
  recycle.recycle_debugged_pods = true;
  checks = AccessChecksFor(bob, recycle);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[1].request.resource.verb, "delete");
  EXPECT_EQ(checks[1].request.resource.resource, "pods");
  EXPECT_EQ(checks[1].request.resource.name, "shop-1");
  EXPECT_EQ(AccessDeniedMessage("bob@example.com", checks[1], ""),
            "bob@example.com may not delete pods/shop-1 in namespace team-a, which is required "
            "because the cluster policy recycleDebuggedPods deletes the debugged pod when the "
            "session ends");

  // Without those policies, reading the pod is all it takes, and the message says no more.
  checks = AccessChecksFor(bob, Policy{});
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(AccessDeniedMessage("bob@example.com", checks[0], "no RBAC rule"),
            "bob@example.com may not get pods/shop-1 in namespace team-a (no RBAC rule)");
}

}  // namespace
}  // namespace ephemera::session
