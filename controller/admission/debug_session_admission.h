// Admission for DebugSessions (AdmissionReview v1), pure: request JSON in, response JSON out.
//
// Mutate binds the requester: on CREATE, spec.requestedBy is filled from the request's
// authenticated userInfo (username, uid, groups, extra; a JSONPatch); a request that sets it itself
// is rejected, so nobody can ask on someone else's behalf. Validate, which runs after every
// mutating webhook, denies a CREATE whose spec.requestedBy is not exactly that userInfo (a later
// mutating webhook swapped it). The CRD's immutable-spec rule keeps it from changing later. Mutate
// also fills spec.ttl with the policy's default when the session asks for none, and adds the
// cleanup finalizer (one write less for the controller). Validate applies the cluster policy
// (namespaces, TTL cap, profiles), checks what the CRD schema cannot (a positive TTL, a known
// profile, recipients that encrypt: bech32 checksum and key length) and answers with one sentence
// that names the field and the rule, which `kubectl apply` shows the user.
//
// Both fail closed: a request they cannot read is denied with the reason.
#ifndef EPHEMERA_CONTROLLER_ADMISSION_DEBUG_SESSION_ADMISSION_H_
#define EPHEMERA_CONTROLLER_ADMISSION_DEBUG_SESSION_ADMISSION_H_

#include <nlohmann/json.hpp>
#include <string_view>

#include "controller/session/policy.h"

namespace ephemera::admission {

// Why the mutating webhook refuses a DebugSession that names its own spec.requestedBy.
inline constexpr std::string_view kRequesterIsBoundMessage =
    "spec.requestedBy is set by Ephemera from your identity; remove it from the DebugSession";

// `review` is the AdmissionReview the API server POSTed; the result is the AdmissionReview to send
// back.
nlohmann::json MutateDebugSession(const nlohmann::json& review, const session::Policy& policy);
nlohmann::json ValidateDebugSession(const nlohmann::json& review, const session::Policy& policy);

}  // namespace ephemera::admission

#endif  // EPHEMERA_CONTROLLER_ADMISSION_DEBUG_SESSION_ADMISSION_H_
