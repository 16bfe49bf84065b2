#include "debugpod/stacks/elf_module.h"

#include <elf.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/hash.h"

namespace ephemera::stacks {
namespace {

struct Section {
  Elf64_Shdr header;
  std::string_view name;
};

template <typename T>
Status ReadStruct(const ByteSource& image, uint64_t offset, T& out) {
  return image.ReadAt(offset, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&out), sizeof(T)));
}

// At most this many symbol tables (.symtab, .dynsym) are read per module; real files have two.
constexpr size_t kMaxSymbolTables = 16;

// What one parse may hold at once (ElfLimits::max_module_bytes). Every buffer whose size the file
// chooses is charged before it is allocated and refunded when it is freed, so the live total stays
// below the limit. Once a charge fails the budget stays exhausted and the module is refused.
class ByteBudget {
 public:
  explicit ByteBudget(uint64_t limit) : limit_(limit), left_(limit) {}

  Status Charge(uint64_t bytes, std::string_view what) {
    if (exhausted_ || bytes > left_) {
      if (!exhausted_) {
        exhausted_ = true;
        status_ =
            ResourceExhaustedError("module needs more than " + std::to_string(limit_) +
                                   " bytes (the per-module cap), reached at " + std::string(what));
      }
      return status_;
    }
    left_ -= bytes;
    return OkStatus();
  }
  void Refund(uint64_t bytes) { left_ += std::min(bytes, limit_ - left_); }
  bool Exhausted() const { return exhausted_; }
  const Status& Refusal() const { return status_; }

 private:
  uint64_t limit_;
  uint64_t left_;
  bool exhausted_ = false;
  Status status_;
};

// Refunds a transient buffer to the budget when it goes out of scope. A buffer moved into the
// module by then holds no capacity, so what the module keeps stays charged.
class Refunder {
 public:
  Refunder(ByteBudget& budget, const std::vector<uint8_t>& bytes)
      : budget_(budget), bytes_(bytes) {}
  ~Refunder() { budget_.Refund(bytes_.capacity()); }
  Refunder(const Refunder&) = delete;
  Refunder& operator=(const Refunder&) = delete;

 private:
  ByteBudget& budget_;
  const std::vector<uint8_t>& bytes_;
};

// Whether the file holds all `h.sh_size` bytes the header claims, and they are within the
// per-section cap. Checked before anything is allocated for them.
Status CheckSectionBounds(const ByteSource& image, const Elf64_Shdr& h, const ElfLimits& limits) {
  if (h.sh_type == SHT_NOBITS) return NotFoundError("section has no contents in this file");
  if (h.sh_size > limits.max_section_bytes) return ResourceExhaustedError("section too large");
  if (h.sh_offset > image.Size() || image.Size() - h.sh_offset < h.sh_size) {
    return DataLossError("section runs past the end of the file");
  }
  return OkStatus();
}

// The contents of `section`, decompressed when SHF_COMPRESSED (zlib) or named .zdebug_* (the older
// GNU "ZLIB" + big-endian size framing). The result is charged to `budget`; the caller refunds it
// if it does not keep it.
StatusOr<std::vector<uint8_t>> ReadSection(const ByteSource& image, const Section& section,
                                           const ElfLimits& limits, ByteBudget& budget) {
  const Elf64_Shdr& h = section.header;
  EPHEMERA_RETURN_IF_ERROR(CheckSectionBounds(image, h, limits));
  EPHEMERA_RETURN_IF_ERROR(budget.Charge(h.sh_size, section.name));
  std::vector<uint8_t> raw(static_cast<size_t>(h.sh_size));
  if (Status read = image.ReadAt(h.sh_offset, raw); !read.ok()) {
    budget.Refund(raw.size());
    return read;
  }
  const bool zdebug = section.name.starts_with(".zdebug");
  if ((h.sh_flags & SHF_COMPRESSED) == 0 && !zdebug) return raw;
  // Only the decompressed copy is returned; the compressed one is freed (and refunded) here.
  const Refunder compressed(budget, raw);
  uint64_t out_size = 0;
  size_t header_size = 0;
  if (!zdebug) {
    Elf64_Chdr ch;
    if (raw.size() < sizeof ch) return DataLossError("compressed section header truncated");
    std::memcpy(&ch, raw.data(), sizeof ch);
    if (ch.ch_type != ELFCOMPRESS_ZLIB) return InvalidArgumentError("unsupported compression");
    out_size = ch.ch_size;
    header_size = sizeof ch;
  } else {
    if (raw.size() < 12 || std::memcmp(raw.data(), "ZLIB", 4) != 0) {
      return DataLossError(".zdebug section header malformed");
    }
    for (size_t i = 4; i < 12; ++i) out_size = (out_size << 8) | raw[i];
    header_size = 12;
  }
  if (out_size > limits.max_section_bytes) return ResourceExhaustedError("section too large");
  EPHEMERA_RETURN_IF_ERROR(budget.Charge(out_size, section.name));
  std::vector<uint8_t> out(static_cast<size_t>(out_size));
  uLongf out_len = static_cast<uLongf>(out.size());
  int rc = uncompress(out.data(), &out_len, raw.data() + header_size,
                      static_cast<uLong>(raw.size() - header_size));
  if (rc != Z_OK || out_len != out.size()) {
    budget.Refund(out.size());
    return DataLossError("section does not decompress");
  }
  return out;
}

// Appends the string table `section` to `names` with a terminating NUL and returns its size.
// Uncompressed tables (all that linkers write) are read straight into `names`, so the names are
// held once; compressed ones go through ReadSection.
StatusOr<uint64_t> AppendStrings(const ByteSource& image, const Section& section,
                                 const ElfLimits& limits, ByteBudget& budget,
                                 std::vector<char>& names) {
  const Elf64_Shdr& h = section.header;
  const size_t base = names.size();
  constexpr uint64_t kMaxNames = UINT32_MAX;  // Symbol::name is a 32-bit offset
  if ((h.sh_flags & SHF_COMPRESSED) == 0 && !section.name.starts_with(".zdebug")) {
    EPHEMERA_RETURN_IF_ERROR(CheckSectionBounds(image, h, limits));
    if (h.sh_size + 1 > kMaxNames - base) return ResourceExhaustedError("too many symbol names");
    EPHEMERA_RETURN_IF_ERROR(budget.Charge(h.sh_size + 1, section.name));
    names.reserve(base + h.sh_size + 1);
    names.resize(base + h.sh_size + 1);
    Status read = image.ReadAt(
        h.sh_offset,
        std::span<uint8_t>(reinterpret_cast<uint8_t*>(names.data() + base), h.sh_size));
    if (!read.ok()) {
      names.resize(base);
      budget.Refund(h.sh_size + 1);
      return read;
    }
    names.back() = '\0';
    return h.sh_size;
  }
  StatusOr<std::vector<uint8_t>> bytes = ReadSection(image, section, limits, budget);
  if (!bytes.ok()) return bytes.status();
  const Refunder transient(budget, *bytes);
  if (bytes->size() + 1 > kMaxNames - base) return ResourceExhaustedError("too many symbol names");
  EPHEMERA_RETURN_IF_ERROR(budget.Charge(bytes->size() + 1, section.name));
  names.reserve(base + bytes->size() + 1);
  names.insert(names.end(), bytes->begin(), bytes->end());
  names.push_back('\0');
  return bytes->size();
}

// The GNU build ID from the contents of .note.gnu.build-id, in lower-case hex: the first note,
// which must be named "GNU" and of type NT_GNU_BUILD_ID with a 1 to 64 byte descriptor lying
// wholly inside the section. Empty otherwise.
std::string ParseBuildIdNote(std::span<const uint8_t> note) {
  Elf64_Nhdr nh;
  if (note.size() < sizeof nh) return "";
  std::memcpy(&nh, note.data(), sizeof nh);
  if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 || nh.n_descsz == 0 || nh.n_descsz > 64) {
    return "";
  }
  // Name and descriptor are each padded to 4 bytes; check both lie inside before reading either.
  const size_t name = sizeof nh;
  const size_t desc = name + 4;
  if (note.size() < desc || note.size() - desc < nh.n_descsz) return "";
  if (std::memcmp(note.data() + name, "GNU", 4) != 0) return "";
  const auto id = note.subspan(desc, nh.n_descsz);
  return base::HexEncode(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

}  // namespace

StatusOr<ElfModule> ElfModule::Parse(const ByteSource& image, const ElfLimits& limits) {
  Elf64_Ehdr eh;
  if (image.Size() < EI_NIDENT) return InvalidArgumentError("not an ELF file (too short)");
  if (image.Size() > limits.max_file_bytes) {
    return ResourceExhaustedError("ELF file larger than " + std::to_string(limits.max_file_bytes) +
                                  " bytes");
  }
  unsigned char ident[EI_NIDENT];
  EPHEMERA_RETURN_IF_ERROR(image.ReadAt(0, std::span<uint8_t>(ident, EI_NIDENT)));
  if (std::memcmp(ident, ELFMAG, SELFMAG) != 0) return InvalidArgumentError("not an ELF file");
  if (ident[EI_CLASS] != ELFCLASS64 || ident[EI_DATA] != ELFDATA2LSB) {
    return FailedPreconditionError("only 64-bit little-endian ELF is supported");
  }
  if (Status s = ReadStruct(image, 0, eh); !s.ok()) return DataLossError("ELF header truncated");
  if (eh.e_machine != EM_X86_64) return FailedPreconditionError("only x86-64 ELF is supported");

  ElfModule module;
  module.position_independent_ = eh.e_type == ET_DYN;
  ByteBudget budget(limits.max_module_bytes);

  // Program headers: the loadable segments.
  if (eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0 && eh.e_phnum < 4096) {
    for (uint16_t i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph;
      if (!ReadStruct(image, eh.e_phoff + i * uint64_t{sizeof ph}, ph).ok()) {
        return DataLossError("program headers truncated");
      }
      if (ph.p_type != PT_LOAD) continue;
      module.load_segments_.push_back(
          {ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz, (ph.p_flags & PF_X) != 0});
    }
  }

  // Section headers and their names.
  std::vector<Section> sections;
  std::string section_names;
  if (eh.e_shoff != 0 && eh.e_shentsize == sizeof(Elf64_Shdr)) {
    uint64_t count = eh.e_shnum;
    uint64_t names_index = eh.e_shstrndx;
    Elf64_Shdr first;
    if (ReadStruct(image, eh.e_shoff, first).ok()) {
      if (count == 0) count = first.sh_size;
      if (names_index == SHN_XINDEX) names_index = first.sh_link;
    }
    if (count > 0 && count < (1u << 20) && count * sizeof(Elf64_Shdr) <= image.Size()) {
      EPHEMERA_RETURN_IF_ERROR(
          budget.Charge(count * (sizeof(Elf64_Shdr) + sizeof(Section)), "section headers"));
      std::vector<Elf64_Shdr> headers(static_cast<size_t>(count));
      if (!image
               .ReadAt(eh.e_shoff, std::span<uint8_t>(reinterpret_cast<uint8_t*>(headers.data()),
                                                      headers.size() * sizeof(Elf64_Shdr)))
               .ok()) {
        return DataLossError("section headers truncated");
      }
      sections.resize(headers.size());
      for (size_t i = 0; i < headers.size(); ++i) sections[i].header = headers[i];
      budget.Refund(headers.size() * sizeof(Elf64_Shdr));  // freed at the end of this block
    }
    if (names_index < sections.size()) {
      StatusOr<std::vector<uint8_t>> names =
          ReadSection(image, {sections[names_index].header, ".shstrtab"}, limits, budget);
      std::optional<Refunder> transient;
      if (names.ok()) transient.emplace(budget, *names);
      if (names.ok() && budget.Charge(names->size() + 1, ".shstrtab").ok()) {
        section_names.assign(names->begin(), names->end());
        section_names.push_back('\0');
        for (Section& s : sections) {
          if (s.header.sh_name < section_names.size()) {
            s.name = std::string_view(section_names.c_str() + s.header.sh_name);
          }
        }
      }
    }
  }
  if (budget.Exhausted()) return budget.Refusal();
  if (sections.empty()) module.notes_.push_back("no section headers");

  auto find_section = [&](std::string_view name) -> const Section* {
    for (const Section& s : sections) {
      if (s.name == name) return &s;
    }
    return nullptr;
  };
  // A section's contents; a failure leaves the section out, except that an exhausted budget
  // refuses the whole module (checked by the caller through budget.Exhausted()).
  auto read = [&](const Section& s) { return ReadSection(image, s, limits, budget); };

  // Call-frame information.
  if (const Section* eh_frame = find_section(".eh_frame")) {
    StatusOr<std::vector<uint8_t>> bytes = read(*eh_frame);
    if (bytes.ok()) {
      std::vector<uint8_t> table;
      uint64_t table_vaddr = 0;
      if (const Section* hdr = find_section(".eh_frame_hdr")) {
        StatusOr<std::vector<uint8_t>> hdr_bytes = read(*hdr);
        if (hdr_bytes.ok()) {
          table = std::move(*hdr_bytes);
          table_vaddr = hdr->header.sh_addr;
        }
      }
      const size_t section_bytes = bytes->size() + table.size();
      module.eh_frame_ =
          CallFrameInfo::Create(CfiFormat::kEhFrame, std::move(*bytes), eh_frame->header.sh_addr,
                                std::move(table), table_vaddr);
      // The FDE index, built by Create (at most 24 bytes per 16 section bytes).
      (void)budget.Charge(module.eh_frame_.MemoryBytes() - section_bytes, ".eh_frame index");
    } else {
      module.notes_.push_back(".eh_frame: " + bytes.status().message());
    }
  }
  if (budget.Exhausted()) return budget.Refusal();
  const Section* debug_frame = find_section(".debug_frame");
  if (!debug_frame) debug_frame = find_section(".zdebug_frame");
  if (debug_frame) {
    StatusOr<std::vector<uint8_t>> bytes = read(*debug_frame);
    if (bytes.ok()) {
      const size_t section_bytes = bytes->size();
      module.debug_frame_ = CallFrameInfo::Create(CfiFormat::kDebugFrame, std::move(*bytes), 0);
      (void)budget.Charge(module.debug_frame_.MemoryBytes() - section_bytes, ".debug_frame index");
    } else {
      module.notes_.push_back(".debug_frame: " + bytes.status().message());
    }
  }
  if (budget.Exhausted()) return budget.Refusal();
  if (!module.HasEhFrame() && !module.HasDebugFrame()) {
    module.notes_.push_back("no call-frame information");
  }

  // Where a separate debug file would be: .gnu_debuglink is "<name>\0", padding to 4, CRC-32.
  if (const Section* link = find_section(".gnu_debuglink")) {
    StatusOr<std::vector<uint8_t>> bytes = read(*link);
    if (bytes.ok()) {
      const Refunder transient(budget, *bytes);
      const auto nul = std::find(bytes->begin(), bytes->end(), uint8_t{0});
      const auto name_length = static_cast<size_t>(nul - bytes->begin());
      const size_t crc_offset = (name_length + 1 + 3) & ~size_t{3};
      GnuDebugLink debug_link;
      debug_link.file_name.assign(bytes->begin(), nul);
      if (nul != bytes->end() && name_length > 0 && crc_offset + 4 <= bytes->size() &&
          debug_link.file_name.find('/') == std::string::npos && debug_link.file_name != "." &&
          debug_link.file_name != "..") {
        std::memcpy(&debug_link.crc, bytes->data() + crc_offset, sizeof debug_link.crc);
        module.debug_link_ = std::move(debug_link);
      }
    }
  }
  // The build ID: one ELF note, name "GNU", type NT_GNU_BUILD_ID.
  if (const Section* note = find_section(".note.gnu.build-id")) {
    StatusOr<std::vector<uint8_t>> bytes = read(*note);
    if (bytes.ok()) {
      const Refunder transient(budget, *bytes);
      module.build_id_ = ParseBuildIdNote(*bytes);
    }
  }
  if (budget.Exhausted()) return budget.Refusal();

  // Function symbols from .symtab and .dynsym. Each distinct string table is appended to names_
  // once, however many symbol tables link to it, and a symbol table listed twice is read once.
  struct Range {
    uint64_t offset;
    uint64_t size;
    bool operator==(const Range&) const = default;
  };
  std::vector<Range> tables_read;
  // A string table already in names_: where it starts there and how many bytes it holds. The size
  // is what AppendStrings stored (decompressed, for a compressed table), never the section's size
  // on disk, which a hostile file can make larger than what was stored.
  struct AppendedStrings {
    Range range;
    size_t base = 0;
    uint64_t size = 0;
  };
  std::vector<AppendedStrings> strings_appended;
  bool have_symtab = false;
  for (const Section& s : sections) {
    uint32_t type = s.header.sh_type;
    if (type != SHT_SYMTAB && type != SHT_DYNSYM) continue;
    if (s.header.sh_entsize != sizeof(Elf64_Sym) || s.header.sh_link >= sections.size()) continue;
    const Range table_range{s.header.sh_offset, s.header.sh_size};
    if (std::find(tables_read.begin(), tables_read.end(), table_range) != tables_read.end()) {
      if (type == SHT_SYMTAB) have_symtab = true;
      continue;
    }
    if (tables_read.size() >= kMaxSymbolTables) {
      module.notes_.push_back("more than " + std::to_string(kMaxSymbolTables) +
                              " symbol tables; the rest are left out");
      break;
    }
    tables_read.push_back(table_range);
    const Section& string_section = sections[s.header.sh_link];
    const Range strings_range{string_section.header.sh_offset, string_section.header.sh_size};
    auto appended =
        std::find_if(strings_appended.begin(), strings_appended.end(),
                     [&](const AppendedStrings& e) { return e.range == strings_range; });
    StatusOr<std::vector<uint8_t>> table = read(s);
    if (!table.ok()) {
      if (budget.Exhausted()) return budget.Refusal();
      module.notes_.push_back(std::string(s.name) + ": " + table.status().message());
      continue;
    }
    const Refunder table_refund(budget, *table);  // indexed below, then freed
    // The string table's bytes, borrowed from names_ when another symbol table already brought
    // them in.
    size_t names_base = 0;
    uint64_t strings_size = 0;
    if (appended != strings_appended.end()) {
      names_base = appended->base;
      strings_size = appended->size;
    } else {
      names_base = module.names_.size();
      StatusOr<uint64_t> appended_size =
          AppendStrings(image, string_section, limits, budget, module.names_);
      if (!appended_size.ok()) {
        if (budget.Exhausted()) return budget.Refusal();
        module.notes_.push_back(std::string(s.name) + ": " + appended_size.status().message());
        continue;
      }
      strings_size = *appended_size;
      strings_appended.push_back({strings_range, names_base, strings_size});
    }
    if (type == SHT_SYMTAB) have_symtab = true;
    const char* names = module.names_.data() + names_base;
    size_t count = table->size() / sizeof(Elf64_Sym);
    EPHEMERA_RETURN_IF_ERROR(budget.Charge(count * sizeof(Symbol), "symbol index"));
    module.symbols_.reserve(module.symbols_.size() + count);
    for (size_t i = 1; i < count; ++i) {
      Elf64_Sym sym;
      std::memcpy(&sym, table->data() + i * sizeof sym, sizeof sym);
      unsigned sym_type = ELF64_ST_TYPE(sym.st_info);
      unsigned binding = ELF64_ST_BIND(sym.st_info);
      if (sym.st_value == 0 || sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE) continue;
      if (sym.st_name == 0 || sym.st_name >= strings_size ||
          names_base + sym.st_name >= module.names_.size()) {
        continue;
      }
      bool code = sym_type == STT_FUNC || sym_type == STT_GNU_IFUNC;
      if (sym_type == STT_NOTYPE && sym.st_shndx < sections.size()) {
        code = (sections[sym.st_shndx].header.sh_flags & SHF_EXECINSTR) != 0;
      }
      if (!code) continue;
      if (module.symbols_.size() >= limits.max_symbols) {
        return ResourceExhaustedError("module has more than " + std::to_string(limits.max_symbols) +
                                      " function symbols (the per-module cap)");
      }
      uint8_t rank = binding == STB_GLOBAL ? 0 : binding == STB_WEAK ? 2 : 4;
      if (names[sym.st_name] == '_') rank += 1;
      if (type == SHT_DYNSYM) rank += 6;
      module.symbols_.push_back(
          {sym.st_value, sym.st_size, static_cast<uint32_t>(names_base + sym.st_name), rank});
    }
  }
  module.has_symtab_ = have_symtab;
  if (!have_symtab) module.notes_.push_back("no .symtab (stripped); using .dynsym only");
  std::sort(module.symbols_.begin(), module.symbols_.end(), [](const Symbol& a, const Symbol& b) {
    return a.address != b.address ? a.address < b.address : a.rank < b.rank;
  });
  module.symbols_.erase(
      std::unique(module.symbols_.begin(), module.symbols_.end(),
                  [](const Symbol& a, const Symbol& b) { return a.address == b.address; }),
      module.symbols_.end());
  module.symbols_.shrink_to_fit();
  return module;
}

size_t ElfModule::MemoryBytes() const {
  size_t bytes = sizeof *this + names_.capacity() + symbols_.capacity() * sizeof(Symbol) +
                 eh_frame_.MemoryBytes() + debug_frame_.MemoryBytes() + build_id_.capacity();
  for (const std::string& note : notes_) bytes += note.capacity();
  if (debug_link_) bytes += debug_link_->file_name.capacity();
  return bytes;
}

void ElfModule::AdoptDebugFile(ElfModule&& debug, std::string_view origin) {
  bool adopted = false;
  if (debug.has_symtab_) {
    symbols_ = std::move(debug.symbols_);
    names_ = std::move(debug.names_);
    has_symtab_ = true;
    std::erase_if(notes_, [](const std::string& note) { return note.starts_with("no .symtab"); });
    adopted = true;
  }
  if (!HasEhFrame() && !HasDebugFrame() && debug.HasDebugFrame()) {
    debug_frame_ = std::move(debug.debug_frame_);
    std::erase(notes_, std::string("no call-frame information"));
    adopted = true;
  }
  if (adopted) notes_.push_back("symbols from " + std::string(origin));
}

std::optional<uint64_t> ElfModule::LoadBias(uint64_t map_start, uint64_t map_offset,
                                            bool executable) const {
  constexpr uint64_t kPageMask = ~uint64_t{0xfff};
  for (const LoadSegment& s : load_segments_) {
    uint64_t first = s.offset & kPageMask;
    if (s.executable != executable || s.file_size == 0 || map_offset < first ||
        map_offset >= s.offset + s.file_size) {
      continue;
    }
    // The file offset map_offset has ELF address s.vaddr + (map_offset - s.offset).
    return map_start - (s.vaddr - s.offset + map_offset);
  }
  return std::nullopt;
}

std::optional<SymbolMatch> ElfModule::FindSymbol(uint64_t vaddr) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), vaddr,
                             [](uint64_t v, const Symbol& s) { return v < s.address; });
  if (it == symbols_.begin()) return std::nullopt;
  --it;
  if (it->size > 0 && vaddr - it->address >= it->size) return std::nullopt;
  return SymbolMatch{std::string_view(names_.data() + it->name), vaddr - it->address};
}

StatusOr<UnwindRow> ElfModule::FindUnwindRow(uint64_t vaddr) const {
  if (HasEhFrame()) {
    StatusOr<UnwindRow> row = eh_frame_.FindRow(vaddr);
    if (row.ok() || row.status().code() != StatusCode::kNotFound || !HasDebugFrame()) return row;
  }
  if (HasDebugFrame()) return debug_frame_.FindRow(vaddr);
  return NotFoundError("module has no call-frame information");
}

}  // namespace ephemera::stacks
