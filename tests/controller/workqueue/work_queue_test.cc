#include "controller/workqueue/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "controller/metrics/registry.h"
#include "tests/base/fake_clock.h"

namespace ephemera::workqueue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

kube::ObjectKey Key(std::string name) { return {"team-a", std::move(name)}; }

// No overall bucket unless a test asks for one, so per-key delays are exact.
RateLimitPolicy ItemOnly() {
  RateLimitPolicy policy;
  policy.overall_qps = 0;
  return policy;
}

TEST(WorkQueueTest, AddDedupsWhileQueued) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(Key("a"));
  queue.Add(Key("a"));
  queue.Add(Key("b"));
  EXPECT_EQ(queue.Len(), 2u);
  EXPECT_EQ(queue.Stats().adds_total, 2u);
}

TEST(WorkQueueTest, GetReturnsKeysInOrderAdded) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(Key("a"));
  queue.Add(Key("b"));
  EXPECT_EQ(queue.Get({}), Key("a"));
  EXPECT_EQ(queue.Get({}), Key("b"));
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.Stats().processing, 2u);
}

TEST(WorkQueueTest, LowerRankIsServedFirstAndEqualRanksInOrderAdded) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.SetRank(Key("old"), 1);
  queue.SetRank(Key("new-1"), 5);
  queue.SetRank(Key("new-2"), 5);
  queue.Add(Key("new-1"));
  queue.Add(Key("unranked"));
  queue.Add(Key("new-2"));
  queue.Add(Key("old"));
  EXPECT_EQ(queue.Get({}), Key("old"));
  EXPECT_EQ(queue.Get({}), Key("new-1"));
  EXPECT_EQ(queue.Get({}), Key("new-2"));
  EXPECT_EQ(queue.Get({}), Key("unranked")) << "a key nobody ranked comes last";
}

TEST(WorkQueueTest, SetRankMovesAKeyAlreadyQueued) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(Key("a"));
  queue.Add(Key("b"));
  queue.SetRank(Key("b"), 0);
  EXPECT_EQ(queue.Get({}), Key("b"));
  EXPECT_EQ(queue.Get({}), Key("a"));
}

TEST(WorkQueueTest, RankAppliesToDelayedAndRequeuedKeysUntilForgotten) {
  base::FakeClock clock;
  WorkQueue queue(clock, ItemOnly());
  queue.SetRank(Key("old"), 1);
  queue.SetRank(Key("new"), 2);
  queue.Add(Key("new"));
  queue.AddAfter(Key("old"), milliseconds(100));
  clock.Advance(milliseconds(100));
  EXPECT_EQ(queue.Get({}), Key("old")) << "released after its delay, still ahead of newer keys";
  // Re-added while processed: back in the queue at its rank when Done.
  queue.Add(Key("old"));
  queue.Done(Key("old"));
  EXPECT_EQ(queue.Get({}), Key("old"));
  queue.Done(Key("old"));
  queue.ForgetRank(Key("old"));
  queue.Add(Key("old"));
  EXPECT_EQ(queue.Get({}), Key("new"));
  EXPECT_EQ(queue.Get({}), Key("old"));
}

TEST(WorkQueueTest, KeyAddedWhileProcessingIsQueuedAgainOnlyAfterDone) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(Key("a"));
  auto key = queue.Get({});
  ASSERT_EQ(key, Key("a"));
  queue.Add(Key("a"));
  queue.Add(Key("a"));
  EXPECT_EQ(queue.Len(), 0u) << "must not be handed to a second worker while processed";
  queue.Done(*key);
  EXPECT_EQ(queue.Len(), 1u);
  EXPECT_EQ(queue.Get({}), Key("a"));
  queue.Done(Key("a"));
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueueTest, DoneWithoutReAddDoesNotQueue) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(Key("a"));
  queue.Done(*queue.Get({}));
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.Stats().processing, 0u);
}

TEST(WorkQueueTest, AddAfterReleasesKeyWhenClockReachesDeadline) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.AddAfter(Key("a"), seconds(10));
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.Stats().delayed, 1u);
  clock.Advance(seconds(9));
  EXPECT_EQ(queue.Len(), 0u);
  clock.Advance(seconds(1));
  EXPECT_EQ(queue.Len(), 1u);
  EXPECT_EQ(queue.Stats().delayed, 0u);
  EXPECT_EQ(queue.Get({}), Key("a"));
}

TEST(WorkQueueTest, AddAfterKeepsEarliestDeadline) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.AddAfter(Key("a"), seconds(30));
  queue.AddAfter(Key("a"), seconds(5));
  queue.AddAfter(Key("a"), seconds(60));
  EXPECT_EQ(queue.Stats().delayed, 1u);
  clock.Advance(seconds(5));
  EXPECT_EQ(queue.Len(), 1u);
  queue.Done(*queue.Get({}));
  clock.Advance(seconds(100));
  EXPECT_EQ(queue.Len(), 0u) << "later deadlines were dropped, not kept as extra entries";
}

TEST(WorkQueueTest, AddAfterWithoutDelayAddsAtOnce) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.AddAfter(Key("a"), seconds(0));
  queue.AddAfter(Key("b"), seconds(-1));
  EXPECT_EQ(queue.Len(), 2u);
}

TEST(WorkQueueTest, DelayedKeyAlreadyQueuedIsNotQueuedTwice) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(Key("a"));
  queue.AddAfter(Key("a"), seconds(1));
  clock.Advance(seconds(1));
  EXPECT_EQ(queue.Len(), 1u);
}

TEST(WorkQueueTest, ItemBackoffDoublesFromFiveMillisecondsAndCapsAtThousandSeconds) {
  RateLimitPolicy policy;
  EXPECT_EQ(ItemBackoff(policy, 0), milliseconds(5));
  EXPECT_EQ(ItemBackoff(policy, 1), milliseconds(10));
  EXPECT_EQ(ItemBackoff(policy, 2), milliseconds(20));
  EXPECT_EQ(ItemBackoff(policy, 10), milliseconds(5120));
  EXPECT_EQ(ItemBackoff(policy, 30), seconds(1000));
  EXPECT_EQ(ItemBackoff(policy, 5000), seconds(1000));
}

TEST(WorkQueueTest, ItemBackoffHonoursConfiguredPolicy) {
  RateLimitPolicy policy;
  policy.base_delay = milliseconds(100);
  policy.max_delay = milliseconds(250);
  EXPECT_EQ(ItemBackoff(policy, 0), milliseconds(100));
  EXPECT_EQ(ItemBackoff(policy, 1), milliseconds(200));
  EXPECT_EQ(ItemBackoff(policy, 2), milliseconds(250));
}

TEST(WorkQueueTest, AddRateLimitedDelaysByPerKeyBackoff) {
  base::FakeClock clock;
  WorkQueue queue(clock, ItemOnly());
  for (int failure = 0; failure < 3; ++failure) {
    queue.AddRateLimited(Key("a"));
    const auto delay = milliseconds(5 << failure);  // 5, 10, 20
    clock.Advance(delay - milliseconds(1));
    EXPECT_EQ(queue.Len(), 0u) << "failure " << failure;
    clock.Advance(milliseconds(1));
    EXPECT_EQ(queue.Len(), 1u) << "failure " << failure;
    queue.Done(*queue.Get({}));
  }
  EXPECT_EQ(queue.NumRequeues(Key("a")), 3);
  EXPECT_EQ(queue.NumRequeues(Key("b")), 0);
  EXPECT_EQ(queue.Stats().retries_total, 3u);
}

TEST(WorkQueueTest, ForgetResetsBackoff) {
  base::FakeClock clock;
  WorkQueue queue(clock, ItemOnly());
  queue.AddRateLimited(Key("a"));
  queue.AddRateLimited(Key("a"));
  EXPECT_EQ(queue.NumRequeues(Key("a")), 2);
  queue.Forget(Key("a"));
  EXPECT_EQ(queue.NumRequeues(Key("a")), 0);
  clock.Advance(milliseconds(5));
  EXPECT_EQ(queue.Len(), 1u) << "Forget does not drop the delayed key";
  queue.Done(*queue.Get({}));
  queue.AddRateLimited(Key("a"));
  clock.Advance(milliseconds(5));
  EXPECT_EQ(queue.Len(), 1u) << "after Forget the delay starts again at 5ms";
}

TEST(WorkQueueTest, OverallBucketSpreadsRetriesOfManyKeys) {
  base::FakeClock clock;
  RateLimitPolicy policy;
  policy.overall_qps = 1;
  policy.overall_burst = 1;
  WorkQueue queue(clock, policy);
  queue.AddRateLimited(Key("a"));
  queue.AddRateLimited(Key("b"));
  clock.Advance(milliseconds(5));
  EXPECT_EQ(queue.Len(), 1u) << "the first retry only waits for its own backoff";
  clock.Advance(milliseconds(994));
  EXPECT_EQ(queue.Len(), 1u);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(queue.Len(), 2u) << "the second waits for the bucket's next token (1s)";
}

TEST(WorkQueueTest, ShutDownWakesBlockedGetAndIgnoresLaterAdds) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  std::optional<kube::ObjectKey> got = Key("sentinel");
  std::thread worker([&] { got = queue.Get({}); });
  queue.ShutDown();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
  queue.Add(Key("a"));
  queue.AddAfter(Key("b"), seconds(1));
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_TRUE(queue.IsShuttingDown());
}

TEST(WorkQueueTest, GetReturnsNulloptAfterShutDownEvenWithKeysQueued) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(Key("a"));
  queue.ShutDown();
  EXPECT_EQ(queue.Get({}), std::nullopt);
}

TEST(WorkQueueTest, StopTokenWakesBlockedGet) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  std::stop_source stop;
  std::optional<kube::ObjectKey> got = Key("sentinel");
  std::thread worker([&] { got = queue.Get(stop.get_token()); });
  stop.request_stop();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
  EXPECT_FALSE(queue.IsShuttingDown());
}

TEST(WorkQueueTest, BlockedGetReceivesKeyAddedLater) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  std::optional<kube::ObjectKey> got;
  std::thread worker([&] { got = queue.Get({}); });
  queue.Add(Key("a"));
  worker.join();
  EXPECT_EQ(got, Key("a"));
}

TEST(WorkQueueTest, BlockedGetReceivesDelayedKeyOnceFakeClockAdvances) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  queue.AddAfter(Key("a"), seconds(3600));
  std::optional<kube::ObjectKey> got;
  std::thread worker([&] { got = queue.Get({}); });
  clock.Advance(seconds(3600));
  EXPECT_LE(queue.Len(), 1u);  // releases the key; the worker may already have taken it
  worker.join();
  EXPECT_EQ(got, Key("a"));
}

TEST(WorkQueueTest, ConcurrentWorkersNeverProcessOneKeyAtOnce) {
  base::FakeClock clock;
  WorkQueue queue(clock);
  std::mutex mu;
  std::set<kube::ObjectKey> in_flight;
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};
  auto work = [&](const std::stop_token& stop) {
    while (auto key = queue.Get(stop)) {
      {
        std::lock_guard lock(mu);
        if (!in_flight.insert(*key).second) ++overlaps;
      }
      std::this_thread::yield();
      {
        std::lock_guard lock(mu);
        in_flight.erase(*key);
      }
      ++processed;
      queue.Done(*key);
    }
  };
  std::vector<std::jthread> workers;
  workers.reserve(4);
  for (int i = 0; i < 4; ++i) workers.emplace_back(work);
  for (int round = 0; round < 2000; ++round) queue.Add(Key("k" + std::to_string(round % 3)));
  // Drain: every key ends up processed after its last Add; then stop the workers.
  for (auto stats = queue.Stats(); stats.depth > 0 || stats.processing > 0; stats = queue.Stats()) {
    std::this_thread::yield();
  }
  queue.ShutDown();
  workers.clear();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_GE(processed.load(), 3);
  EXPECT_LE(processed.load(), 2000);
}

TEST(WorkQueueTest, StatsFeedTheMetricsRegistry) {
  base::FakeClock clock;
  WorkQueue queue(clock, ItemOnly());
  metrics::Registry registry;
  registry.AddGaugeFunc("workqueue_depth", "Keys waiting for a worker.", {"name"},
                        {"debugsessions"}, [&queue] { return double(queue.Stats().depth); });
  registry.AddCounterFunc("workqueue_adds_total", "Keys added.", {"name"}, {"debugsessions"},
                          [&queue] { return double(queue.Stats().adds_total); });
  registry.AddCounterFunc("workqueue_retries_total", "Rate-limited re-adds.", {"name"},
                          {"debugsessions"},
                          [&queue] { return double(queue.Stats().retries_total); });
  queue.Add(Key("a"));
  queue.Add(Key("b"));
  queue.AddRateLimited(Key("c"));
  const std::string text = registry.RenderPrometheusText();
  EXPECT_NE(text.find("ephemera_workqueue_depth{name=\"debugsessions\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("ephemera_workqueue_adds_total{name=\"debugsessions\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("ephemera_workqueue_retries_total{name=\"debugsessions\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace ephemera::workqueue
