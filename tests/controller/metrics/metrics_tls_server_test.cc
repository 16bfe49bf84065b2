// Component test: /metrics as the controller serves it — a real HttpServer over TLS with the
// self-signed certificate made at start, behind ScrapeAuthorizer (the API server is a
// FakeKubeClient), asked over real HTTPS connections on 127.0.0.1.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "controller/httpserver/http_server.h"
#include "controller/metrics/registry.h"
#include "controller/metrics/scrape_authorizer.h"
#include "controller/metrics/self_signed_certificate.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

// LeakSanitizer (asan preset): OpenSSL keeps per-thread state for the server's pool threads until
// exit (see tests/controller/httpserver/http_server_test.cc); suppressed for this binary only.
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming): LSan's hook name.
extern "C" const char* __lsan_default_suppressions() { return "leak:libcrypto.so\n"; }

namespace ephemera::metrics {
namespace {

struct Answer {
  int status = 0;
  std::string body;
};

std::string LastOpenSslError() {
  char buffer[256] = {};
  ERR_error_string_n(ERR_get_error(), buffer, sizeof(buffer));
  return buffer;
}

// GET `path` over TLS, verifying the server against `ca_file` for the name "localhost".
StatusOr<Answer> HttpsGet(int port, const std::string& path, const std::string& ca_file,
                          const std::string& authorization) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_client_method()),
                                                            SSL_CTX_free);
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(context.get(), ca_file.c_str(), nullptr) != 1) {
    return InternalError("loading CA: " + LastOpenSslError());
  }
  X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(context.get()), "localhost", 0);
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(BIO_new_ssl_connect(context.get()),
                                                    BIO_free_all);
  const std::string host_port = "127.0.0.1:" + std::to_string(port);
  BIO_set_conn_hostname(bio.get(), host_port.c_str());
  if (BIO_do_connect(bio.get()) != 1) return UnavailableError("handshake: " + LastOpenSslError());
  SSL* ssl = nullptr;
  BIO_get_ssl(bio.get(), &ssl);
  if (SSL_get_verify_result(ssl) != X509_V_OK) {
    return UnavailableError("certificate not verified");
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
  if (!authorization.empty()) request += "Authorization: " + authorization + "\r\n";
  request += "\r\n";
  if (BIO_write(bio.get(), request.data(), static_cast<int>(request.size())) !=
      static_cast<int>(request.size())) {
    return UnavailableError("write failed");
  }
  std::string response;
  char buffer[4096];
  int n = 0;
  while ((n = BIO_read(bio.get(), buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  const std::size_t header_end = response.find("\r\n\r\n");
  if (!response.starts_with("HTTP/1.1 ") || header_end == std::string::npos) {
    return DataLossError("malformed response: " + response.substr(0, 200));
  }
  return Answer{std::stoi(response.substr(9, 3)), response.substr(header_end + 4)};
}

class MetricsTlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_.SetCreateAnswer("tokenreviews", [](const nlohmann::json& review) {
      nlohmann::json answer = review;
      answer["status"] =
          review["spec"].value("token", "") == "scraper-token"
              ? nlohmann::json{{"authenticated", true}, {"user", {{"username", "scraper"}}}}
              : nlohmann::json{{"authenticated", false}};
      return answer;
    });
    client_.SetCreateAnswer("subjectaccessreviews", [](const nlohmann::json& review) {
      nlohmann::json answer = review;
      answer["status"] = {{"allowed", review["spec"].value("user", "") == "scraper"}};
      return answer;
    });
    registry_.AddGauge("leader", "1 while this replica leads.").Get().Set(1);
  }
  void TearDown() override {
    if (!certificate_.dir.empty()) std::filesystem::remove_all(certificate_.dir);
  }

  kube::FakeKubeClient client_;
  base::FakeClock clock_;
  Registry registry_;
  SelfSignedCertificate certificate_;
};

TEST_F(MetricsTlsServerTest, ServesMetricsOverHttpsOnlyToAuthorizedTokens) {
  const std::string parent = ::testing::TempDir();
  auto made = WriteSelfSignedCertificate(parent, {"ephemera-metrics.ephemera-system.svc"},
                                         std::chrono::hours(24));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  certificate_ = *made;
  struct stat key_stat {};
  ASSERT_EQ(stat(certificate_.key_file.c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600u) << "the private key is readable by its owner only";
  struct stat dir_stat {};
  ASSERT_EQ(stat(certificate_.dir.c_str(), &dir_stat), 0);
  EXPECT_EQ(dir_stat.st_mode & 0777, 0700u);

  httpserver::HttpServerOptions options;
  options.address = "127.0.0.1:0";
  options.tls = httpserver::TlsFiles{certificate_.cert_file, certificate_.key_file};
  httpserver::HttpServer server(options);
  auto authorizer = std::make_shared<ScrapeAuthorizer>(client_, clock_, ScrapeAuthorizerOptions{});
  server.Handle("/metrics",
                RequireScrapeAuthorization(authorizer, [this](const httpserver::HttpRequest&) {
                  return httpserver::HttpResponse{200, std::string(Registry::kContentType),
                                                  registry_.RenderPrometheusText()};
                }));
  ASSERT_TRUE(server.Start().ok());

  auto without = HttpsGet(server.Port(), "/metrics", certificate_.cert_file, "");
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_EQ(without->status, 401);
  EXPECT_EQ(without->body.find("ephemera_leader"), std::string::npos);

  auto wrong = HttpsGet(server.Port(), "/metrics", certificate_.cert_file, "Bearer other-token");
  ASSERT_TRUE(wrong.ok()) << wrong.status().ToString();
  EXPECT_EQ(wrong->status, 401);

  auto allowed =
      HttpsGet(server.Port(), "/metrics", certificate_.cert_file, "Bearer scraper-token");
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(allowed->status, 200);
  EXPECT_NE(allowed->body.find("\nephemera_leader 1\n"), std::string::npos) << allowed->body;
  server.Stop();
}

TEST(SelfSignedCertificateTest, RefusesANameThatIsNotDns) {
  auto made = WriteSelfSignedCertificate(::testing::TempDir(), {"bad name,DNS:evil"},
                                         std::chrono::hours(1));
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ephemera::metrics
