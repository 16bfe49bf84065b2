#include "controller/app/endpoints.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::app {
namespace {

constexpr char kScraperToken[] = "prometheus-token.abc";

TEST(ProbeServerOptionsTest, SmallRequestsOnly) {
  const httpserver::HttpServerOptions options = ProbeServerOptions(":8080");
  EXPECT_EQ(options.address, ":8080");
  EXPECT_FALSE(options.tls.has_value()) << "the kubelet probes over plain HTTP";
  EXPECT_EQ(options.max_body_bytes, 4u << 10);
  EXPECT_EQ(options.max_connections, 16u);
}

TEST(MetricsServerOptionsTest, HttpsWithSmallBodies) {
  const httpserver::HttpServerOptions options =
      MetricsServerOptions(":8443", {"/certs/tls.crt", "/certs/tls.key"});
  EXPECT_EQ(options.address, ":8443");
  ASSERT_TRUE(options.tls.has_value());
  EXPECT_EQ(options.tls->cert_file, "/certs/tls.crt");
  EXPECT_EQ(options.max_body_bytes, 4u << 10);
}

// An API server that knows one scraper's token and lets it get /metrics.
void AnswerReviews(kube::FakeKubeClient& client) {
  client.SetCreateAnswer("tokenreviews", [](const nlohmann::json& review) {
    nlohmann::json answer = review;
    if (review["spec"].value("token", "") == kScraperToken) {
      answer["status"] = {{"authenticated", true},
                          {"user", {{"username", "system:serviceaccount:monitoring:prometheus"}}}};
    } else {
      answer["status"] = {{"authenticated", false}};
    }
    return answer;
  });
  client.SetCreateAnswer("subjectaccessreviews", [](const nlohmann::json& review) {
    nlohmann::json answer = review;
    answer["status"] = {{"allowed", true}};
    return answer;
  });
}

httpserver::HttpRequest Scrape(const std::string& token) {
  httpserver::HttpRequest request;
  request.method = "GET";
  request.path = "/metrics";
  if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
  return request;
}

TEST(MetricsRoutesTest, TheRegistryForAuthorizedScrapersOnly) {
  kube::FakeKubeClient client;
  AnswerReviews(client);
  base::FakeClock clock;
  std::ostringstream logs;
  metrics::Registry registry;
  registry.AddGauge("leader", "1 while this replica leads and reconciles.").Get().Set(1);
  const httpserver::Routes routes = MetricsRoutes(
      registry, client, clock, logging::Logger::ToStream(logs, logging::LogLevel::kInfo));

  const httpserver::HttpResponse allowed = httpserver::RouteRequest(routes, Scrape(kScraperToken));
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(allowed.content_type, metrics::Registry::kContentType);
  EXPECT_NE(allowed.body.find("ephemera_leader 1\n"), std::string::npos) << allowed.body;
  EXPECT_EQ(httpserver::RouteRequest(routes, Scrape("")).status, 401);
  EXPECT_EQ(httpserver::RouteRequest(routes, Scrape("someone-else")).status, 401);
}

TEST(MetricsRoutesTest, AnApiServerThatCannotBeAskedIsLogged) {
  kube::FakeKubeClient client;
  AnswerReviews(client);
  client.FailNext(kube::FakeMethod::kCreate, kube::ApiError(503, "ServiceUnavailable"));
  base::FakeClock clock;
  std::ostringstream logs;
  metrics::Registry registry;
  const httpserver::Routes routes = MetricsRoutes(
      registry, client, clock, logging::Logger::ToStream(logs, logging::LogLevel::kInfo));

  EXPECT_EQ(httpserver::RouteRequest(routes, Scrape(kScraperToken)).status, 503);
  EXPECT_NE(logs.str().find("Cannot check a /metrics scrape with the API server"),
            std::string::npos)
      << logs.str();
}

TEST(MetricsCertificateTest, TheConfiguredOneIsUsedAsItIs) {
  auto certificate = MetricsCertificate::For("/etc/metrics-certs", "/nonexistent");
  ASSERT_TRUE(certificate.ok()) << certificate.status().ToString();
  EXPECT_FALSE((*certificate)->IsSelfSigned());
  EXPECT_EQ((*certificate)->Files().cert_file, "/etc/metrics-certs/tls.crt");
  EXPECT_EQ((*certificate)->Files().key_file, "/etc/metrics-certs/tls.key");
}

TEST(MetricsCertificateTest, AMadeOneIsRemovedWithTheObject) {
  const std::filesystem::path root =
      std::filesystem::path(::testing::TempDir()) / "metrics-certificate-test";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  std::string made_file;
  {
    auto certificate = MetricsCertificate::For("", root.string());
    ASSERT_TRUE(certificate.ok()) << certificate.status().ToString();
    EXPECT_TRUE((*certificate)->IsSelfSigned());
    made_file = (*certificate)->Files().cert_file;
    EXPECT_TRUE(std::filesystem::exists(made_file));
    EXPECT_TRUE(std::filesystem::exists((*certificate)->Files().key_file));
    EXPECT_EQ(std::filesystem::path(made_file).parent_path().parent_path(), root);
  }
  EXPECT_FALSE(std::filesystem::exists(made_file));
  EXPECT_TRUE(std::filesystem::is_empty(root)) << "nothing left behind";
  std::filesystem::remove_all(root);
}

TEST(MetricsCertificateTest, AnUnusableDirectoryIsAnError) {
  EXPECT_FALSE(MetricsCertificate::For("", "/nonexistent/metrics-certificate-test").ok());
}

}  // namespace
}  // namespace ephemera::app
