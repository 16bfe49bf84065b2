// DebugSessionController: the control loop for DebugSessions (sample-controller's shape).
//
// An informer lists and watches DebugSessions in all namespaces; its handlers only enqueue keys; N
// workers take keys from a rate-limited queue and run the reconciler, older sessions first (by
// creation time): with the API budget shared by all sessions, a session under way is finished
// before newer ones advance, instead of all of them advancing in turns and finishing late together.
// A key whose reconcile fails is retried with per-key backoff; one that asks to be looked at later
// (a TTL, a running capture) is re-added after that delay. Only runs while this replica leads (the
// caller decides).
//
// Thread safety: Run is called once; Stats may be called from any thread.
#ifndef EPHEMERA_CONTROLLER_RECONCILER_DEBUG_SESSION_CONTROLLER_H_
#define EPHEMERA_CONTROLLER_RECONCILER_DEBUG_SESSION_CONTROLLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <stop_token>

#include "base/clock.h"
#include "controller/informer/informer.h"
#include "controller/reconciler/debug_session_reconciler.h"
#include "controller/workqueue/work_queue.h"
#include "kube/client/kube_client.h"

namespace ephemera::reconciler {

// The session as the controller caches it: without metadata.managedFields, which nothing here
// reads and which grows with every status write (a third of a cached session's memory). Writing a
// cached copy back is safe: on an update without managedFields the API server keeps the stored
// ones.
nlohmann::json WithoutManagedFields(nlohmann::json session);

// A session's place in the work queue: older first by creation time (whole seconds, as the API
// server stores it), then by `arrival`, the order this controller first saw it in.
std::uint64_t SessionAgeRank(const nlohmann::json& session, std::uint64_t arrival);

struct ControllerStats {
  std::uint64_t reconciles_ok = 0;
  std::uint64_t reconciles_error = 0;
  std::size_t sessions_cached = 0;
  std::size_t queue_depth = 0;
  std::size_t in_progress = 0;  // keys a worker is reconciling now
};

class DebugSessionController {
 public:
  // Borrows client, clock and reconciler; they must outlive the controller.
  DebugSessionController(kube::KubeClient& client, base::Clock& clock,
                         DebugSessionReconciler& reconciler, int workers);

  // Lists, watches and reconciles until `stop`; returns after the workers have finished their
  // current keys. `on_error(key, status)` is told about failed reconciles (for logs); may be empty.
  void Run(const std::stop_token& stop,
           const std::function<void(const kube::ObjectKey&, const Status&)>& on_error);

  bool HasSynced() const { return informer_.HasSynced(); }
  // Queues every cached session whose target is this pod (its snapshot container changed state:
  // reconcile now rather than at the next poll). Quick; callable from any thread.
  void EnqueueSessionsForPod(const kube::ObjectKey& pod);
  ControllerStats Stats();

 private:
  void Work(const std::stop_token& stop,
            const std::function<void(const kube::ObjectKey&, const Status&)>& on_error);

  DebugSessionReconciler& reconciler_;
  const int workers_;
  informer::Informer informer_;
  workqueue::WorkQueue queue_;
  std::atomic<std::uint64_t> arrivals_{0};  // sessions first seen, for ranking equal ages
  std::atomic<std::uint64_t> ok_{0};
  std::atomic<std::uint64_t> errors_{0};
};

}  // namespace ephemera::reconciler

#endif  // EPHEMERA_CONTROLLER_RECONCILER_DEBUG_SESSION_CONTROLLER_H_
