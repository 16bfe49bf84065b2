#include "controller/app/mark_key.h"

#include <gtest/gtest.h>

#include <sstream>

#include "controller/detection/mark_key.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::app {
namespace {

using kube::FakeMethod;

TEST(WaitForMarkKeyTest, CreatesTheKeyAtTheFirstAttempt) {
  kube::FakeKubeClient client;
  base::FakeClock clock;
  std::ostringstream logs;
  const auto key = WaitForMarkKey(client, clock, "ephemera-system",
                                  logging::Logger::ToStream(logs, logging::LogLevel::kInfo), {});
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(key->empty());
  EXPECT_TRUE(
      client.GetObject(kube::SecretsResource(), {"ephemera-system", detection::kMarkKeySecretName})
          .has_value());
  EXPECT_TRUE(clock.sleeps().empty());
  EXPECT_EQ(logs.str(), "");
}

TEST(WaitForMarkKeyTest, RetriesWithGrowingPausesWhileTheApiServerIsAway) {
  kube::FakeKubeClient client;
  base::FakeClock clock;
  std::ostringstream logs;
  for (int i = 0; i < 3; ++i) {
    client.FailNext(FakeMethod::kGet, kube::ApiError(503, "ServiceUnavailable"));
  }
  const auto key = WaitForMarkKey(client, clock, "ephemera-system",
                                  logging::Logger::ToStream(logs, logging::LogLevel::kInfo), {});
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(clock.sleeps(),
            (std::vector<std::chrono::nanoseconds>{std::chrono::seconds(1), std::chrono::seconds(2),
                                                   std::chrono::seconds(3)}));
  EXPECT_NE(logs.str().find("Cannot load the mark key; retrying"), std::string::npos);
  EXPECT_NE(logs.str().find("\"attempt\":3"), std::string::npos) << logs.str();
  EXPECT_NE(logs.str().find("ephemera-system/ephemera-mark-key"), std::string::npos);
}

TEST(WaitForMarkKeyTest, PausesAtMostTenSeconds) {
  kube::FakeKubeClient client;
  base::FakeClock clock;
  std::ostringstream logs;
  for (int i = 0; i < 12; ++i) {
    client.FailNext(FakeMethod::kGet, kube::ApiError(503, "ServiceUnavailable"));
  }
  ASSERT_TRUE(WaitForMarkKey(client, clock, "ephemera-system",
                             logging::Logger::ToStream(logs, logging::LogLevel::kInfo), {})
                  .has_value());
  ASSERT_EQ(clock.sleeps().size(), 12u);
  EXPECT_EQ(clock.sleeps()[9], std::chrono::seconds(10));
  EXPECT_EQ(clock.sleeps()[11], std::chrono::seconds(10));
}

TEST(WaitForMarkKeyTest, GivesUpOnlyWhenStopped) {
  kube::FakeKubeClient client;
  base::FakeClock clock;
  std::ostringstream logs;
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(WaitForMarkKey(client, clock, "ephemera-system",
                              logging::Logger::ToStream(logs, logging::LogLevel::kInfo),
                              stop.get_token())
                   .has_value());
  EXPECT_EQ(client.CallCount(FakeMethod::kGet), 0);
}

}  // namespace
}  // namespace ephemera::app
