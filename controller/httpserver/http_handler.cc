#include "controller/httpserver/http_handler.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/host_port.h"

namespace ephemera::httpserver {

std::string HttpRequest::Header(std::string_view name) const {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto it = headers.find(lower);
  return it == headers.end() ? std::string() : it->second;
}

HttpResponse RouteRequest(const Routes& routes, const HttpRequest& request) {
  auto it = routes.find(request.path);
  if (it == routes.end()) {
    return HttpResponse{
        .status = 404, .content_type = "text/plain; charset=utf-8", .body = "404 page not found\n"};
  }
  return it->second(request);
}

StatusOr<BindAddress> ParseBindAddress(std::string_view address) {
  auto parsed = base::ParseHostPort(address);
  if (!parsed.ok()) return parsed.status().WithContext("bind address");
  return BindAddress{parsed->host.empty() ? "0.0.0.0" : parsed->host, parsed->port};
}

}  // namespace ephemera::httpserver
