#include "controller/httpserver/http_handler.h"

#include <algorithm>
#include <cctype>
#include <charconv>

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
  auto invalid = [&] {
    return InvalidArgumentError("bind address \"" + std::string(address) +
                                "\" must be host:port with a port 0..65535, e.g. :8080, "
                                "127.0.0.1:0 or [::1]:8443");
  };
  BindAddress result;
  std::string_view port;
  if (address.starts_with("[")) {
    const std::size_t close = address.find("]:");
    if (close == std::string_view::npos) return invalid();
    result.host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    const std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return invalid();
    result.host = std::string(address.substr(0, colon));
    if (result.host.find(':') != std::string::npos) return invalid();
    port = address.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid();
  }
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), result.port);
  if (ec != std::errc() || end != port.data() + port.size() || result.port > 65535) {
    return invalid();
  }
  if (result.host.empty()) result.host = "0.0.0.0";
  return result;
}

}  // namespace ephemera::httpserver
