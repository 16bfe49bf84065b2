// CertificateKeeper: the chart's certificates.mode controller. Keeps the webhooks' and /metrics'
// serving certificates (certificates/certificate_secret.h) in their Secrets, in the files the
// servers read, and the CA in the webhook configurations' caBundle, in step: once before the
// servers start, then every minute, so that a renewal by another replica, or a configuration
// re-applied without its caBundle (a GitOps sync, a Helm upgrade), is mended within a minute.
#ifndef EPHEMERA_CONTROLLER_APP_SERVING_CERTIFICATES_H_
#define EPHEMERA_CONTROLLER_APP_SERVING_CERTIFICATES_H_

#include <chrono>
#include <stop_token>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "controller/config/controller_config.h"
#include "controller/logging/logger.h"
#include "kube/client/kube_client.h"

namespace ephemera::app {

// The DNS names a Service is reached by from inside the cluster.
std::vector<std::string> ServiceDnsNames(const std::string& service,
                                         const std::string& namespace_name);

class CertificateKeeper {
 public:
  // Borrows all four for its lifetime. Thread safety: one thread at a time.
  CertificateKeeper(kube::KubeClient& client, base::Clock& clock,
                    const config::ControllerConfig& config, const logging::Logger& logger);

  // True when the configuration names a Secret to keep.
  bool Enabled() const;
  // One pass: each Secret made or renewed when needed, the caBundles set, then the files written
  // (so the API server trusts a new certificate before it is served). A webhook configuration
  // that does not exist (deleted by hand during an outage, or not applied yet) is logged and
  // skipped: the servers still start, and the next pass sets its caBundle. Errors name the object
  // and what failed.
  Status SyncOnce();
  // SyncOnce until it succeeds, logging each failure and waiting attempt seconds (at most 10)
  // between tries: the API server may still be starting. False when `stop` came first.
  bool WaitUntilSynced(const std::stop_token& stop);
  // SyncOnce every `period` until `stop`; failures are logged (the servers keep what they have).
  void Run(const std::stop_token& stop, std::chrono::seconds period = std::chrono::minutes(1));

 private:
  kube::KubeClient& client_;
  base::Clock& clock_;
  const config::ControllerConfig& config_;
  const logging::Logger& logger_;
};

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_SERVING_CERTIFICATES_H_
