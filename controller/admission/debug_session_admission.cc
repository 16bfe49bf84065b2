#include "controller/admission/debug_session_admission.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include "api/debug_session.h"
#include "base/base64.h"
#include "base/duration.h"
#include "base/json_access.h"
#include "controller/admission/admission_review.h"
#include "controller/session/log_pull.h"
#include "controller/session/overhead_budget.h"
#include "envelope/envelope.h"

namespace ephemera::admission {
namespace {

using nlohmann::json;

bool Contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(text[i]) != lower(prefix[i])) return false;
  }
  return true;
}

// The first problem with spec.recipients, as "spec.recipients…: rule"; empty when they are usable.
// The CRD checks their shape; this checks what the snapshot will actually be encrypted to
// (bech32 checksum, key length), so that a typo fails now and not after the capture. A value is
// never echoed: a secret key pasted by mistake must not land in an audit log.
std::string RecipientsProblem(const json& spec) {
  auto it = spec.find("recipients");
  if (it == spec.end() || !it->is_array() || it->empty()) {
    return "spec.recipients: at least one age recipient (age1…) is required; the snapshot is "
           "encrypted to it";
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const std::string field = "spec.recipients[" + std::to_string(i) + "]";
    const json& recipient = (*it)[i];
    if (!recipient.is_string()) return field + ": must be a string such as age1…";
    const std::string& text = recipient.get_ref<const std::string&>();
    if (StartsWithNoCase(text, "AGE-SECRET-KEY-")) {
      return field +
             ": is a secret key, not a recipient; remove it from the DebugSession and rotate it, "
             "then give its public key (age-keygen -y)";
    }
    Status valid = envelope::ValidateRecipient(text);
    if (!valid.ok()) {
      return field + ": is not a usable age X25519 recipient (" + valid.message() +
             "); copy it as age-keygen prints it";
    }
  }
  return "";
}

// spec.requestedBy as the mutating webhook writes it for `user` (the request's userInfo).
json RequesterFromUserInfo(const json& user) {
  json requested_by = {{"username", StringField(user, "username")}};
  if (user.contains("uid") && user["uid"].is_string()) requested_by["uid"] = user["uid"];
  if (user.contains("groups") && user["groups"].is_array()) requested_by["groups"] = user["groups"];
  if (user.contains("extra") && user["extra"].is_object() && !user["extra"].empty()) {
    requested_by["extra"] = user["extra"];
  }
  return requested_by;
}

// A requester in one form for comparison: absent (or null) uid, groups and extra read as empty; a
// member of another type is kept as it is, so that it can only compare unequal.
json Canonical(const json& requester) {
  const auto member = [&](const char* key, const json& empty) {
    const auto it = requester.find(key);
    return it == requester.end() || it->is_null() ? empty : *it;
  };
  return {{"username", member("username", "")},
          {"uid", member("uid", "")},
          {"groups", member("groups", json::array())},
          {"extra", member("extra", json::object())}};
}

// Why spec.requestedBy is not exactly the user who sent `request`; empty when it is. Groups compare
// as lists, in order: the API server hands both webhooks the same userInfo and the mutating webhook
// copies it as is, so a reordering, like any other change, was made by someone else.
std::string RequesterMismatch(const json& spec, const json& request) {
  const auto by = spec.find("requestedBy");
  if (by == spec.end() || !by->is_object()) {
    return "spec.requestedBy is missing; Ephemera's mutating webhook sets it from your "
           "identity, so the DebugSession did not pass through that webhook or another mutating "
           "webhook removed it";
  }
  const json stated = Canonical(*by);
  const json actual = Canonical(RequesterFromUserInfo(ObjectFieldOrEmpty(request, "userInfo")));
  for (const char* key : {"username", "uid", "groups", "extra"}) {
    if (stated[key] != actual[key]) {
      std::string message =
          "spec.requestedBy does not match the user who sent this request (spec.requestedBy.";
      message += key;
      message += " differs from userInfo.";
      message += key;
      message +=
          "); another mutating webhook changed it after Ephemera set it, so the session is "
          "refused: remove the cluster's mutating rules that touch DebugSessions";
      return message;
    }
  }
  return "";
}

}  // namespace

json MutateDebugSession(const json& review, const session::Policy& policy) {
  const json* request = AdmissionRequest(review);
  if (request == nullptr) {
    return AdmissionResponse(review, false, "malformed AdmissionReview: no request");
  }
  const std::string operation = StringField(*request, "operation");
  if (operation != "CREATE") return AdmissionResponse(review, true);
  const json& object = request->contains("object") ? (*request)["object"] : json();
  if (!object.is_object() || !object.contains("spec") || !object["spec"].is_object()) {
    return AdmissionResponse(review, false, "DebugSession has no spec");
  }
  if (object["spec"].contains("requestedBy")) {
    return AdmissionResponse(review, false, std::string(kRequesterIsBoundMessage));
  }
  const json& user = ObjectFieldOrEmpty(*request, "userInfo");
  const std::string username = StringField(user, "username");
  if (username.empty()) {
    return AdmissionResponse(review, false,
                             "the request carries no authenticated user; Ephemera "
                             "cannot bind the session to a requester");
  }
  json patch = json::array(
      {{{"op", "add"}, {"path", "/spec/requestedBy"}, {"value", RequesterFromUserInfo(user)}}});
  if (!object["spec"].contains("ttl")) {
    patch.push_back({{"op", "add"},
                     {"path", "/spec/ttl"},
                     {"value", base::FormatDuration(policy.default_ttl)}});
  }
  // The cleanup finalizer from the start, so that the controller need not write the session once
  // more only to add it (it still does for a session that did not come through this webhook).
  const json& metadata = ObjectFieldOrEmpty(object, "metadata");
  const auto finalizers = metadata.find("finalizers");
  if (finalizers == metadata.end() || !finalizers->is_array()) {
    patch.push_back({{"op", "add"},
                     {"path", "/metadata/finalizers"},
                     {"value", json::array({api::kFinalizer})}});
  } else if (std::find(finalizers->begin(), finalizers->end(), api::kFinalizer) ==
             finalizers->end()) {
    patch.push_back(
        {{"op", "add"}, {"path", "/metadata/finalizers/-"}, {"value", api::kFinalizer}});
  }
  json out = AdmissionResponse(review, true);
  out["response"]["patchType"] = "JSONPatch";
  out["response"]["patch"] = base::Base64Encode(patch.dump());
  out["response"]["auditAnnotations"] = {{"requested-by", username}};
  return out;
}

namespace {

// What is wrong with spec.redaction.pii under `policy`, or "" (not set: the policy's default).
std::string PiiProblem(const json& spec, const session::Policy& policy) {
  const auto redaction = spec.find("redaction");
  if (redaction == spec.end() || !redaction->is_object() || !redaction->contains("pii")) return "";
  const json& value = (*redaction)["pii"];
  const std::optional<api::PiiMode> mode =
      value.is_string() ? api::ParsePiiMode(value.get<std::string>()) : std::nullopt;
  if (!mode) {
    return "spec.redaction.pii: must be none, standard or strict, not " + value.dump();
  }
  if (*mode < policy.minimum_pii) {
    const std::string minimum(api::PiiModeName(policy.minimum_pii));
    return "spec.redaction.pii: " + std::string(api::PiiModeName(*mode)) +
           " masks less personal data than the cluster policy's minimum, " + minimum +
           "; ask for " + minimum +
           (policy.minimum_pii == api::PiiMode::kStrict ? "" : " or strict") +
           ", or leave it out for the cluster's default (" +
           std::string(api::PiiModeName(policy.default_pii)) + ")";
  }
  return "";
}

}  // namespace

json ValidateDebugSession(const json& review, const session::Policy& policy) {
  const json* request = AdmissionRequest(review);
  if (request == nullptr) {
    return AdmissionResponse(review, false, "malformed AdmissionReview: no request");
  }
  if (StringField(*request, "operation") != "CREATE") return AdmissionResponse(review, true);
  const json& object = request->contains("object") ? (*request)["object"] : json();
  const std::string ns = StringField(*request, "namespace");
  if (Contains(policy.forbidden_namespaces, ns) ||
      (!policy.allowed_namespaces.empty() && !Contains(policy.allowed_namespaces, ns))) {
    return AdmissionResponse(
        review, false,
        "metadata.namespace: cluster policy does not allow debug sessions in namespace " + ns);
  }
  if (!object.is_object() || !object.contains("spec") || !object["spec"].is_object()) {
    return AdmissionResponse(review, false, "DebugSession has no spec");
  }
  const json& spec = object["spec"];
  // Validating webhooks run after every mutating one: whatever changed the requester after the
  // mutating webhook bound it (a policy engine's mutate rule, say) is caught here.
  if (std::string mismatch = RequesterMismatch(spec, *request); !mismatch.empty()) {
    return AdmissionResponse(review, false, mismatch);
  }
  if (spec.contains("ttl") && !spec["ttl"].is_string()) {
    return AdmissionResponse(
        review, false,
        "spec.ttl: must be a duration string such as \"5m\", not " + spec["ttl"].dump());
  }
  const std::string ttl =
      spec.contains("ttl") ? StringField(spec, "ttl") : base::FormatDuration(policy.default_ttl);
  auto parsed = base::ParseDuration(ttl);
  if (!parsed.ok()) {
    return AdmissionResponse(review, false, "spec.ttl: " + parsed.status().message());
  }
  if (*parsed <= std::chrono::nanoseconds::zero()) {
    return AdmissionResponse(review, false,
                             "spec.ttl: " + ttl + " is not a positive duration; ask for e.g. 5m");
  }
  if (*parsed > policy.max_ttl) {
    return AdmissionResponse(review, false,
                             "spec.ttl: " + ttl + " exceeds the cluster's maximum of " +
                                 base::FormatDuration(policy.max_ttl) + "; ask for " +
                                 base::FormatDuration(policy.max_ttl) + " or less");
  }
  if (spec.contains("profile") && !spec["profile"].is_string()) {
    return AdmissionResponse(
        review, false, "spec.profile: must be restricted or ptrace, not " + spec["profile"].dump());
  }
  const std::string profile =
      StringField(spec, "profile").empty() ? "restricted" : StringField(spec, "profile");
  if (profile != "restricted" && profile != "ptrace") {
    // Fail closed: an unknown profile is not silently read as one of the known ones.
    return AdmissionResponse(
        review, false,
        "spec.profile: unknown profile \"" + profile + "\"; use restricted or ptrace");
  }
  const api::Profile p = profile == "ptrace" ? api::Profile::kPtrace : api::Profile::kRestricted;
  if (std::find(policy.allowed_profiles.begin(), policy.allowed_profiles.end(), p) ==
      policy.allowed_profiles.end()) {
    return AdmissionResponse(
        review, false, "spec.profile: cluster policy does not allow the " + profile + " profile");
  }
  if (std::string problem = RecipientsProblem(spec); !problem.empty()) {
    return AdmissionResponse(review, false, problem);
  }
  if (std::string problem = PiiProblem(spec, policy); !problem.empty()) {
    return AdmissionResponse(review, false, problem);
  }
  auto logs = api::ParseLogsSpec(base::FindField(spec, "logs"));
  if (!logs.ok()) return AdmissionResponse(review, false, logs.status().message());
  if (std::string problem = session::LogsProblem(*logs, policy.logs); !problem.empty()) {
    return AdmissionResponse(review, false, problem);
  }
  auto budget = api::ParseBudgetSpec(base::FindField(spec, "budget"));
  if (!budget.ok()) return AdmissionResponse(review, false, budget.status().message());
  api::DebugSessionSpec checked;
  checked.ttl = std::chrono::ceil<std::chrono::seconds>(*parsed);
  checked.budget = *budget;
  if (std::string problem = session::BudgetProblem(checked, policy); !problem.empty()) {
    return AdmissionResponse(review, false, problem);
  }
  return AdmissionResponse(review, true);
}

}  // namespace ephemera::admission
