#include "controller/session/ephemeral_container.h"

#include "api/tool_args.h"
#include "controller/session/overhead_budget.h"
#include "controller/session/planner.h"
#include "redact/redactor.h"

namespace ephemera::session {
namespace {

// Whether the redactor treats `name` as a secret's name: it redacts the value of `name=x` in free
// text exactly when the key looks like a secret (password, token, api key, ...).
bool LooksLikeSecretName(const std::string& name) {
  static const StatusOr<redact::Redactor> redactor = redact::Redactor::Create({});
  if (!redactor.ok()) return true;  // fail closed
  // A value shaped like a credential: the redactor hides some keys' values (ENCRYPTION_KEY,
  // *_SIG) only when they look like one, and a name is secret-looking if any value would be hidden.
  const std::string probe = name + "=Zq7!uR2#pW9xK4$m";
  redact::RedactionReport report;
  StatusOr<std::string> redacted = redactor->RedactText(probe, report);
  return !redacted.ok() || *redacted != probe;
}

bool MatchesAllowEntry(const std::string& entry, const std::string& name) {
  if (!entry.empty() && entry.back() == '*') {
    return name.compare(0, entry.size() - 1, entry, 0, entry.size() - 1) == 0;
  }
  return entry == name;
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) out += (out.empty() ? "" : ", ") + word;
  return out;
}

}  // namespace

using nlohmann::json;

AllowEnvFilter FilterAllowEnv(const std::vector<std::string>& allow_env, const PodView& pod) {
  AllowEnvFilter filter;
  if (allow_env.empty()) return filter;
  if (!pod.env_from_secret_containers.empty()) {
    filter.refused = allow_env;
    filter.note = "spec.redaction.allowEnv is not honoured on pod " + pod.name + ": container " +
                  Join(pod.env_from_secret_containers) +
                  " takes its environment from a whole Secret (envFrom.secretRef), whose "
                  "variable names the controller cannot know, so every value stays redacted";
    return filter;
  }
  std::vector<std::string> reasons;
  for (const std::string& entry : allow_env) {
    std::string why;
    for (const std::string& secret : pod.secret_env) {
      if (MatchesAllowEntry(entry, secret)) {
        why = entry;
        why += " (" + secret + " is filled from a Secret by secretKeyRef)";
        break;
      }
    }
    std::string name = entry;
    if (!name.empty() && name.back() == '*') name.pop_back();
    if (why.empty() && LooksLikeSecretName(name)) why = entry + " (looks like a secret's name)";
    if (why.empty()) {
      filter.shown.push_back(entry);
    } else {
      filter.refused.push_back(entry);
      reasons.push_back(std::move(why));
    }
  }
  if (!reasons.empty()) {
    filter.note = "spec.redaction.allowEnv entries not honoured, their values stay redacted: " +
                  Join(reasons);
  }
  return filter;
}

StatusOr<json> BuildEphemeralContainer(const api::DebugSession& session, const PodView& pod,
                                       const std::string& target_container, const Policy& policy,
                                       const std::string& session_recipient) {
  const ContainerView* target = pod.FindContainer(target_container);
  if (target == nullptr) {
    return FailedPreconditionError("pod " + pod.name + " has no container " + target_container);
  }
  api::ToolArgs tool;
  tool.recipients = {session_recipient};
  tool.profile = session.spec.profile;
  // The session's overhead budget, within the policy's ceilings (checked by the planner): the
  // wall budget is the tool's deadline.
  const EffectiveBudget budget = EffectiveBudgetOf(session.spec.budget, policy.budget);
  tool.deadline = budget.wall;
  tool.cpu_budget = budget.cpu;
  tool.memory_budget_bytes = budget.memory_bytes;
  // The tool captures only the processes in the target container's cgroup (H2). In a pod of its
  // own PID namespace that changes nothing; with shareProcessNamespace or hostPID it keeps the
  // other containers' (or the node's) processes out.
  const bool host = !pod.HostSettings(target_container).empty();
  if (target->container_id.empty() && (host || pod.share_process_namespace)) {
    return FailedPreconditionError(
        "the kubelet has not reported the ID of container " + target_container + " of pod " +
        pod.name + " yet; the snapshot tool needs it to capture only that container's processes");
  }
  tool.container_id = target->container_id;
  if (host && !policy.allow_host_namespaces) {
    return FailedPreconditionError("the cluster policy hostNamespaces does not allow pod " +
                                   pod.name);
  }
  tool.host_namespaces = host;
  tool.capture = session.spec.capture;
  // Always given, so the tool's own default never decides: the policy's default applies to a
  // session that names no mode.
  tool.pii = EffectivePii(session.spec, policy);
  tool.allow_env = FilterAllowEnv(session.spec.allow_env, pod).shown;
  // Secret-backed names of every container of the pod: processes may inherit or copy them.
  tool.secret_env = pod.secret_env;
  tool.extra_patterns = session.spec.extra_patterns;

  json security = {{"allowPrivilegeEscalation", false},
                   {"readOnlyRootFilesystem", true},
                   {"seccompProfile", {{"type", "RuntimeDefault"}}}};
  if (session.spec.profile == api::Profile::kPtrace) {
    // Capabilities only take effect for root inside the container (Kubernetes sets no ambient
    // capabilities). SYS_PTRACE grants the stop-copy-resume of stacks. DAC_READ_SEARCH is needed
    // too: without DAC_OVERRIDE, root is "other" to a target of another user, and the file
    // permission check comes before the ptrace check, so /proc/<pid>/environ, io (0400) and fd/
    // (0500) and binaries in folders only their user may enter stay unreadable (tested in
    // tests/debugpod/snapshot/snapshot_tool_test.cc, WithoutDacReadSearch...). The tool keeps only
    // these two and its seccomp filter refuses open_by_handle_at, the call that DAC_READ_SEARCH
    // (and RuntimeDefault, which allows it with that capability) would otherwise open to it
    // (debugpod/snapshot/sandbox.h).
    security["runAsUser"] = 0;
    security["runAsNonRoot"] = false;
    security["capabilities"] = {{"drop", {"ALL"}}, {"add", {"SYS_PTRACE", "DAC_READ_SEARCH"}}};
  } else {
    if (!target->run_as_user) {
      return FailedPreconditionError(
          "cannot tell which user container " + target_container +
          " runs as: the pod sets no securityContext.runAsUser and the container runtime does "
          "not report it (status.containerStatuses[].user: containerd 2.0 or later, CRI-O 1.31 "
          "or later). The restricted profile runs the snapshot tool as that user. Set "
          "securityContext.runAsUser on the pod or container, or use the ptrace profile");
    }
    security["runAsUser"] = *target->run_as_user;
    security["runAsGroup"] = target->run_as_group.value_or(*target->run_as_user);
    security["runAsNonRoot"] = *target->run_as_user != 0;
    security["capabilities"] = {{"drop", {"ALL"}}};
  }
  return json{{"name", EphemeralContainerNameFor(session.uid)},
              {"image", policy.snapshot_image},
              {"imagePullPolicy", "IfNotPresent"},
              {"command", {"/ephemera-snapshot"}},
              {"args", api::BuildToolArgs(tool)},
              {"targetContainerName", target_container},
              {"terminationMessagePolicy", "File"},
              {"stdin", false},
              {"tty", false},
              {"securityContext", security}};
}

json EphemeralContainerPatch(const json& container) {
  return {{"spec", {{"ephemeralContainers", json::array({container})}}}};
}

}  // namespace ephemera::session
