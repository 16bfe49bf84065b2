// AdmissionReview v1 envelopes shared by Ephemera's webhooks. Pure.
#ifndef EPHEMERA_CONTROLLER_ADMISSION_ADMISSION_REVIEW_H_
#define EPHEMERA_CONTROLLER_ADMISSION_ADMISSION_REVIEW_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/json_access.h"

namespace ephemera::admission {

// Members of JSON that is not schema-validated yet (a mutating webhook sees the object before the
// API server checks it): "" or an empty object when the member is absent or of another type.
using base::ObjectFieldOrEmpty;
using base::StringField;

// The review's request object; nullptr when the review has none (malformed).
const nlohmann::json* AdmissionRequest(const nlohmann::json& review);

// The AdmissionReview answering `review`: allowed, or denied with `message` (HTTP 403, reason
// Forbidden), which kubectl shows the user as is.
nlohmann::json AdmissionResponse(const nlohmann::json& review, bool allowed,
                                 const std::string& message = "");

}  // namespace ephemera::admission

#endif  // EPHEMERA_CONTROLLER_ADMISSION_ADMISSION_REVIEW_H_
