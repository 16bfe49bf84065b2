#include "debugpod/runtimes/python/python_stacks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "debugpod/runtimes/memory_reader.h"
#include "tests/debugpod/runtimes/python/fake_cpython.h"

namespace ephemera::runtimes::python {
namespace {

using runtimes::FakeMemoryReader;
using runtimes::RuntimeLimits;
using runtimes::RuntimeStacks;

PythonLayout LayoutOf(int minor) {
  StatusOr<PythonLayout> layout = LayoutForMinor(minor);
  EXPECT_TRUE(layout.ok());
  return *layout;
}

RuntimeStacks Read(const FakeCPython& fake, const RuntimeLimits& limits = {},
                   std::vector<int> tasks = {}) {
  FakeMemoryReader memory;
  fake.MapInto(memory);
  PythonTarget target{fake.Runtime(), std::move(tasks)};
  StatusOr<RuntimeStacks> stacks = ReadPythonStacks(memory, fake.Layout(), target, limits);
  EXPECT_TRUE(stacks.ok()) << stacks.status().message();
  return stacks.ok() ? *stacks : RuntimeStacks{};
}

bool HasProblem(const RuntimeStacks& stacks, const std::string& part) {
  for (const std::string& p : stacks.problems) {
    if (p.find(part) != std::string::npos) return true;
  }
  return false;
}

class EachVersionTest : public ::testing::TestWithParam<int> {};

TEST_P(EachVersionTest, ReadsThreadsFramesLinesAndTheGilHolder) {
  const int minor = GetParam();
  FakeCPython fake(LayoutOf(minor));
  const uint64_t outer = fake.Frame(fake.Code(U"main", "/app/main.py", 1, 20), 0);
  uint64_t middle_caller = outer;
  if (minor >= 12) middle_caller = fake.Frame(0, outer, /*owner=*/3);  // a C entry shim
  const uint64_t inner =
      fake.Frame(fake.Code(U"Server.handle", "/app/server.py", 30, 42), middle_caller);
  const uint64_t worker_top = fake.Frame(fake.Code(U"work", "/app/w.py", 5, 9), 0);
  const uint64_t main_thread = fake.Thread(101, inner);
  fake.Thread(102, worker_top);
  fake.HoldGil(main_thread);

  RuntimeStacks stacks = Read(fake, {}, {101, 102});
  EXPECT_EQ(stacks.language, "python");
  EXPECT_EQ(stacks.method, "memory");
  EXPECT_EQ(stacks.total, 2u);
  ASSERT_EQ(stacks.stacks.size(), 2u);
  const runtimes::RuntimeStack& first = stacks.stacks[0];
  EXPECT_EQ(first.state, "running");
  EXPECT_EQ(first.tid, 101);
  ASSERT_EQ(first.frames.size(), 2u);
  EXPECT_EQ(first.frames[0].function, minor >= 11 ? "Server.handle" : "handle");
  EXPECT_EQ(first.frames[0].file, "/app/server.py");
  EXPECT_EQ(first.frames[0].line, 42);
  EXPECT_EQ(first.frames[1].function, "main");
  EXPECT_EQ(first.frames[1].line, 20);
  EXPECT_FALSE(first.frames_truncated);
  EXPECT_EQ(stacks.stacks[1].state, "waiting");
  EXPECT_EQ(stacks.stacks[1].tid, 102);
  EXPECT_EQ(stacks.stacks[1].frames.at(0).line, 9);
  EXPECT_TRUE(stacks.problems.empty()) << stacks.problems.front();
}

INSTANTIATE_TEST_SUITE_P(Minor, EachVersionTest, ::testing::Values(9, 10, 11, 12, 13));

TEST(PythonStacksTest, TidsNotAmongTheTasksAreDropped) {
  for (int minor : {10, 11}) {
    FakeCPython fake(LayoutOf(minor));
    fake.Thread(555, 0);
    RuntimeStacks stacks = Read(fake, {}, {1, 2});
    ASSERT_EQ(stacks.stacks.size(), 1u);
    EXPECT_FALSE(stacks.stacks[0].tid.has_value()) << minor;
  }
}

TEST(PythonStacksTest, NonAsciiStringsOfEachKind) {
  FakeCPython fake(LayoutOf(11));
  const uint64_t f1 = fake.Frame(fake.Code(U"caf\u00e9", "a.py", 1, 1), 0);
  const uint64_t f2 = fake.Frame(fake.Code(U"middle_\u03bb", "a.py", 1, 1), f1);
  const uint64_t f3 = fake.Frame(fake.Code(U"inner_\U00020000", "a.py", 1, 1), f2);
  fake.Thread(1, f3);
  RuntimeStacks stacks = Read(fake);
  ASSERT_EQ(stacks.stacks.at(0).frames.size(), 3u);
  EXPECT_EQ(stacks.stacks[0].frames[0].function, "inner_\xf0\xa0\x80\x80");
  EXPECT_EQ(stacks.stacks[0].frames[1].function, "middle_\xce\xbb");
  EXPECT_EQ(stacks.stacks[0].frames[2].function, "caf\xc3\xa9");
}

TEST(PythonStacksTest, UcsKindsAreDecodedWithTheirWidth) {
  FakeCPython fake(LayoutOf(12));
  const uint64_t ucs2 = fake.Str(U"\u03bb\u03bc", 2);
  const uint64_t ucs4 = fake.Str(U"\U0001F600", 4);
  const uint64_t surrogate = fake.Str(std::u32string(1, char32_t{0xd800}), 2);
  const uint64_t code = fake.Code(U"f", "a.py", 1, 1);
  for (uint64_t name : {ucs2, ucs4, surrogate}) {
    FakeCPython copy = fake;
    copy.Set<uint64_t>(code + *copy.Layout().code_qualname, name);
    copy.Thread(1, copy.Frame(code, 0));
    RuntimeStacks stacks = Read(copy);
    const std::string expected = name == ucs2   ? "\xce\xbb\xce\xbc"
                                 : name == ucs4 ? "\xf0\x9f\x98\x80"
                                                : "\xef\xbf\xbd";
    EXPECT_EQ(stacks.stacks.at(0).frames.at(0).function, expected);
  }
}

TEST(PythonStacksTest, LongStringsAreCutToMaxStringBytes) {
  FakeCPython fake(LayoutOf(11));
  const uint64_t code = fake.Code(U"f", "a.py", 1, 1);
  // The header claims a billion characters; only 64 exist. Reading more would fault.
  fake.Set<uint64_t>(code + fake.Layout().code_filename, fake.StrClaiming(1'000'000'000, 1, 64));
  fake.Thread(1, fake.Frame(code, 0));
  RuntimeLimits limits;
  limits.max_string_bytes = 16;
  RuntimeStacks stacks = Read(fake, limits);
  EXPECT_EQ(stacks.stacks.at(0).frames.at(0).file, std::string(16, 'x'));
}

TEST(PythonStacksTest, MultiByteCharactersAreNotSplitAtTheCut) {
  FakeCPython fake(LayoutOf(11));
  const uint64_t code = fake.Code(U"f", "a.py", 1, 1);
  fake.Set<uint64_t>(code + *fake.Layout().code_qualname, fake.Str(U"\u03bb\u03bb\u03bb", 2));
  fake.Thread(1, fake.Frame(code, 0));
  RuntimeLimits limits;
  limits.max_string_bytes = 5;
  EXPECT_EQ(Read(fake, limits).stacks.at(0).frames.at(0).function, "\xce\xbb\xce\xbb");
}

TEST(PythonStacksTest, CorruptStringHeaderGivesAnUnknownFrame) {
  FakeCPython fake(LayoutOf(11));
  const uint64_t code = fake.Code(U"f", "a.py", 1, 1);
  fake.Set<uint64_t>(code + fake.Layout().code_filename, fake.StrClaiming(-5, 1, 1));
  fake.Thread(1, fake.Frame(code, 0));
  RuntimeStacks stacks = Read(fake);
  EXPECT_EQ(stacks.stacks.at(0).frames.at(0).function, "?");
  EXPECT_TRUE(HasProblem(stacks, "corrupt header"));
}

TEST(PythonStacksTest, FramesBeyondMaxFramesAreCut) {
  FakeCPython fake(LayoutOf(13));
  const uint64_t code = fake.Code(U"recurse", "r.py", 1, 2);
  uint64_t frame = 0;
  for (int i = 0; i < 100; ++i) frame = fake.Frame(code, frame);
  fake.Thread(1, frame);
  RuntimeLimits limits;
  limits.max_frames = 10;
  RuntimeStacks stacks = Read(fake, limits);
  EXPECT_EQ(stacks.stacks.at(0).frames.size(), 10u);
  EXPECT_TRUE(stacks.stacks[0].frames_truncated);
}

TEST(PythonStacksTest, FramesBeyondMaxTotalFramesAreNotKept) {
  FakeCPython fake(LayoutOf(13));
  const uint64_t code = fake.Code(U"wait", "w.py", 1, 2);
  for (int t = 0; t < 3; ++t) fake.Thread(t + 1, fake.Frame(code, fake.Frame(code, 0)));
  RuntimeLimits limits;
  limits.max_total_frames = 3;
  RuntimeStacks stacks = Read(fake, limits);
  ASSERT_EQ(stacks.stacks.size(), 3u);
  EXPECT_EQ(stacks.stacks[0].frames.size(), 2u);
  EXPECT_FALSE(stacks.stacks[0].frames_truncated);
  EXPECT_EQ(stacks.stacks[1].frames.size(), 1u);
  EXPECT_TRUE(stacks.stacks[1].frames_truncated);
  EXPECT_TRUE(stacks.stacks[2].frames.empty());
  EXPECT_TRUE(stacks.stacks[2].frames_truncated);
  size_t lines = 0;
  for (const std::string& p : stacks.problems) {
    lines += p.find("3 frames kept in total") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(lines, 1u) << (stacks.problems.empty() ? "" : stacks.problems[0]);
  EXPECT_EQ(RuntimeLimits{}.max_total_frames, 1'000'000u);
}

TEST(PythonStacksTest, FrameCycleEndsTheWalk) {
  FakeCPython fake(LayoutOf(11));
  const uint64_t code = fake.Code(U"f", "a.py", 1, 1);
  const uint64_t a = fake.Frame(code, 0);
  const uint64_t b = fake.Frame(code, a);
  fake.Set<uint64_t>(a + fake.Layout().frame_previous, b);  // a → b → a
  fake.Thread(1, b);
  RuntimeStacks stacks = Read(fake);
  EXPECT_EQ(stacks.stacks.at(0).frames.size(), 2u);
  EXPECT_TRUE(stacks.stacks[0].frames_truncated);
  EXPECT_TRUE(HasProblem(stacks, "frame chain corrupt"));
}

TEST(PythonStacksTest, ShimFramesInACycleAreBounded) {
  FakeCPython fake(LayoutOf(12));
  const uint64_t shim = fake.Frame(0, 0, /*owner=*/3);
  fake.Set<uint64_t>(shim + fake.Layout().frame_previous, shim);
  fake.Thread(1, shim);
  RuntimeStacks stacks = Read(fake);
  EXPECT_TRUE(stacks.stacks.at(0).frames.empty());
  EXPECT_TRUE(HasProblem(stacks, "frame chain corrupt"));
}

TEST(PythonStacksTest, ThreadListCycleEndsTheWalk) {
  FakeCPython fake(LayoutOf(11));
  const uint64_t first = fake.Thread(1, 0);
  const uint64_t second = fake.Thread(2, 0);
  fake.Set<uint64_t>(second + fake.Layout().tstate_next, first);
  RuntimeStacks stacks = Read(fake);
  EXPECT_EQ(stacks.stacks.size(), 2u);
  EXPECT_EQ(stacks.total, 2u);
  EXPECT_TRUE(HasProblem(stacks, "thread list corrupt"));
}

TEST(PythonStacksTest, ThreadThatLeftTheInterpreterEndsTheWalk) {
  FakeCPython fake(LayoutOf(12));
  fake.Thread(1, 0);
  const uint64_t freed = fake.Thread(2, 0);
  fake.Thread(3, 0);
  fake.Set<uint64_t>(freed + fake.Layout().tstate_interp, 0xdead0000);  // reused memory
  RuntimeStacks stacks = Read(fake);
  EXPECT_EQ(stacks.stacks.size(), 1u);
  EXPECT_TRUE(HasProblem(stacks, "thread list changed while read"));
}

TEST(PythonStacksTest, UnalignedThreadPointerIsNotFollowed) {
  FakeCPython fake(LayoutOf(9));
  const uint64_t only = fake.Thread(1, 0);
  fake.Set<uint64_t>(only + fake.Layout().tstate_next, 0xdeadbeef);
  RuntimeStacks stacks = Read(fake);
  EXPECT_EQ(stacks.stacks.size(), 1u);
  EXPECT_TRUE(HasProblem(stacks, "thread list corrupt at 0xdeadbeef"));
}

TEST(PythonStacksTest, StacksBeyondMaxStacksAreCountedNotRead) {
  FakeCPython fake(LayoutOf(11));
  for (int i = 0; i < 5; ++i) fake.Thread(i + 1, 0);
  RuntimeLimits limits;
  limits.max_stacks = 2;
  RuntimeStacks stacks = Read(fake, limits);
  EXPECT_EQ(stacks.stacks.size(), 2u);
  EXPECT_EQ(stacks.total, 5u);
  EXPECT_TRUE(HasProblem(stacks, "only the first 2 of 5 threads read"));
}

TEST(PythonStacksTest, DeadlineInThePastStopsBeforeAnyThread) {
  FakeCPython fake(LayoutOf(11));
  fake.Thread(1, 0);
  RuntimeLimits limits;
  limits.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  RuntimeStacks stacks = Read(fake, limits);
  EXPECT_TRUE(stacks.stacks.empty());
  EXPECT_TRUE(HasProblem(stacks, "deadline"));
}

// A reader that stops after a byte budget, as ProcMemMemoryReader does.
class BudgetReader final : public runtimes::MemoryReader {
 public:
  BudgetReader(const FakeCPython& fake, uint64_t budget) : budget_(budget) { fake.MapInto(fake_); }
  Status Read(uint64_t address, std::span<uint8_t> out) override {
    if (out.size() > budget_ - used_) return ResourceExhaustedError("memory read budget spent");
    used_ += out.size();
    return fake_.Read(address, out);
  }
  uint64_t Used() const { return used_; }

 private:
  runtimes::FakeMemoryReader fake_;
  uint64_t budget_;
  uint64_t used_ = 0;
};

TEST(PythonStacksTest, ReadBudgetGivesPartialResults) {
  FakeCPython fake(LayoutOf(11));
  const uint64_t code = fake.Code(U"f", "a.py", 1, 1);
  for (int i = 0; i < 50; ++i) fake.Thread(i + 1, fake.Frame(code, fake.Frame(code, 0)));
  BudgetReader memory(fake, 2000);
  StatusOr<RuntimeStacks> stacks =
      ReadPythonStacks(memory, fake.Layout(), PythonTarget{fake.Runtime(), {}}, {});
  ASSERT_TRUE(stacks.ok());
  EXPECT_LT(stacks->stacks.size(), 50u);
  EXPECT_GT(stacks->stacks.size(), 0u);
  EXPECT_LE(memory.Used(), 2000u);
  EXPECT_TRUE(HasProblem(*stacks, "budget"));
}

TEST(PythonStacksTest, NotACodeObjectGivesAnUnknownFrame) {
  FakeCPython fake(LayoutOf(13));
  const uint64_t code = fake.Code(U"f", "a.py", 1, 1);
  const uint64_t dict_type = fake.Alloc(64);
  const uint64_t dict_name = fake.Alloc(8);
  fake.Set(dict_name, std::array<char, 5>{'d', 'i', 'c', 't', '\0'});
  fake.Set<uint64_t>(dict_type + fake.Layout().type_name, dict_name);
  fake.Set<uint64_t>(code + fake.Layout().object_type, dict_type);
  fake.Thread(1, fake.Frame(code, 0));
  RuntimeStacks stacks = Read(fake);
  EXPECT_EQ(stacks.stacks.at(0).frames.at(0).function, "?");
  EXPECT_TRUE(HasProblem(stacks, "not a code object"));
}

TEST(PythonStacksTest, OversizedLineTableLeavesTheLineUnknown) {
  FakeCPython fake(LayoutOf(11));
  const uint64_t code = fake.Code(U"f", "a.py", 1, 7);
  fake.Set<uint64_t>(code + fake.Layout().code_line_table, fake.StrClaiming(0, 1, 0));
  const uint64_t table = fake.Alloc(64);
  fake.Set<int64_t>(table + fake.Layout().var_object_size, int64_t{1} << 40);
  fake.Set<uint64_t>(code + fake.Layout().code_line_table, table);
  fake.Thread(1, fake.Frame(code, 0));
  RuntimeStacks stacks = Read(fake);
  EXPECT_EQ(stacks.stacks.at(0).frames.at(0).function, "f");
  EXPECT_EQ(stacks.stacks[0].frames[0].line, 0);
  EXPECT_TRUE(HasProblem(stacks, "line table of"));
}

TEST(PythonStacksTest, InstructionPointerOutsideTheCodeLeavesTheLineUnknown) {
  FakeCPython fake(LayoutOf(12));
  const uint64_t code = fake.Code(U"f", "a.py", 1, 7);
  const uint64_t frame = fake.Frame(code, 0);
  fake.Set<uint64_t>(frame + fake.Layout().frame_instruction, code + 0x100000);
  fake.Thread(1, frame);
  EXPECT_EQ(Read(fake).stacks.at(0).frames.at(0).line, 0);
}

TEST(PythonStacksTest, SubinterpretersAreCountedAsAProblem) {
  FakeCPython fake(LayoutOf(12));
  fake.Thread(1, 0);
  const PythonLayout& l = fake.Layout();
  const uint64_t sub = fake.Alloc(std::max({l.interp_next, l.interp_id}) + 8);
  fake.Set<int64_t>(sub + l.interp_id, 1);
  fake.Set<uint64_t>(sub + l.interp_next, fake.Interpreter());
  fake.Set<uint64_t>(fake.Runtime() + l.runtime_interpreters_head, sub);
  RuntimeStacks stacks = Read(fake);
  EXPECT_EQ(stacks.stacks.size(), 1u);
  EXPECT_TRUE(HasProblem(stacks, "1 subinterpreter(s) not read"));
}

TEST(PythonStacksTest, UnreadableRuntimeIsAnError) {
  FakeCPython fake(LayoutOf(11));
  FakeMemoryReader empty;
  StatusOr<RuntimeStacks> stacks =
      ReadPythonStacks(empty, fake.Layout(), PythonTarget{fake.Runtime(), {}}, {});
  ASSERT_FALSE(stacks.ok());
  EXPECT_EQ(stacks.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(stacks.status().message().rfind("python: ", 0), 0u);
}

TEST(PythonStacksTest, InterpreterListCycleWithoutMainIsAnError) {
  FakeCPython fake(LayoutOf(11));
  fake.Set<int64_t>(fake.Interpreter() + fake.Layout().interp_id, 7);
  fake.Set<uint64_t>(fake.Interpreter() + fake.Layout().interp_next, fake.Interpreter());
  FakeMemoryReader memory;
  fake.MapInto(memory);
  StatusOr<RuntimeStacks> stacks =
      ReadPythonStacks(memory, fake.Layout(), PythonTarget{fake.Runtime(), {}}, {});
  EXPECT_FALSE(stacks.ok());
}

}  // namespace
}  // namespace ephemera::runtimes::python
