// Unit tests of ScrapeAuthorizer against FakeKubeClient: the TokenReview and SubjectAccessReview
// it sends, the 401/403/503/200 answers, and the decision cache (time from FakeClock).
#include "controller/metrics/scrape_authorizer.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::metrics {
namespace {

using kube::FakeKubeClient;
using kube::FakeMethod;

constexpr char kPrometheusToken[] = "prometheus-token.abc";
constexpr char kStrangerToken[] = "stranger-token.def";

// The API server's side: which tokens are whose, and who may get /metrics. Records every review.
class FakeApiServer {
 public:
  explicit FakeApiServer(FakeKubeClient& client) {
    client.SetCreateAnswer("tokenreviews", [this](const nlohmann::json& review) {
      std::lock_guard lock(mu);
      token_reviews.push_back(review);
      nlohmann::json answer = review;
      const std::string token = review["spec"].value("token", "");
      if (token == kPrometheusToken) {
        answer["status"] = {
            {"authenticated", true},
            {"user",
             {{"username", "system:serviceaccount:monitoring:prometheus"},
              {"uid", "7f0c2a4e-uid"},
              {"groups",
               {"system:serviceaccounts", "system:serviceaccounts:monitoring",
                "system:authenticated"}},
              {"extra", {{"authentication.kubernetes.io/pod-name", {"prometheus-0"}}}}}}};
      } else if (token == kStrangerToken) {
        answer["status"] = {{"authenticated", true},
                            {"user",
                             {{"username", "system:serviceaccount:default:stranger"},
                              {"groups", {"system:authenticated"}}}}};
      } else {
        answer["status"] = {{"authenticated", false}, {"error", "invalid bearer token"}};
      }
      return answer;
    });
    client.SetCreateAnswer("subjectaccessreviews", [this](const nlohmann::json& review) {
      std::lock_guard lock(mu);
      access_reviews.push_back(review);
      nlohmann::json answer = review;
      const bool allowed =
          review["spec"].value("user", "") == "system:serviceaccount:monitoring:prometheus" &&
          review["spec"].contains("nonResourceAttributes") &&
          review["spec"]["nonResourceAttributes"].value("path", "") == "/metrics";
      answer["status"] = {{"allowed", allowed}};
      return answer;
    });
  }

  std::mutex mu;
  std::vector<nlohmann::json> token_reviews;
  std::vector<nlohmann::json> access_reviews;
};

httpserver::HttpRequest Scrape(std::string authorization) {
  httpserver::HttpRequest request;
  request.method = "GET";
  request.path = "/metrics";
  if (!authorization.empty()) request.headers["authorization"] = std::move(authorization);
  return request;
}

class ScrapeAuthorizerTest : public ::testing::Test {
 protected:
  ScrapeAuthorizerTest() : api_(client_) {}

  httpserver::HttpHandler Handler(ScrapeAuthorizerOptions options = {}) {
    authorizer_ = std::make_shared<ScrapeAuthorizer>(client_, clock_, std::move(options));
    return RequireScrapeAuthorization(authorizer_, [this](const httpserver::HttpRequest&) {
      ++inner_calls_;
      return httpserver::HttpResponse{.body = "ephemera_leader 1\n"};
    });
  }

  FakeKubeClient client_;
  base::FakeClock clock_;
  FakeApiServer api_;
  std::shared_ptr<ScrapeAuthorizer> authorizer_;
  int inner_calls_ = 0;
};

TEST_F(ScrapeAuthorizerTest, NoTokenIsUnauthorizedWithoutAskingTheApiServer) {
  auto handler = Handler();
  for (const char* header : {"", "Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Bearertoken"}) {
    const auto response = handler(Scrape(header));
    EXPECT_EQ(response.status, 401) << header;
  }
  EXPECT_EQ(inner_calls_, 0);
  EXPECT_EQ(client_.CallCount(FakeMethod::kCreate), 0);
}

TEST_F(ScrapeAuthorizerTest, TokenTheApiServerRejectsIsUnauthorized) {
  auto handler = Handler();
  const auto response = handler(Scrape("Bearer not-a-real-token"));
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(inner_calls_, 0);
  ASSERT_EQ(api_.token_reviews.size(), 1u);
  EXPECT_EQ(api_.token_reviews[0]["apiVersion"], "authentication.k8s.io/v1");
  EXPECT_EQ(api_.token_reviews[0]["kind"], "TokenReview");
  EXPECT_EQ(api_.token_reviews[0]["spec"]["token"], "not-a-real-token");
  EXPECT_TRUE(api_.access_reviews.empty()) << "no SubjectAccessReview for an unknown token";
}

TEST_F(ScrapeAuthorizerTest, IdentityWithoutTheRightIsForbidden) {
  auto handler = Handler();
  const auto response = handler(Scrape(std::string("Bearer ") + kStrangerToken));
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(inner_calls_, 0);
  ASSERT_EQ(api_.access_reviews.size(), 1u);
  EXPECT_EQ(api_.access_reviews[0]["spec"]["user"], "system:serviceaccount:default:stranger");
}

TEST_F(ScrapeAuthorizerTest, AllowedIdentityGetsTheInnerHandlersAnswer) {
  auto handler = Handler();
  const auto response = handler(Scrape(std::string("bearer  ") + kPrometheusToken + " "));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ephemera_leader 1\n");
  EXPECT_EQ(inner_calls_, 1);
}

TEST_F(ScrapeAuthorizerTest, AccessReviewCarriesTheWholeIdentityAndTheNonResourcePath) {
  auto handler = Handler();
  ASSERT_EQ(handler(Scrape(std::string("Bearer ") + kPrometheusToken)).status, 200);
  ASSERT_EQ(api_.access_reviews.size(), 1u);
  const nlohmann::json& review = api_.access_reviews[0];
  EXPECT_EQ(review["apiVersion"], "authorization.k8s.io/v1");
  EXPECT_EQ(review["kind"], "SubjectAccessReview");
  const nlohmann::json& spec = review["spec"];
  EXPECT_EQ(spec["user"], "system:serviceaccount:monitoring:prometheus");
  EXPECT_EQ(spec["uid"], "7f0c2a4e-uid");
  EXPECT_EQ(spec["groups"],
            (nlohmann::json{"system:serviceaccounts", "system:serviceaccounts:monitoring",
                            "system:authenticated"}));
  EXPECT_EQ(spec["extra"],
            (nlohmann::json{{"authentication.kubernetes.io/pod-name", {"prometheus-0"}}}));
  EXPECT_EQ(spec["nonResourceAttributes"], (nlohmann::json{{"path", "/metrics"}, {"verb", "get"}}));
  EXPECT_FALSE(spec.contains("resourceAttributes"));
}

TEST_F(ScrapeAuthorizerTest, CachedDecisionsDoNotAskAgainUntilTheyExpire) {
  auto handler = Handler({.cache_ttl = std::chrono::seconds(30)});
  const std::string allowed = std::string("Bearer ") + kPrometheusToken;
  const std::string forbidden = std::string("Bearer ") + kStrangerToken;
  ASSERT_EQ(handler(Scrape(allowed)).status, 200);
  ASSERT_EQ(handler(Scrape(forbidden)).status, 403);
  const int after_first = client_.CallCount(FakeMethod::kCreate);
  EXPECT_EQ(after_first, 4);  // a TokenReview and a SubjectAccessReview each

  clock_.Advance(std::chrono::seconds(29));
  EXPECT_EQ(handler(Scrape(allowed)).status, 200);
  EXPECT_EQ(handler(Scrape(forbidden)).status, 403);
  EXPECT_EQ(client_.CallCount(FakeMethod::kCreate), after_first) << "answered from the cache";
  EXPECT_EQ(inner_calls_, 2);

  clock_.Advance(std::chrono::seconds(2));
  EXPECT_EQ(handler(Scrape(allowed)).status, 200);
  EXPECT_EQ(client_.CallCount(FakeMethod::kCreate), after_first + 2) << "expired: asked again";
}

TEST_F(ScrapeAuthorizerTest, CacheIsBoundedAndKeepsNoToken) {
  auto handler = Handler({.max_cache_entries = 3});
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(handler(Scrape("Bearer random-" + std::to_string(i))).status, 401);
    clock_.Advance(std::chrono::seconds(1));
  }
  EXPECT_EQ(authorizer_->CachedDecisions(), 3u);
  EXPECT_EQ(TokenDigest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
}

TEST_F(ScrapeAuthorizerTest, ApiServerFailureIsUnavailableAndNotCached) {
  std::vector<std::string> errors;
  auto handler = Handler({.on_api_error = [&](std::string_view review, const Status& error) {
    errors.push_back(std::string(review) + ": " + error.ToString());
  }});
  client_.FailNext(FakeMethod::kCreate, kube::ApiError(503, "ServiceUnavailable"));
  const std::string allowed = std::string("Bearer ") + kPrometheusToken;
  EXPECT_EQ(handler(Scrape(allowed)).status, 503);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("TokenReview: ", 0), 0u) << errors[0];
  EXPECT_EQ(errors[0].find(kPrometheusToken), std::string::npos) << "the token is never reported";
  EXPECT_EQ(inner_calls_, 0);
  EXPECT_EQ(handler(Scrape(allowed)).status, 200) << "a failure is not remembered";
}

TEST_F(ScrapeAuthorizerTest, OnlyGet) {
  auto handler = Handler();
  auto request = Scrape(std::string("Bearer ") + kPrometheusToken);
  request.method = "POST";
  EXPECT_EQ(handler(request).status, 405);
  EXPECT_EQ(inner_calls_, 0);
}

TEST(BearerTokenOfTest, ParsesTheSchemeCaseInsensitively) {
  EXPECT_EQ(BearerTokenOf("Bearer abc.def"), "abc.def");
  EXPECT_EQ(BearerTokenOf("  BEARER\tabc  "), "abc");
  EXPECT_EQ(BearerTokenOf("Bearer a b"), std::nullopt);
  EXPECT_EQ(BearerTokenOf("Bearer a\x01"), std::nullopt);
  EXPECT_EQ(BearerTokenOf("Token abc"), std::nullopt);
  EXPECT_EQ(BearerTokenOf(""), std::nullopt);
}

}  // namespace
}  // namespace ephemera::metrics
