#include "controller/session/access_checks.h"

#include <utility>

namespace ephemera::session {

std::vector<AccessCheck> AccessChecksFor(const api::DebugSession& session, const Policy& policy,
                                         const PodView* target_pod) {
  const api::Requester& who = *session.spec.requested_by;
  auto check = [&](kube::ResourceAttributes attributes, std::string description,
                   std::string required_by = {}) {
    return AccessCheck{kube::AccessReviewRequest{who.username, who.uid, who.groups, who.extra,
                                                 std::move(attributes)},
                       std::move(description), std::move(required_by)};
  };
  const std::string& ns = session.key.namespace_name;
  const std::string& pod = session.spec.pod;
  std::vector<AccessCheck> checks;
  checks.push_back(
      check({ns, "get", "", "v1", "pods", "", pod}, "get pods/" + pod + " in namespace " + ns));
  if (session.spec.profile == api::Profile::kPtrace) {
    checks.push_back(check({ns, "use", "ephemera.dev", "", "debugprofiles", "", "ptrace"},
                           "use debugprofiles/ptrace (ephemera.dev) in namespace " + ns));
  }
  // The log is read with the controller's own right to pods/log: the requester must hold that
  // right, or the cluster's stand-in for it (docs/decisions/log-pull.md).
  if (session.spec.WantsLogs()) {
    if (policy.logs.access == LogAccess::kDebugProfile) {
      checks.push_back(check({ns, "use", "ephemera.dev", "", "debugprofiles", "", "logs"},
                             "use debugprofiles/logs (ephemera.dev) in namespace " + ns,
                             "the session captures logs and the cluster policy logs.access is "
                             "debugProfile"));
    } else {
      checks.push_back(check({ns, "get", "", "v1", "pods", "log", pod},
                             "get pods/log of " + pod + " in namespace " + ns,
                             "the session captures logs"));
    }
  }
  // Under hostNamespaces: deny the planner refuses such a target outright, with the policy's reason
  // (asking first would make the refusal read as a missing grant).
  if (target_pod != nullptr && policy.allow_host_namespaces) {
    const std::string container =
        session.spec.container.empty() ? target_pod->default_container : session.spec.container;
    std::vector<std::string> settings = target_pod->HostSettings(container);
    if (!settings.empty()) {
      std::string joined;
      for (const std::string& setting : settings) joined += (joined.empty() ? "" : ", ") + setting;
      checks.push_back(check({"", "use", "ephemera.dev", "", "debugprofiles", "", "host"},
                             "use debugprofiles/host (ephemera.dev, cluster-wide)",
                             "pod " + target_pod->name + " shares the node's namespaces or runs " +
                                 "privileged (" + joined + ")"));
    }
  }
  // The controller patches or deletes the pod with its own rights; without these checks a
  // requester who may only read a pod could have it annotated or deleted (a confused deputy).
  // Recycling touches owned pods only, but whether the pod is owned can change before the session
  // ends (the same name, a new pod), so the right is asked for whenever the policy is on.
  if (policy.annotate_debugged_pods) {
    checks.push_back(check({ns, "patch", "", "v1", "pods", "", pod},
                           "patch pods/" + pod + " in namespace " + ns,
                           "the cluster policy annotateDebuggedPods annotates the debugged pod"));
  }
  if (policy.recycle_debugged_pods) {
    checks.push_back(check(
        {ns, "delete", "", "v1", "pods", "", pod}, "delete pods/" + pod + " in namespace " + ns,
        "the cluster policy recycleDebuggedPods deletes the debugged pod when the session "
        "ends"));
  }
  return checks;
}

std::string AccessDeniedMessage(std::string_view user, const AccessCheck& check,
                                std::string_view authorizer_reason) {
  std::string message = std::string(user) + " may not " + check.description;
  if (!check.required_by.empty()) message += ", which is required because " + check.required_by;
  if (!authorizer_reason.empty()) message += " (" + std::string(authorizer_reason) + ")";
  return message;
}

}  // namespace ephemera::session
