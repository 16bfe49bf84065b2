#include "controller/admission/debug_session_admission.h"

#include <algorithm>
#include <string>

#include "controller/admission/admission_review.h"
#include "controller/config/duration.h"
#include "controller/kube/base64.h"
#include "controller/session/debug_session.h"

namespace ephemera::admission {
namespace {

using nlohmann::json;

bool Contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
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
    return AdmissionResponse(
        review, false,
        "spec.requestedBy is set by Ephemera from your identity; remove it from the "
        "DebugSession");
  }
  const json& user = ObjectField(*request, "userInfo");
  const std::string username = StringField(user, "username");
  if (username.empty()) {
    return AdmissionResponse(review, false,
                             "the request carries no authenticated user; Ephemera "
                             "cannot bind the session to a requester");
  }
  json requested_by = {{"username", username}};
  if (user.contains("uid") && user["uid"].is_string()) requested_by["uid"] = user["uid"];
  if (user.contains("groups") && user["groups"].is_array()) requested_by["groups"] = user["groups"];
  json patch =
      json::array({{{"op", "add"}, {"path", "/spec/requestedBy"}, {"value", requested_by}}});
  if (!object["spec"].contains("ttl")) {
    patch.push_back({{"op", "add"},
                     {"path", "/spec/ttl"},
                     {"value", config::FormatDuration(policy.default_ttl)}});
  }
  json out = AdmissionResponse(review, true);
  out["response"]["patchType"] = "JSONPatch";
  out["response"]["patch"] = kube::Base64Encode(patch.dump());
  out["response"]["auditAnnotations"] = {{"requested-by", username}};
  return out;
}

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
  const std::string ttl =
      spec.contains("ttl") ? StringField(spec, "ttl") : config::FormatDuration(policy.default_ttl);
  auto parsed = config::ParseDuration(ttl);
  if (!parsed.ok()) {
    return AdmissionResponse(review, false, "spec.ttl: " + parsed.status().message());
  }
  if (*parsed > policy.max_ttl) {
    return AdmissionResponse(review, false,
                             "spec.ttl: " + ttl + " exceeds the cluster's maximum of " +
                                 config::FormatDuration(policy.max_ttl) + "; ask for " +
                                 config::FormatDuration(policy.max_ttl) + " or less");
  }
  const std::string profile =
      StringField(spec, "profile").empty() ? "restricted" : StringField(spec, "profile");
  const session::Profile p =
      profile == "ptrace" ? session::Profile::kPtrace : session::Profile::kRestricted;
  if (std::find(policy.allowed_profiles.begin(), policy.allowed_profiles.end(), p) ==
      policy.allowed_profiles.end()) {
    return AdmissionResponse(
        review, false, "spec.profile: cluster policy does not allow the " + profile + " profile");
  }
  return AdmissionResponse(review, true);
}

}  // namespace ephemera::admission
