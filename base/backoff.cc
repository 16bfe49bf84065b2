#include "base/backoff.h"

#include <algorithm>
#include <cmath>

namespace ephemera::base {

std::chrono::milliseconds ComputeBackoff(const BackoffPolicy& policy, int attempt,
                                         double random01) {
  const double initial = static_cast<double>(std::max<std::int64_t>(policy.initial.count(), 0));
  const double cap = static_cast<double>(std::max<std::int64_t>(policy.cap.count(), 0));
  const double factor = std::max(policy.factor, 1.0);
  // Exponentiate in doubles, clamped early: factor^attempt overflows long before attempt ~1000.
  double base = initial * std::pow(factor, static_cast<double>(std::clamp(attempt, 0, 1000)));
  if (!std::isfinite(base) || base > cap) base = cap;
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double r = std::clamp(random01, 0.0, 1.0);
  const double delay = base * (1.0 - jitter * r);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(delay)));
}

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed) : policy_(policy), random_(seed) {}

std::chrono::milliseconds Backoff::Next() {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  auto delay = ComputeBackoff(policy_, attempt_, uniform(random_));
  if (attempt_ < 1000) ++attempt_;
  return delay;
}

}  // namespace ephemera::base
