#include "controller/audit/audit_log.h"

#include <utility>

namespace ephemera::audit {

AuditLog::AuditLog(AuditSink& sink, AuditLogOptions options) : sink_(sink), options_(options) {}

StatusOr<ChainHead> AuditLog::Append(const AuditRecord& record,
                                     std::optional<ChainHead> persisted) {
  if (record.chain.empty()) return InvalidArgumentError("audit record has no chain");
  if (persisted.has_value() && persisted->records > 0 && !IsAuditHash(persisted->hash)) {
    return InvalidArgumentError("persisted audit head of chain " + record.chain +
                                " is not a sha256 hash: \"" + persisted->hash + "\"");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = heads_.find(record.chain);
  ChainHead current = it != heads_.end() ? it->second : GenesisHead(record.chain);
  if (persisted.has_value() && persisted->records > current.records) current = *persisted;

  const SealedRecord sealed = Seal(record, current);
  const Status written = sink_.Write(sealed);
  healthy_.store(written.ok());
  if (!written.ok()) {
    failed_writes_.fetch_add(1);
    if (options_.strict) {
      return UnavailableError("audit sink did not take the record (strict audit): " +
                              written.message());
    }
  }
  const ChainHead next = HeadAfter(sealed);
  heads_.insert_or_assign(record.chain, next);
  return next;
}

ChainHead AuditLog::Head(std::string_view chain) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = heads_.find(chain);
  if (it != heads_.end()) return it->second;
  return GenesisHead(chain);
}

void AuditLog::Forget(std::string_view chain) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = heads_.find(chain);
  if (it != heads_.end()) heads_.erase(it);
}

std::size_t AuditLog::ChainCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return heads_.size();
}

}  // namespace ephemera::audit
