// The controller's HTTP endpoints besides the webhooks: the kubelet's probes and /metrics, and
// starting a server for a set of routes.
//
//   probes    plain HTTP, open: /healthz, /readyz (readiness.h). Probes carry no body and come
//             from the kubelet, so requests are kept small.
//   /metrics  HTTPS, and only for bearer tokens whose identity the API server allows to get
//             /metrics (metrics/scrape_authorizer.h). GET only: a body is never needed, and one is
//             read before the token is checked.
#ifndef EPHEMERA_CONTROLLER_APP_ENDPOINTS_H_
#define EPHEMERA_CONTROLLER_APP_ENDPOINTS_H_

#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "controller/httpserver/http_handler.h"
#include "controller/httpserver/http_server.h"
#include "controller/logging/logger.h"
#include "controller/metrics/registry.h"
#include "kube/client/kube_client.h"

namespace ephemera::app {

// A server for `routes`, started. Errors: HttpServer::Start's (a bad address, a port in use,
// unreadable certificate files).
StatusOr<std::unique_ptr<httpserver::HttpServer>> Serve(httpserver::HttpServerOptions options,
                                                        const httpserver::Routes& routes);

// The probe server's options on `address`.
httpserver::HttpServerOptions ProbeServerOptions(std::string address);

// The certificate /metrics is served with: tls.crt and tls.key in `cert_dir` (metricsCertDir),
// or, when it is "", a self-signed one made now in a private directory under `temp_root`, which
// this object removes when destroyed (however the controller ends).
class MetricsCertificate {
 public:
  // Errors (only when making one): metrics::WriteSelfSignedCertificate's.
  static StatusOr<std::unique_ptr<MetricsCertificate>> For(const std::string& cert_dir,
                                                           const std::string& temp_root);
  ~MetricsCertificate();
  MetricsCertificate(const MetricsCertificate&) = delete;
  MetricsCertificate& operator=(const MetricsCertificate&) = delete;

  const httpserver::TlsFiles& Files() const { return files_; }
  bool IsSelfSigned() const { return !made_dir_.empty(); }

 private:
  MetricsCertificate(httpserver::TlsFiles files, std::string made_dir);

  const httpserver::TlsFiles files_;
  const std::string made_dir_;  // "" when configured
};

// The metrics server's options: HTTPS on `address` with `tls`.
httpserver::HttpServerOptions MetricsServerOptions(std::string address, httpserver::TlsFiles tls);

// "/metrics": the registry's text for authorized scrapers (a ScrapeAuthorizer over `client`,
// whose API errors are logged). Borrows `registry`, `client` and `clock`.
httpserver::Routes MetricsRoutes(const metrics::Registry& registry, kube::KubeClient& client,
                                 base::Clock& clock, const logging::Logger& logger);

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_ENDPOINTS_H_
