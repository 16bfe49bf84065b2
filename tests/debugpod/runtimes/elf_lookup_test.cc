#include "debugpod/runtimes/elf_lookup.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "debugpod/stacks/file_byte_source.h"

// A data object with a known value and an unusual name, for the lookup to find in this very test
// binary (a real file built by the real toolchain).
extern "C" {
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
[[gnu::used]] uint64_t ephemera_elf_lookup_marker = 0x5eed5eed5eed5eedULL;
}

namespace ephemera::runtimes {
namespace {

std::unique_ptr<stacks::FileByteSource> SelfImage() {
  StatusOr<std::unique_ptr<stacks::FileByteSource>> image =
      stacks::FileByteSource::Open("/proc/self/exe");
  EXPECT_TRUE(image.ok()) << image.status().ToString();
  return image.ok() ? std::move(*image) : nullptr;
}

TEST(ElfLookupTest, FindsADataSymbolAndReadsItsBytesFromTheFile) {
  std::unique_ptr<stacks::FileByteSource> image = SelfImage();
  ASSERT_NE(image, nullptr);
  StatusOr<ElfLookup> elf = ElfLookup::Parse(*image);
  ASSERT_TRUE(elf.ok()) << elf.status().ToString();
  const std::array<std::string_view, 2> names = {"ephemera_elf_lookup_marker", "no_such_symbol"};
  auto found = elf->FindSymbols(names);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  const ElfSymbol& marker = found->at("ephemera_elf_lookup_marker");
  EXPECT_EQ(marker.type, STT_OBJECT);
  EXPECT_EQ(marker.size, sizeof(uint64_t));
  // The file holds the initial value at the symbol's address.
  uint64_t in_file = 0;
  ASSERT_TRUE(
      elf->ReadVirtual(marker.value,
                       std::span<uint8_t>(reinterpret_cast<uint8_t*>(&in_file), sizeof in_file))
          .ok());
  EXPECT_EQ(in_file, 0x5eed5eed5eed5eedULL);
  // And the running copy is at value + load bias.
  uint64_t bias = reinterpret_cast<uint64_t>(&ephemera_elf_lookup_marker) - marker.value;
  EXPECT_EQ(bias % 4096, 0u);
  EXPECT_EQ(elf->IsPositionIndependent(), bias != 0);
}

TEST(ElfLookupTest, SectionsByNameAndTheirBounds) {
  std::unique_ptr<stacks::FileByteSource> image = SelfImage();
  ASSERT_NE(image, nullptr);
  StatusOr<ElfLookup> elf = ElfLookup::Parse(*image);
  ASSERT_TRUE(elf.ok());
  const ElfSection* text = elf->Section(".text");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->type, SHT_PROGBITS);
  EXPECT_GT(text->size, 0u);
  EXPECT_EQ(elf->Section(".no-such-section"), nullptr);
  std::array<uint8_t, 8> out{};
  EXPECT_TRUE(elf->ReadSection(*text, text->size - 8, out).ok());
  EXPECT_EQ(elf->ReadSection(*text, text->size - 4, out).code(), StatusCode::kDataLoss);
  const ElfSection* bss = elf->Section(".bss");
  ASSERT_NE(bss, nullptr);
  EXPECT_EQ(elf->ReadSection(*bss, 0, std::span<uint8_t>(out.data(), 1)).code(),
            StatusCode::kDataLoss);
  EXPECT_FALSE(elf->LoadSegments().empty());
}

TEST(ElfLookupTest, RefusesWhatIsNotElfAndTooManySections) {
  const std::vector<uint8_t> text(128, 'x');
  stacks::MemoryByteSource not_elf(text);
  EXPECT_EQ(ElfLookup::Parse(not_elf).status().code(), StatusCode::kInvalidArgument);

  std::vector<uint8_t> header(sizeof(Elf64_Ehdr), 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_machine = EM_X86_64;
  eh.e_shnum = 60000;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  std::memcpy(header.data(), &eh, sizeof eh);
  stacks::MemoryByteSource many(header);
  EXPECT_EQ(ElfLookup::Parse(many).status().code(), StatusCode::kResourceExhausted);
  eh.e_machine = EM_AARCH64;
  std::memcpy(header.data(), &eh, sizeof eh);
  stacks::MemoryByteSource arm(header);
  EXPECT_EQ(ElfLookup::Parse(arm).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ephemera::runtimes
