#include "controller/app/install_check.h"

#include <string>
#include <utility>

#include "api/debug_session.h"
#include "controller/admission/debug_session_admission.h"
#include "envelope/envelope.h"
#include "kube/object/resource.h"

namespace ephemera::app {

using nlohmann::json;

namespace {

constexpr std::string_view kStampedName =
    "the API server calls Ephemera's webhooks, which bind a session to its sender";
constexpr std::string_view kForgedName = "a session that names its own requester is refused";

std::string StringAt(const json& object, const json::json_pointer& where) {
  const json* value = object.contains(where) ? &object[where] : nullptr;
  return value != nullptr && value->is_string() ? value->get<std::string>() : "";
}

bool HasFinalizer(const json& object) {
  const json::json_pointer where("/metadata/finalizers");
  if (!object.contains(where) || !object[where].is_array()) return false;
  for (const json& f : object[where]) {
    if (f.is_string() && f.get<std::string>() == api::kFinalizer) return true;
  }
  return false;
}

InstallCheckResult Failed(std::string_view name, std::string detail) {
  return {.name = std::string(name), .passed = false, .detail = std::move(detail)};
}

}  // namespace

std::string ExplainCreateRefusal(const Status& refusal) {
  const std::string& message = refusal.message();
  const auto has = [&](std::string_view part) { return message.find(part) != std::string::npos; };
  if (has("failed calling webhook") || has("x509")) {
    return "the API server cannot call Ephemera's webhook: " + message +
           "; check that the controller pods are Ready, that the webhook configurations' caBundle "
           "matches the certificate the webhook Service serves (certificates.mode), and that "
           "nothing between the API server and the pods blocks the webhook port";
  }
  if (has("denied the request")) {
    return "refused at admission: " + message +
           "; the check sends its sessions in the release namespace, which the policy must allow "
           "(policy.forbiddenNamespaces, policy.allowedNamespaces), or set tests.enabled=false";
  }
  if (refusal.code() == StatusCode::kPermissionDenied) {
    return "this check may not create DebugSessions here: " + message +
           "; with rbac.create=false, let the check's ServiceAccount create debugsessions in the "
           "release namespace";
  }
  return message;
}

json BuildInstallCheckSession(std::string_view recipient, const json& requested_by) {
  json session = {
      {"apiVersion", "ephemera.dev/v1alpha1"},
      {"kind", "DebugSession"},
      {"metadata", {{"generateName", "ephemera-install-check-"}}},
      {"spec",
       {{"target", {{"pod", "ephemera-install-check"}}},
        {"reason", "helm test: admission round trip (a dry run; nothing is created)"},
        {"recipients", json::array({std::string(recipient)})}}},
  };
  if (!requested_by.is_null()) session["spec"]["requestedBy"] = requested_by;
  return session;
}

InstallCheckResult JudgeStampedSession(const StatusOr<json>& who_am_i,
                                       const StatusOr<json>& admitted) {
  if (!who_am_i.ok()) {
    return Failed(kStampedName,
                  "cannot ask the API server who this check runs as "
                  "(SelfSubjectReview): " +
                      who_am_i.status().message());
  }
  const std::string me = StringAt(*who_am_i, json::json_pointer("/status/userInfo/username"));
  if (me.empty()) {
    return Failed(kStampedName, "the SelfSubjectReview names no user");
  }
  if (!admitted.ok()) {
    return Failed(kStampedName, "a dry-run DebugSession was not admitted: " +
                                    ExplainCreateRefusal(admitted.status()));
  }
  const std::string stamped = StringAt(*admitted, json::json_pointer("/spec/requestedBy/username"));
  if (stamped.empty()) {
    return Failed(kStampedName,
                  "the session was admitted without spec.requestedBy: Ephemera's mutating webhook "
                  "did not run (is the MutatingWebhookConfiguration installed, and does another "
                  "webhook remove the field?)");
  }
  if (stamped != me) {
    return Failed(kStampedName, "spec.requestedBy.username is \"" + stamped +
                                    "\", but this check runs as \"" + me +
                                    "\": something rewrites the requester after Ephemera binds it");
  }
  if (!HasFinalizer(*admitted)) {
    return Failed(kStampedName, "the admitted session lacks the finalizer " +
                                    std::string(api::kFinalizer) +
                                    " that Ephemera's mutating webhook adds");
  }
  return {.name = std::string(kStampedName) + " (requestedBy " + me + ")", .passed = true};
}

InstallCheckResult JudgeForgedSession(const StatusOr<json>& admitted) {
  if (admitted.ok()) {
    return Failed(kForgedName,
                  "a DebugSession naming its own spec.requestedBy was admitted: Ephemera's "
                  "mutating webhook is not enforcing (is its failurePolicy Ignore, or is it not "
                  "called for DebugSessions?)");
  }
  // Refused by Ephemera's mutating webhook, for that reason: not by the validating webhook, RBAC or
  // a webhook the API server cannot call.
  if (admitted.status().message().find(admission::kRequesterIsBoundMessage) == std::string::npos) {
    return Failed(kForgedName,
                  "refused, but not by Ephemera's mutating webhook for naming its "
                  "own requester: " +
                      ExplainCreateRefusal(admitted.status()));
  }
  return {.name = std::string(kForgedName), .passed = true};
}

int RunInstallCheck(kube::KubeClient& client, std::string_view namespace_name, std::ostream& out) {
  const kube::GroupVersionResource self_subject_reviews{.group = "authentication.k8s.io",
                                                        .version = "v1",
                                                        .resource = "selfsubjectreviews",
                                                        .namespaced = false};
  const StatusOr<json> who_am_i = client.Create(
      self_subject_reviews, "",
      json{{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}});

  // A recipient of a key made for this check alone: the sessions are never stored, so nothing is
  // ever encrypted to it.
  StatusOr<envelope::X25519Identity> key = envelope::GenerateIdentity();
  if (!key.ok()) {
    out << "FAIL: cannot make an age key for the check: " << key.status().message() << "\n";
    return 2;
  }
  const std::string recipient = key->recipient;

  const kube::WriteOptions dry_run{.field_manager = "ephemera-install-check", .dry_run = true};
  const std::vector<InstallCheckResult> results = {
      JudgeStampedSession(who_am_i, client.Create(kube::DebugSessionsResource(), namespace_name,
                                                  BuildInstallCheckSession(recipient), dry_run)),
      JudgeForgedSession(client.Create(
          kube::DebugSessionsResource(), namespace_name,
          BuildInstallCheckSession(recipient, json{{"username", "ephemera-install-check-forged"}}),
          dry_run)),
  };
  int failed = 0;
  for (const InstallCheckResult& r : results) {
    if (r.passed) {
      out << "ok: " << r.name << "\n";
    } else {
      ++failed;
      out << "FAIL: " << r.name << " — " << r.detail << "\n";
    }
  }
  out << (failed == 0 ? "ephemera install check passed\n" : "ephemera install check failed\n");
  return failed == 0 ? 0 : 1;
}

StatusOr<InstallCheckArgs> ParseInstallCheckArgs(const std::vector<std::string>& args) {
  InstallCheckArgs parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const std::string flag = a.substr(0, a.find('='));
    std::string* target = flag == "--namespace"    ? &parsed.namespace_name
                          : flag == "--kubeconfig" ? &parsed.kubeconfig
                                                   : nullptr;
    if (target == nullptr) return InvalidArgumentError("unknown argument " + a);
    if (flag.size() < a.size()) {
      *target = a.substr(flag.size() + 1);
    } else if (i + 1 < args.size()) {
      *target = args[++i];
    } else {
      return InvalidArgumentError(a + " needs a value");
    }
    if (target->empty()) return InvalidArgumentError(flag + " needs a value");
  }
  return parsed;
}

}  // namespace ephemera::app
