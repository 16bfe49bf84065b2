#include "cli/commands/progress.h"

#include <gtest/gtest.h>

namespace ephemera::commands {
namespace {

using std::chrono::milliseconds;
using Lines = std::vector<std::string>;

SessionProgress At(std::string phase, bool authorized = false, std::string message = "") {
  SessionProgress p;
  p.phase = std::move(phase);
  p.authorized = authorized;
  p.message = std::move(message);
  p.pod = "checkout-7d9f";
  p.container = "app";
  p.ephemeral_container = "ephemera-3f9a1c0b7e";
  return p;
}

TEST(ProgressTest, ReadsPhaseConditionsAndTarget) {
  const auto session = nlohmann::json::parse(R"({
    "spec": {"target": {"pod": "p", "container": "c"}},
    "status": {"phase": "Injecting", "message": "Injecting the snapshot container",
               "ephemeralContainer": "ephemera-1",
               "conditions": [{"type": "Authorized", "status": "True"}]}})");
  const SessionProgress p = ReadProgress(session);
  EXPECT_EQ(p.phase, "Injecting");
  EXPECT_TRUE(p.authorized);
  EXPECT_EQ(p.pod, "p");
  EXPECT_EQ(p.container, "c");
  EXPECT_EQ(p.ephemeral_container, "ephemera-1");
  EXPECT_FALSE(IsFinished(p));
  EXPECT_FALSE(ReadProgress(nlohmann::json::object()).authorized);
}

TEST(ProgressTest, OneLinePerStepWithElapsedTime) {
  EXPECT_EQ(ProgressLines(SessionProgress{}, At("Pending"), milliseconds(100)), Lines{});
  EXPECT_EQ(ProgressLines(At("Pending"), At("Pending", true), milliseconds(300)),
            Lines{"[0.3s] Authorized"});
  EXPECT_EQ(ProgressLines(At("Pending", true), At("Injecting", true), milliseconds(450)),
            Lines{"[0.4s] Injecting ephemeral container into pod checkout-7d9f (container app) …"});
  EXPECT_EQ(ProgressLines(At("Injecting", true), At("Capturing", true), milliseconds(900)),
            Lines{"[0.9s] Capturing in ephemera-3f9a1c0b7e …"});
  EXPECT_EQ(ProgressLines(At("Capturing", true), At("Completed", true), milliseconds(2140)),
            Lines{"Completed in 2.1s"});
}

TEST(ProgressTest, StepsPassedBetweenTwoPollsAreAllShownInOrder) {
  const Lines lines = ProgressLines(SessionProgress{}, At("Completed", true), milliseconds(1500));
  EXPECT_EQ(lines, (Lines{"[1.5s] Authorized",
                          "[1.5s] Injecting ephemeral container into pod checkout-7d9f "
                          "(container app) …",
                          "[1.5s] Capturing in ephemera-3f9a1c0b7e …", "Completed in 1.5s"}));
}

TEST(ProgressTest, DenialAndFailureCarryTheSessionsMessage) {
  EXPECT_EQ(ProgressLines(At("Pending"), At("Denied", false, "alice may not get pods/p"),
                          milliseconds(400)),
            Lines{"Denied after 0.4s: alice may not get pods/p"});
  EXPECT_EQ(ProgressLines(At("Capturing", true), At("Failed", true, "tool exited 2"),
                          milliseconds(61'000)),
            Lines{"Failed after 1m01s: tool exited 2"});
  EXPECT_TRUE(IsFinished(At("Denied")));
  EXPECT_TRUE(IsFinished(At("Expired")));
}

TEST(ProgressTest, StallHintOnlyWithoutStatusAfterTenSeconds) {
  EXPECT_EQ(StallHint(SessionProgress{}, milliseconds(9'999)), "");
  EXPECT_NE(StallHint(SessionProgress{}, milliseconds(10'000)).find("is ephemera-controller"),
            std::string::npos);
  EXPECT_EQ(StallHint(At("Pending"), milliseconds(30'000)), "");
}

TEST(ProgressTest, HeartbeatAfterTenQuietSecondsOfAStep) {
  SessionProgress capturing = At("Capturing", true);
  capturing.ephemeral_container = "ephemera-3f9a1c0b7e";
  EXPECT_EQ(HeartbeatLine(capturing, milliseconds(14'000), milliseconds(9'999)), "");
  EXPECT_EQ(HeartbeatLine(capturing, milliseconds(24'000), milliseconds(10'000)),
            "[24.0s] Still capturing in ephemera-3f9a1c0b7e …");
  SessionProgress injecting = At("Injecting", true);
  injecting.pod = "checkout-7d9f";
  EXPECT_NE(HeartbeatLine(injecting, milliseconds(12'000), milliseconds(12'000))
                .find("Still waiting for the kubelet to start the snapshot container in pod "
                      "checkout-7d9f"),
            std::string::npos);
  EXPECT_EQ(HeartbeatLine(At("Completed", true), milliseconds(30'000), milliseconds(30'000)), "");
  EXPECT_EQ(HeartbeatLine(SessionProgress{}, milliseconds(30'000), milliseconds(30'000)), "")
      << "no status yet: StallHint's case";
}

TEST(ProgressTest, FormatsElapsedTime) {
  EXPECT_EQ(FormatElapsed(milliseconds(0)), "0.0s");
  EXPECT_EQ(FormatElapsed(milliseconds(2149)), "2.1s");
  EXPECT_EQ(FormatElapsed(milliseconds(59'999)), "59.9s");
  EXPECT_EQ(FormatElapsed(milliseconds(125'000)), "2m05s");
  EXPECT_EQ(FormatElapsed(milliseconds(-5)), "0.0s");
}

}  // namespace
}  // namespace ephemera::commands
