// Clock: the one way Ephemera's code reads time or waits (the controller's queues, informers and
// leases, the CLI's waits, the snapshot tool's deadline), so tests can drive time by hand.
//
// Production code uses SystemClock; tests use FakeClock (tests/base/fake_clock.h), whose
// SleepFor advances fake time instead of blocking. Implementations are thread safe.
#ifndef EPHEMERA_BASE_CLOCK_H_
#define EPHEMERA_BASE_CLOCK_H_

#include <chrono>
#include <stop_token>

namespace ephemera::base {

class Clock {
 public:
  virtual ~Clock() = default;

  // Wall-clock time, for timestamps written to the API (renewTime, eventTime, expiry checks).
  virtual std::chrono::system_clock::time_point Now() = 0;
  // Monotonic time, for measuring intervals (rate limits, token re-read periods).
  virtual std::chrono::steady_clock::time_point SteadyNow() = 0;
  // Waits `duration` on this clock. Returns false when `stop` was requested before the time passed
  // (the wait ends early), true otherwise.
  virtual bool SleepFor(std::chrono::nanoseconds duration, std::stop_token stop) = 0;
};

// The real clocks; SleepFor blocks the calling thread and wakes at once on a stop request.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() override;
  std::chrono::steady_clock::time_point SteadyNow() override;
  bool SleepFor(std::chrono::nanoseconds duration, std::stop_token stop) override;
};

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_CLOCK_H_
