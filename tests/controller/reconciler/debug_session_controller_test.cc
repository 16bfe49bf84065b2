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

}  // namespace
}  // namespace ephemera::reconciler
