#include "controller/app/replica_audit.h"

#include <utility>

namespace ephemera::app {

ReplicaAudit::ReplicaAudit(audit::AuditLog& log, base::Clock& clock, std::string_view identity,
                           logging::Logger logger)
    : log_(log),
      clock_(clock),
      chain_(audit::ControllerChain(std::string(identity) + "@" +
                                    audit::FormatAuditTime(clock.Now()))),
      logger_(std::move(logger)) {}

Status ReplicaAudit::Append(audit::AuditRecord record) {
  record.time = audit::FormatAuditTime(clock_.Now());
  record.chain = chain_;
  auto head = log_.Append(record);
  if (!head.ok()) {
    logger_.Error("Cannot write an audit record",
                  {{"action", record.action}, {"error", head.status()}});
    return head.status();
  }
  return OkStatus();
}

}  // namespace ephemera::app
