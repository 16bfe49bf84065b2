// FakeClock: a Clock whose time moves only when told to. SleepFor advances the clock by the
// requested duration at once (and records it), so code that waits runs instantly in tests.
//
// A loop that sleeps between tries (leader election's renewals) would spin on such a clock, and
// starve the threads the test needs to make progress; BlockSleepsAfter makes sleeps past a point
// in fake time wait for their stop_token instead, as a real sleep does when nobody advances time.
//
// Thread safety: all methods may be called concurrently.
#ifndef EPHEMERA_TESTS_BASE_FAKE_CLOCK_H_
#define EPHEMERA_TESTS_BASE_FAKE_CLOCK_H_

#include <chrono>
#include <optional>
#include <stop_token>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"

namespace ephemera::base {

class FakeClock final : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z (wall) and an arbitrary steady epoch.
  FakeClock() : now_(std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}) {}

  std::chrono::system_clock::time_point Now() override {
    base::MutexLock lock(mu_);
    return now_;
  }
  std::chrono::steady_clock::time_point SteadyNow() override {
    base::MutexLock lock(mu_);
    return steady_;
  }
  // Advances the clock by `duration` and returns true, unless that would pass the limit set by
  // BlockSleepsAfter: then it waits for `stop` without advancing and returns false (also after
  // kBlockedSleepGuard of real time, so that a test whose stop never comes fails instead of
  // hanging).
  bool SleepFor(std::chrono::nanoseconds duration, std::stop_token stop) override {
    if (stop.stop_requested()) return false;
    base::MutexLock lock(mu_);
    sleeps_.push_back(duration);
    if (sleep_limit_ && steady_ + ToSteady(duration) > *sleep_limit_) {
      sleep_blocked_.WaitUntil(mu_, stop, std::chrono::steady_clock::now() + kBlockedSleepGuard,
                               [] { return false; });
      return false;
    }
    if (duration > std::chrono::nanoseconds::zero()) AdvanceLocked(duration);
    return true;
  }

  void Advance(std::chrono::nanoseconds duration) {
    base::MutexLock lock(mu_);
    AdvanceLocked(duration);
  }
  // Sleeps that would take the clock more than `limit` past its time now block (see SleepFor).
  void BlockSleepsAfter(std::chrono::nanoseconds limit) {
    base::MutexLock lock(mu_);
    sleep_limit_ = steady_ + ToSteady(limit);
  }
  static constexpr std::chrono::seconds kBlockedSleepGuard{30};
  // Every SleepFor duration, in order. (Lower-case name kept: other tests already use it.)
  std::vector<std::chrono::nanoseconds> sleeps() {  // NOLINT(readability-identifier-naming)
    base::MutexLock lock(mu_);
    return sleeps_;
  }
  // Total time slept through SleepFor.
  std::chrono::nanoseconds Slept() {
    base::MutexLock lock(mu_);
    std::chrono::nanoseconds total{0};
    for (auto d : sleeps_) total += d;
    return total;
  }

 private:
  static std::chrono::steady_clock::duration ToSteady(std::chrono::nanoseconds duration) {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration);
  }
  void AdvanceLocked(std::chrono::nanoseconds duration) EPHEMERA_REQUIRES(mu_) {
    now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(duration);
    steady_ += ToSteady(duration);
  }

  base::Mutex mu_;
  base::CondVar sleep_blocked_;  // never notified: blocked sleeps end by stop (or the guard)
  std::chrono::system_clock::time_point now_ EPHEMERA_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point steady_ EPHEMERA_GUARDED_BY(mu_){};
  std::optional<std::chrono::steady_clock::time_point> sleep_limit_ EPHEMERA_GUARDED_BY(mu_);
  std::vector<std::chrono::nanoseconds> sleeps_ EPHEMERA_GUARDED_BY(mu_);
};

}  // namespace ephemera::base

#endif  // EPHEMERA_TESTS_BASE_FAKE_CLOCK_H_
