#include "debugpod/runtimes/golang/go_layout.h"

#include <gtest/gtest.h>

#include <vector>

#include "debugpod/runtimes/golang/go_runtime_reader.h"

namespace ephemera::runtimes::golang {
namespace {

TEST(GoLayoutTest, PicksTheTableOfEachSupportedRelease) {
  for (const char* version :
       {"go1.21.13", "go1.22.12", "go1.23.0", "go1.24rc1", "go1.25.0", "go1.26.8"}) {
    std::optional<LayoutChoice> choice = LayoutForVersion(version);
    ASSERT_TRUE(choice.has_value()) << version;
    EXPECT_TRUE(choice->exact) << version;
    EXPECT_TRUE(std::string_view(version).starts_with(choice->layout->minor)) << version;
  }
}

TEST(GoLayoutTest, OlderReleasesAreRefusedNewerOnesGetTheNewestTable) {
  EXPECT_FALSE(LayoutForVersion("go1.20.14").has_value());
  std::optional<LayoutChoice> newer = LayoutForVersion("go1.31.2");
  ASSERT_TRUE(newer.has_value());
  EXPECT_FALSE(newer->exact);
  EXPECT_EQ(newer->layout->minor, "go1.26");
  std::optional<LayoutChoice> devel = LayoutForVersion("devel +abcdef");
  ASSERT_TRUE(devel.has_value());
  EXPECT_FALSE(devel->exact);
}

TEST(GoLayoutTest, StateTextIsTheWaitReasonOfTheRelease) {
  const GoLayout& go121 = *LayoutForVersion("go1.21.1")->layout;
  const GoLayout& go126 = *LayoutForVersion("go1.26.0")->layout;
  EXPECT_EQ(GoroutineStateText(go121, kGoStatusWaiting, 14), "chan receive");
  EXPECT_EQ(GoroutineStateText(go126, kGoStatusWaiting, 19), "chan receive");
  EXPECT_EQ(GoroutineStateText(go126, kGoStatusWaiting, 22), "sync.Mutex.Lock");
  EXPECT_EQ(GoroutineStateText(go126, kGoStatusWaiting, 2), "IO wait");
  EXPECT_EQ(GoroutineStateText(go126, kGoStatusWaiting, 200), "wait reason 200");
  EXPECT_EQ(GoroutineStateText(go126, kGoStatusWaiting, 0), "waiting");
  EXPECT_EQ(GoroutineStateText(go126, kGoStatusRunning, 0), "running");
  EXPECT_EQ(GoroutineStateText(go126, kGoStatusSyscall, 0), "syscall");
  EXPECT_EQ(GoroutineStateText(go126, kGoStatusRunnable, 0), "runnable");
}

TEST(RipRelativeLoadTargetsTest, FindsTheLoadsOfForEachGRace) {
  // runtime.forEachGRace of go1.26 at 0x44e720: MOVQ runtime.allglen(SB), CX at 0x44e734 and
  // MOVQ runtime.allgptr(SB), BX at 0x44e740 (from `go tool objdump`).
  std::vector<uint8_t> code = {0x49, 0x3b, 0x66, 0x10, 0x76, 0x65, 0x55, 0x48, 0x89, 0xe5,
                               0x48, 0x83, 0xec, 0x20, 0x48, 0x89, 0x44, 0x24, 0x30, 0x90,
                               0x48, 0x8b, 0x0d, 0x8d, 0xde, 0x1f, 0x00, 0x48, 0x89, 0x4c,
                               0x24, 0x10, 0x48, 0x8b, 0x1d, 0x99, 0xd5, 0x1d, 0x00};
  std::vector<uint64_t> targets = RipRelativeLoadTargets(code, 0x44e720, 2);
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0], 0x64c5c8u);  // runtime.allglen in that binary's symbol table
  EXPECT_EQ(targets[1], 0x62bce0u);  // runtime.allgptr
  EXPECT_TRUE(RipRelativeLoadTargets(std::vector<uint8_t>(40, 0x90), 0, 2).empty());
}

}  // namespace
}  // namespace ephemera::runtimes::golang
