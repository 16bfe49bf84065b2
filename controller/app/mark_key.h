// WaitForMarkKey: the controller's mark key (detection/mark_key.h), retried until the API server
// answers. Every replica needs it: the leader marks what it injects, and all replicas answer the
// pods/ephemeralcontainers webhook.
#ifndef EPHEMERA_CONTROLLER_APP_MARK_KEY_H_
#define EPHEMERA_CONTROLLER_APP_MARK_KEY_H_

#include <optional>
#include <stop_token>
#include <string>

#include "base/clock.h"
#include "controller/logging/logger.h"
#include "kube/client/kube_client.h"

namespace ephemera::app {

// Reads (or creates) the mark key in `namespace_name`. After a failure it logs a warning and
// waits attempt seconds (at most 10) on `clock` before the next attempt: the API server may still
// be starting. nullopt only when `stop` was requested before a key was read.
std::optional<std::string> WaitForMarkKey(kube::KubeClient& client, base::Clock& clock,
                                          const std::string& namespace_name,
                                          const logging::Logger& logger,
                                          const std::stop_token& stop);

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_MARK_KEY_H_
