// EphemeralContainerWatch: watches every pod and reports each ephemeral container that Ephemera
// did not add (see container_mark.h), once per container per process.
//
// A pod informer keeps only ReducePod's summary of each pod. Its handler finds the new unsanctioned
// containers (pure, quick) and queues them; a reporter thread hands each to `report` (which does
// the I/O: an Event on the pod, a metric, an audit record), so a slow API server never stalls the
// watch. The leader runs it, so each finding is reported by one replica.
//
// Thread safety: Run is called once; CachedPods and Reported may be called from any thread.
#ifndef EPHEMERA_CONTROLLER_DETECTION_EPHEMERAL_CONTAINER_WATCH_H_
#define EPHEMERA_CONTROLLER_DETECTION_EPHEMERAL_CONTAINER_WATCH_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <utility>

#include "base/clock.h"
#include "base/mutex.h"
#include "controller/detection/pod_summary.h"
#include "controller/informer/informer.h"
#include "kube/client/kube_client.h"

namespace ephemera::detection {

class EphemeralContainerWatch {
 public:
  using Reporter = std::function<void(const UnsanctionedContainer&)>;
  // Told (on the watch thread; must be quick) about a pod one of whose ephemeral containers
  // appeared or changed between running and not running.
  using PodChanged = std::function<void(const kube::ObjectKey& pod)>;

  // Borrows client and clock. `mark_key` is the controller's mark key (EnsureMarkKey).
  // `pod_changed` may be empty.
  EphemeralContainerWatch(kube::KubeClient& client, base::Clock& clock, std::string mark_key,
                          Reporter report, PodChanged pod_changed = {});

  // Watches until `stop`; returns after the reporter has drained what was already queued.
  void Run(const std::stop_token& stop);

  std::size_t CachedPods() const { return informer_.Size(); }
  std::uint64_t Reported() const { return reported_.load(); }

 private:
  void Enqueue(std::vector<UnsanctionedContainer> found);
  void Report(const std::stop_token& stop);

  const std::string mark_key_;
  Reporter report_;
  PodChanged pod_changed_;
  informer::Informer informer_;
  std::atomic<std::uint64_t> reported_{0};

  base::Mutex mu_;
  base::CondVar cv_;
  std::deque<UnsanctionedContainer> pending_ EPHEMERA_GUARDED_BY(mu_);
  // (pod uid, container) already reported; entries leave when their pod is deleted.
  std::set<std::pair<std::string, std::string>> seen_ EPHEMERA_GUARDED_BY(mu_);
};

}  // namespace ephemera::detection

#endif  // EPHEMERA_CONTROLLER_DETECTION_EPHEMERAL_CONTAINER_WATCH_H_
