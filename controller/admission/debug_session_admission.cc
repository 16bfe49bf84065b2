#include "controller/admission/debug_session_admission.h"

#include <algorithm>
#include <string>

#include "controller/config/duration.h"
#include "controller/kube/base64.h"
#include "controller/session/debug_session.h"

namespace ephemera::admission {
namespace {

using nlohmann::json;

json Response(const json& review, bool allowed, const std::string& message = "") {
  std::string uid;
  if (review.is_object() && review.contains("request") && review["request"].is_object()) {
    uid = review["request"].value("uid", "");
  }
  json response = {{"uid", uid}, {"allowed", allowed}};
  if (!allowed) {
    response["status"] = {{"code", 403}, {"reason", "Forbidden"}, {"message", message}};
  }
  return {
      {"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"response", response}};
}

const json* Request(const json& review) {
  if (!review.is_object() || !review.contains("request") || !review["request"].is_object()) {
    return nullptr;
  }
  return &review["request"];
}

bool Contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

json MutateDebugSession(const json& review) {
  const json* request = Request(review);
  if (request == nullptr) return Response(review, false, "malformed AdmissionReview: no request");
  const std::string operation = request->value("operation", "");
  if (operation != "CREATE") return Response(review, true);
  const json& object = request->contains("object") ? (*request)["object"] : json();
  if (!object.is_object() || !object.contains("spec") || !object["spec"].is_object()) {
    return Response(review, false, "DebugSession has no spec");
  }
  if (object["spec"].contains("requestedBy")) {
    return Response(review, false,
                    "spec.requestedBy is set by Ephemera from your identity; remove it from the "
                    "DebugSession");
  }
  const json user = request->value("userInfo", json::object());
  const std::string username = user.value("username", "");
  if (username.empty()) {
    return Response(review, false,
                    "the request carries no authenticated user; Ephemera "
                    "cannot bind the session to a requester");
  }
  json requested_by = {{"username", username}};
  if (user.contains("uid") && user["uid"].is_string()) requested_by["uid"] = user["uid"];
  if (user.contains("groups") && user["groups"].is_array()) requested_by["groups"] = user["groups"];
  const json patch =
      json::array({{{"op", "add"}, {"path", "/spec/requestedBy"}, {"value", requested_by}}});
  json out = Response(review, true);
  out["response"]["patchType"] = "JSONPatch";
  out["response"]["patch"] = kube::Base64Encode(patch.dump());
  out["response"]["auditAnnotations"] = {{"requested-by", username}};
  return out;
}

json ValidateDebugSession(const json& review, const session::Policy& policy) {
  const json* request = Request(review);
  if (request == nullptr) return Response(review, false, "malformed AdmissionReview: no request");
  if (request->value("operation", "") != "CREATE") return Response(review, true);
  const json& object = request->contains("object") ? (*request)["object"] : json();
  const std::string ns = request->value("namespace", "");
  if (Contains(policy.forbidden_namespaces, ns) ||
      (!policy.allowed_namespaces.empty() && !Contains(policy.allowed_namespaces, ns))) {
    return Response(
        review, false,
        "metadata.namespace: cluster policy does not allow debug sessions in namespace " + ns);
  }
  if (!object.is_object() || !object.contains("spec") || !object["spec"].is_object()) {
    return Response(review, false, "DebugSession has no spec");
  }
  const json& spec = object["spec"];
  const std::string ttl = spec.value("ttl", "5m");
  auto parsed = config::ParseDuration(ttl);
  if (!parsed.ok()) return Response(review, false, "spec.ttl: " + parsed.status().message());
  if (*parsed > policy.max_ttl) {
    return Response(review, false,
                    "spec.ttl: " + ttl + " exceeds the cluster's maximum of " +
                        config::FormatDuration(policy.max_ttl) + "; ask for " +
                        config::FormatDuration(policy.max_ttl) + " or less");
  }
  const std::string profile = spec.value("profile", "restricted");
  const session::Profile p =
      profile == "ptrace" ? session::Profile::kPtrace : session::Profile::kRestricted;
  if (std::find(policy.allowed_profiles.begin(), policy.allowed_profiles.end(), p) ==
      policy.allowed_profiles.end()) {
    return Response(review, false,
                    "spec.profile: cluster policy does not allow the " + profile + " profile");
  }
  return Response(review, true);
}

}  // namespace ephemera::admission
