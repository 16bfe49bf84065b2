#include "base/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace ephemera::base {

TokenBucket::TokenBucket(double qps, int burst, Clock& clock)
    : qps_(qps),
      burst_(static_cast<double>(std::max(burst, 1))),
      clock_(clock),
      tokens_(burst_),
      last_(clock.SteadyNow()) {}

void TokenBucket::RefillLocked(std::chrono::steady_clock::time_point now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

bool TokenBucket::TryAcquire() {
  if (qps_ <= 0) return true;
  MutexLock lock(mu_);
  RefillLocked(clock_.SteadyNow());
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::chrono::nanoseconds TokenBucket::Reserve() {
  if (qps_ <= 0) return std::chrono::nanoseconds::zero();
  MutexLock lock(mu_);
  RefillLocked(clock_.SteadyNow());
  tokens_ -= 1.0;
  if (tokens_ >= 0) return std::chrono::nanoseconds::zero();
  const double seconds = -tokens_ / qps_;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(seconds * 1e9)));
}

bool TokenBucket::Wait(const std::stop_token& stop) {
  const auto delay = Reserve();
  if (delay <= std::chrono::nanoseconds::zero()) return !stop.stop_requested();
  return clock_.SleepFor(delay, stop);
}

}  // namespace ephemera::base
