#include "controller/reconciler/debug_session_reconciler.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <exception>

#include "api/snapshot_document.h"
#include "base/base64.h"
#include "base/hash.h"
#include "base/json_access.h"
#include "base/json_depth.h"
#include "base/rfc3339.h"
#include "base/secret_bytes.h"
#include "controller/detection/container_mark.h"
#include "controller/session/ephemeral_container.h"
#include "controller/session/transitions.h"
#include "envelope/envelope.h"
#include "kube/client/api_error.h"

namespace ephemera::reconciler {
namespace {

using api::DebugSession;
using api::Phase;
using nlohmann::json;
using session::Action;

// A reconcile takes at most this many steps before yielding the worker (a full session is ~8).
constexpr int kMaxStepsPerReconcile = 16;
static_assert(session::kContainerMarkEnv == std::string_view(detection::kMarkEnvName),
              "ParsePodView reads the mark from the variable AddMark writes");

bool IsNotFound(const Status& s) { return s.code() == StatusCode::kNotFound; }

json SessionOwnerReference(const DebugSession& s) {
  return {{"apiVersion", "ephemera.dev/v1alpha1"},
          {"kind", "DebugSession"},
          {"name", s.key.name},
          {"uid", s.uid},
          {"controller", true}};
}

json SessionLabels(const DebugSession& s) {
  return {{"app.kubernetes.io/managed-by", "ephemera-controller"},
          {"ephemera.dev/session-namespace", s.key.namespace_name},
          {"ephemera.dev/session-name", s.key.name},
          {"ephemera.dev/session-uid", s.uid}};
}

// The label `key` of an API object, "" when it has none (checked access: no exception).
std::string LabelOf(const json& object, const char* key) {
  const json* metadata = base::FindField(object, "metadata");
  const json* labels = metadata != nullptr ? base::FindField(*metadata, "labels") : nullptr;
  return labels != nullptr ? base::StringField(*labels, key) : "";
}

// A pod as the planner sees it, with each ephemeral container's mark checked: only a container
// whose mark verifies for this pod's UID and its name under the controller's key counts as one
// Ephemera added (L5). The name alone proves nothing: anyone allowed to add ephemeral containers
// can use it.
StatusOr<session::PodView> ParseCheckedPodView(const json& pod, std::string_view mark_key) {
  auto view = session::ParsePodView(pod);
  if (!view.ok()) return view.status();
  for (session::EphemeralContainerView& ec : view->ephemeral_containers) {
    ec.added_by_ephemera = detection::IsValidMark(ec.mark, mark_key, view->uid, ec.name);
  }
  return view;
}

// The requester's user name; empty for a session admitted without the webhook (denied later).
std::string RequesterName(const DebugSession& s) {
  return s.spec.requested_by ? s.spec.requested_by->username : "";
}

}  // namespace

DebugSessionReconciler::DebugSessionReconciler(kube::KubeClient& client, base::Clock& clock,
                                               ReconcilerOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

namespace {

std::string ResourceVersionOf(const json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  return metadata->value("resourceVersion", "");
}

}  // namespace

void DebugSessionReconciler::Remember(const kube::ObjectKey& key, const json& current,
                                      bool written) {
  // A reconcile writes a session at most ~6 times; echoes of older writes have arrived long since.
  constexpr std::size_t kWritesRemembered = 8;
  const std::string version = ResourceVersionOf(current);
  base::MutexLock lock(seen_mu_);
  last_seen_version_[key] = version;
  if (written && !version.empty()) {
    std::deque<std::string>& versions = written_versions_[key];
    versions.push_back(version);
    if (versions.size() > kWritesRemembered) versions.pop_front();
  }
}

void DebugSessionReconciler::Forget(const kube::ObjectKey& key) {
  base::MutexLock lock(seen_mu_);
  last_seen_version_.erase(key);
  written_versions_.erase(key);
}

bool DebugSessionReconciler::IsEchoOfOwnWrite(const kube::ObjectKey& key,
                                              const json& object) const {
  const std::string version = ResourceVersionOf(object);
  if (version.empty()) return false;
  base::MutexLock lock(seen_mu_);
  auto it = written_versions_.find(key);
  return it != written_versions_.end() &&
         std::find(it->second.begin(), it->second.end(), version) != it->second.end();
}

bool DebugSessionReconciler::IsLastSeen(const kube::ObjectKey& key, const json& cached) const {
  const std::string version = ResourceVersionOf(cached);
  base::MutexLock lock(seen_mu_);
  auto it = last_seen_version_.find(key);
  return it != last_seen_version_.end() && !version.empty() && it->second == version;
}

StatusOr<ReconcileResult> DebugSessionReconciler::Reconcile(
    const kube::ObjectKey& key, const std::shared_ptr<const json>& cached) {
  // The exception boundary: nothing a session holds (its spec, its status, its target pod, the
  // snapshot its container wrote) may take the controller down with it. An exception fails this
  // reconcile of this key, which the caller retries with backoff like any other error; the other
  // sessions go on. The code below handles expected failures with Status: an exception here is a
  // bug, named in the error so that it gets fixed.
  std::string session_uid;
  std::string what;
  try {
    return ReconcileSteps(key, cached, session_uid);
  } catch (const nlohmann::json::exception& e) {
    // Not e.what(): a parse error quotes the input it read, which may be session data.
    what = "a JSON error (nlohmann id " + std::to_string(e.id) + ")";
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an exception of unknown type";
  }
  // The attempt may have appended records without the status that commits them: the retry starts
  // again from the head the status saved, as after any failed step.
  if (options_.audit != nullptr && !session_uid.empty()) {
    options_.audit->Abandon(audit::SessionChain(session_uid));
  }
  return InternalError("reconciling DebugSession " + key.ToString() + " threw " + what +
                       "; it will be retried");
}

StatusOr<ReconcileResult> DebugSessionReconciler::ReconcileSteps(
    const kube::ObjectKey& key, const std::shared_ptr<const json>& cached,
    std::string& session_uid) {
  ReconcileResult result;
  json current;
  if (cached != nullptr && IsLastSeen(key, *cached)) {
    current = *cached;
  } else {
    auto object = client_.Get(kube::DebugSessionsResource(), key);
    if (!object.ok()) {
      if (IsNotFound(object.status())) {
        Forget(key);
        return result;  // deleted; its finalizer ran the wipe
      }
      return object.status();
    }
    current = std::move(*object);
    Remember(key, current);
  }
  // The pod and the key Secret are read once per Reconcile, not once per step: within one call
  // only this controller's own steps change them, and those say so below (a watch event brings
  // any other change as a new Reconcile).
  std::optional<session::Observations> seen;
  // Accepting a session and creating its key change nothing but the status, and another step
  // always follows at once: their status goes to the API server with that step's write (two
  // requests less per session). `unwritten`: current's status is newer than the server's copy.
  bool unwritten = false;
  auto write_unwritten = [&]() -> Status {
    if (!unwritten) return OkStatus();
    auto written = WriteCurrentStatus(current);
    if (!written.ok()) return written.status();
    current = std::move(*written);
    Remember(key, current, /*written=*/true);
    unwritten = false;
    return OkStatus();
  };
  for (; result.steps < kMaxStepsPerReconcile; ++result.steps) {
    auto parsed = api::ParseDebugSession(current);
    if (!parsed.ok()) return parsed.status().WithContext("DebugSession " + key.ToString());
    const DebugSession& s = *parsed;
    session_uid = s.uid;

    const Phase phase = s.status.phase.value_or(Phase::kPending);
    if (!s.deleting && !api::IsTerminal(phase) && s.status.expires_at && !seen) {
      auto observed = Observe(s);
      if (!observed.ok()) {
        (void)write_unwritten();  // keep the progress made so far (best effort)
        return observed.status();
      }
      seen = std::move(*observed);
    }
    session::Observations nothing;  // terminal or deleting sessions need no observations
    session::Observations& observed = seen ? *seen : nothing;

    const session::Plan plan = session::PlanSession(s, observed, options_.policy, clock_.Now());
    if (plan.action == Action::kWait) {
      EPHEMERA_RETURN_IF_ERROR(write_unwritten());
      // An anchor write that failed earlier, or one lost to a restart, is made good here.
      EPHEMERA_RETURN_IF_ERROR(AnchorAudit(current));
      result.requeue_after = plan.requeue_after;
      return result;
    }
    json before = unwritten ? current : json();
    bool deferred = false;
    auto next = Execute(plan, s, std::move(current), observed, deferred);
    if (!next.ok()) {
      if (unwritten) {  // keep the progress made before this step failed (best effort)
        current = std::move(before);
        (void)write_unwritten();
      }
      // The step may have written some of its records without its status: the retry starts
      // again from the head the status saved, as a restarted controller would, so the records
      // of this attempt become a superseded branch instead of staying on the chain.
      // The retry's first record names this attempt's last one as abandoned (audit_log.h).
      if (options_.audit != nullptr) options_.audit->Abandon(audit::SessionChain(s.uid));
      return next.status();
    }
    if (next->is_null()) {  // the session is gone (finalizer released)
      Forget(key);
      return result;
    }
    current = std::move(*next);
    unwritten = deferred;
    if (!deferred) Remember(key, current, /*written=*/true);
  }
  EPHEMERA_RETURN_IF_ERROR(write_unwritten());
  result.requeue_after = std::chrono::milliseconds(1);  // more to do: yield and come back
  return result;
}

StatusOr<session::Observations> DebugSessionReconciler::Observe(const DebugSession& s) {
  session::Observations observed;
  auto pod = client_.Get(kube::PodsResource(), {s.key.namespace_name, s.spec.pod});
  if (pod.ok()) {
    auto view = ParseCheckedPodView(*pod, options_.mark_key);
    if (!view.ok()) return view.status();
    observed.pod = std::move(*view);
  } else if (!IsNotFound(pod.status())) {
    return pod.status();
  }
  if (s.status.phase == Phase::kCapturing) return observed;  // only the pod decides from here
  auto secret = client_.Get(kube::SecretsResource(), {options_.controller_namespace,
                                                      session::SessionKeySecretNameFor(s.uid)});
  if (!secret.ok() && !IsNotFound(secret.status())) return secret.status();
  observed.key_exists = secret.ok();
  if (secret.ok()) {
    const json& data = (*secret)["data"];
    if (data.is_object() && data.contains("recipient") && data["recipient"].is_string()) {
      auto recipient = base::Base64Decode(data["recipient"].get<std::string>());
      if (recipient.ok()) observed.key_recipient = std::move(*recipient);
    }
    // The response also carried the identity; it is not kept, and its copy is wiped.
    if (data.is_object() && data.contains("identity") && data["identity"].is_string()) {
      std::string& identity = (*secret)["data"]["identity"].get_ref<std::string&>();
      OPENSSL_cleanse(identity.data(), identity.size());
    }
  }
  return observed;
}

StatusOr<json> DebugSessionReconciler::Execute(const session::Plan& plan, const DebugSession& s,
                                               json object, session::Observations& observed,
                                               bool& deferred) {
  const auto now = clock_.Now();
  // The I/O of the step; what it means for the session is ApplyOutcome's to decide.
  session::StepOutcome outcome;
  switch (plan.action) {
    case Action::kWait:
      return object;
    case Action::kAddFinalizer:
      return SetFinalizer(std::move(object), true);
    case Action::kRemoveFinalizer: {
      auto updated = SetFinalizer(std::move(object), false);
      if (!updated.ok()) return updated.status();
      if (options_.audit != nullptr) options_.audit->Forget(audit::SessionChain(s.uid));
      return json(nullptr);
    }
    case Action::kInitialize:
    case Action::kDeny:
    case Action::kFail:
      break;  // the new status is the whole step
    case Action::kAuthorize: {
      auto decision = Authorize(s, observed.pod ? &*observed.pod : nullptr);
      if (!decision.ok()) return decision.status();
      // The plan acts on this decision, never on the condition (which status writers can forge).
      observed.access = *decision;
      outcome.access = std::move(*decision);
      break;
    }
    case Action::kEnsureKey: {
      auto recipient = EnsureKey(s);
      if (!recipient.ok()) return recipient.status();
      observed.key_exists = true;
      observed.key_recipient = std::move(*recipient);
      break;
    }
    case Action::kInject: {
      auto injected = Inject(s, *observed.pod, plan.container, observed.key_recipient);
      outcome.result = injected.status();
      if (!injected.ok()) break;
      // The patch answered with the pod as it is now: the next plan needs no second read.
      observed.pod = std::move(*injected);
      if (options_.policy.annotate_debugged_pods) outcome.annotated = AnnotatePod(s, *observed.pod);
      outcome.injected_pod = *observed.pod;
      break;
    }
    case Action::kCollect:
      outcome.result = Collect(s, observed.pod ? &*observed.pod : nullptr, outcome);
      break;
    case Action::kWipe:
      EPHEMERA_RETURN_IF_ERROR(Wipe(s));
      // What the wipe left in the pod: the session's container, if it is still running, is an
      // alarm (ApplyOutcome), and the recycling option replaces the pod it debugged.
      if (auto pod = client_.Get(kube::PodsResource(), {s.key.namespace_name, s.spec.pod});
          pod.ok()) {
        auto view = ParseCheckedPodView(*pod, options_.mark_key);
        if (view.ok()) {
          if (options_.policy.recycle_debugged_pods &&
              session::SessionContainerIn(*view, s.uid) != nullptr) {
            outcome.recycled = RecyclePod(*view);
          }
          outcome.pod_after_wipe = std::move(*view);
        }
      }
      break;
  }
  auto transition = session::ApplyOutcome(plan, outcome, s, options_.policy, now);
  if (!transition.ok()) return transition.status();
  EPHEMERA_RETURN_IF_ERROR(Record(s, plan.action, *transition));
  switch (transition->write) {
    case session::StatusWrite::kDeferred:
      return StatusForNextWrite(std::move(object), transition->status, deferred);
    case session::StatusWrite::kNow:
      return WriteStatus(std::move(object), transition->status);
    case session::StatusWrite::kNowThenShredKey:
      return WriteStatusThenShredKey(std::move(object), transition->status, s);
  }
  return InternalError("unhandled status write");
}

std::string DebugSessionReconciler::AnnotatePod(const DebugSession& s,
                                                const session::PodView& pod) {
  const std::string requester = RequesterName(s);
  const json patch = {
      {"metadata",
       {{"annotations",
         {{std::string(kDebuggedByAnnotation),
           s.key.ToString() + " by " + requester + " at " + base::FormatRfc3339(clock_.Now())}}}}}};
  auto patched =
      client_.Patch(kube::PodsResource(), {pod.namespace_name, pod.name}, kube::PatchType::kMerge,
                    patch, {std::string(api::kFieldManager), false, false});
  if (!patched.ok()) return "; the pod could not be annotated: " + patched.status().message();
  return "; pod annotated " + std::string(kDebuggedByAnnotation);
}

std::string DebugSessionReconciler::RecyclePod(const session::PodView& pod) {
  if (!pod.owned) return "; pod " + pod.name + " kept: it has no owner to replace it";
  if (pod.deleting) return "; pod " + pod.name + " is already being deleted";
  kube::DeleteOptions options;
  options.precondition_uid = pod.uid;  // only the incarnation that was debugged
  Status deleted = client_.Delete(kube::PodsResource(), {pod.namespace_name, pod.name}, options);
  if (!deleted.ok() && !IsNotFound(deleted)) {
    return "; pod " + pod.name + " could not be recycled: " + deleted.message();
  }
  return "; pod " + pod.name + " deleted so that its owner replaces it";
}

StatusOr<json> DebugSessionReconciler::WriteStatus(json object,
                                                   const api::DebugSessionStatus& status) {
  object["status"] = api::StatusToJson(status);
  return WriteCurrentStatus(object);
}

json DebugSessionReconciler::StatusForNextWrite(json object, const api::DebugSessionStatus& status,
                                                bool& deferred) {
  object["status"] = api::StatusToJson(status);
  deferred = true;
  return object;
}

StatusOr<json> DebugSessionReconciler::WriteCurrentStatus(const json& object) {
  kube::ObjectKey key{object["metadata"].value("namespace", ""),
                      object["metadata"].value("name", "")};
  auto written = client_.UpdateStatus(kube::DebugSessionsResource(), key, object,
                                      {std::string(api::kFieldManager), false});
  if (!written.ok()) return written;
  // The anchor follows the head the status now commits (never one it may not commit yet).
  EPHEMERA_RETURN_IF_ERROR(AnchorAudit(*written));
  return written;
}

StatusOr<json> DebugSessionReconciler::SetFinalizer(json object, bool present) {
  json& metadata = object["metadata"];
  json finalizers = json::array();
  if (metadata.contains("finalizers") && metadata["finalizers"].is_array()) {
    for (const auto& f : metadata["finalizers"]) {
      if (f != api::kFinalizer) finalizers.push_back(f);
    }
  }
  if (present) finalizers.push_back(api::kFinalizer);
  metadata["finalizers"] = finalizers;
  kube::ObjectKey key{metadata.value("namespace", ""), metadata.value("name", "")};
  return client_.Update(kube::DebugSessionsResource(), key, object,
                        {std::string(api::kFieldManager), false});
}

StatusOr<session::AccessDecision> DebugSessionReconciler::Authorize(const DebugSession& s,
                                                                    const session::PodView* pod) {
  const std::string& user = s.spec.requested_by->username;
  for (const auto& check : session::AccessChecksFor(s, options_.policy, pod)) {
    auto review = client_.CreateSubjectAccessReview(check.request);
    if (!review.ok()) return review.status().WithContext("SubjectAccessReview");
    if (!review->allowed) {
      return session::AccessDecision{false, "Forbidden",
                                     session::AccessDeniedMessage(user, check, review->reason)};
    }
  }
  return session::AccessDecision{true, "Allowed", user + " may debug pod " + s.spec.pod};
}

StatusOr<std::string> DebugSessionReconciler::EnsureKey(const DebugSession& s) {
  auto identity = envelope::GenerateIdentity();
  if (!identity.ok()) return identity.status();
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", session::SessionKeySecretNameFor(s.uid)},
                   {"namespace", options_.controller_namespace},
                   {"labels", SessionLabels(s)}}},
                 {"type", "ephemera.dev/session-key"},
                 {"data",
                  {{"identity", base::Base64Encode(identity->identity)},
                   {"recipient", base::Base64Encode(identity->recipient)}}}};
  OPENSSL_cleanse(identity->identity.data(), identity->identity.size());
  auto created = client_.Create(kube::SecretsResource(), options_.controller_namespace, secret,
                                {std::string(api::kFieldManager), false});
  std::string& encoded = secret["data"]["identity"].get_ref<std::string&>();
  OPENSSL_cleanse(encoded.data(), encoded.size());
  if (!created.ok()) {
    if (created.status().code() != StatusCode::kAlreadyExists) {
      return created.status().WithContext("creating the session key");
    }
    return std::string();  // made by an earlier attempt: its recipient is read when needed
  }
  return std::move(identity->recipient);
}

StatusOr<std::string> DebugSessionReconciler::ReadKey(const DebugSession& s, const char* field) {
  auto secret = client_.Get(kube::SecretsResource(), {options_.controller_namespace,
                                                      session::SessionKeySecretNameFor(s.uid)});
  if (!secret.ok()) return secret.status().WithContext("reading the session key");
  const json& data = (*secret)["data"];
  if (!data.is_object() || !data.contains(field) || !data[field].is_string()) {
    return DataLossError("the session key Secret has no " + std::string(field));
  }
  return base::Base64Decode(data[field].get<std::string>());
}

StatusOr<session::PodView> DebugSessionReconciler::Inject(const DebugSession& s,
                                                          const session::PodView& pod,
                                                          const std::string& container,
                                                          std::string recipient) {
  if (const auto* existing = pod.FindEphemeral(session::EphemeralContainerNameFor(s.uid))) {
    if (existing->added_by_ephemera) return pod;  // a retry, a restart, or another replica
    // The planner ends such a session first; this is the last line of defence.
    return FailedPreconditionError("pod " + pod.name +
                                   " already has an ephemeral container named " + existing->name +
                                   " that Ephemera did not add");
  }
  if (recipient.empty()) {
    auto read = ReadKey(s, "recipient");
    if (!read.ok()) return read.status();
    recipient = std::move(*read);
  }
  auto spec = session::BuildEphemeralContainer(s, pod, container, options_.policy, recipient);
  if (!spec.ok()) return spec.status();
  detection::AddMark(*spec, options_.mark_key, pod.uid);
  auto patched = client_.PatchEphemeralContainers({pod.namespace_name, pod.name},
                                                  session::EphemeralContainerPatch(*spec),
                                                  {std::string(api::kFieldManager), false, false});
  if (!patched.ok()) {
    if (patched.status().code() == StatusCode::kInvalidArgument ||
        patched.status().code() == StatusCode::kPermissionDenied) {
      // Rejected by validation or admission (e.g. Pod Security): retrying will not help.
      return FailedPreconditionError(
          session::InjectionRefusedMessage(patched.status().message(), s.spec.profile));
    }
    return patched.status();
  }
  auto after = ParseCheckedPodView(*patched, options_.mark_key);
  if (!after.ok()) return after.status().WithContext("the pod returned by the injection");
  return after;
}

Status DebugSessionReconciler::Collect(const DebugSession& s, const session::PodView* pod,
                                       session::StepOutcome& outcome) {
  // Everything read here was written inside the target pod: it is bounded and checked before use.
  const std::string container = session::EphemeralContainerNameFor(s.uid);
  const std::int64_t cap = options_.policy.max_snapshot_log_bytes;
  if (cap <= 0 || options_.max_snapshot_plaintext_bytes <= 0) {
    return FailedPreconditionError("the controller's snapshot size caps are not set");
  }
  auto log = client_.GetPodLog({s.key.namespace_name, s.spec.pod},
                               {.container = container, .limit_bytes = cap});
  if (!log.ok()) return log.status().WithContext("reading the snapshot container's log");
  // The API server cuts the log at limitBytes; one that did not is refused unread.
  if (static_cast<std::int64_t>(log->size()) > cap) {
    return ResourceExhaustedError(
        "the snapshot container's log is larger than the controller's cap of " +
        std::to_string(cap) + " bytes");
  }
  auto identity = ReadKey(s, "identity");
  if (!identity.ok()) return identity.status();
  auto key = base::SecretBytes::Adopt(std::move(*identity));
  auto opened = envelope::Open(*log, {std::string(key.View())},
                               static_cast<size_t>(options_.max_snapshot_plaintext_bytes));
  if (!opened.ok()) {
    // The API server cuts the log at the cap without saying so: a log of exactly that size that
    // does not open was (most likely) cut, and "truncated armor" would hide the reason.
    if (static_cast<std::int64_t>(log->size()) >= cap) {
      return ResourceExhaustedError(
          "the snapshot container's log reached the controller's cap of " + std::to_string(cap) +
          " bytes, so the snapshot was cut (" + opened.status().message() +
          "); capture fewer sections");
    }
    return opened.status().WithContext("decrypting the snapshot");
  }
  auto tool_plaintext = base::SecretBytes::Adopt(std::move(*opened));
  auto plaintext = DeliveredDocument(s, pod, tool_plaintext.View(), outcome);
  if (!plaintext.ok()) return plaintext.status();

  auto facts = api::ParseSnapshotDocument(plaintext->View());
  if (!facts.ok()) return facts.status();
  auto sealed = envelope::Seal(plaintext->View(), s.spec.recipients);
  if (!sealed.ok()) return sealed.status().WithContext("encrypting to the recipients");

  const std::string sha = base::Sha256Hex(*sealed);
  json snapshot = {{"apiVersion", "ephemera.dev/v1alpha1"},
                   {"kind", "DebugSnapshot"},
                   {"metadata",
                    {{"name", s.key.name},
                     {"namespace", s.key.namespace_name},
                     {"labels", SessionLabels(s)},
                     {"ownerReferences", json::array({SessionOwnerReference(s)})}}},
                   {"spec",
                    {{"session", s.key.name},
                     {"format", api::kSnapshotApiVersion},
                     {"recipients", s.spec.recipients},
                     {"ciphertext", *sealed},
                     {"sha256", sha},
                     {"bytes", static_cast<std::int64_t>(sealed->size())},
                     {"sections", facts->sections},
                     {"degraded", facts->degraded},
                     {"capturedAt", base::FormatRfc3339(clock_.Now())}}}};
  auto created = client_.Create(kube::DebugSnapshotsResource(), s.key.namespace_name, snapshot,
                                {std::string(api::kFieldManager), false});
  if (!created.ok()) {
    if (created.status().code() != StatusCode::kAlreadyExists) {
      return created.status().WithContext("creating the DebugSnapshot");
    }
    // Delivered by an earlier attempt? Only accept one that belongs to this session.
    auto existing = client_.Get(kube::DebugSnapshotsResource(), s.key);
    if (!existing.ok()) return existing.status();
    if (LabelOf(*existing, "ephemera.dev/session-uid") != s.uid) {
      return FailedPreconditionError("a DebugSnapshot named " + s.key.name +
                                     " already exists and belongs to another session");
    }
  }

  outcome.snapshot = api::SnapshotSummary{s.key.name,
                                          sha,
                                          static_cast<std::int64_t>(sealed->size()),
                                          std::move(facts->sections),
                                          std::move(facts->degraded),
                                          std::move(facts->pids)};
  outcome.redaction = facts->redaction;
  outcome.overhead = facts->overhead;
  return OkStatus();
}

StatusOr<base::SecretBytes> DebugSessionReconciler::DeliveredDocument(
    const DebugSession& s, const session::PodView* pod, std::string_view plaintext,
    session::StepOutcome& outcome) {
  // A document that does not parse is delivered to nobody: ParseSnapshotDocument then says why.
  if (base::NestsDeeperThan(plaintext)) return base::SecretBytes::Adopt(std::string(plaintext));
  session::Document document = session::Document::parse(plaintext, nullptr, false);
  if (!document.is_object()) return base::SecretBytes::Adopt(std::string(plaintext));
  auto keys = session::TakeControllerOnly(document);
  if (!keys.ok()) return keys.status();
  if (s.spec.WantsLogs()) EPHEMERA_RETURN_IF_ERROR(PullLogs(s, pod, *keys, document, outcome));
  return base::SecretBytes::Adopt(
      document.dump(-1, ' ', false, session::Document::error_handler_t::replace));
}

Status DebugSessionReconciler::PullLogs(const DebugSession& s, const session::PodView* pod,
                                        const session::ValueKeys& keys, session::Document& document,
                                        session::StepOutcome& outcome) {
  const session::LogLimits limits = session::EffectiveLogLimits(s.spec.logs, options_.policy.logs);
  session::StepOutcome::LogRead read;
  read.container =
      s.spec.container.empty() && pod != nullptr ? pod->default_container : s.spec.container;
  read.limits = limits;
  const session::ContainerView* container =
      pod != nullptr ? pod->FindContainer(read.container) : nullptr;
  std::string problem = session::ValueKeysProblem(keys);
  if (problem.empty() && container == nullptr) {
    problem =
        pod == nullptr ? "the target pod is gone" : "the pod has no container " + read.container;
  }
  std::optional<redact::Redactor> redactor;
  if (problem.empty()) {
    auto made = session::LogRedactor(s.spec, options_.policy, *pod, keys);
    if (made.ok()) {
      redactor = std::move(*made);
    } else {
      problem = made.status().message();
    }
  }
  if (!problem.empty()) {
    session::AddLogsNotRead(document, problem);
    read.not_read = std::move(problem);
    outcome.logs = std::move(read);
    return OkStatus();
  }
  session::Document instances = session::Document::array();
  redact::RedactionReport report;
  for (const bool previous : {false, true}) {
    // A container that never restarted has no previous instance: nothing to read, nothing amiss.
    if (previous && (!limits.previous || container->restart_count == 0)) continue;
    session::LogInstanceRead instance{
        previous ? "previous" : "current", container->restart_count,
        previous ? container->last_terminated : container->terminated};
    kube::PodLogOptions options;
    options.container = read.container;
    options.limit_bytes = limits.limit_bytes;
    options.tail_lines = limits.tail_lines;
    if (limits.since) options.since_seconds = limits.since->count();
    options.timestamps = true;
    options.previous = previous;
    auto text = client_.GetPodLog({s.key.namespace_name, s.spec.pod}, options);
    if (!text.ok()) {
      const StatusCode code = text.status().code();
      if (code == StatusCode::kUnavailable || code == StatusCode::kResourceExhausted ||
          code == StatusCode::kDeadlineExceeded) {
        return UnavailableError("reading the " + instance.instance + " log of container " +
                                read.container + ": " + text.status().message());
      }
      instance.text = text.status();
    } else {
      // The API server stops at limitBytes; more than that is not taken.
      if (static_cast<std::int64_t>(text->size()) > limits.limit_bytes) {
        base::WipeString(*text);
        instance.text = DataLossError("the API server returned more than limitBytes");
      } else {
        instance.text = std::move(*text);
      }
    }
    session::LogInstanceSummary summary;
    instances.push_back(session::BuildLogInstance(instance, limits, *redactor, report, summary));
    if (instance.text.ok()) base::WipeString(*instance.text);
    read.instances.push_back(std::move(summary));
  }
  session::AddLogsSection(document, read.container, limits, std::move(instances), report);
  outcome.logs = std::move(read);
  return OkStatus();
}

Status DebugSessionReconciler::Wipe(const DebugSession& s) {
  Status snapshot = client_.Delete(kube::DebugSnapshotsResource(), s.key);
  if (!snapshot.ok() && !IsNotFound(snapshot)) {
    return snapshot.WithContext("deleting the DebugSnapshot");
  }
  return ShredKey(s);
}

Status DebugSessionReconciler::ShredKey(const DebugSession& s) {
  Status key = client_.Delete(kube::SecretsResource(), {options_.controller_namespace,
                                                        session::SessionKeySecretNameFor(s.uid)});
  if (!key.ok() && !IsNotFound(key)) return key.WithContext("deleting the session key");
  return OkStatus();
}

StatusOr<json> DebugSessionReconciler::WriteStatusThenShredKey(
    json object, const api::DebugSessionStatus& status, const DebugSession& s) {
  auto written = WriteStatus(std::move(object), status);
  if (!written.ok()) return written.status();
  EPHEMERA_RETURN_IF_ERROR(ShredKey(s));
  return written;
}

Status DebugSessionReconciler::Record(const DebugSession& s, Action action,
                                      session::Transition& transition) {
  // The phase change and the capture time go with the first step reported, once.
  bool timed = !transition.status.phase || transition.status.phase == s.status.phase;
  for (session::AuditEntry& entry : transition.records) {
    session::StepRecord step = session::StepReportFor(s, action, entry);
    if (!timed && entry.reported) {
      timed = true;
      step.entered_phase = transition.status.phase;
      // creationTimestamp has whole seconds: up to 1 s more than the truth, never less than 0.
      step.seconds_since_creation =
          std::max(0.0, std::chrono::duration<double>(clock_.Now() - s.created).count());
      if (transition.status.phase == Phase::kCompleted && transition.status.overhead) {
        step.capture_seconds =
            static_cast<double>(transition.status.overhead->wall_millis) / 1000.0;
      }
    }
    EPHEMERA_RETURN_IF_ERROR(AppendAudit(s, action, std::move(entry.action), entry.outcome,
                                         entry.message, transition.status,
                                         std::move(entry.details)));
    if (entry.reported && options_.on_step) options_.on_step(step);
  }
  return OkStatus();
}

Status DebugSessionReconciler::AppendAudit(const DebugSession& s, Action step_action,
                                           std::string action, std::string outcome,
                                           std::string message, api::DebugSessionStatus& status,
                                           json details) {
  if (options_.audit == nullptr) return OkStatus();
  audit::AuditRecord record;
  record.time = audit::FormatAuditTime(clock_.Now());
  record.chain = audit::SessionChain(s.uid);
  record.session = s.key.ToString();
  record.requester = RequesterName(s);
  record.reason = s.spec.reason;
  record.target = s.key.namespace_name + "/" + s.spec.pod + "/" + s.spec.container;
  record.action = std::move(action);
  record.outcome = std::move(outcome);
  record.message = std::move(message);
  record.details = std::move(details);
  // The head this step started from, or the one an earlier record of the same step left: a step's
  // records follow each other on the chain even after a restart (memory empty).
  std::optional<audit::ChainHead> persisted;
  if (status.audit) {
    persisted =
        audit::ChainHead{static_cast<std::uint64_t>(status.audit->records), status.audit->head};
  }
  // A session created before this replica began leading may have had its first records written
  // by the previous leader, which died before saving them in status (a fork at seq 1).
  const bool written_elsewhere =
      !persisted.has_value() && s.created <= leading_since_.load(std::memory_order_relaxed);
  auto head = options_.audit->Append(record, persisted, written_elsewhere);
  if (!head.ok()) {
    // Strict audit: the step must not count as done. Wiping goes ahead regardless (a key must
    // never outlive its TTL because the audit sink is down); its record is lost and counted.
    if (step_action == Action::kWipe) return OkStatus();
    return head.status().WithContext("audit record for " +
                                     std::string(session::ActionName(step_action)));
  }
  status.audit = api::AuditSummary{static_cast<std::int64_t>(head->records), head->hash};
  return OkStatus();
}

Status DebugSessionReconciler::AnchorAudit(const json& object) {
  if (options_.anchors == nullptr || !object.is_object()) return OkStatus();
  const json& metadata = object.contains("metadata") ? object["metadata"] : json::object();
  const json& status = object.contains("status") ? object["status"] : json::object();
  if (!metadata.is_object() || !status.is_object() || !status.contains("audit")) return OkStatus();
  auto text = [&metadata](const char* field) { return base::StringField(metadata, field); };
  auto head = audit::ChainHeadFromJson(status["audit"]);
  const std::string uid = text("uid");
  if (!head.ok() || head->records == 0 || uid.empty()) return OkStatus();
  const kube::ObjectKey key{text("namespace"), text("name")};
  Status saved = options_.anchors->Save(audit::SessionChain(uid), *head, key.ToString(), uid);
  if (saved.ok()) return OkStatus();
  if (options_.policy.strict_audit) return saved.WithContext("audit anchor (strict audit)");
  options_.anchors->ReportError("anchoring the audit chain of DebugSession " + key.ToString(),
                                saved);
  return OkStatus();
}

}  // namespace ephemera::reconciler
