// PolicyFrom: the cluster policy the controller enforces (session::Policy), from the policy part
// of its configuration. Pure.
#ifndef EPHEMERA_CONTROLLER_APP_POLICY_H_
#define EPHEMERA_CONTROLLER_APP_POLICY_H_

#include "base/status.h"
#include "controller/config/controller_config.h"
#include "controller/session/policy.h"

namespace ephemera::app {

// The policy of `config`: its policy settings and its snapshot image. Every mode written as a
// string must be one the controller knows; an unknown one is never mapped to a default.
// Errors: kInvalidArgument naming the setting, the value and the values it may take, e.g.
//   policy.allowedProfiles: unknown value "debug"; allowed: restricted, ptrace
// (ValidateControllerConfig already refuses these, with the value's origin; this is the last
// line before the strings become enums).
StatusOr<session::Policy> PolicyFrom(const config::ControllerConfig& config);

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_POLICY_H_
