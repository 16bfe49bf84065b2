// LeaderElector: Lease-based leader election (coordination.k8s.io/v1), as client-go's
// leaderelection package does it, so that of several controller replicas only one reconciles.
//
// One attempt (TryAcquireOrRenew):
//   * Leader whose locally observed lease is still valid: PUT the lease with renewTime = now.
//   * Otherwise GET it (POST a new one on 404). When the record changed since the last look,
//     remember it with the LOCAL steady-clock time of that observation. A lease held by someone
//     else is valid until observation time + its leaseDurationSeconds, whatever its renewTime says
//     (so clock skew between nodes does not matter, only skew rate). While valid: give up.
//   * Else PUT ourselves as holder (leaseTransitions + 1 and acquireTime = now when taking over),
//     sending the resourceVersion just read: a 409 means another replica won the race.
//
// Run: tries every RetryPeriod (+ up to 1.2x jitter) until it acquires; then runs
// on_started_leading on its own thread and renews every RetryPeriod. If no renewal succeeds for
// RenewDeadline, or another holder is seen, leadership is lost. When leadership ends (lost, or
// `stop` requested) the leading callback's stop_token is requested and Run waits for it to return,
// releases the lease if it ended because of `stop` (empty holder, leaseDurationSeconds 1, so
// another replica takes over at its next try), and finally calls on_stopped_leading.
//
// Times: wall-clock (Clock::Now) for the times written to the lease, steady (SteadyNow) for
// validity, SleepFor between tries — all from the injected base::Clock.
//
// Thread safety: IsLeader, ObservedHolder and LastError may be called from any thread. Run,
// TryAcquireOrRenew and Release are meant for one thread (Run's) but are safe to call
// concurrently; the mutex is never held during API calls or callbacks.
#ifndef EPHEMERA_CONTROLLER_LEADER_LEADER_ELECTOR_H_
#define EPHEMERA_CONTROLLER_LEADER_LEADER_ELECTOR_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <stop_token>
#include <string>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "kube/client/kube_client.h"
#include "kube/object/lease.h"
#include "kube/object/resource.h"

namespace ephemera::leader {

struct LeaderElectionConfig {
  kube::ObjectKey lease;  // namespace and name of the Lease
  std::string identity;   // unique per replica, e.g. the pod name
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

// Jitter factor for retries while not leading (client-go's JitterFactor).
inline constexpr double kRetryJitter = 1.2;

// kInvalidArgument unless the lease has a namespace and name, identity is non-empty, and
// lease_duration > renew_deadline > kRetryJitter * retry_period > 0.
Status ValidateLeaderElectionConfig(const LeaderElectionConfig& config);

class LeaderElector {
 public:
  // `client` and `clock` must outlive the elector. `seed` drives the retry jitter.
  LeaderElector(kube::KubeClient& client, base::Clock& clock, LeaderElectionConfig config,
                std::uint64_t seed = std::random_device{}());
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Blocks until leadership ends or `stop` is requested before it starts. on_started_leading
  // runs on a new thread with a stop_token requested when leadership ends; it must return
  // promptly then. on_stopped_leading (may be empty) is called once after it returned, and only
  // if leading started. Returns OK when ended by `stop`, kAborted when leadership was lost, and
  // kInvalidArgument for an invalid config (without contacting the API server).
  Status Run(const std::stop_token& stop,
             const std::function<void(std::stop_token)>& on_started_leading,
             const std::function<void()>& on_stopped_leading) EPHEMERA_EXCLUDES(mu_);

  // One acquire-or-renew attempt (see the header comment); true when we hold the lease after it.
  // Failures are kept in LastError().
  bool TryAcquireOrRenew() EPHEMERA_EXCLUDES(mu_);
  // Gives the lease up if we hold it (empty holder, leaseDurationSeconds 1). OK when not holding.
  Status Release() EPHEMERA_EXCLUDES(mu_);

  // True while we hold the lease by our last observation, it has not expired by our clock, and
  // Run has not given leadership up.
  bool IsLeader();
  // The holder in the last observed record ("" when released or never read).
  std::string ObservedHolder();
  // The error of the last failed attempt (OK after a success).
  Status LastError();

 private:
  std::chrono::nanoseconds JitteredRetryPeriod();
  void Observe(const kube::LeaseRecord& record, std::chrono::steady_clock::time_point now);
  bool Fail(Status status);

  kube::KubeClient& client_;
  base::Clock& clock_;
  const LeaderElectionConfig config_;

  base::Mutex mu_;
  std::mt19937_64 random_ EPHEMERA_GUARDED_BY(mu_);
  std::optional<kube::LeaseRecord> observed_record_ EPHEMERA_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point observed_time_ EPHEMERA_GUARDED_BY(mu_){};
  // Run lost leadership; IsLeader stays false until the next acquire.
  bool gave_up_ EPHEMERA_GUARDED_BY(mu_) = false;
  Status last_error_ EPHEMERA_GUARDED_BY(mu_);
};

}  // namespace ephemera::leader

#endif  // EPHEMERA_CONTROLLER_LEADER_LEADER_ELECTOR_H_
