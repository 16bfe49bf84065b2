#include "controller/reconciler/debug_session_controller.h"

#include <gtest/gtest.h>

namespace ephemera::reconciler {
namespace {

nlohmann::json CreatedAt(const char* timestamp) {
  return {{"metadata", {{"name", "s"}, {"namespace", "team-a"}, {"creationTimestamp", timestamp}}}};
}

TEST(SessionAgeRankTest, OlderSessionsRankFirstWhateverOrderTheyArrivedIn) {
  const auto older = SessionAgeRank(CreatedAt("2026-11-29T05:00:00Z"), 7);
  const auto newer = SessionAgeRank(CreatedAt("2026-11-29T05:00:01Z"), 3);
  EXPECT_LT(older, newer);
}

TEST(SessionAgeRankTest, WithinOneSecondTheFirstSeenRanksFirst) {
  const auto first = SessionAgeRank(CreatedAt("2026-11-29T05:00:00Z"), 1);
  const auto second = SessionAgeRank(CreatedAt("2026-11-29T05:00:00Z"), 2);
  EXPECT_LT(first, second);
}

TEST(SessionAgeRankTest, ASessionWithoutACreationTimeRanksBeforeAllOthers) {
  // Not something the API server sends; it must not be starved either.
  nlohmann::json session = CreatedAt("not a time");
  EXPECT_LT(SessionAgeRank(session, 5), SessionAgeRank(CreatedAt("1970-01-01T00:00:01Z"), 0));
}

TEST(WithoutManagedFieldsTest, DropsManagedFieldsAndKeepsEverythingElse) {
  nlohmann::json session = CreatedAt("2026-11-29T05:00:00Z");
  session["metadata"]["annotations"] = {{"kubectl.kubernetes.io/last-applied-configuration", "{}"}};
  session["metadata"]["managedFields"] = {{{"manager", "ephemera-controller"},
                                           {"operation", "Update"},
                                           {"subresource", "status"},
                                           {"fieldsV1", {{"f:status", nlohmann::json::object()}}}}};
  session["status"] = {{"phase", "Capturing"}};
  nlohmann::json expected = session;
  expected["metadata"].erase("managedFields");
  EXPECT_EQ(WithoutManagedFields(session), expected);
  EXPECT_EQ(WithoutManagedFields(nlohmann::json::object()), nlohmann::json::object());
}

}  // namespace
}  // namespace ephemera::reconciler
