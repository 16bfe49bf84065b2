#include "controller/app/events.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace ephemera::app {
namespace {

TEST(EventRecorderOptionsTest, NameTheControllerAndTheReplica) {
  std::ostringstream logs;
  const kube::EventRecorderOptions options = EventRecorderOptionsFor(
      "ephemera-controller-7d9f", logging::Logger::ToStream(logs, logging::LogLevel::kInfo));
  EXPECT_EQ(options.reporting_controller, "ephemera.dev/ephemera-controller");
  EXPECT_EQ(options.reporting_instance, "ephemera-controller-7d9f");
}

TEST(EventRecorderOptionsTest, TheInstanceIsCutToTheApisLimit) {
  std::ostringstream logs;
  const std::string identity(200, 'r');
  const kube::EventRecorderOptions options =
      EventRecorderOptionsFor(identity, logging::Logger::ToStream(logs, logging::LogLevel::kInfo));
  EXPECT_EQ(options.reporting_instance, std::string(128, 'r'));
}

TEST(EventRecorderOptionsTest, ARefusedEventIsLogged) {
  std::ostringstream logs;
  const kube::EventRecorderOptions options =
      EventRecorderOptionsFor("r", logging::Logger::ToStream(logs, logging::LogLevel::kInfo));
  kube::EventRecord event;
  event.regarding = {"v1", "Pod", "team-a", "shop-1", "uid-1"};
  event.reason = "UnsanctionedEphemeralContainer";
  ASSERT_TRUE(options.on_error);
  options.on_error(event, InvalidArgumentError("note too long"));
  EXPECT_NE(logs.str().find("\"msg\":\"Cannot record event\""), std::string::npos) << logs.str();
  EXPECT_NE(logs.str().find("\"regarding\":\"team-a/shop-1\""), std::string::npos);
  EXPECT_NE(logs.str().find("\"reason\":\"UnsanctionedEphemeralContainer\""), std::string::npos);
}

}  // namespace
}  // namespace ephemera::app
