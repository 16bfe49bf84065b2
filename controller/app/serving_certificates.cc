#include "controller/app/serving_certificates.h"

#include <algorithm>
#include <optional>

#include "controller/certificates/certificate_files.h"
#include "controller/certificates/certificate_secret.h"

namespace ephemera::app {

std::vector<std::string> ServiceDnsNames(const std::string& service,
                                         const std::string& namespace_name) {
  return {service + "." + namespace_name + ".svc",
          service + "." + namespace_name + ".svc.cluster.local", service,
          service + "." + namespace_name};
}

CertificateKeeper::CertificateKeeper(kube::KubeClient& client, base::Clock& clock,
                                     const config::ControllerConfig& config,
                                     const logging::Logger& logger)
    : client_(client), clock_(clock), config_(config), logger_(logger) {}

bool CertificateKeeper::Enabled() const {
  return !config_.certificates.webhook_secret.empty() ||
         !config_.certificates.metrics_secret.empty();
}

Status CertificateKeeper::SyncOnce() {
  const config::CertificateSettings& settings = config_.certificates;
  const std::string& ns = config_.namespace_name;
  std::vector<certificates::WebhookConfigurationRef> configurations;
  for (const std::string& text : settings.webhook_configurations) {
    auto parsed = certificates::ParseWebhookConfigurationRef(text);
    if (!parsed.ok()) return parsed.status();
    configurations.push_back(std::move(*parsed));
  }
  // The first configuration owns the Secrets: uninstalling the webhooks removes them too. When it
  // is missing the Secrets are made without an owner (they are only certificates: made again when
  // needed).
  std::optional<nlohmann::json> owner;
  if (!configurations.empty()) {
    auto reference = certificates::OwnerReferenceTo(client_, configurations.front());
    if (reference.ok()) {
      owner = std::move(*reference);
    } else if (reference.status().code() != StatusCode::kNotFound) {
      return reference.status();
    }
  }
  const auto keep = [&](const std::string& secret, const std::string& service,
                        std::vector<std::string> names) {
    return certificates::EnsureServingSecret(client_,
                                             {.secret = {ns, secret},
                                              .common_name = service + "." + ns + ".svc",
                                              .names = std::move(names),
                                              .validity = settings.validity},
                                             clock_.Now(), owner);
  };
  if (!settings.webhook_secret.empty()) {
    auto certificate = keep(settings.webhook_secret, settings.webhook_service,
                            ServiceDnsNames(settings.webhook_service, ns));
    if (!certificate.ok()) return certificate.status();
    for (const certificates::WebhookConfigurationRef& configuration : configurations) {
      auto injected = certificates::InjectCaBundle(client_, configuration, certificate->ca_pem);
      if (!injected.ok() && injected.status().code() == StatusCode::kNotFound) {
        logger_.Warn("Webhook configuration not found; its caBundle is set once it exists",
                     {{"configuration", configuration.ToString()}});
        continue;
      }
      if (!injected.ok()) return injected.status();
      if (*injected) {
        logger_.Info("Set the webhooks' CA bundle", {{"configuration", configuration.ToString()}});
      }
    }
    EPHEMERA_RETURN_IF_ERROR(
        certificates::WriteServingFiles(config_.webhook_cert_dir, *certificate));
  }
  if (!settings.metrics_secret.empty()) {
    std::vector<std::string> names = ServiceDnsNames(settings.metrics_service, ns);
    names.insert(names.end(), {"localhost", "127.0.0.1"});
    auto certificate = keep(settings.metrics_secret, settings.metrics_service, std::move(names));
    if (!certificate.ok()) return certificate.status();
    EPHEMERA_RETURN_IF_ERROR(
        certificates::WriteServingFiles(config_.metrics_cert_dir, *certificate));
  }
  return OkStatus();
}

bool CertificateKeeper::WaitUntilSynced(const std::stop_token& stop) {
  for (int attempt = 1; !stop.stop_requested(); ++attempt) {
    const Status synced = SyncOnce();
    if (synced.ok()) return true;
    logger_.Warn("Cannot set up the serving certificates; retrying",
                 {{"attempt", attempt}, {"error", synced}});
    clock_.SleepFor(std::chrono::seconds(std::min(attempt, 10)), stop);
  }
  return false;
}

void CertificateKeeper::Run(const std::stop_token& stop, std::chrono::seconds period) {
  while (clock_.SleepFor(period, stop)) {
    const Status synced = SyncOnce();
    if (!synced.ok()) {
      logger_.Warn(
          "Cannot keep the serving certificates up to date; the servers keep the ones "
          "they have",
          {{"error", synced}});
    }
  }
}

}  // namespace ephemera::app
