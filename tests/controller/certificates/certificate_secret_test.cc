#include "controller/certificates/certificate_secret.h"

#include <gtest/gtest.h>

#include <chrono>

#include "base/base64.h"
#include "controller/certificates/x509.h"
#include "kube/object/resource.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::certificates {
namespace {

using kube::FakeMethod;
using std::chrono::hours;

const std::chrono::system_clock::time_point kNow =
    std::chrono::sys_days{std::chrono::year{2026} / 3 / 1};
constexpr std::chrono::seconds kYear = hours(24 * 365);

ServingSecret Spec() {
  return {.secret = {"ops", "hooks-tls"},
          .common_name = "hooks.ops.svc",
          .names = {"hooks.ops.svc", "hooks"},
          .validity = kYear};
}

std::string Field(const nlohmann::json& secret, const char* key) {
  auto decoded = base::Base64Decode(secret["data"][key].get<std::string>());
  return decoded.ok() ? *decoded : "";
}

nlohmann::json StoredSecret(kube::FakeKubeClient& client) {
  auto secret = client.GetObject(kube::SecretsResource(), {"ops", "hooks-tls"});
  EXPECT_TRUE(secret.has_value());
  return secret.value_or(nlohmann::json::object());
}

nlohmann::json SecretHolding(const ServingCertificate& certificate) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", "hooks-tls"}, {"namespace", "ops"}}},
          {"type", "kubernetes.io/tls"},
          {"data",
           {{"ca.crt", base::Base64Encode(certificate.ca_pem)},
            {"tls.crt", base::Base64Encode(certificate.cert_pem)},
            {"tls.key", base::Base64Encode(certificate.key_pem)}}}};
}

// A CA certificate, PEM, as EnsureServingSecret returns it.
std::string SomeCa() {
  auto issued = IssueServingCertificate("hooks.ops.svc", {"hooks"}, kYear, kNow);
  return issued.ok() ? issued->ca_pem : "";
}

nlohmann::json WebhookConfiguration(const std::string& kind, const std::string& name) {
  return {{"apiVersion", "admissionregistration.k8s.io/v1"},
          {"kind", kind},
          {"metadata", {{"name", name}}},
          {"webhooks",
           {{{"name", "a.ephemera.dev"}, {"clientConfig", {{"service", {{"name", "hooks"}}}}}},
            {{"name", "b.ephemera.dev"},
             {"clientConfig", {{"service", {{"name", "hooks"}}}, {"caBundle", "b2xk"}}}}}}};
}

TEST(EnsureServingSecretTest, MakesTheSecretWhenMissing) {
  kube::FakeKubeClient client;
  const nlohmann::json owner = {{"apiVersion", "admissionregistration.k8s.io/v1"},
                                {"kind", "MutatingWebhookConfiguration"},
                                {"name", "hooks"},
                                {"uid", "u-1"}};
  auto certificate = EnsureServingSecret(client, Spec(), kNow, owner);
  ASSERT_TRUE(certificate.ok()) << certificate.status().ToString();
  const nlohmann::json secret = StoredSecret(client);
  EXPECT_EQ(secret["type"], "kubernetes.io/tls");
  EXPECT_EQ(secret["metadata"]["ownerReferences"], nlohmann::json::array({owner}));
  EXPECT_EQ(secret["metadata"]["labels"]["app.kubernetes.io/managed-by"], "ephemera-controller");
  EXPECT_EQ(Field(secret, "ca.crt"), certificate->ca_pem);
  EXPECT_EQ(Field(secret, "tls.crt"), certificate->cert_pem);
  EXPECT_EQ(Field(secret, "tls.key"), certificate->key_pem);
  EXPECT_TRUE(CheckServingCertificate(*certificate, Spec().names, kNow, kYear / 3).ok());
}

TEST(EnsureServingSecretTest, KeepsAUsableCertificate) {
  kube::FakeKubeClient client;
  auto first = EnsureServingSecret(client, Spec(), kNow, std::nullopt);
  ASSERT_TRUE(first.ok());
  const int writes = client.CallCount(FakeMethod::kCreate) + client.CallCount(FakeMethod::kUpdate);
  auto again = EnsureServingSecret(client, Spec(), kNow + hours(24 * 30), std::nullopt);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->cert_pem, first->cert_pem);
  EXPECT_EQ(client.CallCount(FakeMethod::kCreate) + client.CallCount(FakeMethod::kUpdate), writes);
}

TEST(EnsureServingSecretTest, RenewsWithAThirdLeftAndKeepsTheOldCaInTheBundle) {
  kube::FakeKubeClient client;
  auto first = EnsureServingSecret(client, Spec(), kNow, std::nullopt);
  ASSERT_TRUE(first.ok());
  const auto later = kNow + kYear - kYear / 4;
  auto renewed = EnsureServingSecret(client, Spec(), later, std::nullopt);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_NE(renewed->cert_pem, first->cert_pem);
  std::vector<X509Ptr> bundle = ParseCertificatesPem(renewed->ca_pem);
  ASSERT_EQ(bundle.size(), 2u);
  // The old CA is still trusted, so a client given the old bundle and a replica still serving the
  // old certificate both keep working until everyone has reloaded.
  auto old_ca = ParseCertificatePem(first->ca_pem);
  ASSERT_TRUE(old_ca.ok());
  EXPECT_EQ(X509_cmp(bundle[1].get(), old_ca->get()), 0);
  EXPECT_TRUE(CheckServingCertificate({renewed->ca_pem, first->cert_pem, first->key_pem},
                                      Spec().names, later, hours(1))
                  .ok());
  EXPECT_EQ(Field(StoredSecret(client), "ca.crt"), renewed->ca_pem);
}

TEST(EnsureServingSecretTest, ReplacesACertificateForOtherNames) {
  kube::FakeKubeClient client;
  auto foreign = IssueServingCertificate("x", {"elsewhere"}, kYear, kNow);
  ASSERT_TRUE(foreign.ok());
  client.PutObject(kube::SecretsResource(), SecretHolding(*foreign));
  auto certificate = EnsureServingSecret(client, Spec(), kNow, std::nullopt);
  ASSERT_TRUE(certificate.ok()) << certificate.status().ToString();
  EXPECT_TRUE(CheckServingCertificate(*certificate, Spec().names, kNow, hours(1)).ok());
  EXPECT_EQ(Field(StoredSecret(client), "tls.crt"), certificate->cert_pem);
}

TEST(EnsureServingSecretTest, ReplacesASecretWithoutUsableData) {
  kube::FakeKubeClient client;
  client.PutObject(kube::SecretsResource(),
                   {{"apiVersion", "v1"},
                    {"kind", "Secret"},
                    {"metadata", {{"name", "hooks-tls"}, {"namespace", "ops"}}},
                    {"data", {{"tls.crt", "%%%not base64"}}}});
  auto certificate = EnsureServingSecret(client, Spec(), kNow, std::nullopt);
  ASSERT_TRUE(certificate.ok()) << certificate.status().ToString();
  EXPECT_EQ(StoredSecret(client)["type"], "kubernetes.io/tls");
  EXPECT_EQ(Field(StoredSecret(client), "tls.key"), certificate->key_pem);
}

TEST(EnsureServingSecretTest, ReplacesASecretOfAnotherType) {
  // A Secret's type cannot change in place: an Opaque Secret of that name is deleted and made anew.
  kube::FakeKubeClient client;
  nlohmann::json opaque = SecretHolding(*IssueServingCertificate("x", {"elsewhere"}, kYear, kNow));
  opaque["type"] = "Opaque";
  client.PutObject(kube::SecretsResource(), opaque);
  auto certificate = EnsureServingSecret(client, Spec(), kNow, std::nullopt);
  ASSERT_TRUE(certificate.ok()) << certificate.status().ToString();
  EXPECT_EQ(client.CallCount(FakeMethod::kDelete), 1);
  EXPECT_EQ(client.CallCount(FakeMethod::kUpdate), 0);
  EXPECT_EQ(StoredSecret(client)["type"], "kubernetes.io/tls");
  EXPECT_EQ(Field(StoredSecret(client), "tls.crt"), certificate->cert_pem);
}

TEST(EnsureServingSecretTest, TheLoserOfACreateRaceTakesTheWinnersCertificate) {
  kube::FakeKubeClient client;
  auto winner = IssueServingCertificate("hooks.ops.svc", Spec().names, kYear, kNow);
  ASSERT_TRUE(winner.ok());
  // Another replica created it between this one's read (which found nothing) and its create.
  client.PutObject(kube::SecretsResource(), SecretHolding(*winner));
  client.FailNext(FakeMethod::kGet, kube::ApiError(404, "NotFound"));
  auto certificate = EnsureServingSecret(client, Spec(), kNow, std::nullopt);
  ASSERT_TRUE(certificate.ok()) << certificate.status().ToString();
  EXPECT_EQ(certificate->cert_pem, winner->cert_pem);
}

TEST(EnsureServingSecretTest, TheLoserOfARenewalRaceTakesTheWinnersCertificate) {
  kube::FakeKubeClient client;
  auto old = IssueServingCertificate("x", {"elsewhere"}, kYear, kNow);
  auto winner = IssueServingCertificate("hooks.ops.svc", Spec().names, kYear, kNow);
  ASSERT_TRUE(old.ok() && winner.ok());
  client.PutObject(kube::SecretsResource(), SecretHolding(*old));
  bool raced = false;
  client.SetBeforeUpdate([&](const kube::GroupVersionResource&, const kube::ObjectKey&) {
    if (raced) return;
    raced = true;
    client.PutObject(kube::SecretsResource(), SecretHolding(*winner));
  });
  auto certificate = EnsureServingSecret(client, Spec(), kNow, std::nullopt);
  ASSERT_TRUE(certificate.ok()) << certificate.status().ToString();
  EXPECT_EQ(certificate->cert_pem, winner->cert_pem);
}

TEST(EnsureServingSecretTest, ReturnsApiErrorsWithContext) {
  kube::FakeKubeClient client;
  client.FailNext(FakeMethod::kGet, kube::ApiError(403, "Forbidden", "secrets is forbidden"));
  auto certificate = EnsureServingSecret(client, Spec(), kNow, std::nullopt);
  EXPECT_EQ(certificate.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(certificate.status().message().find("ops/hooks-tls"), std::string::npos)
      << certificate.status().ToString();
}

TEST(InjectCaBundleTest, SetsEveryWebhooksBundleOnce) {
  kube::FakeKubeClient client;
  client.PutObject(kube::ValidatingWebhookConfigurationsResource(),
                   WebhookConfiguration("ValidatingWebhookConfiguration", "hooks"));
  const WebhookConfigurationRef ref{false, "hooks"};
  const std::string ca = SomeCa();
  auto wrote = InjectCaBundle(client, ref, ca);
  ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
  EXPECT_TRUE(*wrote);
  auto stored = client.GetObject(kube::ValidatingWebhookConfigurationsResource(), {"", "hooks"});
  ASSERT_TRUE(stored.has_value());
  for (const nlohmann::json& webhook : (*stored)["webhooks"]) {
    EXPECT_EQ(webhook["clientConfig"]["caBundle"], base::Base64Encode(ca));
    EXPECT_EQ(webhook["clientConfig"]["service"]["name"], "hooks");
  }
  const int updates = client.CallCount(FakeMethod::kUpdate);
  auto again = InjectCaBundle(client, ref, ca);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(client.CallCount(FakeMethod::kUpdate), updates);
}

TEST(InjectCaBundleTest, LeavesABundleThatAlreadyTrustsItsCa) {
  // Another replica renewed: the bundle holds the new CA and ours (the old one). This replica has
  // not read the renewal yet; it must not put the bundle back to its old CA alone.
  auto old_certificate = IssueServingCertificate("hooks.ops.svc", Spec().names, kYear, kNow);
  auto renewed = IssueServingCertificate("hooks.ops.svc", Spec().names, kYear, kNow);
  ASSERT_TRUE(old_certificate.ok() && renewed.ok());
  nlohmann::json configuration = WebhookConfiguration("MutatingWebhookConfiguration", "hooks");
  const std::string both = base::Base64Encode(renewed->ca_pem + old_certificate->ca_pem);
  for (nlohmann::json& webhook : configuration["webhooks"]) {
    webhook["clientConfig"]["caBundle"] = both;
  }
  kube::FakeKubeClient client;
  client.PutObject(kube::MutatingWebhookConfigurationsResource(), configuration);
  auto wrote = InjectCaBundle(client, {true, "hooks"}, old_certificate->ca_pem);
  ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
  EXPECT_FALSE(*wrote);
  auto stored = client.GetObject(kube::MutatingWebhookConfigurationsResource(), {"", "hooks"});
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ((*stored)["webhooks"][0]["clientConfig"]["caBundle"], both);
  // A bundle without it (a wrong CA, say) is replaced.
  auto replaced = InjectCaBundle(client, {true, "hooks"}, "not a certificate");
  EXPECT_EQ(replaced.status().code(), StatusCode::kInvalidArgument);
  auto stranger = IssueServingCertificate("x", {"x"}, kYear, kNow);
  ASSERT_TRUE(stranger.ok());
  auto written = InjectCaBundle(client, {true, "hooks"}, stranger->ca_pem);
  ASSERT_TRUE(written.ok());
  EXPECT_TRUE(*written);
}

TEST(InjectCaBundleTest, RetriesAConflict) {
  kube::FakeKubeClient client;
  client.PutObject(kube::MutatingWebhookConfigurationsResource(),
                   WebhookConfiguration("MutatingWebhookConfiguration", "hooks"));
  client.FailNext(FakeMethod::kUpdate, kube::ApiError(409, "Conflict"));
  auto wrote = InjectCaBundle(client, {true, "hooks"}, SomeCa());
  ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
  EXPECT_TRUE(*wrote);
  EXPECT_EQ(client.CallCount(FakeMethod::kUpdate), 2);
}

TEST(InjectCaBundleTest, AMissingConfigurationIsNotFound) {
  kube::FakeKubeClient client;
  auto wrote = InjectCaBundle(client, {true, "absent"}, SomeCa());
  EXPECT_EQ(wrote.status().code(), StatusCode::kNotFound);
  EXPECT_NE(wrote.status().message().find("mutating/absent"), std::string::npos);
}

TEST(OwnerReferenceToTest, NamesTheConfigurationByUid) {
  kube::FakeKubeClient client;
  client.PutObject(kube::MutatingWebhookConfigurationsResource(),
                   WebhookConfiguration("MutatingWebhookConfiguration", "hooks"));
  auto owner = OwnerReferenceTo(client, {true, "hooks"});
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ((*owner)["kind"], "MutatingWebhookConfiguration");
  EXPECT_EQ((*owner)["name"], "hooks");
  EXPECT_FALSE((*owner)["uid"].get<std::string>().empty());
  EXPECT_FALSE(owner->contains("blockOwnerDeletion"));
}

TEST(ParseWebhookConfigurationRefTest, ReadsKindAndName) {
  auto mutating = ParseWebhookConfigurationRef("mutating/a-b");
  ASSERT_TRUE(mutating.ok());
  EXPECT_TRUE(mutating->mutating);
  EXPECT_EQ(mutating->name, "a-b");
  EXPECT_EQ(mutating->ToString(), "mutating/a-b");
  auto validating = ParseWebhookConfigurationRef("validating/c");
  ASSERT_TRUE(validating.ok());
  EXPECT_FALSE(validating->mutating);
  for (const char* bad : {"", "mutating", "mutating/", "webhook/x", "mutating/a/b", "/x"}) {
    EXPECT_EQ(ParseWebhookConfigurationRef(bad).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace ephemera::certificates
