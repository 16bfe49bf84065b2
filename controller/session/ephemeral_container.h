// BuildEphemeralContainer: the spec of the snapshot container the controller adds to a target pod.
//
// Nothing sensitive may ever appear here: the entry stays in the pod until the pod is deleted,
// visible to anyone who can read pods. Only the session's public key, section names, env variable
// NAMES and redaction prefixes go into the args. Pure.
#ifndef EPHEMERA_CONTROLLER_SESSION_EPHEMERAL_CONTAINER_H_
#define EPHEMERA_CONTROLLER_SESSION_EPHEMERAL_CONTAINER_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/debug_session.h"
#include "base/status.h"
#include "controller/session/pod_view.h"
#include "controller/session/policy.h"

namespace ephemera::session {

// FailedPrecondition when the restricted profile cannot know which user to run as (the target's
// UID is needed to read its /proc entries without capabilities).
StatusOr<nlohmann::json> BuildEphemeralContainer(const api::DebugSession& session,
                                                 const PodView& pod,
                                                 const std::string& target_container,
                                                 const Policy& policy,
                                                 const std::string& session_recipient);

// Which spec.redaction.allowEnv entries the snapshot tool may honour on `pod` (review M2: allowEnv
// must never reveal a Secret). Not honoured, so the values stay "[REDACTED]":
//   - every entry, when any container takes a whole Secret through envFrom[].secretRef: the
//     controller does not read Secrets, so any name could be one of its keys;
//   - an entry that matches (a prefix entry "DB_*": covers) a name that any container or init
//     container fills from a Secret through valueFrom.secretKeyRef;
//   - an entry whose name looks like a secret's to the redactor (password, token, api key, ...).
// `note` is one sentence for the session's Injected condition and audit record, "" when every
// entry is honoured.
struct AllowEnvFilter {
  std::vector<std::string> shown;    // passed to the tool as --allow-env
  std::vector<std::string> refused;  // left out
  std::string note;
};
AllowEnvFilter FilterAllowEnv(const std::vector<std::string>& allow_env, const PodView& pod);

// The strategic-merge patch for pods/ephemeralcontainers that adds `container`.
nlohmann::json EphemeralContainerPatch(const nlohmann::json& container);

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_EPHEMERAL_CONTAINER_H_
