#include "controller/certificates/certificate_secret.h"

#include <ctime>
#include <utility>

#include "base/base64.h"
#include "controller/certificates/x509.h"
#include "kube/object/resource.h"

namespace ephemera::certificates {
namespace {

constexpr char kFieldManager[] = "ephemera-controller";
constexpr int kConflictRetries = 5;

kube::GroupVersionResource ResourceOf(const WebhookConfigurationRef& configuration) {
  return configuration.mutating ? kube::MutatingWebhookConfigurationsResource()
                                : kube::ValidatingWebhookConfigurationsResource();
}

std::string DataField(const nlohmann::json& secret, const char* key) {
  const nlohmann::json* data = secret.contains("data") ? &secret["data"] : nullptr;
  if (data == nullptr || !data->is_object() || !data->contains(key) || !(*data)[key].is_string()) {
    return "";
  }
  auto decoded = base::Base64Decode((*data)[key].get<std::string>());
  return decoded.ok() ? std::move(*decoded) : std::string();
}

ServingCertificate CertificateIn(const nlohmann::json& secret) {
  return {DataField(secret, "ca.crt"), DataField(secret, "tls.crt"), DataField(secret, "tls.key")};
}

nlohmann::json DataOf(const ServingCertificate& certificate) {
  return {{"ca.crt", base::Base64Encode(certificate.ca_pem)},
          {"tls.crt", base::Base64Encode(certificate.cert_pem)},
          {"tls.key", base::Base64Encode(certificate.key_pem)}};
}

// A third of the validity: a certificate is renewed while two thirds of its life have passed, long
// before a client could see it expire.
std::chrono::seconds RenewBefore(const ServingSecret& spec) { return spec.validity / 3; }

// The old CA, appended to a renewed bundle while it is still valid at `now`.
std::string BundleWithPrevious(const std::string& new_ca, const std::string& old_ca_pem,
                               std::chrono::system_clock::time_point now) {
  std::vector<X509Ptr> old_cas = ParseCertificatesPem(old_ca_pem);
  if (old_cas.empty()) return new_ca;
  std::time_t at = std::chrono::system_clock::to_time_t(now);
  if (X509_cmp_time(X509_get0_notAfter(old_cas.front().get()), &at) <= 0) return new_ca;
  auto old_pem = CertificatePem(old_cas.front().get());
  return old_pem.ok() ? new_ca + *old_pem : new_ca;
}

}  // namespace

std::string WebhookConfigurationRef::ToString() const {
  return (mutating ? "mutating/" : "validating/") + name;
}

StatusOr<WebhookConfigurationRef> ParseWebhookConfigurationRef(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string_view kind = text.substr(0, slash == std::string_view::npos ? 0 : slash);
  const std::string_view name =
      slash == std::string_view::npos ? std::string_view() : text.substr(slash + 1);
  if ((kind != "mutating" && kind != "validating") || name.empty() ||
      name.find('/') != std::string_view::npos) {
    return InvalidArgumentError("\"" + std::string(text) +
                                "\" is not a webhook configuration: write mutating/NAME or "
                                "validating/NAME");
  }
  return WebhookConfigurationRef{kind == "mutating", std::string(name)};
}

StatusOr<ServingCertificate> EnsureServingSecret(
    kube::KubeClient& client, const ServingSecret& spec, std::chrono::system_clock::time_point now,
    const std::optional<nlohmann::json>& owner_reference) {
  const std::string where = "Secret " + spec.secret.ToString();
  for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
    auto existing = client.Get(kube::SecretsResource(), spec.secret);
    if (!existing.ok() && existing.status().code() != StatusCode::kNotFound) {
      return existing.status().WithContext("reading " + where);
    }
    ServingCertificate current = existing.ok() ? CertificateIn(*existing) : ServingCertificate{};
    if (existing.ok() &&
        CheckServingCertificate(current, spec.names, now, RenewBefore(spec)).ok()) {
      return current;
    }
    auto issued = IssueServingCertificate(spec.common_name, spec.names, spec.validity, now);
    if (!issued.ok()) return issued.status().WithContext("issuing the certificate for " + where);
    if (!existing.ok()) {
      nlohmann::json secret = {
          {"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata",
           {{"name", spec.secret.name},
            {"namespace", spec.secret.namespace_name},
            {"labels", {{"app.kubernetes.io/managed-by", "ephemera-controller"}}}}},
          {"type", "kubernetes.io/tls"},
          {"data", DataOf(*issued)}};
      if (owner_reference) secret["metadata"]["ownerReferences"] = {*owner_reference};
      auto created = client.Create(kube::SecretsResource(), spec.secret.namespace_name, secret,
                                   {.field_manager = kFieldManager});
      if (created.ok()) return issued;
      if (created.status().code() == StatusCode::kAlreadyExists) continue;  // read the winner's
      return created.status().WithContext("creating " + where);
    }
    if (existing->value("type", std::string()) != "kubernetes.io/tls" ||
        existing->value("immutable", false)) {
      // Neither can be changed in place: replace the Secret (this incarnation only).
      kube::DeleteOptions only_this;
      only_this.precondition_uid =
          existing->value("metadata", nlohmann::json::object()).value("uid", std::string());
      const Status deleted = client.Delete(kube::SecretsResource(), spec.secret, only_this);
      if (!deleted.ok() && deleted.code() != StatusCode::kNotFound &&
          deleted.code() != StatusCode::kAborted) {
        return deleted.WithContext("replacing " + where + " (not a kubernetes.io/tls Secret)");
      }
      continue;  // created afresh on the next pass
    }
    issued->ca_pem = BundleWithPrevious(issued->ca_pem, current.ca_pem, now);
    nlohmann::json secret = *existing;
    secret["data"] = DataOf(*issued);
    auto updated = client.Update(kube::SecretsResource(), spec.secret, secret,
                                 {.field_manager = kFieldManager});
    if (updated.ok()) return issued;
    if (updated.status().code() == StatusCode::kAborted) continue;  // read the winner's
    return updated.status().WithContext("renewing the certificate in " + where);
  }
  return AbortedError(where + " kept changing while it was being written; retry");
}

StatusOr<nlohmann::json> OwnerReferenceTo(kube::KubeClient& client,
                                          const WebhookConfigurationRef& configuration) {
  auto object = client.Get(ResourceOf(configuration), {"", configuration.name});
  if (!object.ok()) return object.status().WithContext("reading " + configuration.ToString());
  const nlohmann::json& metadata = object->value("metadata", nlohmann::json::object());
  if (!metadata.is_object() || !metadata.contains("uid") || !metadata["uid"].is_string()) {
    return DataLossError(configuration.ToString() + " has no metadata.uid");
  }
  return nlohmann::json{{"apiVersion", "admissionregistration.k8s.io/v1"},
                        {"kind", configuration.mutating ? "MutatingWebhookConfiguration"
                                                        : "ValidatingWebhookConfiguration"},
                        {"name", configuration.name},
                        {"uid", metadata["uid"]}};
}

namespace {

// True when `bundle` (a caBundle field: base64 of PEM) holds `ca`.
bool BundleTrusts(const nlohmann::json& bundle, X509* ca) {
  if (!bundle.is_string()) return false;
  auto pem = base::Base64Decode(bundle.get<std::string>());
  if (!pem.ok()) return false;
  for (const X509Ptr& trusted : ParseCertificatesPem(*pem)) {
    if (X509_cmp(trusted.get(), ca) == 0) return true;
  }
  return false;
}

}  // namespace

StatusOr<bool> InjectCaBundle(kube::KubeClient& client,
                              const WebhookConfigurationRef& configuration,
                              std::string_view ca_pem) {
  auto signer = ParseCertificatePem(ca_pem);
  if (!signer.ok()) return InvalidArgumentError("the CA bundle to set holds no certificate");
  const std::string bundle = base::Base64Encode(ca_pem);
  const kube::GroupVersionResource resource = ResourceOf(configuration);
  for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
    auto object = client.Get(resource, {"", configuration.name});
    if (!object.ok()) return object.status().WithContext("reading " + configuration.ToString());
    if (!object->contains("webhooks") || !(*object)["webhooks"].is_array()) return false;
    bool changed = false;
    for (nlohmann::json& webhook : (*object)["webhooks"]) {
      if (!webhook.is_object()) continue;
      nlohmann::json& client_config = webhook["clientConfig"];
      if (!client_config.is_object()) client_config = nlohmann::json::object();
      // Already trusting our CA: left alone, so that a replica that has not yet read a renewal
      // never takes the renewed CA another replica added out of the bundle.
      if (!BundleTrusts(client_config.value("caBundle", nlohmann::json()), signer->get())) {
        client_config["caBundle"] = bundle;
        changed = true;
      }
    }
    if (!changed) return false;
    auto updated = client.Update(resource, {"", configuration.name}, *object,
                                 {.field_manager = kFieldManager});
    if (updated.ok()) return true;
    if (updated.status().code() != StatusCode::kAborted) {
      return updated.status().WithContext("setting the caBundle of " + configuration.ToString());
    }
  }
  return AbortedError(configuration.ToString() +
                      " kept changing while its caBundle was set; retry");
}

}  // namespace ephemera::certificates
