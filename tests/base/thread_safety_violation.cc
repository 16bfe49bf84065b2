// Not part of any build: hack/tsan.sh compiles this file with the tsan build's flags and expects
// clang to reject it, which shows that -Wthread-safety is on and that base/mutex.h's annotations
// reach the analysis. Each function below breaks one rule; the script counts the diagnostics.
#include "base/mutex.h"

namespace ephemera::base {

class Counter {
 public:
  // Writes a guarded member without the lock.
  void IncrementUnlocked() { ++value_; }
  // Calls a *Locked helper without the lock.
  void ResetUnlocked() { ResetLocked(); }
  // Calls a function that takes the lock while already holding it.
  void IncrementTwice() {
    MutexLock lock(mu_);
    Increment();
  }
  void Increment() EPHEMERA_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    ++value_;
  }

 private:
  void ResetLocked() EPHEMERA_REQUIRES(mu_) { value_ = 0; }

  Mutex mu_;
  int value_ EPHEMERA_GUARDED_BY(mu_) = 0;
};

}  // namespace ephemera::base
