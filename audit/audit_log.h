// AuditLog: seals audit records into their chains and hands them to an AuditSink.
//
// It keeps the newest head of every chain it has written to. After a restart that map is empty,
// so Append also takes the head the caller persisted (a session's status.audit) and continues from
// whichever of the two has more records. The caller stores the returned head back in the
// session's status; Forget drops a chain once its session is gone, so memory follows the number of
// live sessions, not the history.
//
// Forks (docs/audit.md): a step that failed after appending records its status never saved is
// retried from the saved head; Abandon remembers the abandoned branch's last record, and the
// retry's first record names it (ForkNote::abandons). The first record this process appends to a
// chain from a head it did not write itself (a persisted head ahead of memory: after a restart, or
// a chain another leader advanced) is marked ForkNote::resumes, because the previous writer may
// have left a branch nobody can name. The verifier accepts only branches explained this way.
//
// Sink failures:
//   strict mode      Append returns kUnavailable and the head does not move: the action the record
//                    describes must not happen (the controller starts no new session while
//                    !Healthy()).
//   non-strict mode  Append returns the advanced head and OK: the record is lost, and the verifier
//                    will report its seq as missing, which is the truth.
// In both modes Healthy() is false until a later write succeeds.
//
// Thread safety: all methods may be called concurrently. There is one mutex and, deliberately, it
// is held across the sink write: a chain's records must reach the stream in seq order and each
// head may move only after its record was taken, so sealing, writing and advancing are one step.
// The sink is a local descriptor (stdout), so the wait is short; if the reader stops reading, a
// blocked write blocks Append and Head (back-pressure, which strict mode wants). Healthy() reads
// an atomic and never waits for the mutex, so /readyz answers while a write is blocked. The sink
// must not call back into the AuditLog.
#ifndef EPHEMERA_AUDIT_AUDIT_LOG_H_
#define EPHEMERA_AUDIT_AUDIT_LOG_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "audit/audit_record.h"
#include "audit/audit_sink.h"
#include "base/mutex.h"
#include "base/status.h"

namespace ephemera::audit {

struct AuditLogOptions {
  bool strict = false;  // the cluster policy's "strict audit"
};

class AuditLog {
 public:
  // Borrows `sink`, which must outlive the log.
  explicit AuditLog(AuditSink& sink, AuditLogOptions options = {});

  // Seals `record` into record.chain after the chain's head and writes it. `persisted` is the head
  // the caller last stored for this chain (nullopt or records == 0: none). Returns the chain's new
  // head, to be stored by the caller.
  // Errors: kInvalidArgument when record.chain is empty or persisted->hash is not a sha256 hash
  // (nothing written); kUnavailable in strict mode when the sink failed (head unchanged).
  // `written_elsewhere`: the caller knows that another process may already have started this
  // chain without the caller seeing its head (a session created before this replica began
  // leading, whose first records a previous leader may have written before it could save them).
  // A record appended at genesis is then marked ForkNote::resumes like any other first record
  // from a head this process did not write; otherwise a chain starting at genesis has no earlier
  // writer to allow for.
  StatusOr<ChainHead> Append(const AuditRecord& record,
                             std::optional<ChainHead> persisted = std::nullopt,
                             bool written_elsewhere = false);

  // The chain's newest head known in memory; GenesisHead(chain) for a chain not (or no longer)
  // known.
  ChainHead Head(std::string_view chain) const;

  // Drops the chain's head from memory (after its session ended). A later Append to the chain
  // continues from the head it is given, or from genesis.
  void Forget(std::string_view chain);

  // The caller's step failed, maybe after appending records whose head it did not save: drops the
  // chain's head like Forget, but keeps it as the tip of an abandoned branch. The next Append to
  // the chain continues from the head it is given and, when that is behind the tip, names the tip
  // in its ForkNote::abandons. Nothing happens for a chain not in memory (an earlier Abandon's tip
  // stays until an Append names it).
  void Abandon(std::string_view chain);

  // False when the most recent sink write failed; true before the first write.
  bool Healthy() const { return healthy_.load(); }
  // Writes that failed since construction (records lost in non-strict mode).
  std::uint64_t FailedWrites() const { return failed_writes_.load(); }
  // Chains currently held in memory.
  std::size_t ChainCount() const;

  bool IsStrict() const { return options_.strict; }

 private:
  AuditSink& sink_;
  const AuditLogOptions options_;
  mutable base::Mutex mu_;
  std::map<std::string, ChainHead, std::less<>> heads_ EPHEMERA_GUARDED_BY(mu_);
  // See Abandon.
  std::map<std::string, ChainHead, std::less<>> abandoned_ EPHEMERA_GUARDED_BY(mu_);
  std::atomic<bool> healthy_{true};
  std::atomic<std::uint64_t> failed_writes_{0};
};

}  // namespace ephemera::audit

#endif  // EPHEMERA_AUDIT_AUDIT_LOG_H_
