#include <gtest/gtest.h>

#include <cmath>

#include "base/backoff.h"
#include "base/token_bucket.h"
#include "tests/base/fake_clock.h"

namespace ephemera::base {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucketTest, AllowsBurstThenRefillsAtQps) {
  FakeClock clock;
  TokenBucket bucket(/*qps=*/2, /*burst=*/3, clock);
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_FALSE(bucket.TryAcquire());
  clock.Advance(499ms);
  EXPECT_FALSE(bucket.TryAcquire());
  clock.Advance(1ms);
  EXPECT_TRUE(bucket.TryAcquire());
  // Long idle periods refill only up to the burst.
  clock.Advance(1h);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.TryAcquire()) << i;
  EXPECT_FALSE(bucket.TryAcquire());
}

TEST(TokenBucketTest, ReservationsQueueUpAtQpsSpacing) {
  FakeClock clock;
  TokenBucket bucket(/*qps=*/10, /*burst=*/1, clock);
  EXPECT_EQ(bucket.Reserve(), 0ns);
  EXPECT_EQ(bucket.Reserve(), 100ms);
  EXPECT_EQ(bucket.Reserve(), 200ms);
  clock.Advance(200ms);
  EXPECT_EQ(bucket.Reserve(), 100ms);
}

TEST(TokenBucketTest, WaitSleepsOnTheClock) {
  FakeClock clock;
  TokenBucket bucket(/*qps=*/4, /*burst=*/1, clock);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(bucket.Wait({}));
  // Five tokens at 4/s with a burst of 1: the last one is available after 1s.
  EXPECT_EQ(clock.Slept(), 250ms + 250ms + 250ms + 250ms);
}

TEST(TokenBucketTest, WaitReturnsFalseWhenStopped) {
  FakeClock clock;
  TokenBucket bucket(/*qps=*/1, /*burst=*/1, clock);
  std::stop_source stop;
  ASSERT_TRUE(bucket.Wait(stop.get_token()));
  stop.request_stop();
  EXPECT_FALSE(bucket.Wait(stop.get_token()));
}

TEST(TokenBucketTest, ZeroQpsMeansUnlimited) {
  FakeClock clock;
  TokenBucket bucket(0, 1, clock);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(bucket.TryAcquire());
  EXPECT_EQ(bucket.Reserve(), 0ns);
}

TEST(BackoffTest, DoublesFromInitialUpToCapWithoutJitter) {
  const BackoffPolicy policy{.initial = 800ms, .cap = 30s, .factor = 2, .jitter = 0};
  EXPECT_EQ(ComputeBackoff(policy, 0, 0.7), 800ms);
  EXPECT_EQ(ComputeBackoff(policy, 1, 0.7), 1600ms);
  EXPECT_EQ(ComputeBackoff(policy, 2, 0.7), 3200ms);
  EXPECT_EQ(ComputeBackoff(policy, 5, 0.7), 25600ms);
  EXPECT_EQ(ComputeBackoff(policy, 6, 0.7), 30s);
  EXPECT_EQ(ComputeBackoff(policy, 100000, 0.7), 30s);
  EXPECT_EQ(ComputeBackoff(policy, -3, 0.7), 800ms);
}

TEST(BackoffTest, JitterStaysWithinBoundsAndNeverExceedsCap) {
  const BackoffPolicy policy{};  // 800ms, 30s, 2, jitter 0.5
  EXPECT_EQ(ComputeBackoff(policy, 0, 0.0), 800ms);
  EXPECT_EQ(ComputeBackoff(policy, 0, 1.0), 400ms);
  EXPECT_EQ(ComputeBackoff(policy, 10, 0.0), 30s);
  EXPECT_EQ(ComputeBackoff(policy, 10, 1.0), 15s);
  Backoff backoff(policy, /*seed=*/42);
  for (int i = 0; i < 50; ++i) {
    const auto base = std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(static_cast<long long>(800 * std::pow(2.0, std::min(i, 20)))),
        30s);
    const auto delay = backoff.Next();
    EXPECT_LE(delay, base) << i;
    EXPECT_GE(delay, base / 2) << i;
  }
  EXPECT_EQ(backoff.Attempt(), 50);
  backoff.Reset();
  EXPECT_LE(backoff.Next(), 800ms);
}

TEST(BackoffTest, SameSeedSameSequence) {
  Backoff a({}, 7), b({}, 7);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.Next(), b.Next());
}

}  // namespace
}  // namespace ephemera::base
