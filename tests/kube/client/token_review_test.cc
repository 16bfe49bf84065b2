// TokenReview (authentication.k8s.io/v1): the request and the parsing of the API server's answer.
#include "kube/client/token_review.h"

#include <gtest/gtest.h>

namespace ephemera::kube {
namespace {

TEST(TokenReviewTest, BuildsTheReviewForTheToken) {
  const nlohmann::json review = BuildTokenReview("abc.def");
  EXPECT_EQ(review, (nlohmann::json{{"apiVersion", "authentication.k8s.io/v1"},
                                    {"kind", "TokenReview"},
                                    {"spec", {{"token", "abc.def"}}}}));
  EXPECT_EQ(TokenReviewsResource().group, "authentication.k8s.io");
  EXPECT_FALSE(TokenReviewsResource().namespaced);
}

TEST(TokenReviewTest, ParsesAnAuthenticatedUser) {
  auto result = ParseTokenReview(nlohmann::json::parse(R"({"status": {
      "authenticated": true,
      "user": {"username": "system:serviceaccount:monitoring:prometheus", "uid": "u-1",
               "groups": ["system:serviceaccounts", "system:authenticated"],
               "extra": {"authentication.kubernetes.io/pod-name": ["prometheus-0"]}},
      "audiences": ["https://kubernetes.default.svc"]}})"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->authenticated);
  EXPECT_EQ(result->user.username, "system:serviceaccount:monitoring:prometheus");
  EXPECT_EQ(result->user.uid, "u-1");
  EXPECT_EQ(result->user.groups,
            (std::vector<std::string>{"system:serviceaccounts", "system:authenticated"}));
  EXPECT_EQ(result->user.extra.at("authentication.kubernetes.io/pod-name"),
            std::vector<std::string>{"prometheus-0"});
}

TEST(TokenReviewTest, UnauthenticatedCarriesTheError) {
  auto result = ParseTokenReview(
      nlohmann::json::parse(R"({"status": {"user": {}, "error": "token expired"}})"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(result->authenticated);
  EXPECT_EQ(result->error, "token expired");
}

TEST(TokenReviewTest, RefusesMalformedAnswers) {
  for (const char* text : {
           R"([])",
           R"({"spec": {}})",
           R"({"status": {"authenticated": "yes"}})",
           R"({"status": {"authenticated": true}})",
           R"({"status": {"authenticated": true, "user": {"username": ""}}})",
           R"({"status": {"authenticated": true, "user": {"username": "a", "groups": "g"}}})",
           R"({"status": {"authenticated": true, "user": {"username": "a", "extra": {"k": [1]}}}})",
       }) {
    auto result = ParseTokenReview(nlohmann::json::parse(text));
    EXPECT_FALSE(result.ok()) << text;
  }
}

}  // namespace
}  // namespace ephemera::kube
