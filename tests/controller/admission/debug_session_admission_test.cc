#include "controller/admission/debug_session_admission.h"

#include <gtest/gtest.h>

#include <fstream>

#include "controller/kube/base64.h"

namespace ephemera::admission {
namespace {

using nlohmann::json;

json Review(json spec, std::string operation = "CREATE", std::string ns = "team-a") {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "req-1"},
            {"operation", operation},
            {"namespace", ns},
            {"userInfo",
             {{"username", "alice"}, {"uid", "u-1"}, {"groups", {"devs", "system:authenticated"}}}},
            {"object", {{"metadata", {{"name", "s"}, {"namespace", ns}}}, {"spec", spec}}}}}};
}

json Spec() {
  return {{"target", {{"pod", "shop-1"}}}, {"reason", "INC-1 checkout 500s"}, {"ttl", "5m"}};
}

TEST(DebugSessionAdmissionTest, MutateStampsRequesterFromUserInfo) {
  json out = MutateDebugSession(Review(Spec()), session::Policy{});
  const json& response = out["response"];
  EXPECT_EQ(response["uid"], "req-1");
  EXPECT_EQ(response["allowed"], true);
  EXPECT_EQ(response["patchType"], "JSONPatch");
  json patch = json::parse(*kube::Base64Decode(response["patch"].get<std::string>()));
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_EQ(patch[0]["path"], "/spec/requestedBy");
  EXPECT_EQ(patch[0]["value"]["username"], "alice");
  EXPECT_EQ(patch[0]["value"]["groups"][0], "devs");
}

TEST(DebugSessionAdmissionTest, MutateFillsTheDefaultTtlFromPolicy) {
  json spec = Spec();
  spec.erase("ttl");
  session::Policy policy;
  policy.default_ttl = std::chrono::minutes(7);
  json out = MutateDebugSession(Review(spec), policy);
  ASSERT_EQ(out["response"]["allowed"], true);
  json patch = json::parse(*kube::Base64Decode(out["response"]["patch"].get<std::string>()));
  ASSERT_EQ(patch.size(), 2u);
  EXPECT_EQ(patch[1]["path"], "/spec/ttl");
  EXPECT_EQ(patch[1]["value"], "7m");
}

TEST(DebugSessionAdmissionTest, ValidateAppliesTheDefaultTtlWhenUnset) {
  json spec = Spec();
  spec.erase("ttl");
  session::Policy policy;
  policy.default_ttl = std::chrono::hours(2);
  policy.max_ttl = std::chrono::hours(1);
  EXPECT_EQ(ValidateDebugSession(Review(spec), policy)["response"]["allowed"], false)
      << "a default above the cap is still capped at admission";
}

TEST(DebugSessionAdmissionTest, MutateRejectsSelfDeclaredRequester) {
  json spec = Spec();
  spec["requestedBy"] = {{"username", "bob"}};
  json out = MutateDebugSession(Review(spec), session::Policy{});
  EXPECT_EQ(out["response"]["allowed"], false);
  EXPECT_NE(out["response"]["status"]["message"].get<std::string>().find("spec.requestedBy"),
            std::string::npos);
}

TEST(DebugSessionAdmissionTest, MutateLeavesUpdatesAlone) {
  json out = MutateDebugSession(Review(Spec(), "UPDATE"), session::Policy{});
  EXPECT_EQ(out["response"]["allowed"], true);
  EXPECT_FALSE(out["response"].contains("patch"));
}

TEST(DebugSessionAdmissionTest, MalformedReviewIsDenied) {
  EXPECT_EQ(MutateDebugSession(json::object(), session::Policy{})["response"]["allowed"], false);
  EXPECT_EQ(ValidateDebugSession(json("x"), {})["response"]["allowed"], false);
}

TEST(DebugSessionAdmissionTest, ValidateCapsTtlWithClearMessage) {
  session::Policy policy;
  policy.max_ttl = std::chrono::hours(1);
  json spec = Spec();
  spec["ttl"] = "2h";
  json out = ValidateDebugSession(Review(spec), policy);
  EXPECT_EQ(out["response"]["allowed"], false);
  EXPECT_EQ(out["response"]["status"]["message"],
            "spec.ttl: 2h exceeds the cluster's maximum of 1h; ask for 1h or less");
}

TEST(DebugSessionAdmissionTest, ValidateForbiddenNamespace) {
  session::Policy policy;
  policy.forbidden_namespaces = {"kube-system"};
  json out = ValidateDebugSession(Review(Spec(), "CREATE", "kube-system"), policy);
  EXPECT_EQ(out["response"]["allowed"], false);
  EXPECT_NE(out["response"]["status"]["message"].get<std::string>().find("kube-system"),
            std::string::npos);
}

TEST(DebugSessionAdmissionTest, ValidateProfileNotAllowed) {
  session::Policy policy;
  policy.allowed_profiles = {session::Profile::kRestricted};
  json spec = Spec();
  spec["profile"] = "ptrace";
  EXPECT_EQ(ValidateDebugSession(Review(spec), policy)["response"]["allowed"], false);
}

TEST(DebugSessionAdmissionTest, ValidateAllowsWithinPolicy) {
  EXPECT_EQ(ValidateDebugSession(Review(Spec()), session::Policy{})["response"]["allowed"], true);
}

// Found by the admission_review fuzzer: a member of the wrong type (here "operation" is an
// object) made nlohmann's value() throw inside the webhook.
TEST(DebugSessionAdmissionTest, MembersOfTheWrongTypeAreAnsweredNotThrown) {
  std::ifstream in(std::string(EPHEMERA_TESTDATA_DIR) + "/admission/operation_is_an_object.json");
  const json review = json::parse(in);
  json out;
  ASSERT_NO_THROW(out = MutateDebugSession(review, session::Policy{}));
  EXPECT_EQ(out["response"]["uid"], "req-2");
  ASSERT_NO_THROW(out = ValidateDebugSession(review, session::Policy{}));
  json typed = Review(Spec());
  typed["request"]["operation"] = "CREATE";
  typed["request"]["object"]["spec"]["ttl"] = 42;
  typed["request"]["object"]["spec"]["profile"] = json::array();
  typed["request"]["userInfo"]["username"] = json::object();
  ASSERT_NO_THROW(out = MutateDebugSession(typed, session::Policy{}));
  EXPECT_EQ(out["response"]["allowed"], false) << "no username: no requester to bind";
  ASSERT_NO_THROW(out = ValidateDebugSession(typed, session::Policy{}));
  EXPECT_EQ(out["response"]["allowed"], false) << "a ttl that is not a duration string";
}

}  // namespace
}  // namespace ephemera::admission
