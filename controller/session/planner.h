// PlanSession: the pure heart of the controller. Given a DebugSession, what is known about its
// target pod and session key, the cluster policy and the time, it decides the ONE next action and
// when to look again. The reconciler executes the action, records the result in the session's
// status, and asks again, until the plan is kWait. Level-based: the same inputs always give the
// same plan, whatever happened before (a restart, a second replica, a lost write).
#ifndef EPHEMERA_CONTROLLER_SESSION_PLANNER_H_
#define EPHEMERA_CONTROLLER_SESSION_PLANNER_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "api/debug_session.h"
#include "controller/session/access_checks.h"
#include "controller/session/pod_view.h"
#include "controller/session/policy.h"

namespace ephemera::session {

enum class Action {
  kWait,             // nothing to do now; look again after `requeue_after` (if set)
  kAddFinalizer,     // add ephemera.dev/cleanup so deletion waits for the wipe
  kInitialize,       // write phase Pending and expiresAt (= `expires_at`), once
  kAuthorize,        // SubjectAccessReviews for the requester (into Observations::access); records
                     // the Authorized condition
  kDeny,             // end the session Denied (`reason`, `message`); nothing is injected
  kEnsureKey,        // create the session key Secret (idempotent); phase Injecting
  kInject,           // add the ephemeral container (idempotent: looks at the pod first)
  kCollect,          // read, decrypt, verify, re-encrypt, deliver the DebugSnapshot; Completed
  kFail,             // end the session Failed (`reason`, `message`)
  kWipe,             // delete the DebugSnapshot and the key; phase Expired, condition Wiped
  kRemoveFinalizer,  // the session is being deleted and everything is wiped
};
std::string_view ActionName(Action action);

struct Plan {
  Action action = Action::kWait;
  std::string reason;   // CamelCase condition reason, for kDeny/kFail/kWipe
  std::string message;  // one sentence for people
  std::optional<std::chrono::milliseconds> requeue_after;
  std::optional<api::TimePoint> expires_at;  // kInitialize only
  std::string container;                     // kInject/kEnsureKey: the resolved target container
};

// A capture's end arrives as a pod watch event: the controller queues the session when the
// kubelet reports its snapshot container's new state. Polling the pod is only the safety net for
// an event that was missed, so it is slow: many sessions capturing at once do not spend the API
// budget on polls, and a missed event costs at most this long. A capture is also looked at when
// its tool becomes overdue (tool deadline + grace after injecting), whichever comes first.
inline constexpr std::chrono::milliseconds kCaptureSafetyNetPoll{5000};

// What the reconciler knows besides the session itself.
struct Observations {
  // The target pod, or nullopt when it does not exist. Only needed from Pending on; the reconciler
  // fetches it for every non-terminal session.
  std::optional<PodView> pod;
  // Whether the session key Secret exists. Not read while Capturing, where no plan needs it.
  bool key_exists = false;
  // The key's public half (an age recipient) when known, so that injecting needs no second read
  // of the Secret. Never the identity: that is read only where a snapshot is opened.
  std::string key_recipient;
  // The requester's rights as this controller's own SubjectAccessReviews found them during the
  // current reconcile (kAuthorize fills it in); nullopt: not asked yet. This, never the Authorized
  // condition in status, is what lets a session create its key and inject: whoever may update
  // the status subresource can write that condition.
  std::optional<AccessDecision> access{};
};

// Names derived from the session UID, identical on every replica and after every restart.
std::string EphemeralContainerNameFor(std::string_view session_uid);  // ephemera-<10 hex>
std::string SessionKeySecretNameFor(std::string_view session_uid);    // ephemera-key-<10 hex>

Plan PlanSession(const api::DebugSession& session, const Observations& observed,
                 const Policy& policy, api::TimePoint now);

// When the session expires, for every decision: its creation time plus its TTL (the policy's
// default when unset), capped by policy.max_ttl. status.expiresAt (what the controller wrote at
// Initialize) can only bring that forward, never push it back: whoever may update the status
// subresource can rewrite it, and a later expiry would keep the key and the snapshot alive.
api::TimePoint ExpiresAt(const api::DebugSession& session, const Policy& policy);

// When the snapshot container was injected (the Injected condition's time, else the session's
// creation), and whether it has outlived the tool's deadline and grace by `now`.
api::TimePoint InjectedAt(const api::DebugSession& session);
// When the snapshot tool is overdue: injected + the tool's deadline + the policy's grace.
api::TimePoint ToolOverdueAt(const api::DebugSession& session, const Policy& policy);
bool IsToolOverdue(const api::DebugSession& session, const Policy& policy, api::TimePoint now);

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_PLANNER_H_
