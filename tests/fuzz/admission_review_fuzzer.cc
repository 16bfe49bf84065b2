// Fuzzes AdmissionReview handling (controller/admission): the body the API server POSTs, parsed as
// the controller's webhook handler parses it, through the DebugSession mutating and validating
// webhooks and the pods/ephemeralcontainers webhook in both modes; the answers are serialized as
// the handler sends them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/json_depth.h"
#include "controller/admission/debug_session_admission.h"
#include "controller/admission/ephemeral_container_admission.h"

namespace {

constexpr std::string_view kMarkKey = "fuzz-mark-key-0123456789abcdef0123456789abcdef";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ephemera::session::UnsanctionedContainers;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const nlohmann::json review = ephemera::base::ParseJsonWithinDepth(body);
  if (review.is_discarded()) return 0;
  ephemera::session::Policy policy;
  policy.allowed_namespaces = {"default", "team-a"};
  policy.forbidden_namespaces = {"kube-system"};
  (void)ephemera::admission::MutateDebugSession(review, policy).dump();
  (void)ephemera::admission::ValidateDebugSession(review, policy).dump();
  for (const auto mode : {UnsanctionedContainers::kAudit, UnsanctionedContainers::kEnforce}) {
    (void)ephemera::admission::ReviewEphemeralContainers(review, kMarkKey, mode).response.dump();
    (void)ephemera::admission::ReviewEphemeralContainers(review, "", mode).response.dump();
  }
  return 0;
}
