// ElfModule: what stack capture needs from one ELF64 x86-64 image: its loadable segments (to turn a
// runtime address into an ELF virtual address, PIE-aware), its function symbols (.symtab and
// .dynsym, for the nearest preceding symbol) and its call-frame information (.eh_frame with
// .eh_frame_hdr, and .debug_frame, zlib-compressed or not). Parsing is pure over a ByteSource and
// reads only the headers and those sections, each capped by ElfLimits. An ElfModule is immutable
// after Parse (thread-safe).
#ifndef EPHEMERA_DEBUGPOD_STACKS_ELF_MODULE_H_
#define EPHEMERA_DEBUGPOD_STACKS_ELF_MODULE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "debugpod/stacks/byte_source.h"
#include "debugpod/stacks/call_frame_info.h"

namespace ephemera::stacks {

// Bounds on what one module may cost; the file's contents are hostile, so every allocation its
// sizes drive is counted. Only headers and the symbol, string, note and CFI sections are read.
struct ElfLimits {
  uint64_t max_file_bytes = 4ull << 30;      // larger files are not parsed at all
  uint64_t max_section_bytes = 64ull << 20;  // per section, after decompression; larger: left out
  // What one Parse may hold at once: the section header table, every section read (compressed and
  // decompressed copies), the symbol names, the symbol index and the CFI indexes, each charged
  // before it is allocated and refunded when freed. A module that needs more is refused
  // (ResourceExhausted). Not counted: an FDE index while Create builds it (charged right after,
  // at most 1.5 times max_section_bytes) and the moment a growing buffer is copied.
  uint64_t max_module_bytes = 128ull << 20;
  // Function symbols kept; a module with more is refused (ResourceExhausted) rather than
  // symbolized from an arbitrary subset.
  size_t max_symbols = size_t{1} << 22;
};

struct LoadSegment {
  uint64_t offset = 0;  // p_offset
  uint64_t vaddr = 0;   // p_vaddr
  uint64_t file_size = 0;
  uint64_t mem_size = 0;
  bool executable = false;
};

// .gnu_debuglink: the file name of this image's separate debug file and that file's CRC-32.
struct GnuDebugLink {
  std::string file_name;  // a bare name, no directory
  uint32_t crc = 0;
};

// A symbol match: the (mangled) name and the distance from the symbol's start.
struct SymbolMatch {
  std::string_view name;  // borrowed from the ElfModule
  uint64_t offset = 0;
};

class ElfModule {
 public:
  // Parses `image`. InvalidArgument if it is not an ELF file, FailedPrecondition if it is ELF but
  // not 64-bit little-endian x86-64, DataLoss if headers are truncated, ResourceExhausted if the
  // file or what it would cost exceeds `limits` (max_file_bytes, max_module_bytes, max_symbols).
  // Sections that are missing, larger than max_section_bytes or malformed are left out (see
  // Notes()), they do not fail the parse. A symbol table listed more than once, or string tables
  // shared between symbol tables, are read once; at most 16 symbol tables are read.
  static StatusOr<ElfModule> Parse(const ByteSource& image, const ElfLimits& limits = {});

  // The load bias of a mapping of this file that starts at runtime address `map_start` with file
  // offset `map_offset` (both as in /proc/<pid>/maps): runtime address = ELF vaddr + bias. Only
  // segments whose executable flag equals `executable` are considered, because one file page can be
  // mapped twice (the page a read-only and a writable segment share). nullopt if none covers it.
  std::optional<uint64_t> LoadBias(uint64_t map_start, uint64_t map_offset,
                                   bool executable = true) const;

  // The function symbol at or nearest before `vaddr`; nullopt if there is none, or if the nearest
  // one has a known size and `vaddr` lies beyond it.
  std::optional<SymbolMatch> FindSymbol(uint64_t vaddr) const;

  // The CFI row for `vaddr` from .eh_frame, else .debug_frame. NotFound if neither covers it.
  StatusOr<UnwindRow> FindUnwindRow(uint64_t vaddr) const;

  const std::vector<LoadSegment>& LoadSegments() const { return load_segments_; }
  size_t SymbolCount() const { return symbols_.size(); }
  bool HasEhFrame() const { return !eh_frame_.IsEmpty(); }
  bool HasDebugFrame() const { return !debug_frame_.IsEmpty(); }
  bool IsPositionIndependent() const { return position_independent_; }
  // Whether the symbols came from a .symtab (not only .dynsym, as in a stripped file).
  bool HasSymtab() const { return has_symtab_; }
  // Where the separate debug file is, if the image says (.gnu_debuglink).
  const std::optional<GnuDebugLink>& DebugLink() const { return debug_link_; }
  // The GNU build ID (.note.gnu.build-id) in lower-case hex; empty if there is none.
  const std::string& BuildId() const { return build_id_; }

  // Takes the function symbols of `debug`, this image's separate debug file, when it has a
  // .symtab, and its .debug_frame when this image has no call-frame information. `origin` names
  // the debug file in Notes(). The caller checks that `debug` belongs to this image.
  void AdoptDebugFile(ElfModule&& debug, std::string_view origin);
  // Why a section was left out ("no .symtab", ".debug_frame: unsupported compression"), for
  // reports.
  const std::vector<std::string>& Notes() const { return notes_; }
  // Heap and object bytes this module holds (symbols, names, CFI and their indexes), for the
  // per-process budget (ElfCodeMap).
  size_t MemoryBytes() const;

 private:
  struct Symbol {
    uint64_t address;
    uint64_t size;
    uint32_t name;  // offset into names_
    uint8_t rank;   // lower wins among symbols at the same address
  };

  std::vector<LoadSegment> load_segments_;
  std::vector<Symbol> symbols_;  // sorted by address, one per address
  std::vector<char> names_;      // NUL-terminated names, one string table after another
  CallFrameInfo eh_frame_ = CallFrameInfo::Create(CfiFormat::kEhFrame, {}, 0);
  CallFrameInfo debug_frame_ = CallFrameInfo::Create(CfiFormat::kDebugFrame, {}, 0);
  bool position_independent_ = false;
  bool has_symtab_ = false;
  std::optional<GnuDebugLink> debug_link_;
  std::string build_id_;
  std::vector<std::string> notes_;
};

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_ELF_MODULE_H_
