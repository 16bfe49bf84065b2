// ConfigMapAnchorStore: keeps audit chain heads as ConfigMaps in the controller's namespace
// (anchor.h has the format), out of reach of the people whose sessions the chains record.
//
//   Save        upserts a chain's anchor: after every status write that carries status.audit,
//               and for this replica's own chain (KeepAnchored). An anchor only moves forward.
//   KeepAnchored  saves one chain's head from an AuditLog at most every `replica_interval` when
//               it moved, and once more when stopped (shutdown).
//   Sweep       deletes anchors not written for `retention` (a session's last record is its
//               wipe, a replica's its shutdown); the leader runs SweepPeriodically.
//
// Errors are Statuses (kube::AdviseRetry applies): kAborted when someone else wrote the ConfigMap
// meanwhile, kFailedPrecondition when the anchor would move back or the name holds another chain.
// Thread safety: all methods may be called concurrently; one mutex guards the cache of saved
// heads and is never held across a request.
#ifndef EPHEMERA_CONTROLLER_AUDIT_ANCHOR_STORE_H_
#define EPHEMERA_CONTROLLER_AUDIT_ANCHOR_STORE_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <string_view>

#include "audit/anchor.h"
#include "audit/audit_log.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "kube/client/kube_client.h"

namespace ephemera::audit {

// How long an anchor is kept after its last write, unless configured.
inline constexpr std::chrono::hours kDefaultAnchorRetention{24 * 90};

struct AnchorStoreOptions {
  std::string namespace_name;  // the controller's namespace
  std::chrono::seconds retention = kDefaultAnchorRetention;
  std::chrono::seconds replica_interval{5};   // KeepAnchored: at most one write per interval
  std::chrono::seconds sweep_interval{3600};  // SweepPeriodically
  // Failures of the background loops (KeepAnchored, SweepPeriodically), for the log. May be empty.
  std::function<void(std::string_view what, const Status&)> on_error;
};

class ConfigMapAnchorStore {
 public:
  // Borrows client and clock; both must outlive the store.
  ConfigMapAnchorStore(kube::KubeClient& client, base::Clock& clock, AnchorStoreOptions options);

  // Makes `chain`'s anchor `head` (records > 0). `session` ("namespace/name") and `session_uid`
  // describe a session chain; empty for a controller chain. No request when this store saved the
  // same head last; one (an update conditional on the version it wrote) when it saved an earlier
  // head of the chain and nobody wrote the anchor since; otherwise the stored anchor is read first.
  // kFailedPrecondition when the stored anchor is further along (or as far with another hash): an
  // anchor never moves back.
  Status Save(std::string_view chain, const ChainHead& head, std::string_view session = "",
              std::string_view session_uid = "");

  // Saves `chain`'s head in `log` whenever it moved, at most every options.replica_interval, until
  // `stop`; then once more. Blocks; run it on its own thread.
  void KeepAnchored(const AuditLog& log, const std::string& chain, const std::stop_token& stop);

  // Deletes the anchors whose `updated` is older than options.retention (and any labelled anchor
  // that does not parse as one). Returns how many were deleted.
  StatusOr<std::size_t> Sweep();
  // Sweep now and every options.sweep_interval until `stop`. Blocks.
  void SweepPeriodically(const std::stop_token& stop);

  // Hands a failure to options.on_error (for the log), if set.
  void ReportError(std::string_view what, const Status& status) const;

 private:
  kube::KubeClient& client_;
  base::Clock& clock_;
  const AnchorStoreOptions options_;
  mutable base::Mutex mu_;
  // What this store last wrote for a chain: the head, and the ConfigMap's version after the write.
  struct Saved {
    ChainHead head;
    std::string resource_version;
  };
  // Remembers a write (bounded: the cache is emptied when full).
  void Remember(std::string_view chain, const ChainHead& head, std::string resource_version);
  std::map<std::string, Saved, std::less<>> saved_ EPHEMERA_GUARDED_BY(mu_);
};

}  // namespace ephemera::audit

#endif  // EPHEMERA_CONTROLLER_AUDIT_ANCHOR_STORE_H_
