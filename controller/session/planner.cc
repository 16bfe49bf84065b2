#include "controller/session/planner.h"

#include <algorithm>
#include <array>

#include "base/hash.h"
#include "controller/session/log_pull.h"
#include "controller/session/overhead_budget.h"

namespace ephemera::session {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr milliseconds kPollForTarget{1000};

// Ephemeral container waiting reasons that will not resolve by themselves.
constexpr std::array<std::string_view, 6> kHopelessWaitingReasons = {
    "ErrImagePull",         "ImagePullBackOff",  "InvalidImageName",
    "CreateContainerError", "RunContainerError", "CreateContainerConfigError"};

// The first 10 hex digits of the SHA-256 of the session's uid.
std::string ShortHash(std::string_view uid) { return base::Sha256Hex(uid).substr(0, 10); }

Plan Do(Action action) { return Plan{action, {}, {}, std::nullopt, std::nullopt, {}}; }

Plan End(Action action, std::string reason, std::string message) {
  Plan p = Do(action);
  p.reason = std::move(reason);
  p.message = std::move(message);
  return p;
}

Plan WaitFor(milliseconds after) {
  Plan p = Do(Action::kWait);
  p.requeue_after = after;
  return p;
}

// Wait at most until expiry: a session is always looked at again when its TTL lapses.
Plan WaitUntilExpiry(const api::DebugSession& s, const Policy& policy, api::TimePoint now,
                     std::optional<milliseconds> sooner) {
  milliseconds until_expiry = duration_cast<milliseconds>(ExpiresAt(s, policy) - now);
  until_expiry = std::max(until_expiry, milliseconds(1));
  return WaitFor(sooner ? std::min(*sooner, until_expiry) : until_expiry);
}

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::optional<Plan> CheckPolicy(const api::DebugSession& s, const Policy& policy) {
  const std::string& ns = s.key.namespace_name;
  if (Contains(policy.forbidden_namespaces, ns) ||
      (!policy.allowed_namespaces.empty() && !Contains(policy.allowed_namespaces, ns))) {
    return End(Action::kDeny, "NamespaceNotAllowed",
               "cluster policy does not allow debug sessions in namespace " + ns);
  }
  if (std::find(policy.allowed_profiles.begin(), policy.allowed_profiles.end(), s.spec.profile) ==
      policy.allowed_profiles.end()) {
    return End(Action::kDeny, "ProfileNotAllowed",
               "cluster policy does not allow the " +
                   std::string(api::ProfileName(s.spec.profile)) + " profile");
  }
  if (EffectivePii(s.spec, policy) < policy.minimum_pii) {
    return End(Action::kDeny, "RedactionBelowPolicy",
               "spec.redaction.pii " + std::string(api::PiiModeName(EffectivePii(s.spec, policy))) +
                   " masks less personal data than the cluster policy's minimum, " +
                   std::string(api::PiiModeName(policy.minimum_pii)) + "; ask for " +
                   std::string(api::PiiModeName(policy.minimum_pii)) +
                   (policy.minimum_pii == api::PiiMode::kStrict ? "" : " or strict"));
  }
  if (std::string problem = LogsProblem(s.spec.logs, policy.logs); !problem.empty()) {
    return End(Action::kDeny, "LogsBeyondPolicy", std::move(problem));
  }
  if (std::string problem = BudgetProblem(s.spec, policy); !problem.empty()) {
    return End(Action::kDeny, "BudgetBeyondPolicy", std::move(problem));
  }
  if (!s.spec.requested_by) {
    return End(Action::kDeny, "RequesterUnknown",
               "spec.requestedBy is not set, so the session cannot be authorized; sessions are "
               "accepted only through Ephemera's admission webhook");
  }
  return std::nullopt;
}

// The session's container name is taken by an ephemeral container Ephemera did not add (its mark
// does not verify for this pod): someone allowed to add ephemeral containers got there first, or
// recreated the pod with one. The session must never treat it, or its output, as its own.
Plan ForeignContainer(const PodView& pod, const EphemeralContainerView& ec, bool injected) {
  return End(Action::kFail, "ForeignSnapshotContainer",
             "pod " + pod.name + (injected ? " has" : " already has") +
                 " an ephemeral container named " + ec.name +
                 " that Ephemera did not add (its mark does not verify for this pod), so its "
                 "output is never collected; someone allowed to add ephemeral containers to the "
                 "pod created it. Create a new DebugSession: it gets another container name");
}

std::string JoinWords(const std::vector<std::string>& words, std::string_view last) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? std::string(last) : std::string(", ");
    out += words[i];
  }
  return out;
}

// H2: a pod that shares the node's namespaces (or a privileged container) lets a capture see the
// node's processes, IPC or sockets: refused unless the cluster policy allows it (the requester's
// debugprofiles/host grant is one of the access checks).
std::optional<Plan> CheckHostNamespaces(const PodView& pod, const std::string& container,
                                        const Policy& policy) {
  std::vector<std::string> settings = pod.HostSettings(container);
  if (settings.empty() || policy.allow_host_namespaces) return std::nullopt;
  return End(Action::kDeny, "HostNamespacesNotAllowed",
             "pod " + pod.name + " uses " + JoinWords(settings, " and ") +
                 ", which let a snapshot reach beyond container " + container +
                 ", and the cluster policy hostNamespaces is deny; a cluster admin must set "
                 "policy.hostNamespaces to allow and grant the requester use on "
                 "debugprofiles/host (ephemera.dev, cluster-wide)");
}

// From Pending/Injecting: wait for a running target, then key, then injection.
Plan PlanInjection(const api::DebugSession& s, const Observations& observed, const Policy& policy,
                   api::TimePoint now) {
  if (!observed.pod) {
    return End(Action::kFail, "TargetPodNotFound",
               "pod " + s.spec.pod + " does not exist in namespace " + s.key.namespace_name);
  }
  const PodView& pod = *observed.pod;
  const std::string container = s.spec.container.empty() ? pod.default_container : s.spec.container;
  const ContainerView* target = pod.FindContainer(container);
  if (target == nullptr) {
    return End(Action::kFail, "TargetContainerNotFound",
               "pod " + pod.name + " has no container named \"" + container + "\"");
  }
  if (auto denied = CheckHostNamespaces(pod, container, policy)) return *denied;
  const EphemeralContainerView* existing = pod.FindEphemeral(EphemeralContainerNameFor(s.uid));
  if (existing != nullptr && !existing->added_by_ephemera) {
    return ForeignContainer(pod, *existing, /*injected=*/false);
  }
  if (existing == nullptr) {
    if (pod.deleting || pod.phase == "Succeeded" || pod.phase == "Failed") {
      return End(Action::kFail, "TargetNotRunning", "pod " + pod.name + " is not running");
    }
    if (!target->running) {
      if (now - s.created > policy.target_wait) {
        return End(Action::kFail, "TargetNotRunning",
                   "container " + container + " of pod " + pod.name +
                       " did not start running within " +
                       std::to_string(policy.target_wait.count()) + "s");
      }
      return WaitUntilExpiry(s, policy, now, kPollForTarget);
    }
  }
  // Inject once the key step is on record (phase Injecting). A key that exists while the phase is
  // still Pending was made by a run that stopped before writing that step: the step is taken again
  // (creating the key is idempotent), so that its audit record is on the session's chain.
  const bool key_on_record = s.status.phase == api::Phase::kInjecting && observed.key_exists;
  Plan p = Do(key_on_record ? Action::kInject : Action::kEnsureKey);
  p.container = container;
  return p;
}

Plan PlanCapture(const api::DebugSession& s, const Observations& observed, const Policy& policy,
                 api::TimePoint now) {
  if (!observed.pod) {
    return End(Action::kFail, "TargetPodGone",
               "pod " + s.spec.pod + " was deleted during the capture");
  }
  const EphemeralContainerView* ec = observed.pod->FindEphemeral(EphemeralContainerNameFor(s.uid));
  if (ec == nullptr) {
    // Injected per our status but absent from the pod: the pod was replaced under the same name.
    return End(
        Action::kFail, "TargetPodReplaced",
        "pod " + s.spec.pod + " no longer has the snapshot container; it was probably recreated");
  }
  if (!ec->added_by_ephemera) return ForeignContainer(*observed.pod, *ec, /*injected=*/true);
  const bool overdue = IsToolOverdue(s, policy, now);
  // The pod event brings the container's end; the poll is the safety net, and it comes no later
  // than the moment the tool is overdue, so a tool that never ends fails on time.
  const milliseconds until_overdue =
      duration_cast<milliseconds>(ToolOverdueAt(s, policy) - now) + milliseconds(1);
  const milliseconds poll = std::clamp(until_overdue, milliseconds(1), kCaptureSafetyNetPoll);
  switch (ec->state.kind) {
    case EphemeralState::Kind::kTerminated:
      if (ec->state.exit_code == 0) return Do(Action::kCollect);
      return End(Action::kFail, "SnapshotToolFailed",
                 "the snapshot tool exited with code " + std::to_string(ec->state.exit_code) +
                     (ec->state.reason.empty() ? "" : " (" + ec->state.reason + ")"));
    case EphemeralState::Kind::kWaiting:
      if (std::find(kHopelessWaitingReasons.begin(), kHopelessWaitingReasons.end(),
                    ec->state.reason) != kHopelessWaitingReasons.end()) {
        return End(Action::kFail, "SnapshotContainerFailed",
                   "the snapshot container could not start: " + ec->state.reason +
                       (ec->state.message.empty() ? "" : ": " + ec->state.message));
      }
      [[fallthrough]];
    case EphemeralState::Kind::kUnknown:
    case EphemeralState::Kind::kRunning:
      if (overdue) {
        return End(Action::kFail, "SnapshotTimedOut",
                   "the snapshot container did not finish within " +
                       std::to_string((EffectiveBudgetOf(s.spec.budget, policy.budget).wall +
                                       policy.tool_grace)
                                          .count()) +
                       "s");
      }
      return WaitUntilExpiry(s, policy, now, poll);
  }
  return WaitUntilExpiry(s, policy, now, poll);
}

}  // namespace

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kWait:
      return "Wait";
    case Action::kAddFinalizer:
      return "AddFinalizer";
    case Action::kInitialize:
      return "Initialize";
    case Action::kAuthorize:
      return "Authorize";
    case Action::kDeny:
      return "Deny";
    case Action::kEnsureKey:
      return "EnsureKey";
    case Action::kInject:
      return "Inject";
    case Action::kCollect:
      return "Collect";
    case Action::kFail:
      return "Fail";
    case Action::kWipe:
      return "Wipe";
    case Action::kRemoveFinalizer:
      return "RemoveFinalizer";
  }
  return "Unknown";
}

std::string EphemeralContainerNameFor(std::string_view session_uid) {
  return "ephemera-" + ShortHash(session_uid);
}

std::string SessionKeySecretNameFor(std::string_view session_uid) {
  return "ephemera-key-" + ShortHash(session_uid);
}

Plan PlanSession(const api::DebugSession& s, const Observations& observed, const Policy& policy,
                 api::TimePoint now) {
  const api::Condition* wiped = s.status.FindCondition("Wiped");
  const bool is_wiped = wiped != nullptr && wiped->status == "True";
  if (s.deleting) {
    if (!s.HasFinalizer()) return Do(Action::kWait);
    if (!is_wiped) return End(Action::kWipe, "SessionDeleted", "the DebugSession was deleted");
    return Do(Action::kRemoveFinalizer);
  }
  if (!s.HasFinalizer() && !is_wiped) return Do(Action::kAddFinalizer);
  if (!s.status.expires_at) {
    Plan p = Do(Action::kInitialize);
    p.expires_at = ExpiresAt(s, policy);
    return p;
  }
  const api::Phase phase = s.status.phase.value_or(api::Phase::kPending);
  if (now >= ExpiresAt(s, policy)) {
    if (phase == api::Phase::kExpired && is_wiped) return Do(Action::kWait);
    return End(Action::kWipe, "TTLExpired", "the session's TTL lapsed");
  }
  if (api::IsTerminal(phase)) return WaitUntilExpiry(s, policy, now, std::nullopt);

  if (phase == api::Phase::kPending || phase == api::Phase::kInjecting) {
    if (auto denied = CheckPolicy(s, policy)) return *denied;
    // Status is not proof of authorization: anyone who may update the status subresource can write
    // Authorized=True (or phase Injecting). So the decision to create a key and inject is never
    // read from status; it is the one this controller's own SubjectAccessReviews returned in the
    // same reconcile (observed.access). Re-asking costs one review per right, only when the
    // session is about to act (usually once: authorize, key and injection run in one reconcile),
    // needs no state or key to protect, and also catches rights revoked while the session waited
    // for its target. An HMAC over the decision under the mark key would also work, but it would
    // keep a decision alive after the rights behind it were revoked.
    if (observed.access && !observed.access->allowed) {
      return End(Action::kDeny, observed.access->reason, observed.access->message);
    }
    // A refusal on record ends the session (believing a "no" from status is safe).
    const api::Condition* authorized = s.status.FindCondition("Authorized");
    if (!observed.access && authorized != nullptr && authorized->status != "True") {
      return End(Action::kDeny, authorized->reason, authorized->message);
    }
    Plan next = PlanInjection(s, observed, policy, now);
    const bool acts = next.action == Action::kEnsureKey || next.action == Action::kInject;
    // The first look authorizes before anything else (a requester without rights learns nothing
    // about the pod); later, only a step that acts needs a fresh decision.
    if (!observed.access && (acts || authorized == nullptr)) return Do(Action::kAuthorize);
    return next;
  }
  return PlanCapture(s, observed, policy, now);
}

api::TimePoint ExpiresAt(const api::DebugSession& s, const Policy& policy) {
  const api::TimePoint capped = s.created + std::min(EffectiveTtl(s.spec, policy), policy.max_ttl);
  return s.status.expires_at ? std::min(capped, *s.status.expires_at) : capped;
}

api::TimePoint InjectedAt(const api::DebugSession& session) {
  const api::Condition* injected = session.status.FindCondition("Injected");
  return injected ? injected->last_transition_time : session.created;
}

api::TimePoint ToolOverdueAt(const api::DebugSession& session, const Policy& policy) {
  return InjectedAt(session) + EffectiveBudgetOf(session.spec.budget, policy.budget).wall +
         policy.tool_grace;
}

bool IsToolOverdue(const api::DebugSession& session, const Policy& policy, api::TimePoint now) {
  return now > ToolOverdueAt(session, policy);
}

}  // namespace ephemera::session
