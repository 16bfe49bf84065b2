// The rights a requester must hold for a DebugSession, as SubjectAccessReview requests (pure).
//
// The controller asks the API server whether the REQUESTER (not the controller) may do these, so it
// never acts as a confused deputy: `get` on the target pod, and for the ptrace profile the verb
// `use` on debugprofiles/ptrace in ephemera.dev, an RBAC grant cluster admins control.
#ifndef EPHEMERA_CONTROLLER_SESSION_ACCESS_CHECKS_H_
#define EPHEMERA_CONTROLLER_SESSION_ACCESS_CHECKS_H_

#include <string>
#include <vector>

#include "controller/kube/access_review.h"
#include "controller/session/debug_session.h"

namespace ephemera::session {

struct AccessCheck {
  kube::AccessReviewRequest request;
  std::string description;  // "get pods/shop-1 in namespace team-a", for the denial message
};

// Precondition: session.spec.requested_by is set.
std::vector<AccessCheck> AccessChecksFor(const DebugSession& session);

struct AccessDecision {
  bool allowed = false;
  std::string reason;   // Allowed, Forbidden
  std::string message;  // "alice may not get pods/shop-1 in namespace team-a"
};

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_ACCESS_CHECKS_H_
