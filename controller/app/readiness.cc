#include "controller/app/readiness.h"

#include <utility>

namespace ephemera::app {

bool IsReady(const ReadinessSignals& signals) {
  return signals.serving_webhooks && (!signals.leading || signals.cache_synced) &&
         (!signals.strict_audit || signals.audit_healthy);
}

httpserver::Routes ProbeRoutes(std::function<ReadinessSignals()> read) {
  httpserver::Routes routes;
  routes["/healthz"] = [](const httpserver::HttpRequest&) {
    return httpserver::HttpResponse{200, "text/plain", "ok\n"};
  };
  routes["/readyz"] = [read = std::move(read)](const httpserver::HttpRequest&) {
    return IsReady(read()) ? httpserver::HttpResponse{200, "text/plain", "ok\n"}
                           : httpserver::HttpResponse{503, "text/plain", "not ready\n"};
  };
  return routes;
}

}  // namespace ephemera::app
