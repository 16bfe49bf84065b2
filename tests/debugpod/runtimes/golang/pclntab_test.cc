#include "debugpod/runtimes/golang/pclntab.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "tests/debugpod/runtimes/golang/pclntab_builder.h"

namespace ephemera::runtimes::golang {
namespace {

constexpr uint64_t kText = PclntabBuilder::kTextStart;

std::vector<FakeFunc> TwoFunctions() {
  return {{.name = "main.main",
           .entry_offset = 0,
           .size = 0x40,
           .frame_size = 0x18,
           .file = "/app/main.go",
           .line = 12},
          {.name = "main.(*Server).handle",
           .entry_offset = 0x40,
           .size = 0x80,
           .frame_size = 0x28,
           .file = "/app/server.go",
           .line = 77}};
}

TEST(PclntabTest, FindsFunctionNameFileLineAndFrameSize) {
  std::vector<uint8_t> bytes = PclntabBuilder::Build(TwoFunctions());
  stacks::MemoryByteSource source(bytes);
  StatusOr<Pclntab> table = Pclntab::Parse(source, 0);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->FunctionCount(), 2u);
  StatusOr<GoFunc> f = table->FindFunc(kText + 0x50);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->entry, kText + 0x40);
  EXPECT_EQ(f->end, kText + 0xc0);
  StatusOr<int32_t> delta = table->SpDelta(*f, kText + 0x50);
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(*delta, 0x28);
  StatusOr<std::vector<SourceFrame>> frames = table->Symbolize(*f, kText + 0x50, 256, nullptr, 0);
  ASSERT_TRUE(frames.ok()) << frames.status().ToString();
  ASSERT_EQ(frames->size(), 1u);
  EXPECT_EQ(frames->front().function, "main.(*Server).handle");
  EXPECT_EQ(frames->front().file, "/app/server.go");
  EXPECT_EQ(frames->front().line, 77);
}

TEST(PclntabTest, NothingOutsideTheText) {
  std::vector<uint8_t> bytes = PclntabBuilder::Build(TwoFunctions());
  stacks::MemoryByteSource source(bytes);
  StatusOr<Pclntab> table = Pclntab::Parse(source, 0);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->FindFunc(kText - 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(table->FindFunc(kText + 0xc0).status().code(), StatusCode::kNotFound);
}

TEST(PclntabTest, FindsFunctionByName) {
  std::vector<uint8_t> bytes = PclntabBuilder::Build(TwoFunctions());
  stacks::MemoryByteSource source(bytes);
  StatusOr<Pclntab> table = Pclntab::Parse(source, 0);
  ASSERT_TRUE(table.ok());
  StatusOr<GoFunc> f = table->FindFuncByName("main.(*Server).handle");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->entry, kText + 0x40);
  EXPECT_EQ(table->FindFuncByName("main.mai").status().code(), StatusCode::kNotFound);
}

TEST(PclntabTest, FindFunctionByNameIsBoundedInBytesAndTime) {
  std::vector<uint8_t> bytes = PclntabBuilder::Build(TwoFunctions());
  stacks::MemoryByteSource source(bytes);
  PclntabLimits small;
  small.max_name_scan_bytes = 16;  // funcnametab holds 32 bytes
  StatusOr<Pclntab> capped = Pclntab::Parse(source, 0, small);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->FindFuncByName("main.main").status().code(), StatusCode::kResourceExhausted);
  StatusOr<Pclntab> table = Pclntab::Parse(source, 0);
  ASSERT_TRUE(table.ok());
  auto past = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  EXPECT_EQ(table->FindFuncByName("main.(*Server).handle", past).status().code(),
            StatusCode::kDeadlineExceeded);
  EXPECT_EQ(PclntabLimits{}.max_name_scan_bytes, 64ull << 20);
}

TEST(PclntabTest, CutsLongNames) {
  std::vector<FakeFunc> funcs = TwoFunctions();
  funcs[0].name = std::string(5000, 'x');
  std::vector<uint8_t> bytes = PclntabBuilder::Build(funcs);
  stacks::MemoryByteSource source(bytes);
  StatusOr<Pclntab> table = Pclntab::Parse(source, 0);
  ASSERT_TRUE(table.ok());
  StatusOr<std::string> name = table->Name(0, 100);
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->size(), 100u + std::string("…").size());
}

TEST(PclntabTest, CutsLongNamesAtACharacterBoundary) {
  std::vector<FakeFunc> funcs = TwoFunctions();
  funcs[0].name = std::string(99, 'x') + "\u00e9t\u20ac";  // é (2 bytes) at bytes 99-100
  std::vector<uint8_t> bytes = PclntabBuilder::Build(funcs);
  stacks::MemoryByteSource source(bytes);
  StatusOr<Pclntab> table = Pclntab::Parse(source, 0);
  ASSERT_TRUE(table.ok());
  StatusOr<std::string> name = table->Name(0, 100);
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, std::string(99, 'x') + "…");
  StatusOr<std::string> longer = table->Name(0, 103);  // cuts € (3 bytes at 102-104)
  ASSERT_TRUE(longer.ok());
  EXPECT_EQ(*longer, std::string(99, 'x') + "\u00e9t…");
}

TEST(PclntabTest, RefusesOtherMagicAndTruncation) {
  std::vector<uint8_t> bytes = PclntabBuilder::Build(TwoFunctions());
  std::vector<uint8_t> go118 = bytes;
  PclntabBuilder::PutU32At(go118, 0, 0xfffffff0);
  stacks::MemoryByteSource old_source(go118);
  EXPECT_EQ(Pclntab::Parse(old_source, 0).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + 100);
  stacks::MemoryByteSource short_source(truncated);
  EXPECT_EQ(Pclntab::Parse(short_source, 0).status().code(), StatusCode::kDataLoss);
  std::vector<uint8_t> huge = bytes;
  PclntabBuilder::PutU64At(huge, 8, uint64_t{1} << 40);  // nfunc
  stacks::MemoryByteSource huge_source(huge);
  EXPECT_EQ(Pclntab::Parse(huge_source, 0).status().code(), StatusCode::kResourceExhausted);
}

TEST(PclntabTest, UsesTheGivenTextStartWhenTheHeaderHasNone) {
  std::vector<uint8_t> bytes = PclntabBuilder::Build(TwoFunctions());
  PclntabBuilder::PutU64At(bytes, 24, 0);  // Go 1.26 no longer stores it
  stacks::MemoryByteSource source(bytes);
  StatusOr<Pclntab> table = Pclntab::Parse(source, 0x800000);
  ASSERT_TRUE(table.ok());
  EXPECT_TRUE(table->FindFunc(0x800010).ok());
}

TEST(PclntabTest, EndlessPcvalueTableIsBounded) {
  std::vector<uint8_t> bytes = PclntabBuilder::Build(TwoFunctions());
  // A table at the end of the section that never reaches the PC: (value +0? no: +1, pc +0)…
  size_t table_offset = bytes.size();
  for (int i = 0; i < 5000; ++i) {
    bytes.push_back(2);  // value delta +1
    bytes.push_back(0);  // pc delta 0
  }
  stacks::MemoryByteSource source(bytes);
  PclntabLimits limits;
  limits.max_pcvalue_steps = 1000;
  StatusOr<Pclntab> table = Pclntab::Parse(source, 0, limits);
  ASSERT_TRUE(table.ok());
  uint64_t pctab_offset;
  std::memcpy(&pctab_offset, bytes.data() + 56, 8);
  StatusOr<int32_t> value =
      table->PcValue(static_cast<uint32_t>(table_offset - pctab_offset), kText, kText + 0x10);
  EXPECT_EQ(value.status().code(), StatusCode::kDataLoss) << value.status().ToString();
}

TEST(PclntabTest, StackWalkStopsAtTheDeadlineWhateverTheTables) {
  std::vector<FakeFunc> funcs = TwoFunctions();
  std::vector<uint8_t> bytes = PclntabBuilder::Build(funcs);
  // A pcln table of 2^20 steps that never reaches the PC, for main.main.
  size_t table_offset = bytes.size();
  for (int i = 0; i < (1 << 20); ++i) {
    bytes.push_back(2);  // value delta +1
    bytes.push_back(0);  // pc delta 0
  }
  uint64_t pctab_offset;
  std::memcpy(&pctab_offset, bytes.data() + 56, 8);
  uint64_t pcln_offset;
  std::memcpy(&pcln_offset, bytes.data() + 64, 8);
  uint64_t record = pcln_offset + (funcs.size() + 1) * 8;  // main.main's _func
  PclntabBuilder::PutU32At(bytes, record + 24, static_cast<uint32_t>(table_offset - pctab_offset));
  stacks::MemoryByteSource source(bytes);
  PclntabLimits table_limits;
  table_limits.max_pcvalue_steps = 1u << 20;
  StatusOr<Pclntab> table = Pclntab::Parse(source, 0, table_limits);
  ASSERT_TRUE(table.ok());
  RuntimeLimits limits;
  limits.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  StackWordReader never = [](uint64_t) -> StatusOr<uint64_t> { return uint64_t{0}; };
  GoStackWalk walk =
      WalkGoStack(*table, kText + 0x10, 0x1000, 0x1000, 0x2000, 0, never, nullptr, 0, limits);
  EXPECT_LE(walk.frames.size(), 1u);
  EXPECT_EQ(walk.problem, "deadline");
}

TEST(PclntabTest, DefaultPcvalueStepLimitIsFarBelowTheOldMillion) {
  EXPECT_EQ(PclntabLimits{}.max_pcvalue_steps, 1u << 16);
}

TEST(PclntabTest, CorruptOffsetsGiveErrorsNotCrashes) {
  std::vector<uint8_t> bytes = PclntabBuilder::Build(TwoFunctions());
  PclntabBuilder::PutU64At(bytes, 32, bytes.size() + 10);  // funcnametab past the end
  stacks::MemoryByteSource source(bytes);
  EXPECT_EQ(Pclntab::Parse(source, 0).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ephemera::runtimes::golang
