#include "debugpod/snapshot/budget.h"

#include <gtest/gtest.h>

#include "tests/debugpod/snapshot/fakes.h"

namespace ephemera::snapshot {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::int64_t kMi = std::int64_t{1} << 20;

class CaptureBudgetTest : public ::testing::Test {
 protected:
  BudgetLimits Limits() {
    BudgetLimits limits;
    limits.deadline = clock_.SteadyNow() + seconds(20);
    limits.cpu = milliseconds(500);
    limits.memory_bytes = 64 * kMi;
    return limits;
  }

  FakeClock clock_;
  FakeToolMeters meters_;
};

TEST_F(CaptureBudgetTest, NotReachedWhileEveryBudgetHolds) {
  CaptureBudget budget(Limits(), clock_, &meters_);
  meters_.SetCpu(milliseconds(499));
  meters_.SetPeakRss(64 * kMi - 1);
  clock_.Advance(milliseconds(19999));
  EXPECT_FALSE(budget.Reached());
  EXPECT_EQ(budget.ReachedKind(), std::nullopt);
  EXPECT_EQ(budget.Reason(), "");
}

TEST_F(CaptureBudgetTest, DeadlineIsTheWallBudgetWithItsOldReason) {
  CaptureBudget budget(Limits(), clock_, &meters_);
  clock_.Advance(seconds(20));
  EXPECT_TRUE(budget.Reached());
  EXPECT_EQ(budget.ReachedKind(), BudgetKind::kWall);
  EXPECT_EQ(budget.Reason(), "deadline");
}

TEST_F(CaptureBudgetTest, CpuBudgetReachedAtItsLimit) {
  CaptureBudget budget(Limits(), clock_, &meters_);
  meters_.SetCpu(milliseconds(500));
  EXPECT_TRUE(budget.Reached());
  EXPECT_EQ(budget.ReachedKind(), BudgetKind::kCpu);
  EXPECT_EQ(budget.Reason(), "CPU budget of 500ms reached");
}

TEST_F(CaptureBudgetTest, MemoryBudgetReachedAtItsLimit) {
  CaptureBudget budget(Limits(), clock_, &meters_);
  meters_.SetPeakRss(64 * kMi);
  EXPECT_TRUE(budget.Reached());
  EXPECT_EQ(budget.ReachedKind(), BudgetKind::kMemory);
  EXPECT_EQ(budget.Reason(), "memory budget of 64Mi reached");
}

TEST_F(CaptureBudgetTest, TheFirstBudgetReachedStaysReached) {
  CaptureBudget budget(Limits(), clock_, &meters_);
  meters_.SetCpu(seconds(1));
  ASSERT_TRUE(budget.Reached());
  // CPU does not go back, but a later deadline or memory must not change the story.
  meters_.SetCpu(milliseconds(0));
  meters_.SetPeakRss(100 * kMi);
  clock_.Advance(seconds(30));
  EXPECT_TRUE(budget.Reached());
  EXPECT_EQ(budget.ReachedKind(), BudgetKind::kCpu);
}

TEST_F(CaptureBudgetTest, UnsetBudgetsAreNotChecked) {
  BudgetLimits limits = Limits();
  limits.cpu.reset();
  limits.memory_bytes.reset();
  CaptureBudget budget(limits, clock_, &meters_);
  meters_.SetCpu(seconds(3600));
  meters_.SetPeakRss(std::int64_t{1} << 40);
  EXPECT_FALSE(budget.Reached());
  EXPECT_EQ(meters_.RssReads(), 0);
}

TEST_F(CaptureBudgetTest, WithoutMetersOnlyTheDeadlineApplies) {
  CaptureBudget budget(Limits(), clock_, nullptr);
  EXPECT_FALSE(budget.Reached());
  clock_.Advance(seconds(20));
  EXPECT_TRUE(budget.Reached());
  EXPECT_EQ(budget.ReachedKind(), BudgetKind::kWall);
}

TEST_F(CaptureBudgetTest, PeakRssIsReadAtMostOncePerInterval) {
  CaptureBudget budget(Limits(), clock_, &meters_);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(budget.Reached());
  EXPECT_EQ(meters_.RssReads(), 1);
  meters_.SetPeakRss(65 * kMi);
  EXPECT_FALSE(budget.Reached());  // not read again yet
  clock_.Advance(kMemoryCheckInterval);
  EXPECT_TRUE(budget.Reached());
  EXPECT_EQ(meters_.RssReads(), 2);
  EXPECT_EQ(budget.ReachedKind(), BudgetKind::kMemory);
}

TEST_F(CaptureBudgetTest, CpuTimeIsReadAtMostOncePerInterval) {
  CaptureBudget budget(Limits(), clock_, &meters_);
  EXPECT_FALSE(budget.Reached());
  meters_.SetCpu(milliseconds(600));
  EXPECT_FALSE(budget.Reached()) << "read again only after kCpuCheckInterval";
  clock_.Advance(kCpuCheckInterval);
  EXPECT_TRUE(budget.Reached());
  EXPECT_EQ(budget.ReachedKind(), BudgetKind::kCpu);
}

TEST_F(CaptureBudgetTest, UnreadablePeakRssSkipsTheMemoryCheck) {
  CaptureBudget budget(Limits(), clock_, &meters_);
  meters_.SetPeakRss(std::nullopt);
  EXPECT_FALSE(budget.Reached());
}

TEST(BudgetBackstopTest, CpuBackstopIsTwiceTheBudgetAndAtLeastASecondAbove) {
  CpuBackstop small = CpuBackstopFor(milliseconds(1));
  EXPECT_EQ(small.soft, seconds(2));  // 1.001s rounded up
  EXPECT_EQ(small.hard, seconds(3));
  CpuBackstop two = CpuBackstopFor(seconds(2));
  EXPECT_EQ(two.soft, seconds(4));
  EXPECT_EQ(two.hard, seconds(5));
  CpuBackstop odd = CpuBackstopFor(milliseconds(2500));
  EXPECT_EQ(odd.soft, seconds(5));
  for (milliseconds budget :
       {milliseconds(1), milliseconds(999), milliseconds(10000), milliseconds(3600000)}) {
    CpuBackstop b = CpuBackstopFor(budget);
    EXPECT_GE(b.soft, budget + seconds(1)) << budget.count();
    EXPECT_GE(b.soft, budget * 2) << budget.count();
    EXPECT_GT(b.hard, b.soft);
  }
}

// One binary loaded for symbols may start just under the budget and hold up to 128 MiB of parse
// bytes plus its debug file: the backstop must leave room for that unit of work.
TEST(BudgetBackstopTest, DataBackstopLeavesRoomForTheLargestUnitOfWork) {
  EXPECT_EQ(DataBackstopBytesFor(kMi), 321 * kMi);
  EXPECT_EQ(DataBackstopBytesFor(64 * kMi), 384 * kMi);
  for (std::int64_t budget : {kMi, 16 * kMi, 64 * kMi, 1024 * kMi}) {
    EXPECT_GE(DataBackstopBytesFor(budget) - budget, kMi * 2 * 128) << budget;
  }
}

TEST(BudgetFormatTest, BytesInTheLargestWholeUnit) {
  EXPECT_EQ(FormatBytes(64 * kMi), "64Mi");
  EXPECT_EQ(FormatBytes(std::int64_t{1536} * 1024), "1536Ki");
  EXPECT_EQ(FormatBytes(1000), "1000 bytes");
  EXPECT_EQ(BudgetKindName(BudgetKind::kCpu), "cpu");
  EXPECT_EQ(BudgetKindName(BudgetKind::kMemory), "memory");
  EXPECT_EQ(BudgetKindName(BudgetKind::kWall), "wall");
}

}  // namespace
}  // namespace ephemera::snapshot
