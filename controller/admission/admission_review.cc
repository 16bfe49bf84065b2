#include "controller/admission/admission_review.h"

namespace ephemera::admission {

using nlohmann::json;

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
