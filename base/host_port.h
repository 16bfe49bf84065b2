// Listening addresses as people write them in flags and YAML: "host:port".
#ifndef EPHEMERA_BASE_HOST_PORT_H_
#define EPHEMERA_BASE_HOST_PORT_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::base {

struct HostPort {
  std::string host;  // "" = all interfaces; an IPv6 address without its brackets
  int port = 0;
};

// Splits "host:port" (":8080" for all interfaces, "[::1]:8080" for IPv6); the port is 0..65535.
// InvalidArgument, with examples, for anything else.
StatusOr<HostPort> ParseHostPort(std::string_view address);

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_HOST_PORT_H_
