// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable_any with clang's
// thread-safety annotations, so that a clang build with -Wthread-safety (the tsan preset,
// hack/tsan.sh) proves at compile time that every member marked EPHEMERA_GUARDED_BY(mu_) is only
// touched with mu_ held, and that a *Locked helper marked EPHEMERA_REQUIRES(mu_) is only called
// with it held. Under GCC the annotations expand to nothing and the types cost what std::mutex
// costs.
//
// Usage:
//
//   class Queue {
//    public:
//     void Add(int value) EPHEMERA_EXCLUDES(mu_) {
//       base::MutexLock lock(mu_);
//       AddLocked(value);
//     }
//    private:
//     void AddLocked(int value) EPHEMERA_REQUIRES(mu_);
//     base::Mutex mu_;
//     base::CondVar cv_;
//     std::vector<int> values_ EPHEMERA_GUARDED_BY(mu_);
//   };
//
// A lambda that reads guarded members while the lock is held (a CondVar predicate) says so:
// `[this]() EPHEMERA_REQUIRES(mu_) { return !values_.empty(); }`.
//
// Thread safety: Mutex and CondVar are themselves thread safe; MutexLock belongs to one scope.
#ifndef EPHEMERA_BASE_MUTEX_H_
#define EPHEMERA_BASE_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <utility>

#if defined(__clang__)
#define EPHEMERA_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define EPHEMERA_THREAD_ANNOTATION_(x)
#endif

// On a class: its objects are a capability (a lock) named `name` in diagnostics.
#define EPHEMERA_CAPABILITY(name) EPHEMERA_THREAD_ANNOTATION_(capability(name))
// On a class: an RAII object that holds a capability for its lifetime.
#define EPHEMERA_SCOPED_CAPABILITY EPHEMERA_THREAD_ANNOTATION_(scoped_lockable)
// On a data member: read and written only with `mu` held.
#define EPHEMERA_GUARDED_BY(mu) EPHEMERA_THREAD_ANNOTATION_(guarded_by(mu))
// On a pointer member: what it points to is read and written only with `mu` held.
#define EPHEMERA_PT_GUARDED_BY(mu) EPHEMERA_THREAD_ANNOTATION_(pt_guarded_by(mu))
// On a function: the caller must hold the capabilities.
#define EPHEMERA_REQUIRES(...) EPHEMERA_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
// On a function: the caller must not hold them (the function takes them itself).
#define EPHEMERA_EXCLUDES(...) EPHEMERA_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
// On a function: it returns holding (ACQUIRE) or no longer holding (RELEASE) the capabilities.
#define EPHEMERA_ACQUIRE(...) EPHEMERA_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define EPHEMERA_RELEASE(...) EPHEMERA_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
// On a function returning bool: it holds the capabilities when it returns the first argument.
#define EPHEMERA_TRY_ACQUIRE(...) EPHEMERA_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
// On a function: the analysis assumes the capability is held after the call.
#define EPHEMERA_ASSERT_CAPABILITY(mu) EPHEMERA_THREAD_ANNOTATION_(assert_capability(mu))
// On a function: the analysis does not look inside it. For code the analysis cannot follow; say
// why next to it.
#define EPHEMERA_NO_THREAD_SAFETY_ANALYSIS EPHEMERA_THREAD_ANNOTATION_(no_thread_safety_analysis)

namespace ephemera::base {

// A non-recursive mutex. Code locks it through MutexLock.
class EPHEMERA_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() EPHEMERA_ACQUIRE() { mu_.lock(); }
  void Unlock() EPHEMERA_RELEASE() { mu_.unlock(); }
  bool TryLock() EPHEMERA_TRY_ACQUIRE(true) { return mu_.try_lock(); }

  // The standard's names, for std::condition_variable_any inside CondVar.
  void lock() EPHEMERA_ACQUIRE() { mu_.lock(); }      // NOLINT(readability-identifier-naming)
  void unlock() EPHEMERA_RELEASE() { mu_.unlock(); }  // NOLINT(readability-identifier-naming)
  bool try_lock() EPHEMERA_TRY_ACQUIRE(true) {        // NOLINT(readability-identifier-naming)
    return mu_.try_lock();
  }

 private:
  std::mutex mu_;
};

// Holds a Mutex from construction to the end of the scope.
class EPHEMERA_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) EPHEMERA_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() EPHEMERA_RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// A condition variable for a Mutex, with the standard's stop_token-aware waits: a stop request
// wakes the waiter at once. Every wait takes the Mutex the caller holds (it is released while
// waiting and held again on return) and a predicate evaluated with it held.
class CondVar {
 public:
  // Waits until `ready()` is true or `stop` is requested; returns `ready()`.
  template <typename Predicate>
  bool Wait(Mutex& mu, const std::stop_token& stop, Predicate ready) EPHEMERA_REQUIRES(mu) {
    return cv_.wait(mu, stop, std::move(ready));
  }
  // Waits until `ready()`, `stop`, or the steady clock reaches `deadline`; returns `ready()`.
  template <typename Predicate>
  bool WaitUntil(Mutex& mu, const std::stop_token& stop,
                 std::chrono::steady_clock::time_point deadline, Predicate ready)
      EPHEMERA_REQUIRES(mu) {
    return cv_.wait_until(mu, stop, deadline, std::move(ready));
  }
  // Waits until `ready()` (no stop token); for waiters that a notification always ends.
  template <typename Predicate>
  void Wait(Mutex& mu, Predicate ready) EPHEMERA_REQUIRES(mu) {
    cv_.wait(mu, std::move(ready));
  }

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable_any cv_;
};

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_MUTEX_H_
