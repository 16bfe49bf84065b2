#include "controller/workqueue/work_queue.h"

#include <algorithm>

namespace ephemera::workqueue {

std::chrono::milliseconds ItemBackoff(const RateLimitPolicy& policy, int failures) {
  // The shared backoff arithmetic, without jitter: the per-key delay is deterministic as in
  // client-go's ItemExponentialFailureRateLimiter.
  base::BackoffPolicy backoff{
      .initial = policy.base_delay, .cap = policy.max_delay, .factor = 2.0, .jitter = 0.0};
  return base::ComputeBackoff(backoff, failures, 0.0);
}

WorkQueue::WorkQueue(base::Clock& clock, RateLimitPolicy policy)
    : clock_(clock), policy_(policy), overall_(policy.overall_qps, policy.overall_burst, clock) {}

WorkQueue::~WorkQueue() { ShutDown(); }

void WorkQueue::Add(const kube::ObjectKey& key) {
  base::MutexLock lock(mu_);
  ReleaseDueLocked();
  AddLocked(key);
}

void WorkQueue::AddLocked(const kube::ObjectKey& key) {
  if (shutting_down_) return;
  if (!dirty_.insert(key).second) return;  // already queued (or re-added while processing)
  ++adds_total_;
  // While a worker holds the key it stays only in dirty_; Done queues it again.
  if (processing_.contains(key)) return;
  PushReadyLocked(key);
}

void WorkQueue::PushReadyLocked(const kube::ObjectKey& key) {
  auto rank = ranks_.find(key);
  auto [it, inserted] =
      ready_.insert(Ready{rank == ranks_.end() ? kUnranked : rank->second, sequence_++, key});
  ready_index_[key] = it;
  cv_.NotifyOne();
}

void WorkQueue::SetRank(const kube::ObjectKey& key, std::uint64_t rank) {
  base::MutexLock lock(mu_);
  ranks_[key] = rank;
  auto queued = ready_index_.find(key);
  if (queued == ready_index_.end() || queued->second->rank == rank) return;
  Ready moved = *queued->second;
  ready_.erase(queued->second);
  moved.rank = rank;
  queued->second = ready_.insert(std::move(moved)).first;
}

void WorkQueue::ForgetRank(const kube::ObjectKey& key) {
  base::MutexLock lock(mu_);
  ranks_.erase(key);
}

void WorkQueue::AddAfter(const kube::ObjectKey& key, std::chrono::nanoseconds delay) {
  base::MutexLock lock(mu_);
  ReleaseDueLocked();
  AddAfterLocked(key, delay);
}

void WorkQueue::AddAfterLocked(const kube::ObjectKey& key, std::chrono::nanoseconds delay) {
  if (shutting_down_) return;
  if (delay <= std::chrono::nanoseconds::zero()) {
    AddLocked(key);
    return;
  }
  const SteadyTime deadline =
      clock_.SteadyNow() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay);
  auto existing = delayed_index_.find(key);
  if (existing != delayed_index_.end()) {
    if (existing->second->first <= deadline) return;  // an earlier deadline is already set
    delayed_.erase(existing->second);
    delayed_index_.erase(existing);
  }
  delayed_index_[key] = delayed_.emplace(deadline, key);
  ++delay_generation_;
  cv_.NotifyAll();  // a blocked Get may need an earlier wake-up
}

void WorkQueue::AddRateLimited(const kube::ObjectKey& key) {
  // Reserve outside mu_: the bucket has its own lock and reads the clock.
  const std::chrono::nanoseconds overall_delay = overall_.Reserve();
  base::MutexLock lock(mu_);
  ReleaseDueLocked();
  if (shutting_down_) return;
  const int failures = failures_[key]++;
  ++retries_total_;
  const std::chrono::nanoseconds item_delay = ItemBackoff(policy_, failures);
  AddAfterLocked(key, std::max(item_delay, overall_delay));
}

void WorkQueue::Forget(const kube::ObjectKey& key) {
  base::MutexLock lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const kube::ObjectKey& key) {
  base::MutexLock lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::optional<kube::ObjectKey> WorkQueue::Get(const std::stop_token& stop) {
  base::MutexLock lock(mu_);
  while (true) {
    if (shutting_down_ || stop.stop_requested()) return std::nullopt;
    ReleaseDueLocked();
    if (!ready_.empty()) {
      kube::ObjectKey key = ready_.begin()->key;
      ready_index_.erase(key);
      ready_.erase(ready_.begin());
      dirty_.erase(key);
      processing_.insert(key);
      return key;
    }
    const std::uint64_t generation = delay_generation_;
    auto wake = [this, generation]() EPHEMERA_REQUIRES(mu_) {
      return shutting_down_ || !ready_.empty() || delay_generation_ != generation;
    };
    if (delayed_.empty()) {
      cv_.Wait(mu_, stop, wake);
    } else {
      // Wait in real time for what the clock says remains; a fake clock that is advanced releases
      // keys through the next call on the queue instead.
      const auto remaining = delayed_.begin()->first - clock_.SteadyNow();
      cv_.WaitUntil(mu_, stop, std::chrono::steady_clock::now() + remaining, wake);
    }
  }
}

void WorkQueue::Done(const kube::ObjectKey& key) {
  base::MutexLock lock(mu_);
  processing_.erase(key);
  if (dirty_.contains(key) && !shutting_down_) PushReadyLocked(key);
}

void WorkQueue::ShutDown() {
  base::MutexLock lock(mu_);
  shutting_down_ = true;
  cv_.NotifyAll();
}

bool WorkQueue::IsShuttingDown() {
  base::MutexLock lock(mu_);
  return shutting_down_;
}

std::size_t WorkQueue::Len() {
  base::MutexLock lock(mu_);
  ReleaseDueLocked();
  return ready_.size();
}

WorkQueueStats WorkQueue::Stats() {
  base::MutexLock lock(mu_);
  ReleaseDueLocked();
  return WorkQueueStats{.depth = ready_.size(),
                        .delayed = delayed_.size(),
                        .processing = processing_.size(),
                        .adds_total = adds_total_,
                        .retries_total = retries_total_};
}

void WorkQueue::ReleaseDueLocked() {
  if (delayed_.empty()) return;
  const SteadyTime now = clock_.SteadyNow();
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    kube::ObjectKey key = delayed_.begin()->second;
    delayed_index_.erase(key);
    delayed_.erase(delayed_.begin());
    AddLocked(key);
  }
}

}  // namespace ephemera::workqueue
