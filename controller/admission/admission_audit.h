// The audit side of admitting a DebugSession, pure: the record of a webhook's decision, and the
// answer strict audit gives when that record could not be written.
//
// The record names the session as the validating webhook sees it: request.object.metadata.name
// (for a generateName create, request.name is empty and the object already holds the generated
// name; the mutating webhook sees only the prefix, which the record then keeps in details), and
// the object's uid when it has one. A dry-run request (kubectl apply --dry-run=server) creates
// nothing, so its record is marked: action "admitted-dry-run" or "denied-dry-run", details
// {"dryRun": true}. An "admitted" record says that Ephemera's webhook admitted the create; a later
// admission step or the API server may still refuse it. The session's own chain starting with
// "accepted" is what shows that the session exists.
#ifndef EPHEMERA_CONTROLLER_ADMISSION_ADMISSION_AUDIT_H_
#define EPHEMERA_CONTROLLER_ADMISSION_ADMISSION_AUDIT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "audit/audit_record.h"
#include "base/status.h"

namespace ephemera::admission {

// The sentence a create is denied with when strict audit cannot record it.
inline constexpr std::string_view kAuditUnavailableMessage =
    "the audit trail cannot record this session (strict audit is on); try again when the "
    "controller's audit sink is back";

// Whether the review's request is a CREATE / a dry run (request.dryRun: true).
bool IsCreate(const nlohmann::json& review);
bool IsDryRun(const nlohmann::json& review);

// The audit record of `answer`, a webhook's decision on the DebugSession in `review`, without
// chain and time (the caller's AuditLog fills them). Never carries secrets: the spec's recipients
// and redaction settings are not copied.
audit::AuditRecord BuildAdmissionRecord(const nlohmann::json& review, const nlohmann::json& answer);

// Who sent an AdmissionReview, as the webhook server saw its TLS connection: `verified` when the
// caller presented a client certificate that chains to the configured webhook client CA and whose
// common name is allowed (webhookClientNames), i.e. when it is known to be the API server.
struct AdmissionCaller {
  bool verified = false;
  std::string common_name;  // of the verified certificate, else ""
};

// Marks a record written for a review that any pod could have forged: its action gets the suffix
// "-unverified" ("admitted-unverified", "denied-unverified", ...), details.caller says
// "unverified", and the message says why. Records from a verified caller get details.caller
// "apiserver" (with its common name) and keep their action. Only a verified record says that the
// API server asked.
void MarkCaller(audit::AuditRecord& record, const AdmissionCaller& caller);

// The answer to send once the decision's record was offered to the audit log (`audited`: what
// the append returned). With strict audit on, an allowed CREATE whose record was not written is
// denied with kAuditUnavailableMessage (a dry run too: it tells what the real create would get).
// Otherwise `answer` is returned as it is.
nlohmann::json ApplyStrictAudit(const nlohmann::json& review, nlohmann::json answer,
                                const Status& audited, bool strict_audit);

}  // namespace ephemera::admission

#endif  // EPHEMERA_CONTROLLER_ADMISSION_ADMISSION_AUDIT_H_
