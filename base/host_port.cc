#include "base/host_port.h"

#include <algorithm>
#include <charconv>

namespace ephemera::base {

StatusOr<HostPort> ParseHostPort(std::string_view address) {
  auto invalid = [&] {
    return InvalidArgumentError("address \"" + std::string(address) +
                                "\" must be host:port with a port 0..65535, e.g. :8080, "
                                "127.0.0.1:8080 or [::1]:8080");
  };
  HostPort result;
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
    if (result.host.find(':') != std::string::npos) return invalid();  // IPv6 needs brackets
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
  return result;
}

}  // namespace ephemera::base
