#include "base/mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <thread>
#include <vector>

namespace ephemera::base {
namespace {

// A counter and a flag behind one mutex, as the classes that use base::Mutex hold their state.
class Shared {
 public:
  void Increment() {
    MutexLock lock(mu_);
    ++count_;
  }
  int Count() {
    MutexLock lock(mu_);
    return count_;
  }
  void Raise() {
    MutexLock lock(mu_);
    raised_ = true;
    cv_.NotifyAll();
  }
  // Waits for Raise or `stop`; returns whether Raise happened.
  bool WaitRaised(const std::stop_token& stop) {
    MutexLock lock(mu_);
    return cv_.Wait(mu_, stop, [this]() EPHEMERA_REQUIRES(mu_) { return raised_; });
  }
  bool WaitRaisedUntil(std::chrono::steady_clock::time_point deadline) {
    MutexLock lock(mu_);
    return cv_.WaitUntil(mu_, std::stop_token(), deadline,
                         [this]() EPHEMERA_REQUIRES(mu_) { return raised_; });
  }

 private:
  Mutex mu_;
  CondVar cv_;
  int count_ EPHEMERA_GUARDED_BY(mu_) = 0;
  bool raised_ EPHEMERA_GUARDED_BY(mu_) = false;
};

TEST(MutexTest, MutexLockSerializesIncrementsFromManyThreads) {
  Shared shared;
  {
    std::vector<std::jthread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&shared] {
        for (int i = 0; i < 10000; ++i) shared.Increment();
      });
    }
  }
  EXPECT_EQ(shared.Count(), 40000);
}

TEST(MutexTest, TryLockTakesAFreeMutex) {
  Mutex mu;
  bool took = false;
  if (mu.TryLock()) {
    took = true;
    mu.Unlock();
  }
  EXPECT_TRUE(took);
  MutexLock lock(mu);  // and it is free again
}

TEST(CondVarTest, WaitReturnsAtOnceWhenThePredicateHolds) {
  Shared shared;
  shared.Raise();
  std::stop_source never;
  EXPECT_TRUE(shared.WaitRaised(never.get_token()));
}

TEST(CondVarTest, NotifyWakesAWaiter) {
  Shared shared;
  std::stop_source never;
  bool woke = false;
  std::jthread waiter([&] { woke = shared.WaitRaised(never.get_token()); });
  shared.Raise();
  waiter.join();
  EXPECT_TRUE(woke);
}

TEST(CondVarTest, StopRequestEndsAWaitWithoutNotify) {
  Shared shared;
  std::stop_source stop;
  bool raised = true;
  std::jthread waiter([&] { raised = shared.WaitRaised(stop.get_token()); });
  stop.request_stop();  // before or during the wait: either way it ends
  waiter.join();
  EXPECT_FALSE(raised);
}

TEST(CondVarTest, WaitUntilAPassedDeadlineReturnsThePredicate) {
  Shared shared;
  const auto past = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  EXPECT_FALSE(shared.WaitRaisedUntil(past));
  shared.Raise();
  EXPECT_TRUE(shared.WaitRaisedUntil(past));
}

}  // namespace
}  // namespace ephemera::base
