// WorkQueue: the rate-limited queue of object keys between informer event handlers (producers) and
// reconcile workers (consumers), with client-go's workqueue semantics:
//
//   * Add dedups: a key already waiting in the queue is not queued twice.
//   * A key is never handed to two workers at once: a key added while a worker processes it is
//     marked dirty and queued again when that worker calls Done.
//   * Keys are handed out lowest rank first (SetRank), and in the order they were added among keys
//     of equal rank; a key never ranked has the highest rank, so a queue nobody ranks is FIFO.
//     The controller ranks sessions by age, so that a session already under way (its capture
//     finished, say) is served before sessions that arrived after it: under a fixed API budget
//     that finishes sessions one by one instead of advancing all of them in turns.
//   * AddAfter holds a key back until the clock reaches the deadline (the earliest deadline wins
//     when a key is added after twice); AddRateLimited does the same with a per-key exponential
//     delay (5ms, 10ms, ... capped at 1000s by default) combined with an overall token bucket
//     (10 qps, burst 100), as client-go's DefaultControllerRateLimiter. Forget resets the key's
//     failure count after a successful reconcile.
//
// One difference from client-go: after ShutDown (or when Get's stop_token is requested) Get returns
// nullopt at once instead of draining the keys still queued, because the controller shuts down
// when it loses leadership and must not reconcile anything after that.
//
// Time comes from the base::Clock given at construction. Delayed keys move into the queue when any
// method is called after their deadline, or when a Get blocked on an empty queue wakes at the
// deadline (it waits in real time for the clock's remaining duration). With a FakeClock, advance
// the clock and then call any method (Len() is enough) to release what is due; no sleeping needed.
//
// Thread safety: all methods may be called concurrently from any thread. The one mutex is never
// held while calling out (the clock's Now is read under it; clocks do not call back).
#ifndef EPHEMERA_CONTROLLER_WORKQUEUE_WORK_QUEUE_H_
#define EPHEMERA_CONTROLLER_WORKQUEUE_WORK_QUEUE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stop_token>
#include <vector>

#include "base/backoff.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/token_bucket.h"
#include "kube/object/resource.h"

namespace ephemera::workqueue {

struct RateLimitPolicy {
  // Per-key exponential delay: base_delay * 2^failures, capped at max_delay.
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{1000 * 1000};
  // Overall limit across keys (a token bucket); qps <= 0 disables it.
  double overall_qps = 10;
  int overall_burst = 100;
};

// The delay AddRateLimited uses for a key that has already failed `failures` times (pure).
std::chrono::milliseconds ItemBackoff(const RateLimitPolicy& policy, int failures);

// Counters for the metrics registry; read with WorkQueue::Stats().
struct WorkQueueStats {
  std::size_t depth = 0;            // keys ready and waiting for a worker (Len())
  std::size_t delayed = 0;          // keys held back by AddAfter / AddRateLimited
  std::size_t processing = 0;       // keys handed out by Get and not yet Done
  std::uint64_t adds_total = 0;     // keys that entered the queue (deduplicated adds not counted)
  std::uint64_t retries_total = 0;  // AddRateLimited calls
};

class WorkQueue {
 public:
  // `clock` must outlive the queue.
  explicit WorkQueue(base::Clock& clock, RateLimitPolicy policy = {});
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;
  ~WorkQueue();

  // Queues `key` unless it is already queued; ignored after ShutDown.
  void Add(const kube::ObjectKey& key);
  // Queues `key` once `delay` has passed on the clock (at once when delay <= 0).
  void AddAfter(const kube::ObjectKey& key, std::chrono::nanoseconds delay);
  // AddAfter with the key's next backoff delay, and counts a failure for the key.
  void AddRateLimited(const kube::ObjectKey& key);
  // The key's rank from now on, also if it is already queued (lower is served first).
  void SetRank(const kube::ObjectKey& key, std::uint64_t rank);
  // Drops the key's rank (when its object is deleted); it does not remove a queued key.
  void ForgetRank(const kube::ObjectKey& key);
  // Clears the key's failure count (it does not remove a queued or delayed key).
  void Forget(const kube::ObjectKey& key);
  // Failures counted for `key` since the last Forget.
  int NumRequeues(const kube::ObjectKey& key);

  // Blocks until a key is ready and hands it to the caller, who must call Done(key) when finished.
  // nullopt when the queue is shut down or `stop` is requested.
  std::optional<kube::ObjectKey> Get(const std::stop_token& stop);
  // Marks `key` as no longer processed; if it was added meanwhile it is queued again.
  void Done(const kube::ObjectKey& key);

  // Wakes every blocked Get (they return nullopt) and ignores later adds. Idempotent.
  void ShutDown();
  bool IsShuttingDown();

  // Number of keys ready for Get (releasing delayed keys that are due first).
  std::size_t Len();
  WorkQueueStats Stats();

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  static constexpr std::uint64_t kUnranked = UINT64_MAX;
  // A key ready for Get: served in (rank, sequence of arrival) order.
  struct Ready {
    std::uint64_t rank;
    std::uint64_t sequence;
    kube::ObjectKey key;
    bool operator<(const Ready& other) const {
      return rank != other.rank ? rank < other.rank : sequence < other.sequence;
    }
  };

  void AddLocked(const kube::ObjectKey& key) EPHEMERA_REQUIRES(mu_);
  // Puts a key into ready_ (it must not be there) and wakes a worker.
  void PushReadyLocked(const kube::ObjectKey& key) EPHEMERA_REQUIRES(mu_);
  void AddAfterLocked(const kube::ObjectKey& key, std::chrono::nanoseconds delay)
      EPHEMERA_REQUIRES(mu_);
  // Moves delayed keys whose deadline has passed into the queue.
  void ReleaseDueLocked() EPHEMERA_REQUIRES(mu_);

  base::Clock& clock_;
  const RateLimitPolicy policy_;
  base::TokenBucket overall_;  // thread safe on its own; used outside mu_

  base::Mutex mu_;
  base::CondVar cv_;
  std::set<Ready> ready_ EPHEMERA_GUARDED_BY(mu_);
  std::map<kube::ObjectKey, std::set<Ready>::iterator> ready_index_ EPHEMERA_GUARDED_BY(mu_);
  std::map<kube::ObjectKey, std::uint64_t> ranks_ EPHEMERA_GUARDED_BY(mu_);
  std::uint64_t sequence_ EPHEMERA_GUARDED_BY(mu_) = 0;
  // Queued, or re-added while processing.
  std::set<kube::ObjectKey> dirty_ EPHEMERA_GUARDED_BY(mu_);
  // Handed out by Get, Done not yet called.
  std::set<kube::ObjectKey> processing_ EPHEMERA_GUARDED_BY(mu_);
  // Held-back keys by deadline, and each key's entry there (the earliest deadline wins).
  std::multimap<SteadyTime, kube::ObjectKey> delayed_ EPHEMERA_GUARDED_BY(mu_);
  std::map<kube::ObjectKey, std::multimap<SteadyTime, kube::ObjectKey>::iterator> delayed_index_
      EPHEMERA_GUARDED_BY(mu_);
  std::map<kube::ObjectKey, int> failures_ EPHEMERA_GUARDED_BY(mu_);
  std::uint64_t adds_total_ EPHEMERA_GUARDED_BY(mu_) = 0;
  std::uint64_t retries_total_ EPHEMERA_GUARDED_BY(mu_) = 0;
  // Bumped when a new deadline may be earlier.
  std::uint64_t delay_generation_ EPHEMERA_GUARDED_BY(mu_) = 0;
  bool shutting_down_ EPHEMERA_GUARDED_BY(mu_) = false;
};

}  // namespace ephemera::workqueue

#endif  // EPHEMERA_CONTROLLER_WORKQUEUE_WORK_QUEUE_H_
