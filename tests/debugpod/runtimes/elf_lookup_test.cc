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

// Counts the bytes read through it.
class CountingByteSource final : public stacks::ByteSource {
 public:
  explicit CountingByteSource(std::span<const uint8_t> bytes) : inner_(bytes) {}
  uint64_t Size() const override { return inner_.Size(); }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    bytes_read_ += out.size();
    return inner_.ReadAt(offset, out);
  }
  uint64_t BytesRead() const { return bytes_read_; }
  void Reset() { bytes_read_ = 0; }

 private:
  stacks::MemoryByteSource inner_;
  mutable uint64_t bytes_read_ = 0;
};

// An ELF file with a 4 KiB .strtab and three SHT_SYMTAB sections that all link it; only the third
// defines "wanted".
std::vector<uint8_t> ThreeSymbolTables() {
  constexpr size_t kStrtabBytes = 4096;
  constexpr size_t kSymbols = 64;
  const std::string shstrtab = std::string("\0.shstrtab\0.strtab\0.symtab\0", 26);
  std::vector<uint8_t> out(sizeof(Elf64_Ehdr), 0);
  auto append = [&](const void* data, size_t size) {
    size_t at = out.size();
    out.resize(at + size);
    std::memcpy(out.data() + at, data, size);
    return at;
  };
  size_t shstrtab_at = append(shstrtab.data(), shstrtab.size());
  std::vector<char> strtab(kStrtabBytes, '\0');
  std::memcpy(strtab.data() + 1, "wanted", 7);
  size_t strtab_at = append(strtab.data(), strtab.size());
  std::vector<size_t> symtab_at;
  for (int t = 0; t < 3; ++t) {
    std::vector<Elf64_Sym> syms(kSymbols, Elf64_Sym{});
    if (t == 2) {
      syms[1].st_name = 1;
      syms[1].st_shndx = 1;
      syms[1].st_value = 0x1234;
      syms[1].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
    }
    symtab_at.push_back(append(syms.data(), syms.size() * sizeof(Elf64_Sym)));
  }
  std::vector<Elf64_Shdr> sh(6, Elf64_Shdr{});
  auto header = [](uint32_t name, uint32_t type, uint64_t offset, uint64_t size, uint32_t link) {
    Elf64_Shdr h{};
    h.sh_name = name;
    h.sh_type = type;
    h.sh_offset = offset;
    h.sh_size = size;
    h.sh_link = link;
    return h;
  };
  sh[1] = header(1, SHT_STRTAB, shstrtab_at, 26, 0);
  sh[2] = header(11, SHT_STRTAB, strtab_at, kStrtabBytes, 0);
  for (size_t t = 0; t < 3; ++t) {
    sh[3 + t] = header(19, SHT_SYMTAB, symtab_at[t], kSymbols * sizeof(Elf64_Sym), 2);
  }
  size_t shoff = append(sh.data(), sh.size() * sizeof(Elf64_Shdr));
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_shoff = shoff;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 6;
  eh.e_shstrndx = 1;
  std::memcpy(out.data(), &eh, sizeof eh);
  return out;
}

TEST(ElfLookupTest, ReadsOnlyTheFirstSymbolTable) {
  const std::vector<uint8_t> bytes = ThreeSymbolTables();
  CountingByteSource image(bytes);
  StatusOr<ElfLookup> elf = ElfLookup::Parse(image);
  ASSERT_TRUE(elf.ok()) << elf.status().ToString();
  image.Reset();
  const std::array<std::string_view, 1> names = {"wanted"};
  auto found = elf->FindSymbols(names);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_TRUE(found->empty());  // defined only in the third, ignored, table
  EXPECT_EQ(image.BytesRead(), 4096u + 64 * sizeof(Elf64_Sym));
}

TEST(ElfLookupTest, SymbolLookupIsBoundedInTotalBytes) {
  const std::vector<uint8_t> bytes = ThreeSymbolTables();
  CountingByteSource image(bytes);
  ElfLookupLimits limits;
  limits.max_symbol_lookup_bytes = 4096;  // the string table fits, the symbols do not
  StatusOr<ElfLookup> elf = ElfLookup::Parse(image, limits);
  ASSERT_TRUE(elf.ok()) << elf.status().ToString();
  image.Reset();
  const std::array<std::string_view, 1> names = {"wanted"};
  EXPECT_EQ(elf->FindSymbols(names).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(image.BytesRead(), 0u);
}

}  // namespace
}  // namespace ephemera::runtimes
