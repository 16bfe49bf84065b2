#include "api/debug_session.h"

#include <gtest/gtest.h>

#include "tests/controller/session/session_fixtures.h"

namespace ephemera::api {
namespace {

TEST(DebugSessionTest, ParsesSpec) {
  auto s = ParseDebugSession(session::testing::SessionObject());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->key.namespace_name, "team-a");
  EXPECT_EQ(s->spec.pod, "shop-1");
  EXPECT_EQ(s->spec.ttl, std::chrono::seconds(300));
  EXPECT_EQ(s->spec.profile, Profile::kRestricted);
  ASSERT_TRUE(s->spec.requested_by.has_value());
  EXPECT_EQ(s->spec.requested_by->username, "alice");
  EXPECT_TRUE(s->HasFinalizer());
  EXPECT_FALSE(s->status.phase.has_value());
}

TEST(DebugSessionTest, ParsesTheRequestersExtra) {
  nlohmann::json object = session::testing::SessionObject();
  object["spec"]["requestedBy"]["extra"] = {{"scopes.example.com", {"read", "write"}},
                                            {"empty", nlohmann::json::array()}};
  auto s = ParseDebugSession(object);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(s->spec.requested_by.has_value());
  EXPECT_EQ(s->spec.requested_by->extra,
            (std::map<std::string, std::vector<std::string>>{
                {"empty", {}}, {"scopes.example.com", {"read", "write"}}}));
  EXPECT_TRUE(
      ParseDebugSession(session::testing::SessionObject())->spec.requested_by->extra.empty());
}

TEST(DebugSessionTest, AuditHeadRoundTrips) {
  nlohmann::json object = session::testing::SessionObject();
  object["status"] = {{"phase", "Pending"}, {"audit", {{"records", 3}, {"head", "sha256:ab"}}}};
  auto s = ParseDebugSession(object);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(s->status.audit.has_value());
  EXPECT_EQ(s->status.audit->records, 3);
  EXPECT_EQ(StatusToJson(s->status)["audit"], object["status"]["audit"]);
}

TEST(DebugSessionTest, StatusRoundTrips) {
  auto s = ParseDebugSession(session::testing::SessionObject());
  ASSERT_TRUE(s.ok());
  s->status.phase = Phase::kCompleted;
  s->status.expires_at = s->created + std::chrono::seconds(300);
  s->status.SetCondition("Captured", true, "SnapshotCaptured", "ok", s->created);
  s->status.redaction = RedactionSummary{3, 4, 0};
  nlohmann::json object = session::testing::SessionObject();
  object["status"] = StatusToJson(s->status);
  auto again = ParseDebugSession(object);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status.phase, Phase::kCompleted);
  EXPECT_EQ(again->status.expires_at, s->status.expires_at);
  EXPECT_EQ(again->status.redaction->text_redacted, 4);
  // L9: per-rule counts never reach status (namespace viewers read it).
  EXPECT_FALSE(object["status"]["redaction"].contains("patternsMatched"));
  ASSERT_NE(again->status.FindCondition("Captured"), nullptr);
}

TEST(DebugSessionTest, ParsesTheBudget) {
  nlohmann::json object = session::testing::SessionObject();
  auto none = ParseDebugSession(object);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->spec.budget.cpu || none->spec.budget.memory_bytes || none->spec.budget.wall);
  object["spec"]["budget"] = {{"cpu", "1500ms"}, {"memoryBytes", 33554432}, {"wall", "1m30s"}};
  auto s = ParseDebugSession(object);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->spec.budget.cpu, std::chrono::milliseconds(1500));
  EXPECT_EQ(s->spec.budget.memory_bytes, 33554432);
  EXPECT_EQ(s->spec.budget.wall, std::chrono::seconds(90));
  for (const auto& [budget, message] : std::vector<std::pair<nlohmann::json, std::string>>{
           {{{"cpu", "1500us"}},
            "spec.budget.cpu: 1500us is not a positive whole number of milliseconds; ask for e.g. "
            "2s"},
           {{{"wall", "0s"}},
            "spec.budget.wall: 0s is not a positive whole number of seconds; ask for e.g. 30s"},
           {{{"memoryBytes", -1}}, "spec.budget.memoryBytes: must be a positive integer, not -1"},
           {"fast", "spec.budget: must be an object"}}) {
    object["spec"]["budget"] = budget;
    auto refused = ParseDebugSession(object);
    ASSERT_FALSE(refused.ok()) << budget.dump();
    EXPECT_EQ(refused.status().message(), message);
  }
}

TEST(DebugSessionTest, OverheadWithBudgetRoundTrips) {
  auto s = ParseDebugSession(session::testing::SessionObject());
  ASSERT_TRUE(s.ok());
  OverheadSummary overhead{1, 2, 3, 4, std::nullopt, ""};
  overhead.budget = BudgetSummary{500, 64 << 20, 20000};
  overhead.budget_reached = std::string(kBudgetMemory);
  s->status.overhead = overhead;
  nlohmann::json object = session::testing::SessionObject();
  object["status"] = StatusToJson(s->status);
  EXPECT_EQ(object["status"]["overhead"]["budget"]["memoryBytes"], 64 << 20);
  auto again = ParseDebugSession(object);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_TRUE(again->status.overhead && again->status.overhead->budget);
  EXPECT_EQ(again->status.overhead->budget->cpu_millis, 500);
  EXPECT_EQ(again->status.overhead->budget->wall_millis, 20000);
  EXPECT_EQ(again->status.overhead->budget_reached, "memory");
  EXPECT_EQ(StatusToJson(again->status)["overhead"], object["status"]["overhead"]);
}

TEST(DebugSessionTest, ConditionTransitionTimeChangesOnlyOnFlip) {
  DebugSessionStatus status;
  const TimePoint t1{std::chrono::seconds(100)};
  const TimePoint t2{std::chrono::seconds(200)};
  status.SetCondition("Injected", true, "Injected", "a", t1);
  status.SetCondition("Injected", true, "Injected", "b", t2);
  EXPECT_EQ(status.FindCondition("Injected")->last_transition_time, t1);
  status.SetCondition("Injected", false, "Gone", "c", t2);
  EXPECT_EQ(status.FindCondition("Injected")->last_transition_time, t2);
  EXPECT_EQ(status.conditions.size(), 1u);
}

TEST(DebugSessionTest, RejectsMissingTarget) {
  nlohmann::json object = session::testing::SessionObject();
  object["spec"].erase("target");
  auto s = ParseDebugSession(object);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("spec.target.pod"), std::string::npos);
}

TEST(DebugSessionTest, RejectsUnknownPhase) {
  nlohmann::json object = session::testing::SessionObject();
  object["status"] = {{"phase", "Dancing"}};
  EXPECT_FALSE(ParseDebugSession(object).ok());
}

TEST(DebugSessionTest, ParsesThePiiMode) {
  nlohmann::json object = session::testing::SessionObject();
  auto unset = ParseDebugSession(object);
  ASSERT_TRUE(unset.ok()) << unset.status().ToString();
  EXPECT_FALSE(unset->spec.pii.has_value()) << "not set: the policy's default applies";
  for (const auto& [name, mode] :
       {std::pair{"none", PiiMode::kNone}, std::pair{"standard", PiiMode::kStandard},
        std::pair{"strict", PiiMode::kStrict}}) {
    object["spec"]["redaction"] = {{"pii", name}};
    auto s = ParseDebugSession(object);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->spec.pii, mode) << name;
    EXPECT_EQ(PiiModeName(mode), name);
  }
  object["spec"]["redaction"] = {{"pii", "off"}};
  auto bad = ParseDebugSession(object);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("spec.redaction.pii: unknown mode \"off\""),
            std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace ephemera::api
