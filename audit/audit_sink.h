// AuditSink: where sealed audit records go (stdout in production, a fake in tests).
#ifndef EPHEMERA_AUDIT_AUDIT_SINK_H_
#define EPHEMERA_AUDIT_AUDIT_SINK_H_

#include "audit/audit_record.h"
#include "base/status.h"

namespace ephemera::audit {

class AuditSink {
 public:
  virtual ~AuditSink() = default;

  // Stores one record durably enough that it is the sink's, not the caller's, to keep; OK only
  // when all of it was taken. kUnavailable when the destination cannot take it (closed, full,
  // broken); the caller decides whether that stops the action (strict mode). Thread safety: up to
  // the implementation; AuditLog serializes its calls.
  virtual Status Write(const SealedRecord& record) = 0;
};

}  // namespace ephemera::audit

#endif  // EPHEMERA_AUDIT_AUDIT_SINK_H_
