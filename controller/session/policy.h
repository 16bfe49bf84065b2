// Policy: the cluster's rules for debug sessions (namespaces, TTLs, profiles, the snapshot image).
// Loaded by the controller's configuration; read by the pure planner. Pure values.
#ifndef EPHEMERA_CONTROLLER_SESSION_POLICY_H_
#define EPHEMERA_CONTROLLER_SESSION_POLICY_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "api/debug_session.h"

namespace ephemera::session {

// What happens to ephemeral containers that Ephemera did not add.
enum class UnsanctionedContainers {
  kAudit,    // allowed; recorded (audit record, Event, metric)
  kEnforce,  // also denied at admission (when the pods/ephemeralcontainers webhook is installed)
};

// Who may pull a target's log through a session (policy.logs.access).
enum class LogAccess {
  kPodsLog,       // the requester needs get on pods/log of the target pod (as kubectl logs does)
  kDebugProfile,  // the requester needs use on debugprofiles/logs (ephemera.dev) instead, so a
                  // cluster can take raw pods/log away and give redacted, recorded access
};

// The defaults and ceilings of spec.logs (docs/decisions/log-pull.md).
struct LogPolicy {
  std::int64_t default_tail_lines = 1000;
  std::int64_t max_tail_lines = 10000;
  std::int64_t default_limit_bytes = std::int64_t{256} * 1024;
  // Per instance. The delivered DebugSnapshot must stay under the API server's object size limit
  // (about 1.5 MiB in etcd), and two instances are read.
  std::int64_t max_limit_bytes = std::int64_t{512} * 1024;
  std::chrono::seconds max_since{24 * 3600};
  LogAccess access = LogAccess::kPodsLog;
};

// The defaults and ceilings of spec.budget, the snapshot tool's overhead budget
// (controller/session/overhead_budget.h).
struct BudgetPolicy {
  std::chrono::milliseconds default_cpu{2000};
  std::chrono::milliseconds max_cpu{10000};
  std::int64_t default_memory_bytes = std::int64_t{64} << 20;
  std::int64_t max_memory_bytes = std::int64_t{256} << 20;
  // The wall budget is the tool's own hard deadline (--deadline); the controller gives up on a
  // container that outlives it by Policy::tool_grace.
  std::chrono::seconds default_wall{20};
  std::chrono::seconds max_wall{120};
};

// The least spec.budget.memoryBytes a session may ask for: the tool itself (binary, libraries,
// its first allocations) peaks at about 8 MiB before it reads anything (docs/performance.md).
inline constexpr std::int64_t kMinBudgetMemoryBytes = std::int64_t{16} << 20;

struct Policy {
  std::vector<std::string> allowed_namespaces;    // empty: every namespace not forbidden
  std::vector<std::string> forbidden_namespaces;  // always wins
  std::chrono::seconds default_ttl{300};          // for sessions that set no ttl
  std::chrono::seconds max_ttl{3600};
  std::vector<api::Profile> allowed_profiles{api::Profile::kRestricted, api::Profile::kPtrace};
  std::string snapshot_image;  // pinned by digest in production
  // How long after the tool's deadline (the session's wall budget, `budget`) the controller gives
  // up on a snapshot container that has not finished.
  std::chrono::seconds tool_grace{40};
  // How long a session may wait for its target container to be running.
  std::chrono::seconds target_wait{60};
  std::int64_t max_snapshot_log_bytes = std::int64_t{2} * 1024 * 1024;
  // No new session starts while the audit sink cannot take records.
  bool strict_audit = false;
  // Mark a debugged pod with the annotation ephemera.dev/debugged-by, and delete it (so that its
  // owner replaces it) once the session has ended. Recycling applies only to owned pods.
  bool annotate_debugged_pods = false;
  bool recycle_debugged_pods = false;
  UnsanctionedContainers unsanctioned_containers = UnsanctionedContainers::kAudit;
  // policy.hostNamespaces: allow. Sessions on a pod with hostPID, hostIPC or hostNetwork, or on a
  // privileged container, are refused unless this is set AND the requester holds `use` on
  // debugprofiles/host (ephemera.dev, cluster-scoped). Even then the snapshot tool captures only
  // the target container's processes.
  bool allow_host_namespaces = false;
  // policy.pii: the PII mode of sessions that ask for none, and the least a session may ask for.
  api::PiiMode default_pii = api::PiiMode::kStandard;
  api::PiiMode minimum_pii = api::PiiMode::kNone;
  LogPolicy logs;
  BudgetPolicy budget;
};

// The session's TTL: its own, else the policy's default (the cap is applied separately).
inline std::chrono::seconds EffectiveTtl(const api::DebugSessionSpec& spec, const Policy& policy) {
  return spec.ttl > std::chrono::seconds::zero() ? spec.ttl : policy.default_ttl;
}

// The session's PII mode: its own, else the policy's default (a mode under the policy's minimum is
// refused by admission and the planner, never raised silently).
inline api::PiiMode EffectivePii(const api::DebugSessionSpec& spec, const Policy& policy) {
  return spec.pii.value_or(policy.default_pii);
}

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_POLICY_H_
