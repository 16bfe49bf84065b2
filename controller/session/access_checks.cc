#include "controller/session/access_checks.h"

#include <utility>

namespace ephemera::session {

std::vector<AccessCheck> AccessChecksFor(const DebugSession& session) {
  const Requester& who = *session.spec.requested_by;
  auto check = [&](kube::ResourceAttributes attributes, std::string description) {
    return AccessCheck{
        kube::AccessReviewRequest{who.username, who.uid, who.groups, {}, std::move(attributes)},
        std::move(description)};
  };
  const std::string& ns = session.key.namespace_name;
  std::vector<AccessCheck> checks;
  checks.push_back(check({ns, "get", "", "v1", "pods", "", session.spec.pod},
                         "get pods/" + session.spec.pod + " in namespace " + ns));
  if (session.spec.profile == Profile::kPtrace) {
    checks.push_back(check({ns, "use", "ephemera.dev", "", "debugprofiles", "", "ptrace"},
                           "use debugprofiles/ptrace (ephemera.dev) in namespace " + ns));
  }
  return checks;
}

}  // namespace ephemera::session
