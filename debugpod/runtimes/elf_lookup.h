// ElfLookup: what a language-runtime reader needs from an executable or shared library that
// stack symbolization does not: sections by name (.gopclntab, .go.buildinfo, .PyRuntime, .data),
// the PT_LOAD segments, and the address of named symbols of any type (runtime.allgs and _PyRuntime
// are data objects, which stacks::ElfModule does not keep). Reads through a borrowed ByteSource;
// every size the file states is bounded by ElfLookupLimits, since the file is the target's.
// Immutable after Parse (thread-safe), as long as the ByteSource is.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_ELF_LOOKUP_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_ELF_LOOKUP_H_

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "debugpod/stacks/byte_source.h"
#include "debugpod/stacks/elf_module.h"

namespace ephemera::runtimes {

struct ElfLookupLimits {
  size_t max_sections = 4096;
  uint64_t max_string_table_bytes = 64ull << 20;    // .shstrtab, .strtab, .dynstr each
  uint64_t max_symbol_table_bytes = 256ull << 20;   // .symtab, .dynsym each, read in chunks
  uint64_t max_symbol_lookup_bytes = 384ull << 20;  // read by one FindSymbols, tables and strings
};

struct ElfSection {
  std::string name;
  uint32_t type = 0;     // sh_type
  uint64_t flags = 0;    // sh_flags
  uint64_t address = 0;  // sh_addr (ELF virtual address; add the load bias for a runtime address)
  uint64_t offset = 0;   // sh_offset in the file
  uint64_t size = 0;     // sh_size
  uint32_t link = 0;     // sh_link: for a symbol table, the index of its string table
};

struct ElfSymbol {
  uint64_t value = 0;  // st_value: an ELF virtual address
  uint64_t size = 0;
  uint8_t type = 0;  // ELF64_ST_TYPE: STT_OBJECT, STT_FUNC, …
};

class ElfLookup {
 public:
  // Parses the ELF header, program headers and section headers of `image` (borrowed; it must
  // outlive the ElfLookup). InvalidArgument if not ELF, FailedPrecondition if not ELF64 LE x86-64,
  // DataLoss if the headers are truncated, ResourceExhausted past `limits`.
  static StatusOr<ElfLookup> Parse(const stacks::ByteSource& image,
                                   const ElfLookupLimits& limits = {});

  const std::vector<ElfSection>& Sections() const { return sections_; }
  // The first section called `name`, or nullptr.
  const ElfSection* Section(std::string_view name) const;
  const std::vector<stacks::LoadSegment>& LoadSegments() const { return segments_; }
  bool IsPositionIndependent() const { return position_independent_; }  // e_type ET_DYN

  // Reads `out.size()` bytes at `offset` inside `section` (DataLoss past its end or the file's).
  Status ReadSection(const ElfSection& section, uint64_t offset, std::span<uint8_t> out) const;
  // Reads the bytes the file holds for ELF virtual address range [vaddr, vaddr + out.size()) from
  // the PT_LOAD segment that covers it (NotFound if none does, or the range is in .bss).
  Status ReadVirtual(uint64_t vaddr, std::span<uint8_t> out) const;

  // Looks up each of `names` in .symtab, then .dynsym (the first definition wins; undefined
  // symbols are skipped), in one pass over each table. Names not found are absent from the map.
  // Only the first SHT_SYMTAB and the first SHT_DYNSYM are read (ELF allows one of each);
  // ResourceExhausted past max_symbol_table_bytes, max_string_table_bytes or, all together,
  // max_symbol_lookup_bytes.
  StatusOr<std::map<std::string, ElfSymbol, std::less<>>> FindSymbols(
      std::span<const std::string_view> names) const;

 private:
  ElfLookup(const stacks::ByteSource& image, ElfLookupLimits limits)
      : image_(&image), limits_(limits) {}

  const stacks::ByteSource* image_;
  ElfLookupLimits limits_;
  std::vector<ElfSection> sections_;
  std::vector<stacks::LoadSegment> segments_;
  bool position_independent_ = false;
};

}  // namespace ephemera::runtimes

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_ELF_LOOKUP_H_
