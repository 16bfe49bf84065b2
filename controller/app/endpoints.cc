#include "controller/app/endpoints.h"

#include <chrono>
#include <filesystem>
#include <system_error>
#include <utility>

#include "controller/metrics/scrape_authorizer.h"
#include "controller/metrics/self_signed_certificate.h"

namespace ephemera::app {

StatusOr<std::unique_ptr<httpserver::HttpServer>> Serve(httpserver::HttpServerOptions options,
                                                        const httpserver::Routes& routes) {
  auto server = std::make_unique<httpserver::HttpServer>(std::move(options));
  for (const auto& [path, handler] : routes) server->Handle(path, handler);
  if (Status s = server->Start(); !s.ok()) return s;
  return server;
}

httpserver::HttpServerOptions ProbeServerOptions(std::string address) {
  httpserver::HttpServerOptions options;
  options.address = std::move(address);
  options.max_body_bytes = 4 << 10;
  options.max_connections = 16;
  return options;
}

StatusOr<std::unique_ptr<MetricsCertificate>> MetricsCertificate::For(
    const std::string& cert_dir, const std::string& temp_root) {
  if (!cert_dir.empty()) {
    return std::unique_ptr<MetricsCertificate>(
        new MetricsCertificate({cert_dir + "/tls.crt", cert_dir + "/tls.key"}, ""));
  }
  auto made = metrics::WriteSelfSignedCertificate(temp_root, {}, std::chrono::hours(24 * 365));
  if (!made.ok()) return made.status();
  return std::unique_ptr<MetricsCertificate>(
      new MetricsCertificate({made->cert_file, made->key_file}, made->dir));
}

MetricsCertificate::MetricsCertificate(httpserver::TlsFiles files, std::string made_dir)
    : files_(std::move(files)), made_dir_(std::move(made_dir)) {}

MetricsCertificate::~MetricsCertificate() {
  std::error_code ignored;
  if (!made_dir_.empty()) std::filesystem::remove_all(made_dir_, ignored);
}

httpserver::HttpServerOptions MetricsServerOptions(std::string address, httpserver::TlsFiles tls) {
  httpserver::HttpServerOptions options;
  options.address = std::move(address);
  options.tls = std::move(tls);
  options.max_body_bytes = 4 << 10;
  return options;
}

httpserver::Routes MetricsRoutes(const metrics::Registry& registry, kube::KubeClient& client,
                                 base::Clock& clock, const logging::Logger& logger) {
  auto authorizer = std::make_shared<metrics::ScrapeAuthorizer>(
      client, clock,
      metrics::ScrapeAuthorizerOptions{
          .on_api_error = [logger](std::string_view review, const Status& error) {
            logger.Warn("Cannot check a /metrics scrape with the API server",
                        {{"review", review}, {"error", error}});
          }});
  httpserver::Routes routes;
  routes["/metrics"] = metrics::RequireScrapeAuthorization(
      std::move(authorizer), [&registry](const httpserver::HttpRequest&) {
        return httpserver::HttpResponse{200, std::string(metrics::Registry::kContentType),
                                        registry.RenderPrometheusText()};
      });
  return routes;
}

}  // namespace ephemera::app
