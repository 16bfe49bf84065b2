// Client-side rate limiting: a token bucket refilled at `qps` tokens per second holding at most
// `burst` tokens (client-go's flowcontrol.NewTokenBucketRateLimiter semantics).
//
// Time comes from the injected Clock (SteadyNow and SleepFor), so tests run without waiting.
// Thread safe; the internal mutex is never held while sleeping.
#ifndef EPHEMERA_BASE_TOKEN_BUCKET_H_
#define EPHEMERA_BASE_TOKEN_BUCKET_H_

#include <chrono>
#include <stop_token>

#include "base/clock.h"
#include "base/mutex.h"

namespace ephemera::base {

class TokenBucket {
 public:
  // qps <= 0 disables limiting. burst < 1 is treated as 1. The bucket starts full. `clock` must
  // outlive the bucket.
  TokenBucket(double qps, int burst, Clock& clock);

  // Takes a token if one is available now.
  bool TryAcquire();
  // Takes a token, possibly one not yet refilled, and returns how long the caller must wait before
  // using it (zero when one was available). Callers that reserve must then wait that long.
  std::chrono::nanoseconds Reserve();
  // Reserve() then SleepFor on the clock. Returns false if `stop` was requested while waiting.
  bool Wait(const std::stop_token& stop);

 private:
  void RefillLocked(std::chrono::steady_clock::time_point now) EPHEMERA_REQUIRES(mu_);

  const double qps_;
  const double burst_;
  Clock& clock_;
  Mutex mu_;
  // May go negative: reservations already handed out for future tokens.
  double tokens_ EPHEMERA_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point last_ EPHEMERA_GUARDED_BY(mu_);
};

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_TOKEN_BUCKET_H_
