// Plain request/response values for the controller's HTTP endpoints (/metrics, /healthz, /readyz,
// admission webhooks), and routing by path. No network library here: handlers are pure functions
// that tests call directly.
#ifndef EPHEMERA_CONTROLLER_HTTPSERVER_HTTP_HANDLER_H_
#define EPHEMERA_CONTROLLER_HTTPSERVER_HTTP_HANDLER_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::httpserver {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // "/healthz" (as sent, percent-encoding kept)
  std::string query;                           // "timeout=10s" (without '?', as sent)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  // HTTPS with client certificates (HttpServerOptions::client_cert_mode): true when the client
  // presented a certificate that verified against the configured client CA bundle; always false
  // for plain HTTP and for clients without a certificate.
  bool client_verified = false;
  // The verified client certificate's subject CN (UTF-8), or "" when client_verified is false or
  // the subject has no CN.
  std::string client_common_name{};

  // The header's value, or "" when absent. `name` is matched case-insensitively.
  std::string Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called concurrently from the server's threads: must be thread safe, must not throw (the server
// turns an escaping exception into a 500), and should return quickly.
using HttpHandler = std::function<HttpResponse(const HttpRequest& request)>;

// Exact-path routes.
using Routes = std::map<std::string, HttpHandler, std::less<>>;

// The handler's response for request.path, or 404 (text) when no route matches.
HttpResponse RouteRequest(const Routes& routes, const HttpRequest& request);

// Splits "host:port" for binding: "" host (":8080") = all IPv4 interfaces (0.0.0.0); IPv6 in
// brackets ("[::1]:8443"); port 0..65535 (0 = pick a free port). kInvalidArgument otherwise.
struct BindAddress {
  std::string host;
  int port = 0;
};
StatusOr<BindAddress> ParseBindAddress(std::string_view address);

}  // namespace ephemera::httpserver

#endif  // EPHEMERA_CONTROLLER_HTTPSERVER_HTTP_HANDLER_H_
