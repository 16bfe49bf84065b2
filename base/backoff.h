// Capped exponential backoff with jitter, as pure arithmetic plus a small seeded stateful wrapper.
//
// Defaults follow client-go's reflector: 800ms initial, factor 2, capped at 30s. The delay for
// attempt n is base(n) = min(cap, initial * factor^n), reduced by a random fraction of up to
// `jitter` (0..1): the result lies in [base(n) * (1 - jitter), base(n)] and never exceeds cap, so
// retries from many replicas spread out instead of arriving together.
#ifndef EPHEMERA_BASE_BACKOFF_H_
#define EPHEMERA_BASE_BACKOFF_H_

#include <chrono>
#include <cstdint>
#include <random>

namespace ephemera::base {

struct BackoffPolicy {
  std::chrono::milliseconds initial{800};
  std::chrono::milliseconds cap{30'000};
  double factor = 2.0;
  double jitter = 0.5;  // fraction of the delay that is randomized, 0 = none, 1 = full jitter
};

// The delay before retry number `attempt` (0 = the first retry). `random01` is a uniform random
// number in [0, 1); passing it in keeps this function pure. Negative attempts count as 0.
std::chrono::milliseconds ComputeBackoff(const BackoffPolicy& policy, int attempt, double random01);

// Counts consecutive failures and hands out the next delay. Not thread safe: one per retry loop.
class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}, std::uint64_t seed = std::random_device{}());

  // The delay to wait before the next attempt; advances the attempt counter.
  std::chrono::milliseconds Next();
  // Call after a success: the next failure starts again from `initial`.
  void Reset() { attempt_ = 0; }
  int Attempt() const { return attempt_; }

 private:
  BackoffPolicy policy_;
  std::mt19937_64 random_;
  int attempt_ = 0;
};

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_BACKOFF_H_
