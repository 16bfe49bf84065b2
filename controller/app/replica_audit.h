// ReplicaAudit: this replica's own audit chain, for the decisions that belong to no session
// (admission answers, unsanctioned ephemeral containers).
//
// One chain per process, "controller/<identity>@<start time>": a restarted container keeps its pod
// name but starts a new chain. Thread safety: Append may be called concurrently (AuditLog's).
#ifndef EPHEMERA_CONTROLLER_APP_REPLICA_AUDIT_H_
#define EPHEMERA_CONTROLLER_APP_REPLICA_AUDIT_H_

#include <chrono>
#include <string>
#include <string_view>

#include "audit/audit_log.h"
#include "audit/audit_record.h"
#include "base/clock.h"
#include "base/status.h"
#include "controller/logging/logger.h"

namespace ephemera::app {

class ReplicaAudit {
 public:
  // Borrows `log` and `clock`, which must outlive this. `logger` reports records that were lost.
  ReplicaAudit(audit::AuditLog& log, base::Clock& clock, std::string_view identity,
               logging::Logger logger);

  // The chain's name, fixed at construction from the identity and the clock's time then.
  const std::string& Chain() const { return chain_; }

  // Appends `record`, stamped with the clock's time and this replica's chain. Returns what the
  // append returned: an error only in strict mode (or for a malformed record), which is also
  // logged ("Cannot write an audit record", with its action). In non-strict mode a record the sink
  // lost is not reported here: the verifier shows its seq as missing.
  Status Append(audit::AuditRecord record);

 private:
  audit::AuditLog& log_;
  base::Clock& clock_;
  const std::string chain_;
  const logging::Logger logger_;
};

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_REPLICA_AUDIT_H_
