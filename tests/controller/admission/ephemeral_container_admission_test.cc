#include "controller/admission/ephemeral_container_admission.h"

#include <gtest/gtest.h>

#include "controller/detection/container_mark.h"

namespace ephemera::admission {
namespace {

using nlohmann::json;
using session::UnsanctionedContainers;

constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

json Pod(const std::vector<json>& ephemeral) {
  json pod = {{"metadata", {{"name", "shop-1"}, {"namespace", "team-a"}, {"uid", "uid-1"}}},
              {"spec", {{"containers", {{{"name", "app"}}}}}}};
  if (!ephemeral.empty()) pod["spec"]["ephemeralContainers"] = ephemeral;
  return pod;
}

json Review(json old_pod, json new_pod, const std::string& user = "admin") {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "req-9"},
            {"operation", "UPDATE"},
            {"subResource", "ephemeralcontainers"},
            {"namespace", "team-a"},
            {"userInfo", {{"username", user}}},
            {"oldObject", old_pod},
            {"object", new_pod}}}};
}

json Marked(const std::string& name) {
  json c = {{"name", name}, {"image", "ephemera.local/snapshot@sha256:00"}};
  detection::AddMark(c, kKey, "uid-1");
  return c;
}

json Debugger() { return {{"name", "debugger-x7k"}, {"image", "busybox:1.36"}}; }

TEST(EphemeralContainerAdmissionTest, EphemerasOwnContainerIsAllowedSilently) {
  auto review = ReviewEphemeralContainers(Review(Pod({}), Pod({Marked("ephemera-aa")})), kKey,
                                          UnsanctionedContainers::kEnforce);
  EXPECT_EQ(review.response["response"]["allowed"], true);
  EXPECT_EQ(review.response["response"]["uid"], "req-9");
  EXPECT_FALSE(review.response["response"].contains("warnings"));
  EXPECT_TRUE(review.unsanctioned.empty());
}

TEST(EphemeralContainerAdmissionTest, EnforceDeniesKubectlDebugWithAClearMessage) {
  auto review = ReviewEphemeralContainers(Review(Pod({}), Pod({Debugger()})), kKey,
                                          UnsanctionedContainers::kEnforce);
  EXPECT_EQ(review.response["response"]["allowed"], false);
  const std::string message = review.response["response"]["status"]["message"];
  EXPECT_NE(message.find("debugger-x7k was not added by Ephemera"), std::string::npos) << message;
  EXPECT_NE(message.find("kubectl ephemera snapshot"), std::string::npos) << message;
  ASSERT_EQ(review.unsanctioned.size(), 1u);
  EXPECT_EQ(review.username, "admin");
}

TEST(EphemeralContainerAdmissionTest, AuditAllowsWithAWarningAndReports) {
  auto review = ReviewEphemeralContainers(
      Review(Pod({Marked("ephemera-aa")}), Pod({Marked("ephemera-aa"), Debugger()})), kKey,
      UnsanctionedContainers::kAudit);
  EXPECT_EQ(review.response["response"]["allowed"], true);
  ASSERT_TRUE(review.response["response"].contains("warnings"));
  ASSERT_EQ(review.unsanctioned.size(), 1u) << "only the added container is judged";
  EXPECT_EQ(review.unsanctioned[0].container, "debugger-x7k");
}

TEST(EphemeralContainerAdmissionTest, ACopiedMarkDoesNotPass) {
  json copied = Debugger();
  copied["env"] = Marked("ephemera-aa")["env"];  // the mark of another container name
  auto review = ReviewEphemeralContainers(Review(Pod({}), Pod({copied})), kKey,
                                          UnsanctionedContainers::kEnforce);
  EXPECT_EQ(review.response["response"]["allowed"], false);
}

TEST(EphemeralContainerAdmissionTest, FailsClosedWithoutKeyOrRequest) {
  auto no_key = ReviewEphemeralContainers(Review(Pod({}), Pod({Marked("ephemera-aa")})), "",
                                          UnsanctionedContainers::kEnforce);
  EXPECT_EQ(no_key.response["response"]["allowed"], false);
  auto malformed = ReviewEphemeralContainers(json::object(), kKey, UnsanctionedContainers::kAudit);
  EXPECT_EQ(malformed.response["response"]["allowed"], false);
}

}  // namespace
}  // namespace ephemera::admission
