// The kubelet's probes: /healthz (the process answers) and /readyz (this replica can do its part).
// Pure: the handlers read the signals through a function and never block.
#ifndef EPHEMERA_CONTROLLER_APP_READINESS_H_
#define EPHEMERA_CONTROLLER_APP_READINESS_H_

#include <functional>

#include "controller/httpserver/http_handler.h"

namespace ephemera::app {

// What readiness depends on, read when the probe comes.
struct ReadinessSignals {
  bool serving_webhooks = false;  // the admission webhooks answer (or none are configured)
  bool leading = false;           // this replica leads and runs the control loop
  bool cache_synced = false;      // the control loop's DebugSession cache has synced
  bool strict_audit = false;      // the policy's strict audit
  bool audit_healthy = false;     // the audit sink took the last record (AuditLog::Healthy)
};

// Ready when the webhooks can be answered; a leader must also have synced its cache. With strict
// audit, not ready while the audit sink fails, so that admission (failurePolicy Fail) refuses new
// sessions too.
bool IsReady(const ReadinessSignals& signals);

// "/healthz": always 200 "ok". "/readyz": 200 "ok" when IsReady(read()), else 503 "not ready".
// `read` is called on the server's threads: it must be thread safe and quick.
httpserver::Routes ProbeRoutes(std::function<ReadinessSignals()> read);

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_READINESS_H_
