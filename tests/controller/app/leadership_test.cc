#include "controller/app/leadership.h"

#include <gtest/gtest.h>

#include <sstream>

#include "kube/object/lease.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::app {
namespace {

TEST(RunLeadershipTest, WithoutElectionLeadsAtOnceUntilStopped) {
  kube::FakeKubeClient client;
  base::FakeClock clock;
  metrics::Gauge leader;
  std::ostringstream logs;
  std::stop_source stop;
  config::LeaderElectionSettings election;
  election.enabled = false;
  double leader_while_leading = -1;

  const Status result =
      RunLeadership(client, clock, election, "ephemera-system", "replica-1", leader,
                    logging::Logger::ToStream(logs, logging::LogLevel::kInfo), stop.get_token(),
                    [&](const std::stop_token& leading) {
                      leader_while_leading = leader.Value();
                      stop.request_stop();
                      EXPECT_TRUE(leading.stop_requested()) << "the lead ends with the process";
                    });
  EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(leader_while_leading, 1);
  EXPECT_EQ(client.CallCount(kube::FakeMethod::kCreate), 0) << "no Lease";
}

TEST(RunLeadershipTest, UnderElectionLeadsWhileHoldingTheLease) {
  kube::FakeKubeClient client;
  base::FakeClock clock;
  metrics::Gauge leader;
  std::ostringstream logs;
  std::stop_source stop;
  config::LeaderElectionSettings election;  // enabled, lease ephemera-controller
  double leader_while_leading = -1;
  std::string holder_while_leading;

  const Status result =
      RunLeadership(client, clock, election, "ephemera-system", "replica-1", leader,
                    logging::Logger::ToStream(logs, logging::LogLevel::kInfo), stop.get_token(),
                    [&](const std::stop_token&) {
                      leader_while_leading = leader.Value();
                      auto lease = client.GetObject(kube::LeasesResource(),
                                                    {"ephemera-system", "ephemera-controller"});
                      if (lease) {
                        holder_while_leading = kube::LeaseFromJson(*lease)->holder_identity;
                      }
                      stop.request_stop();
                    });
  EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(leader_while_leading, 1);
  EXPECT_EQ(holder_while_leading, "replica-1");
  EXPECT_EQ(leader.Value(), 0) << "not leading any more";
  EXPECT_NE(logs.str().find("Became leader"), std::string::npos) << logs.str();
  EXPECT_NE(logs.str().find("Stopped leading"), std::string::npos) << logs.str();
}

TEST(RunLeadershipTest, BadTimingsAreRefusedWithoutLeading) {
  kube::FakeKubeClient client;
  base::FakeClock clock;
  metrics::Gauge leader;
  std::ostringstream logs;
  config::LeaderElectionSettings election;
  election.renew_deadline = election.lease_duration;  // must be shorter
  bool led = false;
  const Status result =
      RunLeadership(client, clock, election, "ephemera-system", "replica-1", leader,
                    logging::Logger::ToStream(logs, logging::LogLevel::kInfo), {},
                    [&](const std::stop_token&) { led = true; });
  EXPECT_EQ(result.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(led);
  EXPECT_EQ(leader.Value(), 0);
}

}  // namespace
}  // namespace ephemera::app
