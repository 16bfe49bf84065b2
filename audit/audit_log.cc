#include "audit/audit_log.h"

#include <utility>

namespace ephemera::audit {

AuditLog::AuditLog(AuditSink& sink, AuditLogOptions options) : sink_(sink), options_(options) {}

StatusOr<ChainHead> AuditLog::Append(const AuditRecord& record, std::optional<ChainHead> persisted,
                                     bool written_elsewhere) {
  if (record.chain.empty()) return InvalidArgumentError("audit record has no chain");
  if (persisted.has_value() && persisted->records > 0 && !IsAuditHash(persisted->hash)) {
    return InvalidArgumentError("persisted audit head of chain " + record.chain +
                                " is not a sha256 hash: \"" + persisted->hash + "\"");
  }
  base::MutexLock lock(mu_);
  auto it = heads_.find(record.chain);
  ChainHead current = it != heads_.end() ? it->second : GenesisHead(record.chain);
  bool from_memory = it != heads_.end();
  if (persisted.has_value() && persisted->records > current.records) {
    current = *persisted;
    from_memory = false;
  }
  ForkNote fork;
  auto abandoned = abandoned_.find(record.chain);
  if (abandoned != abandoned_.end() && abandoned->second.records > current.records) {
    fork.abandons = abandoned->second.hash;  // this process's own branch past the saved head
  } else if (!from_memory && (current.records > 0 || written_elsewhere) &&
             (abandoned == abandoned_.end() || abandoned->second != current)) {
    // A head this process did not write, or moved on by someone else since: whoever wrote last
    // may have left records past it. At genesis only when the caller says someone else may have
    // begun the chain; otherwise a fork at seq 1 stays unexplained.
    fork.resumes = true;
  }

  const SealedRecord sealed = Seal(record, current, fork);
  const Status written = sink_.Write(sealed);
  healthy_.store(written.ok());
  if (!written.ok()) {
    failed_writes_.fetch_add(1);
    if (options_.strict) {
      return UnavailableError("audit sink did not take the record (strict audit): " +
                              written.message());
    }
  }
  if (abandoned != abandoned_.end()) abandoned_.erase(abandoned);
  const ChainHead next = HeadAfter(sealed);
  heads_.insert_or_assign(record.chain, next);
  return next;
}

ChainHead AuditLog::Head(std::string_view chain) const {
  base::MutexLock lock(mu_);
  auto it = heads_.find(chain);
  if (it != heads_.end()) return it->second;
  return GenesisHead(chain);
}

void AuditLog::Forget(std::string_view chain) {
  base::MutexLock lock(mu_);
  auto it = heads_.find(chain);
  if (it != heads_.end()) heads_.erase(it);
  auto abandoned = abandoned_.find(chain);
  if (abandoned != abandoned_.end()) abandoned_.erase(abandoned);
}

void AuditLog::Abandon(std::string_view chain) {
  base::MutexLock lock(mu_);
  auto it = heads_.find(chain);
  if (it == heads_.end()) return;
  abandoned_.insert_or_assign(it->first, it->second);
  heads_.erase(it);
}

std::size_t AuditLog::ChainCount() const {
  base::MutexLock lock(mu_);
  return heads_.size();
}

}  // namespace ephemera::audit
