#include "debugpod/runtimes/elf_lookup.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

namespace ephemera::runtimes {
namespace {

template <typename T>
Status ReadStruct(const stacks::ByteSource& image, uint64_t offset, T& out) {
  return image.ReadAt(offset, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&out), sizeof(T)));
}

// Symbols are read this many at a time, so a large .symtab never sits in memory whole.
constexpr size_t kSymbolsPerChunk = 4096;

}  // namespace

StatusOr<ElfLookup> ElfLookup::Parse(const stacks::ByteSource& image,
                                     const ElfLookupLimits& limits) {
  Elf64_Ehdr eh;
  if (image.Size() < sizeof eh) return InvalidArgumentError("not an ELF file: too short");
  EPHEMERA_RETURN_IF_ERROR(ReadStruct(image, 0, eh));
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
    return InvalidArgumentError("not an ELF file");
  }
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_machine != EM_X86_64) {
    return FailedPreconditionError("not a 64-bit little-endian x86-64 ELF file");
  }
  ElfLookup lookup(image, limits);
  lookup.position_independent_ = eh.e_type == ET_DYN;

  if (eh.e_phentsize == sizeof(Elf64_Phdr)) {
    for (uint16_t i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph;
      EPHEMERA_RETURN_IF_ERROR(ReadStruct(image, eh.e_phoff + uint64_t{i} * sizeof ph, ph));
      if (ph.p_type != PT_LOAD) continue;
      lookup.segments_.push_back({.offset = ph.p_offset,
                                  .vaddr = ph.p_vaddr,
                                  .file_size = ph.p_filesz,
                                  .mem_size = ph.p_memsz,
                                  .executable = (ph.p_flags & PF_X) != 0});
    }
  }

  if (eh.e_shnum == 0 || eh.e_shentsize != sizeof(Elf64_Shdr)) return lookup;
  if (eh.e_shnum > limits.max_sections) {
    return ResourceExhaustedError("more than " + std::to_string(limits.max_sections) +
                                  " section headers");
  }
  std::vector<Elf64_Shdr> headers(eh.e_shnum);
  for (size_t i = 0; i < headers.size(); ++i) {
    EPHEMERA_RETURN_IF_ERROR(ReadStruct(image, eh.e_shoff + i * sizeof(Elf64_Shdr), headers[i]));
  }
  std::string names;
  if (eh.e_shstrndx < headers.size()) {
    const Elf64_Shdr& strings = headers[eh.e_shstrndx];
    if (strings.sh_size > limits.max_string_table_bytes) {
      return ResourceExhaustedError(".shstrtab is larger than " +
                                    std::to_string(limits.max_string_table_bytes) + " bytes");
    }
    names.resize(strings.sh_size);
    EPHEMERA_RETURN_IF_ERROR(
        image.ReadAt(strings.sh_offset,
                     std::span<uint8_t>(reinterpret_cast<uint8_t*>(names.data()), names.size())));
  }
  lookup.sections_.reserve(headers.size());
  for (const Elf64_Shdr& h : headers) {
    ElfSection s{.name = {},
                 .type = h.sh_type,
                 .flags = h.sh_flags,
                 .address = h.sh_addr,
                 .offset = h.sh_offset,
                 .size = h.sh_size,
                 .link = h.sh_link};
    if (h.sh_name < names.size()) {
      const char* start = names.data() + h.sh_name;
      s.name.assign(start, strnlen(start, names.size() - h.sh_name));
    }
    lookup.sections_.push_back(std::move(s));
  }
  return lookup;
}

const ElfSection* ElfLookup::Section(std::string_view name) const {
  for (const ElfSection& s : sections_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Status ElfLookup::ReadSection(const ElfSection& section, uint64_t offset,
                              std::span<uint8_t> out) const {
  if (section.type == SHT_NOBITS) return DataLossError(section.name + " has no bytes in the file");
  if (offset > section.size || section.size - offset < out.size()) {
    return DataLossError("read past the end of " + section.name);
  }
  return image_->ReadAt(section.offset + offset, out);
}

Status ElfLookup::ReadVirtual(uint64_t vaddr, std::span<uint8_t> out) const {
  for (const stacks::LoadSegment& s : segments_) {
    if (vaddr < s.vaddr || vaddr - s.vaddr >= s.file_size) continue;
    if (s.file_size - (vaddr - s.vaddr) < out.size()) {
      return NotFoundError("range runs past the file bytes of its segment");
    }
    return image_->ReadAt(s.offset + (vaddr - s.vaddr), out);
  }
  return NotFoundError("no segment holds file bytes at this address");
}

StatusOr<std::map<std::string, ElfSymbol, std::less<>>> ElfLookup::FindSymbols(
    std::span<const std::string_view> names) const {
  std::map<std::string, ElfSymbol, std::less<>> found;
  uint64_t budget = limits_.max_symbol_lookup_bytes;
  auto charge = [&](const ElfSection& section) -> Status {
    if (section.size > budget) {
      return ResourceExhaustedError("symbol lookup would read more than " +
                                    std::to_string(limits_.max_symbol_lookup_bytes) + " bytes");
    }
    budget -= section.size;
    return OkStatus();
  };
  for (uint32_t wanted_type : {SHT_SYMTAB, SHT_DYNSYM}) {
    // ELF allows one table of each type; a file with more (each may name the same large string
    // table) must not multiply the reading.
    auto table_it = std::find_if(sections_.begin(), sections_.end(),
                                 [&](const ElfSection& s) { return s.type == wanted_type; });
    if (table_it == sections_.end() || found.size() == names.size()) continue;
    const ElfSection& table = *table_it;
    if (table.size > limits_.max_symbol_table_bytes) {
      return ResourceExhaustedError(table.name + " is larger than " +
                                    std::to_string(limits_.max_symbol_table_bytes) + " bytes");
    }
    const ElfSection* strings = table.link < sections_.size() ? &sections_[table.link] : nullptr;
    if (strings == nullptr || strings->type != SHT_STRTAB) continue;
    if (strings->size > limits_.max_string_table_bytes) {
      return ResourceExhaustedError(strings->name + " is larger than " +
                                    std::to_string(limits_.max_string_table_bytes) + " bytes");
    }
    EPHEMERA_RETURN_IF_ERROR(charge(*strings));
    EPHEMERA_RETURN_IF_ERROR(charge(table));
    std::string text(strings->size, '\0');
    EPHEMERA_RETURN_IF_ERROR(ReadSection(
        *strings, 0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), text.size())));
    size_t count = table.size / sizeof(Elf64_Sym);
    std::vector<Elf64_Sym> chunk;
    for (size_t first = 0; first < count; first += kSymbolsPerChunk) {
      size_t n = std::min(kSymbolsPerChunk, count - first);
      chunk.resize(n);
      EPHEMERA_RETURN_IF_ERROR(ReadSection(
          table, first * sizeof(Elf64_Sym),
          std::span<uint8_t>(reinterpret_cast<uint8_t*>(chunk.data()), n * sizeof(Elf64_Sym))));
      for (const Elf64_Sym& sym : chunk) {
        if (sym.st_shndx == SHN_UNDEF || sym.st_name >= text.size()) continue;
        const char* start = text.data() + sym.st_name;
        std::string_view name(start, strnlen(start, text.size() - sym.st_name));
        if (std::find(names.begin(), names.end(), name) == names.end()) continue;
        found.try_emplace(std::string(name),
                          ElfSymbol{.value = sym.st_value,
                                    .size = sym.st_size,
                                    .type = static_cast<uint8_t>(ELF64_ST_TYPE(sym.st_info))});
      }
    }
  }
  return found;
}

}  // namespace ephemera::runtimes
