// The rights a requester must hold for a DebugSession, as SubjectAccessReview requests (pure).
//
// The controller asks the API server whether the REQUESTER (not the controller) may do these, so it
// never acts as a confused deputy: `get` on the target pod, and for the ptrace profile the verb
// `use` on debugprofiles/ptrace in ephemera.dev, an RBAC grant cluster admins control. When the
// cluster policy makes the controller act on the pod for the session, the requester must hold that
// right too: `patch` on the pod under annotateDebuggedPods, `delete` under recycleDebuggedPods.
// A target that shares the node's namespaces (hostPID, hostIPC, hostNetwork) or a privileged
// container also needs `use` on debugprofiles/host in ephemera.dev, asked cluster-scoped (no
// namespace): a grant per namespace would let a namespace admin hand out node-wide reach. Asked
// only when the policy allows such targets at all (otherwise the planner refuses them).
// Every review carries the requester's whole userInfo as admission recorded it (username, uid,
// groups, extra).
#ifndef EPHEMERA_CONTROLLER_SESSION_ACCESS_CHECKS_H_
#define EPHEMERA_CONTROLLER_SESSION_ACCESS_CHECKS_H_

#include <string>
#include <string_view>
#include <vector>

#include "api/debug_session.h"
#include "controller/session/pod_view.h"
#include "controller/session/policy.h"
#include "kube/object/access_review.h"

namespace ephemera::session {

struct AccessCheck {
  kube::AccessReviewRequest request;
  std::string description;  // "get pods/shop-1 in namespace team-a", for the denial message
  // Why the right is needed when a cluster policy asks for it, e.g. "the cluster policy
  // recycleDebuggedPods deletes the debugged pod when the session ends"; empty otherwise.
  std::string required_by;
};

// Precondition: session.spec.requested_by is set. `pod` is the target pod when known: the
// debugprofiles/host check depends on it (the planner never injects without a fresh decision made
// with the pod in view).
std::vector<AccessCheck> AccessChecksFor(const api::DebugSession& session, const Policy& policy,
                                         const PodView* pod = nullptr);

struct AccessDecision {
  bool allowed = false;
  std::string reason;   // Allowed, Forbidden
  std::string message;  // "alice may not get pods/shop-1 in namespace team-a"
};

// The sentence for a refused check: "carol may not delete pods/shop-1 in namespace team-a, which
// the cluster policy recycleDebuggedPods requires (...) (<authorizer's reason>)".
std::string AccessDeniedMessage(std::string_view user, const AccessCheck& check,
                                std::string_view authorizer_reason);

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_ACCESS_CHECKS_H_
