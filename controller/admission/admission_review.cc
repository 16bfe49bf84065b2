#include "controller/admission/admission_review.h"

namespace ephemera::admission {

using nlohmann::json;

const json& ObjectField(const json& object, std::string_view key) {
  static const json kEmpty = json::object();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

const json* AdmissionRequest(const json& review) {
  if (!review.is_object() || !review.contains("request") || !review["request"].is_object()) {
    return nullptr;
  }
  return &review["request"];
}

json AdmissionResponse(const json& review, bool allowed, const std::string& message) {
  const json* request = AdmissionRequest(review);
  const std::string uid = request != nullptr ? StringField(*request, "uid") : "";
  json response = {{"uid", uid}, {"allowed", allowed}};
  if (!allowed) {
    response["status"] = {{"code", 403}, {"reason", "Forbidden"}, {"message", message}};
  }
  return {
      {"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"response", response}};
}

}  // namespace ephemera::admission
