// BuildEphemeralContainer: the spec of the snapshot container the controller adds to a target pod.
//
// Nothing sensitive may ever appear here: the entry stays in the pod until the pod is deleted,
// visible to anyone who can read pods. Only the session's public key, section names, env variable
// NAMES and redaction prefixes go into the args. Pure.
#ifndef EPHEMERA_CONTROLLER_SESSION_EPHEMERAL_CONTAINER_H_
#define EPHEMERA_CONTROLLER_SESSION_EPHEMERAL_CONTAINER_H_

#include <nlohmann/json.hpp>
#include <string>

#include "controller/session/debug_session.h"
#include "controller/session/pod_view.h"
#include "controller/session/policy.h"
#include "status/status.h"

namespace ephemera::session {

// FailedPrecondition when the restricted profile cannot know which user to run as (the target's
// UID is needed to read its /proc entries without capabilities).
StatusOr<nlohmann::json> BuildEphemeralContainer(const DebugSession& session, const PodView& pod,
                                                 const std::string& target_container,
                                                 const Policy& policy,
                                                 const std::string& session_recipient);

// The strategic-merge patch for pods/ephemeralcontainers that adds `container`.
nlohmann::json EphemeralContainerPatch(const nlohmann::json& container);

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_EPHEMERAL_CONTAINER_H_
