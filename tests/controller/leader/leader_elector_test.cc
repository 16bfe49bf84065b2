#include "controller/leader/leader_elector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::leader {
namespace {

using kube::FakeKubeClient;
using kube::FakeMethod;
using std::chrono::seconds;

const kube::ObjectKey kLease{"ephemera-system", "ephemera-controller"};

LeaderElectionConfig Config(std::string identity) {
  LeaderElectionConfig config;
  config.lease = kLease;
  config.identity = std::move(identity);
  return config;
}

kube::LeaseRecord StoredLease(FakeKubeClient& client) {
  auto object = client.GetObject(kube::LeasesResource(), kLease);
  EXPECT_TRUE(object.has_value());
  auto record = kube::LeaseFromJson(object.value_or(nlohmann::json::object()));
  EXPECT_TRUE(record.ok()) << record.status().ToString();
  return record.ok() ? *record : kube::LeaseRecord{};
}

// A one-shot flag a test thread can wait on (bounded, so a bug fails instead of hanging).
class Latch {
 public:
  void Set() {
    std::lock_guard lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  bool Wait() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

TEST(LeaderElectorTest, FirstElectorCreatesLeaseAndLeads) {
  FakeKubeClient client;
  base::FakeClock clock;
  LeaderElector a(client, clock, Config("a"));
  EXPECT_TRUE(a.TryAcquireOrRenew());
  EXPECT_TRUE(a.IsLeader());
  kube::LeaseRecord lease = StoredLease(client);
  EXPECT_EQ(lease.holder_identity, "a");
  EXPECT_EQ(lease.lease_duration, seconds(15));
  EXPECT_EQ(lease.lease_transitions, 0);
  EXPECT_EQ(lease.acquire_time, clock.Now());
  EXPECT_EQ(lease.renew_time, clock.Now());
}

TEST(LeaderElectorTest, OnlyOneOfTwoElectorsWins) {
  FakeKubeClient client;
  base::FakeClock clock;
  LeaderElector a(client, clock, Config("a"));
  LeaderElector b(client, clock, Config("b"));
  EXPECT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  EXPECT_TRUE(a.IsLeader());
  EXPECT_FALSE(b.IsLeader());
  EXPECT_EQ(b.ObservedHolder(), "a");
  EXPECT_EQ(b.LastError().code(), StatusCode::kUnavailable);
}

TEST(LeaderElectorTest, OtherTakesOverAfterLeaseExpiresUnrenewed) {
  FakeKubeClient client;
  base::FakeClock clock;
  LeaderElector a(client, clock, Config("a"));
  LeaderElector b(client, clock, Config("b"));
  ASSERT_TRUE(a.TryAcquireOrRenew());
  ASSERT_FALSE(b.TryAcquireOrRenew());  // b first sees a's record now
  clock.Advance(seconds(14));
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock.Advance(seconds(2));
  EXPECT_TRUE(b.TryAcquireOrRenew());
  kube::LeaseRecord lease = StoredLease(client);
  EXPECT_EQ(lease.holder_identity, "b");
  EXPECT_EQ(lease.lease_transitions, 1);
  EXPECT_EQ(lease.acquire_time, clock.Now());

  // The old leader learns it lost as soon as it looks.
  EXPECT_FALSE(a.IsLeader()) << "a's own observation has expired";
  EXPECT_FALSE(a.TryAcquireOrRenew());
  EXPECT_EQ(a.ObservedHolder(), "b");
}

TEST(LeaderElectorTest, RenewalKeepsLeadershipAndAcquireTime) {
  FakeKubeClient client;
  base::FakeClock clock;
  LeaderElector a(client, clock, Config("a"));
  LeaderElector b(client, clock, Config("b"));
  ASSERT_TRUE(a.TryAcquireOrRenew());
  const auto acquired = clock.Now();
  for (int i = 0; i < 20; ++i) {
    clock.Advance(seconds(2));
    ASSERT_TRUE(a.TryAcquireOrRenew()) << "renewal " << i;
    ASSERT_FALSE(b.TryAcquireOrRenew()) << "b sees a renewed lease at " << i;
  }
  kube::LeaseRecord lease = StoredLease(client);
  EXPECT_EQ(lease.acquire_time, acquired);
  EXPECT_EQ(lease.renew_time, clock.Now());
  EXPECT_EQ(lease.lease_transitions, 0);
}

TEST(LeaderElectorTest, ValidityUsesLocalObservationTimeNotRemoteRenewTime) {
  FakeKubeClient client;
  base::FakeClock clock;
  // Held by "c", whose clock is far behind: its renewTime looks ancient.
  kube::LeaseRecord stale;
  stale.holder_identity = "c";
  stale.lease_duration = seconds(15);
  stale.renew_time = clock.Now() - std::chrono::hours(24 * 365);
  client.PutObject(kube::LeasesResource(), kube::LeaseToJson(kLease, stale));
  LeaderElector b(client, clock, Config("b"));
  EXPECT_FALSE(b.TryAcquireOrRenew()) << "first observation starts b's own 15s countdown";
  clock.Advance(seconds(15));
  EXPECT_TRUE(b.TryAcquireOrRenew());
}

TEST(LeaderElectorTest, ReleaseLetsOtherAcquireAtOnce) {
  FakeKubeClient client;
  base::FakeClock clock;
  LeaderElector a(client, clock, Config("a"));
  LeaderElector b(client, clock, Config("b"));
  ASSERT_TRUE(a.TryAcquireOrRenew());
  ASSERT_FALSE(b.TryAcquireOrRenew());
  ASSERT_TRUE(a.Release().ok());
  EXPECT_FALSE(a.IsLeader());
  kube::LeaseRecord released = StoredLease(client);
  EXPECT_EQ(released.holder_identity, "");
  EXPECT_EQ(released.lease_duration, seconds(1));
  EXPECT_TRUE(b.TryAcquireOrRenew()) << "no waiting for the old 15s lease";
  EXPECT_EQ(StoredLease(client).lease_transitions, 1);
  EXPECT_TRUE(b.Release().ok());
  EXPECT_TRUE(a.Release().ok()) << "releasing a lease we do not hold is a no-op";
  EXPECT_EQ(StoredLease(client).holder_identity, "");
}

TEST(LeaderElectorTest, ConflictOnRenewIsResolvedByRereading) {
  FakeKubeClient client;
  base::FakeClock clock;
  LeaderElector a(client, clock, Config("a"));
  ASSERT_TRUE(a.TryAcquireOrRenew());
  // Someone touches the lease (same holder) between a's observation and its renewal: the fast
  // path's PUT carries a stale resourceVersion and gets 409.
  bool touched = false;
  client.SetBeforeUpdate([&](const kube::GroupVersionResource&, const kube::ObjectKey&) {
    if (touched) return;
    touched = true;
    client.PutObject(kube::LeasesResource(), *client.GetObject(kube::LeasesResource(), kLease));
  });
  clock.Advance(seconds(2));
  EXPECT_TRUE(a.TryAcquireOrRenew());
  EXPECT_TRUE(touched);
  EXPECT_EQ(client.CallCount(FakeMethod::kUpdate), 2) << "the conflicting PUT, then one after GET";
  EXPECT_EQ(client.CallCount(FakeMethod::kGet), 2) << "the first 404, then the re-read";
  EXPECT_EQ(StoredLease(client).renew_time, clock.Now());
}

TEST(LeaderElectorTest, LosingTheTakeoverRaceGivesConflictAndNoLeadership) {
  FakeKubeClient client;
  base::FakeClock clock;
  LeaderElector a(client, clock, Config("a"));
  LeaderElector b(client, clock, Config("b"));
  LeaderElector c(client, clock, Config("c"));
  ASSERT_TRUE(c.TryAcquireOrRenew());
  ASSERT_FALSE(a.TryAcquireOrRenew());
  ASSERT_FALSE(b.TryAcquireOrRenew());
  clock.Advance(seconds(16));  // c stopped renewing
  // b's takeover lands between a's GET and a's PUT.
  bool raced = false;
  client.SetBeforeUpdate([&](const kube::GroupVersionResource&, const kube::ObjectKey&) {
    if (raced) return;
    raced = true;
    EXPECT_TRUE(b.TryAcquireOrRenew());
  });
  EXPECT_FALSE(a.TryAcquireOrRenew());
  EXPECT_EQ(a.LastError().code(), StatusCode::kAborted) << a.LastError().ToString();
  EXPECT_FALSE(a.IsLeader());
  EXPECT_TRUE(b.IsLeader());
  client.SetBeforeUpdate(nullptr);
  EXPECT_FALSE(a.TryAcquireOrRenew()) << "a now sees b's fresh lease";
  EXPECT_EQ(a.ObservedHolder(), "b");
}

TEST(LeaderElectorTest, ApiErrorsAreReportedNotFatal) {
  FakeKubeClient client;
  base::FakeClock clock;
  LeaderElector a(client, clock, Config("a"));
  client.FailNext(FakeMethod::kGet, kube::ApiError(403, "Forbidden"));
  EXPECT_FALSE(a.TryAcquireOrRenew());
  EXPECT_EQ(a.LastError().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(a.TryAcquireOrRenew());
  EXPECT_TRUE(a.LastError().ok());
}

// Run's loops sleep between tries. On a FakeClock those sleeps return at once, so once leading,
// Run would renew in a tight loop until the test's thread gets a turn; BlockSleepsAfter makes the
// sleeps past a point wait for the stop instead, as on a real clock.

TEST(LeaderElectorTest, RunLeadsUntilStoppedThenReleases) {
  FakeKubeClient client;
  base::FakeClock clock;
  clock.BlockSleepsAfter(seconds(0));  // acquiring a free lease needs no sleep
  LeaderElector a(client, clock, Config("a"));
  Latch started;
  std::atomic<bool> worker_saw_stop{false};
  std::atomic<int> stopped_calls{0};
  std::stop_source stop;
  Status result = InternalError("not run");
  std::thread runner([&] {
    result = a.Run(
        stop.get_token(),
        [&](const std::stop_token& leading) {
          started.Set();
          std::mutex mu;
          std::condition_variable_any cv;
          std::unique_lock lock(mu);
          cv.wait(lock, leading, [] { return false; });
          worker_saw_stop = leading.stop_requested();
        },
        [&] { ++stopped_calls; });
  });
  ASSERT_TRUE(started.Wait());
  EXPECT_TRUE(a.IsLeader());
  stop.request_stop();
  runner.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_TRUE(worker_saw_stop);
  EXPECT_EQ(stopped_calls, 1);
  EXPECT_EQ(StoredLease(client).holder_identity, "") << "released on shutdown";
  EXPECT_FALSE(a.IsLeader());
}

TEST(LeaderElectorTest, RunGivesUpWhenRenewalsFailPastRenewDeadline) {
  FakeKubeClient client;
  base::FakeClock clock;
  // Should Run never give up, its sleeps block here and the stop never comes: Run returns OK
  // after the clock's guard and the test fails instead of spinning.
  clock.BlockSleepsAfter(seconds(60));
  LeaderElector a(client, clock, Config("a"));
  // Every write of the lease fails from the start. Run acquires without one (a Get that finds
  // nothing, then a Create); each renewal then tries two PUTs (the fast path, and one after a
  // Get) and both fail. Injected before Run, so that no thread races the renewals to inject them.
  for (int i = 0; i < 100; ++i) {
    client.FailNext(FakeMethod::kUpdate, kube::ApiError(503, "ServiceUnavailable"));
  }
  std::atomic<bool> worker_saw_stop{false};
  std::atomic<int> stopped_calls{0};
  const Status result = a.Run(
      std::stop_token(),
      [&](const std::stop_token& leading) {
        std::mutex mu;
        std::condition_variable_any cv;
        std::unique_lock lock(mu);
        cv.wait(lock, leading, [] { return false; });
        worker_saw_stop = true;
      },
      [&] { ++stopped_calls; });
  EXPECT_EQ(result.code(), StatusCode::kAborted) << result.ToString();
  EXPECT_TRUE(worker_saw_stop);
  EXPECT_EQ(stopped_calls, 1);
  EXPECT_FALSE(a.IsLeader());
  const kube::LeaseRecord lease = StoredLease(client);
  EXPECT_EQ(lease.holder_identity, "a") << "a lost lease is not released";
  ASSERT_TRUE(lease.renew_time.has_value());
  EXPECT_GE(clock.Now() - *lease.renew_time, seconds(10)) << "kept trying for RenewDeadline";
  EXPECT_LT(clock.Now() - *lease.renew_time, seconds(15)) << "gave up before the lease expired";
  EXPECT_EQ(client.CallCount(FakeMethod::kCreate), 1);
  EXPECT_EQ(client.CallCount(FakeMethod::kUpdate), 10) << "5 renewals 2 s apart, 2 PUTs each";
}

TEST(LeaderElectorTest, RunWaitsWithJitteredRetriesUntilHolderExpires) {
  FakeKubeClient client;
  base::FakeClock clock;
  LeaderElector b(client, clock, Config("b"));
  ASSERT_TRUE(b.TryAcquireOrRenew());  // b holds it and then disappears
  // b's lease expires 15 s after a first sees it; a's tries are at most 4.4 s apart.
  clock.BlockSleepsAfter(seconds(30));
  LeaderElector a(client, clock, Config("a"), /*seed=*/42);
  const auto begin = clock.SteadyNow();
  std::chrono::steady_clock::time_point acquired_at;
  std::stop_source stop;
  const Status result = a.Run(
      stop.get_token(),
      [&](const std::stop_token&) {
        acquired_at = clock.SteadyNow();
        stop.request_stop();
      },
      nullptr);
  EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_GE(acquired_at - begin, seconds(15));
  auto sleeps = clock.sleeps();
  ASSERT_FALSE(sleeps.empty());
  for (auto sleep : sleeps) {
    EXPECT_GE(sleep, seconds(2));
    EXPECT_LE(sleep, std::chrono::milliseconds(4400));  // 2s + 1.2 x 2s
  }
}

TEST(LeaderElectorTest, RunRejectsInvalidConfig) {
  FakeKubeClient client;
  base::FakeClock clock;
  LeaderElectionConfig config = Config("a");
  config.renew_deadline = seconds(20);
  LeaderElector a(client, clock, config);
  bool started = false;
  const Status result = a.Run(
      std::stop_token(), [&](const std::stop_token&) { started = true; }, nullptr);
  EXPECT_EQ(result.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(started);
  EXPECT_EQ(client.CallCount(FakeMethod::kGet), 0);
}

TEST(LeaderElectorTest, ValidateConfig) {
  EXPECT_TRUE(ValidateLeaderElectionConfig(Config("a")).ok());
  LeaderElectionConfig config = Config("");
  EXPECT_EQ(ValidateLeaderElectionConfig(config).code(), StatusCode::kInvalidArgument);
  config = Config("a");
  config.lease.namespace_name.clear();
  EXPECT_EQ(ValidateLeaderElectionConfig(config).code(), StatusCode::kInvalidArgument);
  config = Config("a");
  config.lease_duration = seconds(10);
  EXPECT_NE(ValidateLeaderElectionConfig(config).message().find("renewDeadline"),
            std::string::npos);
  config = Config("a");
  config.retry_period = seconds(9);
  EXPECT_NE(ValidateLeaderElectionConfig(config).message().find("1.2 x retryPeriod"),
            std::string::npos);
}

}  // namespace
}  // namespace ephemera::leader
