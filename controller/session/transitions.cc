#include "controller/session/transitions.h"

#include <utility>

#include "base/rfc3339.h"
#include "controller/session/ephemeral_container.h"
#include "controller/session/overhead_budget.h"

namespace ephemera::session {
namespace {

using api::Phase;
using nlohmann::json;

// The "collected" record: what the snapshot tool read (never what it found: no values).
std::string CollectedMessage(const api::DebugSessionStatus& status) {
  if (!status.snapshot) return "the snapshot tool finished";
  const api::SnapshotSummary& snapshot = *status.snapshot;
  std::string message = "the snapshot tool read " + std::to_string(snapshot.sections.size()) +
                        " section(s) of " + std::to_string(snapshot.pids.size()) + " process(es)";
  if (!snapshot.degraded.empty()) {
    message += "; " + std::to_string(snapshot.degraded.size()) + " degraded";
  }
  return message;
}

json CollectedDetails(const api::DebugSessionStatus& status) {
  json details = json::object();
  if (status.snapshot) {
    details["sections"] = status.snapshot->sections;
    details["pids"] = status.snapshot->pids;
    details["degraded"] = status.snapshot->degraded;
  }
  if (status.overhead) details["overhead"] = api::OverheadSummaryToJson(*status.overhead);
  if (status.redaction) details["redaction"] = api::RedactionSummaryToJson(*status.redaction);
  return details;
}

// A snapshot that can never be used, however often it is read again.
bool IsUnusableSnapshot(const Status& collected) {
  switch (collected.code()) {
    case StatusCode::kDataLoss:           // not a valid snapshot document
    case StatusCode::kPermissionDenied:   // the log or the key may not be read
    case StatusCode::kInvalidArgument:    // refused by a check of its content
    case StatusCode::kResourceExhausted:  // over a size cap
      return true;
    default:
      return false;
  }
}

AuditEntry Entry(std::string action, std::string outcome, std::string message,
                 json details = json::object()) {
  return {std::move(action), std::move(outcome), std::move(message), std::move(details), true};
}

void Inject(const Plan& plan, const StepOutcome& outcome, const api::DebugSession& s,
            api::TimePoint now, Transition& t) {
  if (outcome.result.code() == StatusCode::kFailedPrecondition) {
    const std::string why = outcome.result.message();
    t.status.phase = Phase::kFailed;
    t.status.message = why;
    t.status.SetCondition("Injected", false, "InjectionRefused", why, now);
    t.records.push_back(Entry("injection-refused", "InjectionRefused", why));
    return;
  }
  t.status.phase = Phase::kCapturing;
  t.status.ephemeral_container = EphemeralContainerNameFor(s.uid);
  t.status.message = "Capturing";
  // allowEnv entries that could reveal a Secret were not passed to the tool; say so.
  const std::string allow_env_note =
      outcome.injected_pod ? FilterAllowEnv(s.spec.allow_env, *outcome.injected_pod).note : "";
  const std::string noted = allow_env_note.empty() ? "" : "; " + allow_env_note;
  t.status.SetCondition(
      "Injected", true, "Injected",
      "container " + t.status.ephemeral_container + " targets " + plan.container + noted, now);
  t.records.push_back(
      Entry("injected", "ok", t.status.ephemeral_container + outcome.annotated + noted));
}

// One logs-read record per instance of the target container's log (docs/audit.md): what was read,
// within which window, and the digest of the ciphertext it was delivered in. Audit only: the
// delivered record that follows is the step's report.
void AppendLogRecords(const StepOutcome::LogRead& logs, const api::DebugSession& s, Transition& t) {
  json window = {{"tailLines", logs.limits.tail_lines}, {"limitBytes", logs.limits.limit_bytes}};
  if (logs.limits.since) window["sinceSeconds"] = logs.limits.since->count();
  const std::string sha256 = t.status.snapshot ? t.status.snapshot->sha256 : "";
  const std::string where = "pod " + s.spec.pod + ", container " + logs.container;
  if (!logs.not_read.empty()) {
    AuditEntry entry =
        Entry("logs-read", "LogNotRead", "log of " + where + " not read: " + logs.not_read,
              {{"pod", s.spec.pod}, {"container", logs.container}, {"window", window}});
    entry.reported = false;
    t.records.push_back(std::move(entry));
    return;
  }
  for (const LogInstanceSummary& instance : logs.instances) {
    json details = {{"pod", s.spec.pod},
                    {"container", logs.container},
                    {"instance", instance.instance},
                    {"window", window},
                    {"lines", instance.lines},
                    {"bytes", instance.bytes},
                    {"droppedLines", instance.dropped_lines},
                    {"truncated", instance.truncated},
                    {"sha256", sha256}};
    const bool read = instance.error.empty();
    AuditEntry entry =
        Entry("logs-read", read ? "ok" : "LogNotRead",
              read ? "read " + std::to_string(instance.lines) + " line(s), " +
                         std::to_string(instance.bytes) + " bytes of the " + instance.instance +
                         " instance of " + where + ", redacted, delivered encrypted"
                   : "the " + instance.instance + " instance of " + where +
                         " could not be read: " + instance.error,
              std::move(details));
    entry.reported = false;
    t.records.push_back(std::move(entry));
  }
}

void Collect(const StepOutcome& outcome, const api::DebugSession& s, const Policy& policy,
             api::TimePoint now, Transition& t) {
  // Failed and Completed are both final: nothing will open the container's log again (it may hold
  // a real snapshot, one over a cap), so the key is shredded at once rather than at the TTL.
  t.write = StatusWrite::kNowThenShredKey;
  if (!outcome.result.ok()) {
    t.status.phase = Phase::kFailed;
    t.status.message = "the snapshot could not be used: " + outcome.result.message();
    t.status.SetCondition("Captured", false, "SnapshotInvalid", t.status.message, now);
    t.records.push_back(
        Entry("collection-failed", "SnapshotInvalid", std::string(outcome.result.message())));
    return;
  }
  t.status.snapshot = outcome.snapshot;
  t.status.redaction = outcome.redaction;
  t.status.overhead = outcome.overhead;
  // The budget the controller gave the tool (which one it reached, if any, is the tool's report).
  if (t.status.overhead) {
    t.status.overhead->budget = BudgetSummaryOf(EffectiveBudgetOf(s.spec.budget, policy.budget));
  }
  t.status.phase = Phase::kCompleted;
  t.status.message = "Snapshot delivered as DebugSnapshot " + s.key.name;
  std::string captured = "the snapshot tool finished";
  if (t.status.overhead && !t.status.overhead->budget_reached.empty()) {
    captured += "; it reached its " + t.status.overhead->budget_reached +
                " budget (status.overhead.budget), so what it had not captured by then is "
                "degraded";
  }
  t.status.SetCondition("Captured", true, "SnapshotCaptured", captured, now);
  t.status.SetCondition(
      "Delivered", true, "SnapshotDelivered",
      "encrypted to " + std::to_string(s.spec.recipients.size()) + " recipient(s)", now);
  // Two records: what the tool read (audit only), then what was handed to the requester.
  AuditEntry collected =
      Entry("collected", "ok", CollectedMessage(t.status), CollectedDetails(t.status));
  collected.reported = false;
  t.records.push_back(std::move(collected));
  json delivered = {{"recipients", s.spec.recipients.size()}};
  if (t.status.snapshot) {
    delivered["snapshot"] = t.status.snapshot->name;
    delivered["sha256"] = t.status.snapshot->sha256;
    delivered["bytes"] = t.status.snapshot->bytes;
  }
  if (outcome.logs) AppendLogRecords(*outcome.logs, s, t);
  t.records.push_back(
      Entry("delivered", "ok",
            "snapshot delivered as DebugSnapshot " + s.key.name + "; session key shredded",
            std::move(delivered)));
}

void Wipe(const Plan& plan, const StepOutcome& outcome, const api::DebugSession& s,
          const Policy& policy, api::TimePoint now, Transition& t) {
  // A session being deleted is wiped early; otherwise its TTL lapsed, which is a record of its own
  // before what the wipe found and the wipe itself.
  if (!s.deleting) {
    const std::string expires_at =
        t.status.expires_at ? base::FormatRfc3339(*t.status.expires_at) : std::string();
    AuditEntry expired = Entry("expired", "ok", "the session's TTL lapsed at " + expires_at,
                               {{"expiresAt", expires_at}});
    expired.reported = false;
    t.records.push_back(std::move(expired));
  }
  // Kubernetes cannot stop an ephemeral container; one still running after the TTL, or past the
  // tool's own deadline and grace, must never go unnoticed. A session deleted early may well leave
  // its tool running within that deadline: not an alarm.
  const bool overdue = (t.status.expires_at.has_value() && now >= *t.status.expires_at) ||
                       IsToolOverdue(s, policy, now);
  const EphemeralContainerView* container =
      outcome.pod_after_wipe ? SessionContainerIn(*outcome.pod_after_wipe, s.uid) : nullptr;
  if (overdue && container != nullptr &&
      container->state.kind != EphemeralState::Kind::kTerminated) {
    const std::string message = "snapshot container " + container->name + " in pod " + s.spec.pod +
                                " has not terminated after the session ended";
    t.status.SetCondition("ContainerTerminated", false, "StillRunning", message, now);
    t.records.push_back(
        Entry("still-running-after-ttl", std::string(kSnapshotContainerStillRunning), message));
  }
  if (!s.deleting) {
    t.status.phase = Phase::kExpired;
    t.status.message = "Expired: the snapshot and the session key are destroyed";
  }
  t.status.SetCondition("Wiped", true, plan.reason, "snapshot and session key deleted", now);
  t.records.push_back(Entry("wiped", "ok", plan.message + outcome.recycled));
}

// ApplyOutcome without the Ready summary.
StatusOr<Transition> ApplyStep(const Plan& plan, const StepOutcome& outcome,
                               const api::DebugSession& s, const Policy& policy,
                               api::TimePoint now) {
  const bool refused =
      plan.action == Action::kInject && outcome.result.code() == StatusCode::kFailedPrecondition;
  const bool unusable = plan.action == Action::kCollect && IsUnusableSnapshot(outcome.result);
  if (!outcome.result.ok() && !refused && !unusable) return outcome.result;

  Transition t;
  t.status = s.status;
  t.status.observed_generation = s.generation;
  // An expiresAt pushed past creation + TTL (capped) by someone else is written back corrected.
  if (t.status.expires_at) t.status.expires_at = ExpiresAt(s, policy);
  switch (plan.action) {
    case Action::kWait:
    case Action::kAddFinalizer:
    case Action::kRemoveFinalizer:
      return InvalidArgumentError("step " + std::string(ActionName(plan.action)) +
                                  " changes no status");
    case Action::kInitialize:
      t.status.phase = Phase::kPending;
      t.status.expires_at = plan.expires_at;
      t.status.message = "Waiting for authorization";
      t.records.push_back(
          Entry("accepted", "ok",
                "expires at " + (plan.expires_at ? base::FormatRfc3339(*plan.expires_at) : "?")));
      t.write = StatusWrite::kDeferred;
      return t;
    case Action::kAuthorize: {
      const AccessDecision& decision = outcome.access;
      t.status.SetCondition("Authorized", decision.allowed, decision.reason, decision.message, now);
      t.records.push_back(Entry(decision.allowed ? "authorized" : "denied",
                                decision.allowed ? "ok" : decision.reason, decision.message));
      return t;
    }
    case Action::kDeny:
      t.status.phase = Phase::kDenied;
      t.status.message = plan.message;
      t.status.SetCondition("Authorized", false, plan.reason, plan.message, now);
      t.records.push_back(Entry("denied", plan.reason, plan.message));
      return t;
    case Action::kEnsureKey:
      t.status.phase = Phase::kInjecting;
      t.status.message = "Injecting the snapshot container";
      t.records.push_back(Entry("key-created", "ok", "session key ready"));
      t.write = StatusWrite::kDeferred;
      return t;
    case Action::kInject:
      Inject(plan, outcome, s, now, t);
      return t;
    case Action::kCollect:
      Collect(outcome, s, policy, now, t);
      return t;
    case Action::kFail:
      t.status.phase = Phase::kFailed;
      t.status.message = plan.message;
      // The condition of the step that could not happen: injection, or the capture after it.
      t.status.SetCondition(t.status.FindCondition("Injected") ? "Captured" : "Injected", false,
                            plan.reason, plan.message, now);
      t.records.push_back(Entry("failed", plan.reason, plan.message));
      return t;
    case Action::kWipe:
      Wipe(plan, outcome, s, policy, now, t);
      return t;
  }
  return InternalError("unhandled action");
}

}  // namespace

StatusOr<Transition> ApplyOutcome(const Plan& plan, const StepOutcome& outcome,
                                  const api::DebugSession& s, const Policy& policy,
                                  api::TimePoint now) {
  auto t = ApplyStep(plan, outcome, s, policy, now);
  if (t.ok()) t->status.SummarizeReady(now);
  return t;
}

StepRecord StepReportFor(const api::DebugSession& s, Action action, const AuditEntry& entry) {
  return StepRecord{s.key,
                    s.uid,
                    s.spec.requested_by ? s.spec.requested_by->username : "",
                    s.spec.reason,
                    s.spec.pod + "/" + s.spec.container,
                    action,
                    entry.outcome,
                    entry.message};
}

const EphemeralContainerView* SessionContainerIn(const PodView& pod, std::string_view session_uid) {
  const EphemeralContainerView* container =
      pod.FindEphemeral(EphemeralContainerNameFor(session_uid));
  return container != nullptr && container->added_by_ephemera ? container : nullptr;
}

std::string InjectionRefusedMessage(std::string_view server_message, api::Profile profile) {
  std::string message =
      "the API server refused the snapshot container: " + std::string(server_message);
  if (server_message.find("PodSecurity") != std::string_view::npos &&
      profile == api::Profile::kPtrace) {
    message +=
        ". The ptrace profile needs CAP_SYS_PTRACE, which the namespace's Pod Security level "
        "forbids; the restricted profile passes (without stacks)";
  }
  return message;
}

}  // namespace ephemera::session
