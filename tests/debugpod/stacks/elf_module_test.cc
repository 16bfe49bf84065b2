#include "debugpod/stacks/elf_module.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <span>
#include <string>

#include "debugpod/stacks/byte_source.h"
#include "elf_builder.h"
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

// Counts the bytes ElfModule::Parse reads: every byte read is copied into a buffer it allocates.
class CountingByteSource final : public ByteSource {
 public:
  explicit CountingByteSource(const std::vector<uint8_t>& bytes) : inner_(bytes) {}
  uint64_t Size() const override { return inner_.Size(); }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    bytes_read_ += out.size();
    return inner_.ReadAt(offset, out);
  }
  uint64_t BytesRead() const { return bytes_read_; }

 private:
  MemoryByteSource inner_;
  mutable uint64_t bytes_read_ = 0;
};

std::vector<uint8_t> BuildIdNote(uint32_t name_size, uint32_t desc_size,
                                 std::vector<uint8_t> payload) {
  std::vector<uint8_t> note(sizeof(Elf64_Nhdr));
  Elf64_Nhdr nh{name_size, desc_size, NT_GNU_BUILD_ID};
  std::memcpy(note.data(), &nh, sizeof nh);
  note.insert(note.end(), payload.begin(), payload.end());
  return note;
}

uint32_t AddText(ElfBuilder& b) {
  return b.Add({.name = ".text",
                .contents = std::vector<uint8_t>(0x100, 0xc3),
                .flags = SHF_ALLOC | SHF_EXECINSTR,
                .address = 0x1000});
}

TEST(ElfModuleTest, ReadsTheBuildIdNote) {
  ElfBuilder b;
  AddText(b);
  b.Add({.name = ".note.gnu.build-id",
         .type = SHT_NOTE,
         .contents = BuildIdNote(4, 4, {'G', 'N', 'U', 0, 0xde, 0xad, 0xbe, 0xef})});
  StatusOr<ElfModule> module = ParseFixture(b.Build());
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  EXPECT_EQ(module->BuildId(), "deadbeef");
}

// L1: a note section that holds only the 12-byte header. The name was compared before the size
// was checked, reading 4 bytes past the section's buffer (AddressSanitizer: heap-buffer-overflow
// in the sanitizer build).
TEST(ElfModuleTest, TruncatedBuildIdNoteIsNotReadPastItsEnd) {
  ElfBuilder b;
  AddText(b);
  b.Add({.name = ".note.gnu.build-id", .type = SHT_NOTE, .contents = BuildIdNote(4, 20, {})});
  StatusOr<ElfModule> module = ParseFixture(b.Build());
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  EXPECT_EQ(module->BuildId(), "");
}

TEST(ElfModuleTest, BuildIdNoteEndingInsideTheNameOrDescriptorIsIgnored) {
  for (size_t keep : {13u, 15u, 16u, 19u}) {
    std::vector<uint8_t> note = BuildIdNote(4, 4, {'G', 'N', 'U', 0, 1, 2, 3, 4});
    note.resize(keep);
    ElfBuilder b;
    AddText(b);
    b.Add({.name = ".note.gnu.build-id", .type = SHT_NOTE, .contents = note});
    StatusOr<ElfModule> module = ParseFixture(b.Build());
    ASSERT_TRUE(module.ok()) << keep;
    EXPECT_EQ(module->BuildId(), "") << keep;
  }
}

// Two symbol tables share a compressed string table whose section on disk is much larger than what
// it decompresses to (zlib ignores bytes after its stream). The second table's names were checked
// against the on-disk size, so a name offset past the decompressed bytes read beyond names_.
TEST(ElfModuleTest, ASharedCompressedStringTableBoundsNamesByItsDecompressedSize) {
  std::vector<std::string> names = {"function_0", "function_1"};
  ElfBuilder b;
  const uint32_t text = AddText(b);
  std::vector<uint8_t> strings;
  std::vector<uint8_t> table = FunctionSymbols(names, static_cast<uint16_t>(text), strings);
  // A third symbol whose name lies past the decompressed table, inside the on-disk padding.
  Elf64_Sym beyond{};
  beyond.st_name = static_cast<uint32_t>(strings.size() + 100);
  beyond.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
  beyond.st_shndx = static_cast<uint16_t>(text);
  beyond.st_value = 0x1080;
  beyond.st_size = 8;
  const auto* raw = reinterpret_cast<const uint8_t*>(&beyond);
  table.insert(table.end(), raw, raw + sizeof beyond);

  uLongf packed_size = compressBound(static_cast<uLong>(strings.size()));
  std::vector<uint8_t> packed(packed_size);
  ASSERT_EQ(
      compress(packed.data(), &packed_size, strings.data(), static_cast<uLong>(strings.size())),
      Z_OK);
  packed.resize(packed_size);
  Elf64_Chdr header{};
  header.ch_type = ELFCOMPRESS_ZLIB;
  header.ch_size = strings.size();
  header.ch_addralign = 1;
  std::vector<uint8_t> section(sizeof header);
  std::memcpy(section.data(), &header, sizeof header);
  section.insert(section.end(), packed.begin(), packed.end());
  section.resize(section.size() + 4096, 'z');  // after the stream: ignored by zlib

  const uint32_t strtab =
      b.Add({.name = ".strtab", .type = SHT_STRTAB, .contents = section, .flags = SHF_COMPRESSED});
  b.Add({.name = ".symtab",
         .type = SHT_SYMTAB,
         .contents = table,
         .link = strtab,
         .entry_size = sizeof(Elf64_Sym)});
  b.Add({.name = ".dynsym",
         .type = SHT_DYNSYM,
         .contents = table,
         .link = strtab,
         .entry_size = sizeof(Elf64_Sym)});
  StatusOr<ElfModule> module = ParseFixture(b.Build());
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  // The two real functions (the tables list them twice: kept once); the one whose name is outside
  // the table is left out of both tables.
  EXPECT_EQ(module->SymbolCount(), names.size());
  EXPECT_FALSE(module->FindSymbol(0x1080 + 1).has_value());
}

// L3: 80 symbol table headers that all point at one symbol table and one string table. The
// string table was read and appended once per header (4.2 GiB for a 64 MiB file); it must be
// read once, and the module must hold about one copy.
TEST(ElfModuleTest, SymbolTablesSharingOneStringTableAreReadOnce) {
  std::vector<std::string> names(9);
  for (size_t i = 0; i < 8; ++i) names[i] = "function_" + std::to_string(i);
  names[8] = std::string(size_t{1} << 20, 'x');  // a 1 MiB name
  ElfBuilder b;
  const uint32_t text = AddText(b);
  std::vector<uint8_t> strings;
  std::vector<uint8_t> table = FunctionSymbols(names, static_cast<uint16_t>(text), strings);
  const uint32_t strtab = b.Add({.name = ".strtab", .type = SHT_STRTAB, .contents = strings});
  const uint32_t symtab = b.Add({.name = ".symtab",
                                 .type = SHT_SYMTAB,
                                 .contents = table,
                                 .link = strtab,
                                 .entry_size = sizeof(Elf64_Sym)});
  for (int i = 0; i < 79; ++i) {
    b.AddAlias(
        {.name = ".symtab", .type = SHT_SYMTAB, .link = strtab, .entry_size = sizeof(Elf64_Sym)},
        symtab);
  }
  std::vector<uint8_t> image = b.Build();
  ASSERT_LT(image.size(), size_t{2} << 20);

  CountingByteSource source(image);
  StatusOr<ElfModule> module = ElfModule::Parse(source);
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  EXPECT_LT(source.BytesRead(), uint64_t{3} << 20) << "the string table was read more than once";
  EXPECT_LT(module->MemoryBytes(), size_t{3} << 20);
  EXPECT_EQ(module->SymbolCount(), names.size());
  std::optional<SymbolMatch> match = module->FindSymbol(0x1010 + 3);
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->name, "function_1");
}

// Distinct symbol tables whose total exceeds the per-module byte cap refuse the module, with a
// reason, instead of allocating past it.
TEST(ElfModuleTest, ModuleOverTheByteCapIsRefusedWithAReason) {
  ElfBuilder b;
  const uint32_t text = AddText(b);
  std::vector<uint8_t> strings;
  std::vector<uint8_t> table =
      FunctionSymbols({std::string(size_t{64} << 10, 'y')}, static_cast<uint16_t>(text), strings);
  for (int i = 0; i < 8; ++i) {
    const uint32_t strtab = b.Add({.name = ".strtab", .type = SHT_STRTAB, .contents = strings});
    b.Add({.name = ".symtab",
           .type = SHT_SYMTAB,
           .contents = table,
           .link = strtab,
           .entry_size = sizeof(Elf64_Sym)});
  }
  const std::vector<uint8_t> image = b.Build();
  StatusOr<ElfModule> within = ParseFixture(image, {.max_module_bytes = 4 << 20});
  ASSERT_TRUE(within.ok()) << within.status().ToString();

  CountingByteSource source(image);
  StatusOr<ElfModule> refused = ElfModule::Parse(source, {.max_module_bytes = 256 << 10});
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("per-module cap"), std::string::npos)
      << refused.status().message();
  EXPECT_LE(source.BytesRead(), uint64_t{256} << 10);
}

TEST(ElfModuleTest, MoreFunctionSymbolsThanTheCapRefuseTheModule) {
  ElfBuilder b;
  const uint32_t text = AddText(b);
  std::vector<uint8_t> strings;
  std::vector<uint8_t> table =
      FunctionSymbols({"a", "b", "c"}, static_cast<uint16_t>(text), strings);
  const uint32_t strtab = b.Add({.name = ".strtab", .type = SHT_STRTAB, .contents = strings});
  b.Add({.name = ".symtab",
         .type = SHT_SYMTAB,
         .contents = table,
         .link = strtab,
         .entry_size = sizeof(Elf64_Sym)});
  const std::vector<uint8_t> image = b.Build();
  EXPECT_TRUE(ParseFixture(image, {.max_symbols = 3}).ok());
  EXPECT_EQ(ParseFixture(image, {.max_symbols = 2}).status().code(),
            StatusCode::kResourceExhausted);
}

// A header may claim 60 MiB in a file of a few KiB: nothing is allocated for bytes the file does
// not hold (under a 1 MiB cap the module still parses; the section is left out with a note).
TEST(ElfModuleTest, SectionClaimingBytesPastTheEndOfTheFileIsLeftOutUnallocated) {
  ElfBuilder b;
  AddText(b);
  b.Add({.name = ".eh_frame", .contents = std::vector<uint8_t>(16, 0)});
  std::vector<uint8_t> image = b.Build();
  // Patch .eh_frame's sh_size (section 2) to 60 MiB.
  Elf64_Ehdr eh;
  std::memcpy(&eh, image.data(), sizeof eh);
  Elf64_Shdr sh;
  const size_t at = eh.e_shoff + 2 * sizeof(Elf64_Shdr);
  std::memcpy(&sh, image.data() + at, sizeof sh);
  sh.sh_size = uint64_t{60} << 20;
  std::memcpy(image.data() + at, &sh, sizeof sh);

  StatusOr<ElfModule> module = ParseFixture(image, {.max_module_bytes = 1 << 20});
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  EXPECT_FALSE(module->HasEhFrame());
  bool noted = false;
  for (const std::string& note : module->Notes()) {
    noted = noted || note.find("past the end") != std::string::npos;
  }
  EXPECT_TRUE(noted);
}

}  // namespace
}  // namespace ephemera::stacks
