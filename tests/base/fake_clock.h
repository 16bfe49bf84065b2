// FakeClock: a Clock whose time moves only when told to. SleepFor advances the clock by the
// requested duration at once (and records it), so code that waits runs instantly in tests.
#ifndef EPHEMERA_TESTS_BASE_FAKE_CLOCK_H_
#define EPHEMERA_TESTS_BASE_FAKE_CLOCK_H_

#include <chrono>
#include <mutex>
#include <vector>

#include "base/clock.h"

namespace ephemera::base {

class FakeClock final : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z (wall) and an arbitrary steady epoch.
  FakeClock() : now_(std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}) {}

  std::chrono::system_clock::time_point Now() override {
    std::lock_guard lock(mu_);
    return now_;
  }
  std::chrono::steady_clock::time_point SteadyNow() override {
    std::lock_guard lock(mu_);
    return steady_;
  }
  bool SleepFor(std::chrono::nanoseconds duration, std::stop_token stop) override {
    if (stop.stop_requested()) return false;
    std::lock_guard lock(mu_);
    sleeps_.push_back(duration);
    if (duration > std::chrono::nanoseconds::zero()) {
      now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(duration);
      steady_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration);
    }
    return true;
  }

  void Advance(std::chrono::nanoseconds duration) {
    std::lock_guard lock(mu_);
    now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(duration);
    steady_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration);
  }
  // Every SleepFor duration, in order. (Lower-case name kept: other tests already use it.)
  std::vector<std::chrono::nanoseconds> sleeps() {  // NOLINT(readability-identifier-naming)
    std::lock_guard lock(mu_);
    return sleeps_;
  }
  // Total time slept through SleepFor.
  std::chrono::nanoseconds Slept() {
    std::lock_guard lock(mu_);
    std::chrono::nanoseconds total{0};
    for (auto d : sleeps_) total += d;
    return total;
  }

 private:
  std::mutex mu_;
  std::chrono::system_clock::time_point now_;
  std::chrono::steady_clock::time_point steady_{};
  std::vector<std::chrono::nanoseconds> sleeps_;
};

}  // namespace ephemera::base

#endif  // EPHEMERA_TESTS_BASE_FAKE_CLOCK_H_
