#include "base/clock.h"

#include <condition_variable>
#include <mutex>

namespace ephemera::base {

std::chrono::system_clock::time_point SystemClock::Now() {
  return std::chrono::system_clock::now();
}

std::chrono::steady_clock::time_point SystemClock::SteadyNow() {
  return std::chrono::steady_clock::now();
}

bool SystemClock::SleepFor(std::chrono::nanoseconds duration, std::stop_token stop) {
  if (duration <= std::chrono::nanoseconds::zero()) return !stop.stop_requested();
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  // wait_for with a stop_token returns the predicate's final value, which is false both on timeout
  // and on a stop request; the token itself tells them apart.
  cv.wait_for(lock, stop, duration, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace ephemera::base
