#include "debugpod/stacks/elf_module.h"

#include <gtest/gtest.h>

#include "debugpod/stacks/byte_source.h"
#include "fixture_files.h"

namespace ephemera::stacks {
namespace {

StatusOr<ElfModule> ParseFixture(const std::vector<uint8_t>& bytes, ElfLimits limits = {}) {
  MemoryByteSource source(bytes);
  return ElfModule::Parse(source, limits);
}

class ElfFixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ElfFixtureTest, FindsEveryFunctionByAddressInsideIt) {
  std::vector<uint8_t> bytes = ReadFixture(GetParam() + ".elf");
  ASSERT_FALSE(bytes.empty()) << "missing fixture " << GetParam();
  StatusOr<ElfModule> module = ParseFixture(bytes);
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  std::vector<ExpectedSymbol> expected = ReadSymbolManifest(GetParam() + ".symbols");
  ASSERT_EQ(expected.size(), 4u);
  for (const ExpectedSymbol& s : expected) {
    std::optional<SymbolMatch> at_start = module->FindSymbol(s.address);
    ASSERT_TRUE(at_start.has_value()) << s.name;
    EXPECT_EQ(at_start->name, s.name);
    EXPECT_EQ(at_start->offset, 0u);
    std::optional<SymbolMatch> inside = module->FindSymbol(s.address + s.size - 1);
    ASSERT_TRUE(inside.has_value()) << s.name;
    EXPECT_EQ(inside->name, s.name);
    EXPECT_EQ(inside->offset, s.size - 1);
  }
}

TEST_P(ElfFixtureTest, HasCallFrameInformationForEveryFunction) {
  StatusOr<ElfModule> module = ParseFixture(ReadFixture(GetParam() + ".elf"));
  ASSERT_TRUE(module.ok());
  for (const ExpectedSymbol& s : ReadSymbolManifest(GetParam() + ".symbols")) {
    StatusOr<UnwindRow> row = module->FindUnwindRow(s.address);
    ASSERT_TRUE(row.ok()) << s.name << ": " << row.status().ToString();
    // At a function's first instruction the return address sits right at rsp.
    EXPECT_EQ(row->cfa.reg, kRegRsp) << s.name;
    EXPECT_EQ(row->cfa.offset, 8) << s.name;
    EXPECT_EQ(row->registers[kRegRip].kind, RegisterRule::Kind::kOffset) << s.name;
    EXPECT_EQ(row->registers[kRegRip].offset, -8) << s.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ElfFixtureTest,
                         ::testing::Values("tiny_pie", "tiny_debug_frame"));

TEST(ElfModuleTest, PieFixtureUsesEhFrameAndIsPositionIndependent) {
  StatusOr<ElfModule> module = ParseFixture(ReadFixture("tiny_pie.elf"));
  ASSERT_TRUE(module.ok());
  EXPECT_TRUE(module->IsPositionIndependent());
  EXPECT_TRUE(module->HasEhFrame());
  EXPECT_FALSE(module->HasDebugFrame());
}

TEST(ElfModuleTest, DebugFrameFixtureIsDecompressed) {
  StatusOr<ElfModule> module = ParseFixture(ReadFixture("tiny_debug_frame.elf"));
  ASSERT_TRUE(module.ok());
  EXPECT_FALSE(module->IsPositionIndependent());
  EXPECT_FALSE(module->HasEhFrame());
  EXPECT_TRUE(module->HasDebugFrame());
}

TEST(ElfModuleTest, LoadBiasOfPieMapping) {
  StatusOr<ElfModule> module = ParseFixture(ReadFixture("tiny_pie.elf"));
  ASSERT_TRUE(module.ok());
  // Find the executable segment and pretend the loader put the image at 0x555555554000.
  const LoadSegment* text = nullptr;
  for (const LoadSegment& s : module->LoadSegments()) {
    if (s.executable) text = &s;
  }
  ASSERT_NE(text, nullptr);
  constexpr uint64_t kBase = 0x555555554000;
  uint64_t map_offset = text->offset & ~uint64_t{0xfff};
  uint64_t map_start = kBase + (text->vaddr & ~uint64_t{0xfff});
  EXPECT_EQ(module->LoadBias(map_start, map_offset), std::optional<uint64_t>(kBase));
  EXPECT_EQ(module->LoadBias(map_start, 0x10000000), std::nullopt);
}

TEST(ElfModuleTest, LoadBiasOnlyMatchesSegmentsWithTheMappingsExecutableFlag) {
  StatusOr<ElfModule> module = ParseFixture(ReadFixture("tiny_pie.elf"));
  ASSERT_TRUE(module.ok());
  const LoadSegment* text = nullptr;
  for (const LoadSegment& s : module->LoadSegments()) {
    if (s.executable) text = &s;
  }
  ASSERT_NE(text, nullptr);
  constexpr uint64_t kBase = 0x7f0000000000;
  uint64_t page = text->offset & ~uint64_t{0xfff};
  uint64_t start = kBase + (text->vaddr & ~uint64_t{0xfff});
  EXPECT_EQ(module->LoadBias(start, page, /*executable=*/true), std::optional<uint64_t>(kBase));
  EXPECT_EQ(module->LoadBias(start, page, /*executable=*/false), std::nullopt);
}

TEST(ElfModuleTest, LoadBiasOfNonPieIsZero) {
  StatusOr<ElfModule> module = ParseFixture(ReadFixture("tiny_debug_frame.elf"));
  ASSERT_TRUE(module.ok());
  for (const LoadSegment& s : module->LoadSegments()) {
    if (!s.executable) continue;
    EXPECT_EQ(module->LoadBias(s.vaddr & ~uint64_t{0xfff}, s.offset & ~uint64_t{0xfff}),
              std::optional<uint64_t>(0));
  }
}

TEST(ElfModuleTest, AddressBeyondLastSymbolSizeHasNoSymbol) {
  StatusOr<ElfModule> module = ParseFixture(ReadFixture("tiny_pie.elf"));
  ASSERT_TRUE(module.ok());
  uint64_t end = 0;
  for (const ExpectedSymbol& s : ReadSymbolManifest("tiny_pie.symbols")) {
    end = std::max(end, s.address + s.size);
  }
  EXPECT_EQ(module->FindSymbol(end + 0x100), std::nullopt);
  EXPECT_EQ(module->FindSymbol(1), std::nullopt);
}

TEST(ElfModuleTest, RejectsNonElfAndTruncatedInput) {
  std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r',
                               'l', 'd', '!', ' ', ' ', ' ', ' ', ' ', ' '};
  EXPECT_EQ(ParseFixture(text).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> bytes = ReadFixture("tiny_pie.elf");
  bytes.resize(40);
  EXPECT_EQ(ParseFixture(bytes).status().code(), StatusCode::kDataLoss);
}

TEST(ElfModuleTest, RejectsOtherMachines) {
  std::vector<uint8_t> bytes = ReadFixture("tiny_pie.elf");
  ASSERT_GT(bytes.size(), 20u);
  bytes[18] = 183;  // e_machine = EM_AARCH64
  bytes[19] = 0;
  EXPECT_EQ(ParseFixture(bytes).status().code(), StatusCode::kFailedPrecondition);
}

TEST(ElfModuleTest, SectionSizeCapLeavesSectionsOutWithANote) {
  StatusOr<ElfModule> module =
      ParseFixture(ReadFixture("tiny_pie.elf"), {.max_section_bytes = 16, .max_symbols = 100});
  ASSERT_TRUE(module.ok());
  EXPECT_EQ(module->SymbolCount(), 0u);
  EXPECT_FALSE(module->HasEhFrame());
  EXPECT_FALSE(module->Notes().empty());
}

TEST(ElfModuleTest, FileSizeCapRefusesLargeFiles) {
  StatusOr<ElfModule> module = ParseFixture(ReadFixture("tiny_pie.elf"), {.max_file_bytes = 4096});
  EXPECT_EQ(module.status().code(), StatusCode::kResourceExhausted);
}

TEST(ElfModuleTest, CorruptedBytesDoNotCrash) {
  std::vector<uint8_t> original = ReadFixture("tiny_pie.elf");
  int parsed = 0;
  for (size_t i = 64; i < original.size(); i += 97) {
    std::vector<uint8_t> bytes = original;
    for (size_t j = i; j < std::min(i + 8, bytes.size()); ++j) bytes[j] ^= 0xa5;
    StatusOr<ElfModule> module = ParseFixture(bytes);
    if (!module.ok()) continue;
    ++parsed;
    for (uint64_t pc = 0x1000; pc < 0x1100; pc += 7) {
      (void)module->FindSymbol(pc);
      (void)module->FindUnwindRow(pc);
    }
  }
  EXPECT_GT(parsed, 0);  // most corruptions only lose a section
}

}  // namespace
}  // namespace ephemera::stacks
