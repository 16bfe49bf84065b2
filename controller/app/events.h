// EventRecorderOptionsFor: how this controller's Kubernetes Events are sent
// (kube/event_recorder.h): in the background, on the API budget the control loop leaves over, so
// they never hold up a session.
#ifndef EPHEMERA_CONTROLLER_APP_EVENTS_H_
#define EPHEMERA_CONTROLLER_APP_EVENTS_H_

#include <string_view>

#include "controller/logging/logger.h"
#include "kube/client/event_recorder.h"

namespace ephemera::app {

inline constexpr std::string_view kReportingController = "ephemera.dev/ephemera-controller";

// Reported by kReportingController and the replica `identity` (its first 128 bytes, the API's
// limit); an Event the API server refuses is logged with `logger` ("Cannot record event").
kube::EventRecorderOptions EventRecorderOptionsFor(std::string_view identity,
                                                   logging::Logger logger);

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_EVENTS_H_
