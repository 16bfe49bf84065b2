#include "debugpod/runtimes/golang/goroutines.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "tests/debugpod/runtimes/golang/pclntab_builder.h"

namespace ephemera::runtimes::golang {
namespace {

constexpr uint64_t kText = PclntabBuilder::kTextStart;
constexpr uint64_t kAllglen = 0x9000;
constexpr uint64_t kAllgptr = 0x9008;
constexpr uint64_t kArray = 0xa000;
constexpr uint64_t kStackLo = 0x200000;
constexpr uint64_t kStackHi = 0x202000;

std::vector<FakeFunc> Functions() {
  return {{.name = "runtime.main", .entry_offset = 0, .frame_size = 0x20, .line = 250},
          {.name = "main.work",
           .entry_offset = 0x100,
           .frame_size = 0x18,
           .file = "/app/main.go",
           .line = 30},
          {.name = "runtime.gopark",
           .entry_offset = 0x200,
           .frame_size = 0x10,
           .file = "/go/src/runtime/proc.go",
           .line = 400},
          {.name = "runtime.bgsweep", .entry_offset = 0x300, .frame_size = 0x10},
          {.name = "runtime.goexit", .entry_offset = 0x400, .flag = kFuncFlagTopFrame}};
}

const GoLayout& Layout() { return *LayoutForVersion("go1.22.1")->layout; }

struct FakeG {
  uint64_t goid = 1;
  uint32_t status = kGoStatusWaiting;
  uint8_t wait_reason = 14;  // chan receive (go1.22)
  uint64_t startpc = kText + 0x100;
  uint64_t sp = 0x201f00;
  uint64_t pc = kText + 0x210;  // in runtime.gopark
  uint64_t m = 0;
  int64_t waitsince = 1'000'000'000;
};

std::vector<uint8_t> GBytes(const FakeG& fake) {
  const GoLayout& l = Layout();
  std::vector<uint8_t> g(l.GReadSize(), 0);
  auto put = [&g](uint32_t offset, auto value) {
    std::memcpy(g.data() + offset, &value, sizeof value);
  };
  put(l.g_stack_lo, kStackLo);
  put(l.g_stack_hi, kStackHi);
  put(l.g_m, fake.m);
  put(l.g_sched_sp, fake.sp);
  put(l.g_sched_pc, fake.pc);
  put(l.g_atomicstatus, fake.status);
  put(l.g_goid, fake.goid);
  put(l.g_waitsince, fake.waitsince);
  put(l.g_waitreason, fake.wait_reason);
  put(l.g_startpc, fake.startpc);
  return g;
}

// A goroutine parked in gopark, called from main.work, started by goexit: its stack.
std::vector<uint8_t> ParkedStack() {
  std::vector<uint8_t> stack(kStackHi - 0x201f00, 0);
  auto word = [&stack](uint64_t address, uint64_t value) {
    std::memcpy(stack.data() + (address - 0x201f00), &value, 8);
  };
  word(0x201f10, kText + 0x150);  // gopark's return address, into main.work
  word(0x201f30, kText + 0x401);  // main.work's, into goexit (+1, as newproc1 sets it)
  return stack;
}

class GoroutinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = PclntabBuilder::Build(Functions());
    source_ = std::make_unique<stacks::MemoryByteSource>(bytes_);
    StatusOr<Pclntab> table = Pclntab::Parse(*source_, 0);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    table_ = std::make_unique<Pclntab>(std::move(*table));
    view_.layout = &Layout();
    view_.allglen_address = kAllglen;
    view_.allgptr_address = kAllgptr;
    view_.now_nanotime = 61'000'000'000;
    memory_.Map(kStackLo + 0x1f00, ParkedStack());
  }
  void SetGoroutines(const std::vector<FakeG>& gs) {
    memory_.Put<uint64_t>(kAllglen, gs.size());
    memory_.Put<uint64_t>(kAllgptr, kArray);
    std::vector<uint8_t> array;
    for (size_t i = 0; i < gs.size(); ++i) {
      uint64_t address = 0x100000 + i * 0x400;
      memory_.Map(address, GBytes(gs[i]));
      for (int b = 0; b < 8; ++b) array.push_back(static_cast<uint8_t>(address >> (8 * b)));
    }
    memory_.Map(kArray, array);
  }
  RuntimeStacks Read(const RuntimeLimits& limits = {}) {
    RuntimeStacks out;
    Status s = ReadGoroutines(memory_, *table_, view_, nullptr, limits, out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  std::vector<uint8_t> bytes_;
  std::unique_ptr<stacks::MemoryByteSource> source_;
  std::unique_ptr<Pclntab> table_;
  GoProcessView view_;
  FakeMemoryReader memory_;
};

TEST_F(GoroutinesTest, ReadsParkedGoroutineWithStateWaitAndFrames) {
  SetGoroutines({FakeG{.goid = 1, .startpc = kText}});
  RuntimeStacks out = Read();
  ASSERT_EQ(out.stacks.size(), 1u);
  EXPECT_EQ(out.total, 1u);
  const RuntimeStack& s = out.stacks[0];
  EXPECT_EQ(s.id, "1");
  EXPECT_EQ(s.state, "chan receive");
  EXPECT_EQ(s.wait_seconds, 60);
  EXPECT_FALSE(s.tid.has_value());
  ASSERT_EQ(s.frames.size(), 2u) << (out.problems.empty() ? "" : out.problems[0]);
  EXPECT_EQ(s.frames[0].function, "runtime.gopark");
  EXPECT_EQ(s.frames[0].line, 400);
  EXPECT_EQ(s.frames[1].function, "main.work");
  EXPECT_EQ(s.frames[1].file, "/app/main.go");
  EXPECT_EQ(s.frames[1].line, 30);
  EXPECT_FALSE(s.frames_truncated);
  EXPECT_TRUE(out.problems.empty()) << out.problems[0];
  EXPECT_TRUE(ValidateView(memory_, *table_, view_).ok());
}

TEST_F(GoroutinesTest, SkipsDeadAndSystemGoroutines) {
  SetGoroutines({FakeG{.goid = 1, .startpc = kText},
                 FakeG{.goid = 2, .startpc = kText + 0x300},  // runtime.bgsweep
                 FakeG{.goid = 3, .status = kGoStatusDead}, FakeG{.goid = 4}});
  RuntimeStacks out = Read();
  ASSERT_EQ(out.stacks.size(), 2u);
  EXPECT_EQ(out.total, 2u);
  EXPECT_EQ(out.stacks[0].id, "1");
  EXPECT_EQ(out.stacks[1].id, "4");
}

TEST_F(GoroutinesTest, RunningGoroutineHasThreadButNoFrames) {
  memory_.Put<uint64_t>(0x300000 + Layout().m_procid, 4242);
  SetGoroutines(
      {FakeG{.goid = 1, .status = kGoStatusRunning, .startpc = kText, .sp = 0, .m = 0x300000}});
  RuntimeStacks out = Read();
  ASSERT_EQ(out.stacks.size(), 1u);
  EXPECT_EQ(out.stacks[0].state, "running");
  EXPECT_EQ(out.stacks[0].tid, 4242);
  EXPECT_TRUE(out.stacks[0].frames.empty());
  EXPECT_FALSE(out.stacks[0].wait_seconds.has_value());
  ASSERT_FALSE(out.problems.empty());
  EXPECT_NE(out.problems[0].find("running"), std::string::npos) << out.problems[0];
}

TEST_F(GoroutinesTest, ValidationRefusesAViewThatDoesNotFit) {
  SetGoroutines({FakeG{.goid = 7, .startpc = kText}});
  EXPECT_EQ(ValidateView(memory_, *table_, view_).code(), StatusCode::kFailedPrecondition);
  SetGoroutines({FakeG{.goid = 1, .startpc = kText + 0x100}});  // not runtime.main
  EXPECT_EQ(ValidateView(memory_, *table_, view_).code(), StatusCode::kFailedPrecondition);
  memory_.Put<uint64_t>(kAllglen, uint64_t{1} << 40);
  EXPECT_EQ(ValidateView(memory_, *table_, view_).code(), StatusCode::kFailedPrecondition);
  view_.allgptr_address = 0x7777000;  // unmapped
  EXPECT_EQ(ValidateView(memory_, *table_, view_).code(), StatusCode::kDataLoss);
}

TEST_F(GoroutinesTest, CorruptSlotsBecomeProblems) {
  SetGoroutines({FakeG{.goid = 1, .startpc = kText}});
  std::vector<uint8_t> array(24, 0);
  uint64_t good = 0x100000;
  uint64_t unaligned = 0x100003;
  std::memcpy(array.data(), &good, 8);
  std::memcpy(array.data() + 8, &unaligned, 8);
  std::memcpy(array.data() + 16, &good, 8);  // the same g twice: counted once
  memory_.Map(kArray, array);
  memory_.Put<uint64_t>(kAllglen, 3);
  RuntimeStacks out = Read();
  EXPECT_EQ(out.stacks.size(), 1u);
  ASSERT_FALSE(out.problems.empty());
  EXPECT_NE(out.problems.back().find("2 goroutine slot(s)"), std::string::npos)
      << out.problems.back();
}

TEST_F(GoroutinesTest, LoopingFrameChainStopsAtMaxFrames) {
  // Every word of the stack is a return address into main.work: the chain "loops" forever.
  std::vector<uint8_t> stack(kStackHi - kStackLo);
  for (size_t i = 0; i + 8 <= stack.size(); i += 8) {
    uint64_t ret = kText + 0x150;
    std::memcpy(stack.data() + i, &ret, 8);
  }
  // Replaces the parked stack SetUp maps at kStackLo + 0x1f00 too: words beyond the first window
  // are read one by one, and the fake serves them from the region that starts last.
  memory_.Map(kStackLo + 0x1f00, std::vector<uint8_t>(stack.begin() + 0x1f00, stack.end()));
  memory_.Map(kStackLo, stack);
  SetGoroutines({FakeG{.goid = 1, .startpc = kText, .sp = kStackLo, .pc = kText + 0x150}});
  RuntimeLimits limits;
  limits.max_frames = 64;
  RuntimeStacks out = Read(limits);
  ASSERT_EQ(out.stacks.size(), 1u);
  EXPECT_EQ(out.stacks[0].frames.size(), 64u);
  EXPECT_TRUE(out.stacks[0].frames_truncated);
  // Without the frame cap, the walk ends where the stack does (SP only ever rises).
  limits.max_frames = 100000;
  RuntimeStacks unbounded = Read(limits);
  ASSERT_EQ(unbounded.stacks.size(), 1u);
  EXPECT_LE(unbounded.stacks[0].frames.size(), (kStackHi - kStackLo) / 0x20 + 1);
  EXPECT_FALSE(unbounded.stacks[0].frames_truncated);
  ASSERT_FALSE(unbounded.problems.empty());
  EXPECT_NE(unbounded.problems[0].find("leaves the stack"), std::string::npos)
      << unbounded.problems[0];
}

TEST_F(GoroutinesTest, FramesBeyondMaxTotalFramesAreNotKept) {
  SetGoroutines({FakeG{.goid = 1, .startpc = kText}, FakeG{.goid = 2}, FakeG{.goid = 3}});
  RuntimeLimits limits;
  limits.max_total_frames = 3;
  RuntimeStacks out = Read(limits);
  ASSERT_EQ(out.stacks.size(), 3u);
  EXPECT_EQ(out.stacks[0].frames.size(), 2u);
  EXPECT_FALSE(out.stacks[0].frames_truncated);
  EXPECT_EQ(out.stacks[1].frames.size(), 1u);
  EXPECT_TRUE(out.stacks[1].frames_truncated);
  EXPECT_TRUE(out.stacks[2].frames.empty());
  EXPECT_TRUE(out.stacks[2].frames_truncated);
  size_t lines = 0;
  for (const std::string& p : out.problems) {
    lines += p.find("3 frames kept in total") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(lines, 1u) << (out.problems.empty() ? "" : out.problems[0]);
}

TEST_F(GoroutinesTest, SavedSpOutsideTheStackIsAProblem) {
  SetGoroutines({FakeG{.goid = 1, .startpc = kText, .sp = 0x500000}});
  RuntimeStacks out = Read();
  ASSERT_EQ(out.stacks.size(), 1u);
  EXPECT_TRUE(out.stacks[0].frames.empty());
  ASSERT_FALSE(out.problems.empty());
  EXPECT_NE(out.problems[0].find("outside the goroutine's stack"), std::string::npos);
}

// A million goroutines, synthesized on demand: allgptr[i] = kManyG + i × 0x400, each the same
// parked goroutine.
class ManyGoroutines final : public MemoryReader {
 public:
  static constexpr uint64_t kCount = 1'000'000;
  static constexpr uint64_t kManyArray = 0x10000000;
  static constexpr uint64_t kManyG = 0x40000000;
  explicit ManyGoroutines(FakeMemoryReader& stacks) : stacks_(stacks) {}
  Status Read(uint64_t address, std::span<uint8_t> out) override {
    ++reads;
    if (address == kAllglen) return Copy(kCount, out);
    if (address == kAllgptr) return Copy(kManyArray, out);
    if (address >= kManyArray && address < kManyArray + kCount * 8) {
      for (size_t i = 0; i + 8 <= out.size(); i += 8) {
        uint64_t g = kManyG + ((address - kManyArray + i) / 8) * 0x400;
        std::memcpy(out.data() + i, &g, 8);
      }
      return OkStatus();
    }
    if (address >= kManyG && address < kManyG + kCount * 0x400) {
      std::vector<uint8_t> g = GBytes(FakeG{.goid = 10 + (address - kManyG) / 0x400});
      if (out.size() > g.size()) return DataLossError("EFAULT");
      std::memcpy(out.data(), g.data(), out.size());
      return OkStatus();
    }
    return stacks_.Read(address, out);
  }
  size_t reads = 0;

 private:
  static Status Copy(uint64_t value, std::span<uint8_t> out) {
    std::memcpy(out.data(), &value, std::min<size_t>(8, out.size()));
    return OkStatus();
  }
  FakeMemoryReader& stacks_;
};

TEST_F(GoroutinesTest, MillionGoroutinesStopAtMaxStacksQuickly) {
  ManyGoroutines many(memory_);
  RuntimeLimits limits;
  limits.max_stacks = 1000;
  auto start = std::chrono::steady_clock::now();
  RuntimeStacks out;
  ASSERT_TRUE(ReadGoroutines(many, *table_, view_, nullptr, limits, out).ok());
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(out.stacks.size(), 1000u);
  EXPECT_EQ(out.total, ManyGoroutines::kCount);  // shown + the slots never examined
  EXPECT_LT(many.reads, 5000u);
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  ASSERT_FALSE(out.problems.empty());
  EXPECT_NE(out.problems.back().find("only the first 1000 goroutines"), std::string::npos)
      << out.problems.back();
}

TEST_F(GoroutinesTest, StopsAtTheDeadline) {
  ManyGoroutines many(memory_);
  RuntimeLimits limits;
  limits.deadline = std::chrono::steady_clock::now();
  RuntimeStacks out;
  ASSERT_TRUE(ReadGoroutines(many, *table_, view_, nullptr, limits, out).ok());
  EXPECT_TRUE(out.stacks.empty());
  ASSERT_FALSE(out.problems.empty());
  EXPECT_TRUE(out.problems.back().starts_with("deadline")) << out.problems.back();
}

// Many goroutines whose 8 KiB stacks are nearly all in use (saved SP near stack.lo), parked in
// gopark called from main.work; reads are charged to a budget like ProcMemMemoryReader's.
class DeepStackGoroutines final : public MemoryReader {
 public:
  static constexpr uint64_t kCount = 50'000;
  static constexpr uint64_t kManyArray = 0x10000000;
  static constexpr uint64_t kManyG = 0x40000000;
  static constexpr uint64_t kSp = kStackLo + 0x100;
  explicit DeepStackGoroutines(uint64_t budget) : budget_(budget), stack_(kStackHi - kStackLo) {
    auto word = [this](uint64_t address, uint64_t value) {
      std::memcpy(stack_.data() + (address - kStackLo), &value, 8);
    };
    word(kSp + 0x10, kText + 0x150);  // gopark's return address, into main.work
    word(kSp + 0x30, kText + 0x401);  // main.work's, into goexit
  }
  Status Read(uint64_t address, std::span<uint8_t> out) override {
    if (out.size() > budget_ - spent_) return ResourceExhaustedError("budget spent");
    spent_ += out.size();
    if (address == kAllglen) return Copy(kCount, out);
    if (address == kAllgptr) return Copy(kManyArray, out);
    if (address >= kManyArray && address < kManyArray + kCount * 8) {
      for (size_t i = 0; i + 8 <= out.size(); i += 8) {
        uint64_t g = kManyG + ((address - kManyArray + i) / 8) * 0x400;
        std::memcpy(out.data() + i, &g, 8);
      }
      return OkStatus();
    }
    if (address >= kManyG && address < kManyG + kCount * 0x400) {
      std::vector<uint8_t> g = GBytes(FakeG{.goid = 10 + (address - kManyG) / 0x400, .sp = kSp});
      if (out.size() > g.size()) return DataLossError("EFAULT");
      std::memcpy(out.data(), g.data(), out.size());
      return OkStatus();
    }
    if (address >= kStackLo && address + out.size() <= kStackHi) {
      std::memcpy(out.data(), stack_.data() + (address - kStackLo), out.size());
      return OkStatus();
    }
    return DataLossError("EFAULT");
  }

 private:
  static Status Copy(uint64_t value, std::span<uint8_t> out) {
    std::memcpy(out.data(), &value, std::min<size_t>(8, out.size()));
    return OkStatus();
  }
  uint64_t budget_;
  uint64_t spent_ = 0;
  std::vector<uint8_t> stack_;
};

TEST_F(GoroutinesTest, ManyDeepStacksFitTheReadBudget) {
  RuntimeLimits limits;
  limits.max_read_bytes = 64ull << 20;
  DeepStackGoroutines memory(limits.max_read_bytes);
  RuntimeStacks out;
  ASSERT_TRUE(ReadGoroutines(memory, *table_, view_, nullptr, limits, out).ok());
  ASSERT_EQ(out.stacks.size(), DeepStackGoroutines::kCount);
  size_t without_frames = 0;
  for (const RuntimeStack& s : out.stacks) without_frames += s.frames.size() != 2 ? 1 : 0;
  EXPECT_EQ(without_frames, 0u) << (out.problems.empty() ? "" : out.problems[0]);
}

TEST_F(GoroutinesTest, TornGoroutineListKeepsTheReadableSlots) {
  SetGoroutines({FakeG{.goid = 1, .startpc = kText}, FakeG{.goid = 2}});
  memory_.Put<uint64_t>(kAllglen, 300);  // the array holds 2; the rest is unmapped
  RuntimeStacks out = Read();
  EXPECT_EQ(out.stacks.size(), 2u);
  bool reported = false;
  for (const std::string& p : out.problems) reported |= p.find("unreadable") != std::string::npos;
  EXPECT_TRUE(reported);
}

}  // namespace
}  // namespace ephemera::runtimes::golang
