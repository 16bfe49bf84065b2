#include "controller/admission/ephemeral_container_admission.h"

#include "controller/admission/admission_review.h"

namespace ephemera::admission {

using nlohmann::json;

EphemeralContainerReview ReviewEphemeralContainers(const json& review, std::string_view mark_key,
                                                   session::UnsanctionedContainers mode) {
  EphemeralContainerReview out;
  const json* request = AdmissionRequest(review);
  if (request == nullptr) {
    out.response = AdmissionResponse(review, false, "malformed AdmissionReview: no request");
    return out;
  }
  out.username = StringField(ObjectFieldOrEmpty(*request, "userInfo"), "username");
  const json object = request->value("object", json());
  if (!object.is_object()) {
    out.response = AdmissionResponse(review, false, "the request carries no pod");
    return out;
  }
  const json old_object = request->value("oldObject", json());
  const json before = detection::ReducePod(old_object.is_object() ? old_object : json::object());
  out.unsanctioned = detection::FindUnsanctioned(&before, detection::ReducePod(object), mark_key);
  if (out.unsanctioned.empty()) {
    out.response = AdmissionResponse(review, true);
    return out;
  }
  std::string names;
  for (const auto& c : out.unsanctioned) names += (names.empty() ? "" : ", ") + c.container;
  if (mode == session::UnsanctionedContainers::kEnforce) {
    out.response = AdmissionResponse(
        review, false,
        "ephemeral container " + names +
            " was not added by Ephemera, and this cluster's policy only allows debugging through "
            "a DebugSession: use `kubectl ephemera snapshot` or apply a DebugSession");
    return out;
  }
  out.response = AdmissionResponse(review, true);
  out.response["response"]["warnings"] = json::array(
      {"ephemeral container " + names +
       " was not added by Ephemera; it is allowed, and recorded in Ephemera's audit trail"});
  return out;
}

}  // namespace ephemera::admission
