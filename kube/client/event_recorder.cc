#include "kube/client/event_recorder.h"

#include <utility>

namespace ephemera::kube {

EventRecorder::EventRecorder(KubeClient& client, base::Clock& clock, EventRecorderOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

void EventRecorder::Record(EventRecord event) {
  const auto now = clock_.Now();
  if (event.reporting_controller.empty()) {
    event.reporting_controller = options_.reporting_controller;
  }
  if (event.reporting_instance.empty()) event.reporting_instance = options_.reporting_instance;
  base::MutexLock lock(mu_);
  if (options_.max_queued == 0) {
    ++stats_.dropped;
    return;
  }
  if (queue_.size() >= options_.max_queued) {
    queue_.pop_front();
    ++stats_.dropped;
  }
  queue_.push_back(Pending{std::move(event), now, ++recorded_});
  cv_.NotifyOne();
}

void EventRecorder::Run(const std::stop_token& stop) {
  WriteOptions best_effort;
  best_effort.spare_budget_only = true;
  while (!stop.stop_requested()) {
    Pending next;
    {
      base::MutexLock lock(mu_);
      cv_.Wait(mu_, stop, [this]() EPHEMERA_REQUIRES(mu_) { return !queue_.empty(); });
      if (stop.stop_requested()) break;
      next = queue_.front();  // stays queued (and counted) until sent or given up
    }
    auto created = client_.CreateEvent(next.record, next.time, best_effort);
    if (!created.ok() && created.status().code() == StatusCode::kResourceExhausted) {
      {
        base::MutexLock lock(mu_);
        ++stats_.deferred;
      }
      clock_.SleepFor(options_.retry_every, stop);
      continue;
    }
    {
      base::MutexLock lock(mu_);
      // Record may have dropped it meanwhile (queue full, counted there): remove and count it
      // only if it is still there.
      if (!queue_.empty() && queue_.front().sequence == next.sequence) {
        queue_.pop_front();
        if (created.ok()) {
          ++stats_.sent;
        } else {
          ++stats_.dropped;
        }
      }
    }
    if (!created.ok() && options_.on_error) options_.on_error(next.record, created.status());
  }
  base::MutexLock lock(mu_);
  stats_.dropped += queue_.size();
  queue_.clear();
}

EventRecorderStats EventRecorder::Stats() {
  base::MutexLock lock(mu_);
  EventRecorderStats stats = stats_;
  stats.queued = queue_.size();
  return stats;
}

}  // namespace ephemera::kube
