#include "controller/app/serving_certificates.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "base/base64.h"
#include "controller/certificates/serving_certificate.h"
#include "kube/object/resource.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::app {
namespace {

using kube::FakeMethod;

nlohmann::json Configuration(const std::string& kind, const std::string& name) {
  return {{"apiVersion", "admissionregistration.k8s.io/v1"},
          {"kind", kind},
          {"metadata", {{"name", name}}},
          {"webhooks", {{{"name", "w.ephemera.dev"}, {"clientConfig", nlohmann::json::object()}}}}};
}

std::string Decoded(const nlohmann::json& value) {
  auto decoded = base::Base64Decode(value.get<std::string>());
  return decoded.ok() ? *decoded : "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class CertificateKeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "keeper-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    std::filesystem::create_directories(root_ + "/webhook");
    std::filesystem::create_directories(root_ + "/metrics");
    config_.namespace_name = "ops";
    config_.webhook_cert_dir = root_ + "/webhook";
    config_.metrics_cert_dir = root_ + "/metrics";
    config_.certificates = {.webhook_secret = "e-webhook-tls",
                            .webhook_service = "e-webhook",
                            .webhook_configurations = {"mutating/e-m", "validating/e-v"},
                            .metrics_secret = "e-metrics-tls",
                            .metrics_service = "e-metrics"};
    client_.PutObject(kube::MutatingWebhookConfigurationsResource(),
                      Configuration("MutatingWebhookConfiguration", "e-m"));
    client_.PutObject(kube::ValidatingWebhookConfigurationsResource(),
                      Configuration("ValidatingWebhookConfiguration", "e-v"));
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  nlohmann::json Secret(const std::string& name) {
    return client_.GetObject(kube::SecretsResource(), {"ops", name}).value_or(nlohmann::json());
  }
  nlohmann::json Validating() {
    return client_.GetObject(kube::ValidatingWebhookConfigurationsResource(), {"", "e-v"})
        .value_or(nlohmann::json());
  }

  std::string root_;
  config::ControllerConfig config_;
  kube::FakeKubeClient client_;
  base::FakeClock clock_;
  std::ostringstream logs_;
  logging::Logger logger_ = logging::Logger::ToStream(logs_, logging::LogLevel::kInfo);
};

TEST_F(CertificateKeeperTest, SetsUpSecretsFilesAndCaBundles) {
  CertificateKeeper keeper(client_, clock_, config_, logger_);
  ASSERT_TRUE(keeper.Enabled());
  const Status synced = keeper.SyncOnce();
  ASSERT_TRUE(synced.ok()) << synced.ToString();

  const nlohmann::json webhook = Secret("e-webhook-tls");
  ASSERT_TRUE(webhook.is_object());
  const certificates::ServingCertificate served{Decoded(webhook["data"]["ca.crt"]),
                                                Decoded(webhook["data"]["tls.crt"]),
                                                Decoded(webhook["data"]["tls.key"])};
  EXPECT_TRUE(certificates::CheckServingCertificate(served, ServiceDnsNames("e-webhook", "ops"),
                                                    clock_.Now(), std::chrono::hours(24))
                  .ok());
  EXPECT_EQ(ReadFile(root_ + "/webhook/tls.crt"), served.cert_pem);
  EXPECT_EQ(ReadFile(root_ + "/webhook/tls.key"), served.key_pem);
  // Owned by the first configuration: uninstalling the webhooks removes the Secrets.
  EXPECT_EQ(webhook["metadata"]["ownerReferences"][0]["name"], "e-m");
  EXPECT_EQ(webhook["metadata"]["ownerReferences"][0]["kind"], "MutatingWebhookConfiguration");
  for (const nlohmann::json& configuration :
       {client_.GetObject(kube::MutatingWebhookConfigurationsResource(), {"", "e-m"}).value(),
        Validating()}) {
    EXPECT_EQ(Decoded(configuration["webhooks"][0]["clientConfig"]["caBundle"]), served.ca_pem);
  }

  const nlohmann::json metrics = Secret("e-metrics-tls");
  ASSERT_TRUE(metrics.is_object());
  const certificates::ServingCertificate metrics_served{Decoded(metrics["data"]["ca.crt"]),
                                                        Decoded(metrics["data"]["tls.crt"]),
                                                        Decoded(metrics["data"]["tls.key"])};
  EXPECT_TRUE(certificates::CheckServingCertificate(metrics_served,
                                                    {"e-metrics.ops.svc", "localhost", "127.0.0.1"},
                                                    clock_.Now(), std::chrono::hours(24))
                  .ok());
  EXPECT_NE(metrics_served.ca_pem, served.ca_pem);  // a CA of its own
  EXPECT_EQ(ReadFile(root_ + "/metrics/tls.crt"), metrics_served.cert_pem);
  EXPECT_EQ(metrics["metadata"]["ownerReferences"], webhook["metadata"]["ownerReferences"]);
}

TEST_F(CertificateKeeperTest, MendsACaBundleThatASyncRemoved) {
  CertificateKeeper keeper(client_, clock_, config_, logger_);
  ASSERT_TRUE(keeper.SyncOnce().ok());
  const nlohmann::json bundle = Validating()["webhooks"][0]["clientConfig"]["caBundle"];
  // A GitOps tool re-applies the configuration as the chart renders it: without a caBundle.
  client_.PutObject(kube::ValidatingWebhookConfigurationsResource(),
                    Configuration("ValidatingWebhookConfiguration", "e-v"));
  ASSERT_TRUE(keeper.SyncOnce().ok());
  EXPECT_EQ(Validating()["webhooks"][0]["clientConfig"]["caBundle"], bundle);
  EXPECT_NE(logs_.str().find("Set the webhooks' CA bundle"), std::string::npos);
}

TEST_F(CertificateKeeperTest, WaitsForTheApiServer) {
  CertificateKeeper keeper(client_, clock_, config_, logger_);
  client_.FailNext(FakeMethod::kGet, kube::ApiError(503, "ServiceUnavailable"));
  client_.FailNext(FakeMethod::kGet, kube::ApiError(503, "ServiceUnavailable"));
  ASSERT_TRUE(keeper.WaitUntilSynced({}));
  EXPECT_EQ(clock_.sleeps(), (std::vector<std::chrono::nanoseconds>{std::chrono::seconds(1),
                                                                    std::chrono::seconds(2)}));
  EXPECT_NE(logs_.str().find("Cannot set up the serving certificates; retrying"),
            std::string::npos);
  EXPECT_TRUE(Secret("e-webhook-tls").is_object());
}

TEST_F(CertificateKeeperTest, AMissingConfigurationDoesNotStopTheServers) {
  // Deleted by hand during an outage: the servers still get their certificates, and the next pass
  // after it is applied again sets its caBundle.
  client_.RemoveObject(kube::MutatingWebhookConfigurationsResource(), {"", "e-m"});
  CertificateKeeper keeper(client_, clock_, config_, logger_);
  const Status synced = keeper.SyncOnce();
  ASSERT_TRUE(synced.ok()) << synced.ToString();
  EXPECT_NE(logs_.str().find("Webhook configuration not found"), std::string::npos);
  EXPECT_NE(logs_.str().find("mutating/e-m"), std::string::npos);
  EXPECT_FALSE(Secret("e-webhook-tls")["metadata"].contains("ownerReferences"));
  EXPECT_FALSE(ReadFile(root_ + "/webhook/tls.crt").empty());
  EXPECT_TRUE(Validating()["webhooks"][0]["clientConfig"].contains("caBundle"));
  client_.PutObject(kube::MutatingWebhookConfigurationsResource(),
                    Configuration("MutatingWebhookConfiguration", "e-m"));
  ASSERT_TRUE(keeper.SyncOnce().ok());
  EXPECT_EQ(client_.GetObject(kube::MutatingWebhookConfigurationsResource(), {"", "e-m"})
                .value()["webhooks"][0]["clientConfig"]["caBundle"],
            Validating()["webhooks"][0]["clientConfig"]["caBundle"]);
}

TEST_F(CertificateKeeperTest, ACertificateIsServedOnlyOnceTheApiServerTrustsIt) {
  // Setting the caBundle fails: the files are not written, so no server presents a certificate the
  // API server cannot verify.
  client_.FailNext(FakeMethod::kUpdate, kube::ApiError(500, "InternalError"));
  CertificateKeeper keeper(client_, clock_, config_, logger_);
  EXPECT_FALSE(keeper.SyncOnce().ok());
  EXPECT_FALSE(std::filesystem::exists(root_ + "/webhook/tls.crt"));
  ASSERT_TRUE(keeper.SyncOnce().ok());
  EXPECT_TRUE(std::filesystem::exists(root_ + "/webhook/tls.crt"));
}

TEST_F(CertificateKeeperTest, DisabledWithoutSecrets) {
  config_.certificates = {};
  CertificateKeeper keeper(client_, clock_, config_, logger_);
  EXPECT_FALSE(keeper.Enabled());
  EXPECT_TRUE(keeper.SyncOnce().ok());
  EXPECT_EQ(client_.CallCount(FakeMethod::kGet), 0);
}

}  // namespace
}  // namespace ephemera::app
