// DebugSessionReconciler: executes the planner's steps against the Kubernetes API.
//
// Reconcile(key) reads the DebugSession, observes its target pod and session key, asks PlanSession
// for the next step, performs the step's I/O, hands what it found to session::ApplyOutcome (which
// decides the new status and audit records), appends the records, writes the status, and repeats
// until the plan is to wait. Every step is idempotent, so a crash or a second replica at any point
// is harmless: the next reconcile sees the world as it is and continues from there.
//
// Errors: a Status whose code says what to do (kube::AdviseRetry); the caller requeues with
// backoff. Reconcile never throws: an exception from anything it calls becomes kInternal for that
// key (a failed reconcile, retried), so that one session cannot crash the controller. Thread
// safety: Reconcile may run concurrently for different keys (the work queue never hands the same
// key to two workers at once).
#ifndef EPHEMERA_CONTROLLER_RECONCILER_DEBUG_SESSION_RECONCILER_H_
#define EPHEMERA_CONTROLLER_RECONCILER_DEBUG_SESSION_RECONCILER_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/debug_session.h"
#include "audit/audit_log.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/secret_bytes.h"
#include "base/status.h"
#include "controller/audit/anchor_store.h"
#include "controller/session/access_checks.h"
#include "controller/session/log_pull.h"
#include "controller/session/planner.h"
#include "controller/session/policy.h"
#include "controller/session/step_events.h"
#include "controller/session/transitions.h"
#include "kube/client/kube_client.h"

namespace ephemera::reconciler {

// Set on a debugged pod when the policy says annotateDebuggedPods.
inline constexpr std::string_view kDebuggedByAnnotation = "ephemera.dev/debugged-by";

struct ReconcilerOptions {
  std::string controller_namespace;  // where session keys live
  std::string mark_key;              // marks the containers it adds (detection/container_mark.h)
  session::Policy policy;
  std::int64_t max_snapshot_plaintext_bytes = std::int64_t{16} * 1024 * 1024;
  // Called after every executed step (events, metrics, logs). May be empty.
  std::function<void(const session::StepRecord&)> on_step;
  // The audit trail (borrowed; may be null in tests): every step is a record in the session's
  // chain, whose head goes into status.audit. In strict mode a record the sink refuses stops the
  // step (no new session starts, none advances) — except wiping, which never waits for audit.
  audit::AuditLog* audit = nullptr;
  // Where each session chain's head is kept beside status.audit, out of the requester's reach
  // (borrowed; may be null): written after every status write that carries status.audit. Under
  // strict audit a failed anchor write fails the step (retried); otherwise it is reported through
  // the store's on_error and written again at the next status write or reconcile.
  audit::ConfigMapAnchorStore* anchors = nullptr;
};

struct ReconcileResult {
  std::optional<std::chrono::milliseconds> requeue_after;  // nullopt: wait for a change
  int steps = 0;                                           // actions executed
};

class DebugSessionReconciler {
 public:
  // Borrows client and clock; both must outlive the reconciler.
  DebugSessionReconciler(kube::KubeClient& client, base::Clock& clock, ReconcilerOptions options);

  // `cached`: the session as the controller's informer holds it, or null. It is used instead of a
  // GET only when it is the very version this reconciler last saw as current (same
  // resourceVersion), typically the watch event of its own last write; otherwise the session is
  // read from the API server, so a cache that lags never replays a step (or forks its audit chain).
  StatusOr<ReconcileResult> Reconcile(
      const kube::ObjectKey& key, const std::shared_ptr<const nlohmann::json>& cached = nullptr);

  // Whether `object` is the session exactly as one of this reconciler's recent writes left it (same
  // resourceVersion): the watch event echoing that write, which brings nothing new, because the
  // reconciler planned its next step from the written object already. The controller does not
  // queue such events. Thread safe.
  bool IsEchoOfOwnWrite(const kube::ObjectKey& key, const nlohmann::json& object) const;

  // This replica began leading at `since`. A session created before then may have first audit
  // records that a previous leader wrote but could not save in its status before it died; the
  // first record this replica appends to such a chain is marked as a resume, so that the
  // verifier accepts that one branch (AuditLog::Append's written_elsewhere). Thread safe.
  void StartedLeading(api::TimePoint since) { leading_since_.store(since); }

 private:
  // Reconcile without the exception boundary; sets `session_uid` once the session is parsed.
  StatusOr<ReconcileResult> ReconcileSteps(const kube::ObjectKey& key,
                                           const std::shared_ptr<const nlohmann::json>& cached,
                                           std::string& session_uid);
  // The target pod and whether the session key Secret exists (and its recipient), read from the
  // API server; a capturing session needs only the pod.
  StatusOr<session::Observations> Observe(const api::DebugSession& s);
  // The resourceVersion of the session as this reconciler last saw it as current.
  // `written`: `current` is what a write of this reconciler returned.
  void Remember(const kube::ObjectKey& key, const nlohmann::json& current, bool written = false);
  void Forget(const kube::ObjectKey& key);
  bool IsLastSeen(const kube::ObjectKey& key, const nlohmann::json& cached) const;
  // One executed step; returns the session object as it is afterwards. Steps that change what
  // was observed (a key created) update `observed`. `deferred` is set when the returned object's
  // status was not written (the next write carries it).
  StatusOr<nlohmann::json> Execute(const session::Plan& plan, const api::DebugSession& s,
                                   nlohmann::json object, session::Observations& observed,
                                   bool& deferred);
  StatusOr<nlohmann::json> WriteStatus(nlohmann::json object,
                                       const api::DebugSessionStatus& status);
  // The status set on the object but not written: the next write carries it (sets `deferred`).
  static nlohmann::json StatusForNextWrite(nlohmann::json object,
                                           const api::DebugSessionStatus& status, bool& deferred);
  // Writes the object's status as it is.
  StatusOr<nlohmann::json> WriteCurrentStatus(const nlohmann::json& object);
  StatusOr<nlohmann::json> SetFinalizer(nlohmann::json object, bool present);
  // Runs the SubjectAccessReviews; the first refusal decides.
  // `pod`: the target when it exists (decides whether debugprofiles/host is asked for).
  StatusOr<session::AccessDecision> Authorize(const api::DebugSession& s,
                                              const session::PodView* pod);
  // Creates the session key Secret; returns its recipient, or "" when it already existed.
  StatusOr<std::string> EnsureKey(const api::DebugSession& s);
  StatusOr<std::string> ReadKey(const api::DebugSession& s, const char* field);
  // kInject; returns FailedPrecondition for problems that end the session.
  // `recipient` is the session key's public half, read from its Secret when empty. Returns the pod
  // with the snapshot container (as the patch answered, or `pod` when it was there already).
  StatusOr<session::PodView> Inject(const api::DebugSession& s, const session::PodView& pod,
                                    const std::string& container, std::string recipient);
  // kCollect; fills `outcome` with the snapshot summary. DataLoss for output that is not a valid
  // snapshot (api/snapshot_document.h), ResourceExhausted for a log or plaintext over its cap: the
  // session fails for good on either (session::ApplyOutcome).
  Status Collect(const api::DebugSession& s, const session::PodView* pod,
                 session::StepOutcome& outcome);
  // The document as it is delivered: the tool's, without what only the controller reads
  // (controllerOnly), with the target's log when the session captures logs. InvalidArgument when
  // the controller-only section is malformed; Unavailable when the log read may succeed later.
  StatusOr<base::SecretBytes> DeliveredDocument(const api::DebugSession& s,
                                                const session::PodView* pod,
                                                std::string_view plaintext,
                                                session::StepOutcome& outcome);
  // Reads, redacts and adds the target container's log to `document` (log_pull.h).
  Status PullLogs(const api::DebugSession& s, const session::PodView* pod,
                  const session::ValueKeys& keys, session::Document& document,
                  session::StepOutcome& outcome);
  Status Wipe(const api::DebugSession& s);
  // Deletes the session key Secret (already gone is fine).
  Status ShredKey(const api::DebugSession& s);
  // The status written, then the key shredded: for a session that will never read its key again.
  StatusOr<nlohmann::json> WriteStatusThenShredKey(nlohmann::json object,
                                                   const api::DebugSessionStatus& status,
                                                   const api::DebugSession& s);
  // Policy options; failures do not stop the session: they return the sentence for its record.
  std::string AnnotatePod(const api::DebugSession& s, const session::PodView& pod);
  std::string RecyclePod(const session::PodView& pod);
  // Appends the transition's records to the session's audit chain in order, keeping the head in
  // transition.status.audit, and reports the `reported` ones (on_step). kUnavailable when strict
  // audit refused a record.
  Status Record(const api::DebugSession& s, session::Action action,
                session::Transition& transition);
  // Appends one record (`action` is the audit verb: "collected", "expired", ...) to the session's
  // chain after status.audit, and stores the new head there; not reported through on_step. A step
  // with two records appends both before its status is written. kUnavailable when strict audit
  // refused the record, except for a wipe (`step_action` kWipe), which never waits for audit.
  Status AppendAudit(const api::DebugSession& s, session::Action step_action, std::string action,
                     std::string outcome, std::string message, api::DebugSessionStatus& status,
                     nlohmann::json details);
  // Copies the status.audit of `object` (a session as the API server holds it) to the session
  // chain's anchor (options.anchors). An error only under strict audit.
  Status AnchorAudit(const nlohmann::json& object);

  kube::KubeClient& client_;
  mutable base::Mutex seen_mu_;  // workers reconcile different sessions at once
  std::map<kube::ObjectKey, std::string> last_seen_version_ EPHEMERA_GUARDED_BY(seen_mu_);
  // The last few per key.
  std::map<kube::ObjectKey, std::deque<std::string>> written_versions_
      EPHEMERA_GUARDED_BY(seen_mu_);
  base::Clock& clock_;
  ReconcilerOptions options_;
  std::atomic<api::TimePoint> leading_since_{api::TimePoint::min()};
};

}  // namespace ephemera::reconciler

#endif  // EPHEMERA_CONTROLLER_RECONCILER_DEBUG_SESSION_RECONCILER_H_
