// The controller's own serving certificates (certificates.mode controller), kept where every
// replica finds them: a kubernetes.io/tls Secret in the controller's namespace (ca.crt, tls.crt,
// tls.key), made when missing or no longer usable, and the CA set as caBundle of the webhook
// configurations that call the controller. So the chart renders no certificate (GitOps tools render
// the same manifests on every sync) and needs no cert-manager.
//
// Several replicas may run this at once: a create or update that loses the race (409) is followed
// by a read of the winner's Secret, so all serve the same certificate.
#ifndef EPHEMERA_CONTROLLER_CERTIFICATES_CERTIFICATE_SECRET_H_
#define EPHEMERA_CONTROLLER_CERTIFICATES_CERTIFICATE_SECRET_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "controller/certificates/serving_certificate.h"
#include "kube/client/kube_client.h"

namespace ephemera::certificates {

struct ServingSecret {
  kube::ObjectKey secret;           // in the controller's namespace
  std::string common_name;          // the certificate's subject (its CA adds " CA")
  std::vector<std::string> names;   // DNS names and addresses it serves
  std::chrono::seconds validity{};  // of a new CA and certificate; renewed with a third left
};

// A webhook configuration the controller serves: "mutating/NAME" or "validating/NAME".
struct WebhookConfigurationRef {
  bool mutating = true;
  std::string name;

  std::string ToString() const;  // as parsed
};
// kInvalidArgument naming the expected form.
StatusOr<WebhookConfigurationRef> ParseWebhookConfigurationRef(std::string_view text);

// The certificate in `spec.secret`, made anew when the Secret is missing or its certificate cannot
// serve spec.names for a third of spec.validity more (CheckServingCertificate). A renewed ca.crt
// keeps the old CA after the new one while the old is still valid, so a client given the old
// bundle keeps trusting replicas that have not reloaded yet. A created Secret carries
// `owner_reference` when given (the webhook configuration: an uninstall that deletes it takes the
// Secret along). A Secret of that name that is not of type kubernetes.io/tls, or is immutable, is
// deleted and made anew (neither can change in place). Errors from the API server are returned
// with context; nothing secret is in them.
StatusOr<ServingCertificate> EnsureServingSecret(
    kube::KubeClient& client, const ServingSecret& spec, std::chrono::system_clock::time_point now,
    const std::optional<nlohmann::json>& owner_reference);

// An ownerReference to the webhook configuration (kNotFound when it does not exist).
StatusOr<nlohmann::json> OwnerReferenceTo(kube::KubeClient& client,
                                          const WebhookConfigurationRef& configuration);

// Sets `ca_pem` as clientConfig.caBundle of every webhook in the configuration whose bundle does
// not already hold the first certificate of `ca_pem` (the CA that signs what is served): a bundle
// that trusts it is left alone, so that a replica with an older view never removes a CA that a
// renewal by another replica added. True when it wrote; retries a conflicting write with a fresh
// read, up to 5 times; kInvalidArgument when `ca_pem` holds no certificate.
StatusOr<bool> InjectCaBundle(kube::KubeClient& client,
                              const WebhookConfigurationRef& configuration,
                              std::string_view ca_pem);

}  // namespace ephemera::certificates

#endif  // EPHEMERA_CONTROLLER_CERTIFICATES_CERTIFICATE_SECRET_H_
