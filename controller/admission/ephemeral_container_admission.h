// Admission for pods/ephemeralcontainers (AdmissionReview v1, the optional validating webhook),
// pure.
//
// Every ephemeral container a request adds is checked for Ephemera's mark (see
// detection/container_mark.h). In enforce mode a request that adds an unmarked one is denied with a
// message that says what to use instead; in audit mode it is allowed with a warning (kubectl shows
// it) and the caller records the findings. Without a mark key (not loaded yet), enforce mode denies
// every addition and audit mode reports every one: it fails closed.
#ifndef EPHEMERA_CONTROLLER_ADMISSION_EPHEMERAL_CONTAINER_ADMISSION_H_
#define EPHEMERA_CONTROLLER_ADMISSION_EPHEMERAL_CONTAINER_ADMISSION_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "controller/detection/pod_summary.h"
#include "controller/session/policy.h"

namespace ephemera::admission {

struct EphemeralContainerReview {
  nlohmann::json response;  // the AdmissionReview to send back
  std::vector<detection::UnsanctionedContainer> unsanctioned;
  std::string username;  // who asked (request.userInfo.username)
};

EphemeralContainerReview ReviewEphemeralContainers(const nlohmann::json& review,
                                                   std::string_view mark_key,
                                                   session::UnsanctionedContainers mode);

}  // namespace ephemera::admission

#endif  // EPHEMERA_CONTROLLER_ADMISSION_EPHEMERAL_CONTAINER_ADMISSION_H_
