#include "debugpod/procfs/memory_events.h"

#include <gtest/gtest.h>

#include <string>

namespace ephemera::procfs {
namespace {

using namespace std::string_literals;

TEST(ParseMemoryEventsTest, ParsesEveryEvent) {
  StatusOr<MemoryEvents> e =
      ParseMemoryEvents("low 1\nhigh 12\nmax 40\noom 2\noom_kill 3\noom_group_kill 4\n");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->low, 1u);
  EXPECT_EQ(e->high, 12u);
  EXPECT_EQ(e->max, 40u);
  EXPECT_EQ(e->oom, 2u);
  EXPECT_EQ(e->oom_kill, 3u);
  EXPECT_EQ(e->oom_group_kill, 4u);
}

TEST(ParseMemoryEventsTest, EventsAnOlderKernelDoesNotPrintAreAbsent) {
  StatusOr<MemoryEvents> e = ParseMemoryEvents("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\nsock 9\n");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->oom_kill, 0u);
  EXPECT_FALSE(e->oom_group_kill.has_value());
  EXPECT_FALSE(ParseMemoryEvents("")->oom.has_value());
}

TEST(ParseMemoryEventsTest, RefusesHostileText) {
  EXPECT_FALSE(ParseMemoryEvents("oom 1\noom 2\n").ok());
  EXPECT_FALSE(ParseMemoryEvents("oom_kill -1\n").ok());
  EXPECT_FALSE(ParseMemoryEvents("oom_kill 99999999999999999999999\n").ok());
  EXPECT_FALSE(ParseMemoryEvents("oom_kill\n").ok());
  EXPECT_FALSE(ParseMemoryEvents("oom_kill 1 2\n").ok());
  EXPECT_FALSE(ParseMemoryEvents("oom_kill 1\0"s).ok());
  EXPECT_EQ(ParseMemoryEvents(std::string(kMaxMemoryEventsBytes + 1, '\n')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ParseOomControlTest, ParsesV1OomControl) {
  StatusOr<OomControl> c = ParseOomControl("oom_kill_disable 1\nunder_oom 1\noom_kill 3\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->oom_kill_disable);
  EXPECT_TRUE(c->under_oom);
  EXPECT_EQ(c->oom_kill, 3u);
}

TEST(ParseOomControlTest, OomKillIsAbsentBeforeLinux413AndUnderOomIsRequired) {
  StatusOr<OomControl> old = ParseOomControl("oom_kill_disable 0\nunder_oom 0\n");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_FALSE(old->under_oom);
  EXPECT_FALSE(old->oom_kill.has_value());
  StatusOr<OomControl> none = ParseOomControl("oom_kill_disable 0\n");
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseOomControl("under_oom yes\n").ok());
}

}  // namespace
}  // namespace ephemera::procfs
