// Policy: the cluster's rules for debug sessions (namespaces, TTLs, profiles, the snapshot image).
// Loaded by the controller's configuration; read by the pure planner. Pure values.
#ifndef EPHEMERA_CONTROLLER_SESSION_POLICY_H_
#define EPHEMERA_CONTROLLER_SESSION_POLICY_H_

#include <chrono>
#include <string>
#include <vector>

#include "controller/session/debug_session.h"

namespace ephemera::session {

struct Policy {
  std::vector<std::string> allowed_namespaces;    // empty: every namespace not forbidden
  std::vector<std::string> forbidden_namespaces;  // always wins
  std::chrono::seconds max_ttl{3600};
  std::vector<Profile> allowed_profiles{Profile::kRestricted, Profile::kPtrace};
  std::string snapshot_image;  // pinned by digest in production
  // The snapshot tool's own hard deadline; the controller gives up on a container that outlives
  // it by `tool_grace`.
  std::chrono::seconds tool_deadline{20};
  std::chrono::seconds tool_grace{40};
  // How long a session may wait for its target container to be running.
  std::chrono::seconds target_wait{60};
  std::int64_t max_snapshot_log_bytes = std::int64_t{2} * 1024 * 1024;
};

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_POLICY_H_
