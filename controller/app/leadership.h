// RunLeadership: runs the leader's work while this replica leads: under Lease-based leader
// election (leader/leader_elector.h) when it is enabled, else at once until stopped.
#ifndef EPHEMERA_CONTROLLER_APP_LEADERSHIP_H_
#define EPHEMERA_CONTROLLER_APP_LEADERSHIP_H_

#include <functional>
#include <stop_token>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "controller/config/controller_config.h"
#include "controller/logging/logger.h"
#include "controller/metrics/registry.h"
#include "kube/client/kube_client.h"

namespace ephemera::app {

// Blocks until `stop` (or, under election, until leadership is lost). `lead` runs each time this
// replica becomes leader, with a stop_token requested when leadership ends; it must return
// promptly then. `leader` is set to 1 while leading and to 0 after. The Lease is
// `election.lease_name` in `namespace_name`, held as `identity`. Logs "Became leader" and
// "Stopped leading".
// Returns OK when stopped; the elector's error otherwise (kAborted: leadership lost;
// kInvalidArgument: bad timings).
Status RunLeadership(kube::KubeClient& client, base::Clock& clock,
                     const config::LeaderElectionSettings& election,
                     const std::string& namespace_name, const std::string& identity,
                     metrics::Gauge& leader, const logging::Logger& logger,
                     const std::stop_token& stop,
                     const std::function<void(const std::stop_token&)>& lead);

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_LEADERSHIP_H_
