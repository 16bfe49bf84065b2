#include "debugpod/runtimes/runtime_stacks.h"

#include <gtest/gtest.h>

namespace ephemera::runtimes {
namespace {

RuntimeStack Goroutine(std::string id, std::string state, std::vector<std::string> functions,
                       std::optional<int64_t> wait = std::nullopt) {
  RuntimeStack s;
  s.id = std::move(id);
  s.state = std::move(state);
  s.wait_seconds = wait;
  int line = 10;
  for (std::string& f : functions) {
    s.frames.push_back(
        {.function = std::move(f), .file = "/src/main.go", .line = line++, .locks = {}});
  }
  return s;
}

TEST(GroupStacksTest, GroupsByStateAndFramesLargestFirst) {
  RuntimeStacks stacks;
  stacks.stacks.push_back(Goroutine("1", "running", {"main.main"}));
  for (int i = 0; i < 5; ++i) {
    stacks.stacks.push_back(Goroutine(std::to_string(10 + i), "chan receive",
                                      {"runtime.gopark", "main.worker"}, 60 + i));
  }
  stacks.stacks.push_back(Goroutine("20", "select", {"runtime.gopark", "main.worker"}));
  std::vector<StackGroup> groups = GroupStacks(stacks, 3);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].state, "chan receive");
  EXPECT_EQ(groups[0].count, 5u);
  ASSERT_EQ(groups[0].members.size(), 3u);  // capped at max_members
  EXPECT_EQ(groups[0].members[0]->id, "10");
  EXPECT_EQ(groups[0].min_wait_seconds, 60);
  EXPECT_EQ(groups[0].max_wait_seconds, 64);
  ASSERT_EQ(groups[0].frames.size(), 2u);
  EXPECT_EQ(groups[0].frames[1].function, "main.worker");
  // The group's frames are the first member's, not a copy.
  EXPECT_EQ(groups[0].frames.data(), stacks.stacks[1].frames.data());
  // Equal counts keep the order of first appearance.
  EXPECT_EQ(groups[1].state, "running");
  EXPECT_EQ(groups[2].state, "select");
  EXPECT_FALSE(groups[1].min_wait_seconds.has_value());
}

TEST(GroupStacksTest, ALineOrALockMakesADifferentStack) {
  RuntimeStacks stacks;
  stacks.stacks.push_back(Goroutine("1", "BLOCKED", {"a.B.run"}));
  stacks.stacks.push_back(Goroutine("2", "BLOCKED", {"a.B.run"}));
  stacks.stacks.push_back(Goroutine("3", "BLOCKED", {"a.B.run"}));
  stacks.stacks[1].frames[0].line = 99;
  stacks.stacks[2].frames[0].locks.push_back(
      {.action = "waiting to lock", .class_name = "java.lang.Object", .id = "0x1"});
  EXPECT_EQ(GroupStacks(stacks).size(), 3u);
  stacks.stacks[2].frames_truncated = true;
  stacks.stacks[2].frames[0].locks.clear();
  EXPECT_EQ(GroupStacks(stacks).size(), 3u);  // a cut stack is not the same as a whole one
}

TEST(GroupStacksTest, NoStacksNoGroups) { EXPECT_TRUE(GroupStacks(RuntimeStacks{}).empty()); }

TEST(RuntimeLimitsTest, StopReasonNamesTheDeadlineOrTheBudget) {
  RuntimeLimits limits;
  EXPECT_EQ(limits.StopReason(), std::nullopt);
  bool budget_reached = false;
  limits.stop_early = [&budget_reached] { return budget_reached; };
  EXPECT_EQ(limits.StopReason(), std::nullopt);
  budget_reached = true;
  EXPECT_EQ(limits.StopReason(), "budget reached");
  limits.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  EXPECT_EQ(limits.StopReason(), "deadline");
}

}  // namespace
}  // namespace ephemera::runtimes
