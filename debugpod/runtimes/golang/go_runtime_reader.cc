#include "debugpod/runtimes/golang/go_runtime_reader.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "debugpod/procfs/maps.h"
#include "debugpod/runtimes/elf_lookup.h"
#include "debugpod/runtimes/golang/build_info.h"
#include "debugpod/runtimes/golang/go_layout.h"
#include "debugpod/runtimes/golang/goroutines.h"
#include "debugpod/runtimes/golang/pclntab.h"
#include "debugpod/runtimes/memory_reader.h"
#include "debugpod/stacks/file_byte_source.h"

namespace ephemera::runtimes::golang {
namespace {

constexpr size_t kBuildInfoReadBytes = size_t{16} * 1024;
constexpr size_t kForEachGCodeBytes = 96;
constexpr uint64_t kMaxModuledataScanBytes = 16ull << 20;

// A section of a ByteSource as a ByteSource of its own.
class SectionByteSource final : public stacks::ByteSource {
 public:
  SectionByteSource(const stacks::ByteSource& file, uint64_t offset, uint64_t size)
      : file_(file), offset_(offset), size_(size) {}
  uint64_t Size() const override { return size_; }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    if (offset > size_ || size_ - offset < out.size()) {
      return DataLossError("read past the end of the section");
    }
    return file_.ReadAt(offset_ + offset, out);
  }

 private:
  const stacks::ByteSource& file_;
  uint64_t offset_;
  uint64_t size_;
};

// The target's runtime.nanotime(): CLOCK_MONOTONIC, which a time namespace could offset (a
// container's time namespace is rare; the wait would then be off by that offset).
int64_t MonotonicNow() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// The load bias of a position-independent executable: where its first mapping (file offset 0,
// the executable's inode) starts, minus the ELF address of offset 0.
StatusOr<uint64_t> LoadBias(const procfs::ProcFs& proc, int pid, const ElfLookup& elf,
                            uint64_t inode) {
  if (!elf.IsPositionIndependent()) return uint64_t{0};
  StatusOr<std::string> maps = proc.ReadFile(pid, "maps");
  if (!maps.ok()) return maps.status().WithContext("reading maps for the load bias");
  uint64_t first_vaddr = ~uint64_t{0};
  for (const stacks::LoadSegment& segment : elf.LoadSegments()) {
    if (segment.offset == 0) first_vaddr = std::min(first_vaddr, segment.vaddr);
  }
  if (first_vaddr == ~uint64_t{0}) return DataLossError("no PT_LOAD segment at offset 0");
  StatusOr<std::vector<procfs::MapEntry>> entries = procfs::ParseMaps(*maps);
  if (!entries.ok()) return entries.status().WithContext("maps");
  for (const procfs::MapEntry& entry : *entries) {
    if (entry.offset == 0 && entry.inode == inode) return entry.start - first_vaddr;
  }
  return NotFoundError("the executable is not mapped");
}

// moduledata.gofunc of a stripped binary: find runtime.firstmoduledata in `data` as the
// word that points at the pclntab's header (moduledata.pcHeader, its first field), confirmed by
// moduledata.text; then read its gofunc. `read` reads runtime addresses (the file for a non-PIE
// binary, whose pointers need no relocation; the process's memory otherwise).
StatusOr<uint64_t> FindGoFunc(const ElfSection& data, uint64_t bias, uint64_t pclntab,
                              uint64_t text, const GoLayout& layout,
                              const std::function<Status(uint64_t, std::span<uint8_t>)>& read) {
  uint64_t size = std::min(data.size, kMaxModuledataScanBytes);
  std::vector<uint8_t> chunk(size_t{64} * 1024);
  for (uint64_t at = 0; at + 8 <= size; at += chunk.size() - 8) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), size - at));
    if (Status s = read(data.address + bias + at, std::span(chunk.data(), n)); !s.ok()) {
      return s;
    }
    for (size_t i = 0; i + 8 <= n; i += 8) {
      uint64_t word;
      std::memcpy(&word, chunk.data() + i, 8);
      if (word != pclntab + bias) continue;
      uint64_t moduledata = data.address + bias + at + i;
      uint64_t fields[2] = {};
      if (!read(moduledata + layout.moduledata_text,
                std::span(reinterpret_cast<uint8_t*>(fields), 8))
               .ok() ||
          fields[0] != text + bias) {
        continue;
      }
      if (!read(moduledata + layout.moduledata_gofunc,
                std::span(reinterpret_cast<uint8_t*>(fields + 1), 8))
               .ok() ||
          fields[1] < bias) {
        continue;
      }
      return fields[1] - bias;
    }
    if (n < chunk.size()) break;
  }
  return NotFoundError("runtime.firstmoduledata not found in " + data.name);
}

}  // namespace

std::vector<uint64_t> RipRelativeLoadTargets(std::span<const uint8_t> code, uint64_t address,
                                             size_t max_targets) {
  std::vector<uint64_t> targets;
  for (size_t i = 0; i + 7 <= code.size() && targets.size() < max_targets; ++i) {
    // REX.W, MOV r64 ← r/m64 (8B), ModRM mod=00 rm=101: [rip + disp32].
    if ((code[i] & 0xf8) != 0x48 || code[i + 1] != 0x8b || (code[i + 2] & 0xc7) != 0x05) {
      continue;
    }
    int32_t disp;
    std::memcpy(&disp, code.data() + i + 3, sizeof disp);
    uint64_t target = address + i + 7 + static_cast<uint64_t>(static_cast<int64_t>(disp));
    if (std::find(targets.begin(), targets.end(), target) == targets.end()) {
      targets.push_back(target);
    }
    i += 6;
  }
  return targets;
}

StatusOr<std::optional<RuntimeStacks>> GoRuntimeReader::Read(int pid, const RuntimeLimits& limits) {
  std::string exe = proc_root_ + "/" + std::to_string(pid) + "/exe";
  StatusOr<std::unique_ptr<stacks::FileByteSource>> file = stacks::FileByteSource::Open(exe);
  if (!file.ok()) return file.status().WithContext("go: opening the executable");
  StatusOr<ElfLookup> elf = ElfLookup::Parse(**file);
  if (!elf.ok()) return std::optional<RuntimeStacks>();  // not an ELF x86-64 program
  const ElfSection* buildinfo_section = elf->Section(".go.buildinfo");
  if (buildinfo_section == nullptr) return std::optional<RuntimeStacks>();
  std::vector<uint8_t> buildinfo_bytes(
      static_cast<size_t>(std::min<uint64_t>(buildinfo_section->size, kBuildInfoReadBytes)));
  if (!elf->ReadSection(*buildinfo_section, 0, buildinfo_bytes).ok()) {
    return std::optional<RuntimeStacks>();
  }
  StatusOr<GoBuildInfo> buildinfo = ParseBuildInfo(buildinfo_bytes, limits.max_string_bytes);
  if (!buildinfo.ok()) {
    if (buildinfo.status().code() == StatusCode::kInvalidArgument) {
      return std::optional<RuntimeStacks>();
    }
    return buildinfo.status().WithContext("go: not supported");
  }
  RuntimeStacks result;
  result.language = "go";
  result.version = buildinfo->version;
  result.method = "memory";
  std::optional<LayoutChoice> choice = LayoutForVersion(result.version);
  if (!choice) {
    return FailedPreconditionError("go: " + result.version +
                                   " is not supported (Go 1.21 or newer only)");
  }

  const ElfSection* pclntab_section = elf->Section(".gopclntab");
  const ElfSection* text_section = elf->Section(".text");
  if (pclntab_section == nullptr || text_section == nullptr) {
    return FailedPreconditionError("go: " + result.version + ": no .gopclntab or .text section");
  }
  SectionByteSource pclntab_bytes(**file, pclntab_section->offset, pclntab_section->size);
  StatusOr<Pclntab> table = Pclntab::Parse(pclntab_bytes, text_section->address);
  if (!table.ok()) return table.status().WithContext("go: " + result.version + ": .gopclntab");

  StatusOr<uint64_t> bias = LoadBias(proc_, pid, *elf, (*file)->Inode());
  if (!bias.ok()) return bias.status().WithContext("go");

  // The goroutine list: symbols, else the loads in runtime.forEachGRace.
  std::array<std::string_view, 3> names = {"runtime.allglen", "runtime.allgptr", "go:func.*"};
  StatusOr<std::map<std::string, ElfSymbol, std::less<>>> symbols = elf->FindSymbols(names);
  std::vector<std::pair<uint64_t, uint64_t>> candidates;  // (allglen, allgptr) ELF addresses
  uint64_t gofunc = 0;
  if (symbols.ok()) {
    auto len = symbols->find("runtime.allglen");
    auto ptr = symbols->find("runtime.allgptr");
    if (len != symbols->end() && ptr != symbols->end()) {
      candidates.emplace_back(len->second.value, ptr->second.value);
    }
    if (auto f = symbols->find("go:func.*"); f != symbols->end()) gofunc = f->second.value;
  }
  if (candidates.empty()) {
    StatusOr<GoFunc> for_each = table->FindFuncByName("runtime.forEachGRace", limits.deadline);
    if (!for_each.ok()) {
      return FailedPreconditionError("go: " + result.version +
                                     ": no symbols and no runtime.forEachGRace to find the "
                                     "goroutine list (" +
                                     for_each.status().message() + ")");
    }
    std::vector<uint8_t> code(static_cast<size_t>(
        std::min<uint64_t>(kForEachGCodeBytes, for_each->end - for_each->entry)));
    if (Status s = elf->ReadVirtual(for_each->entry, code); !s.ok()) {
      return s.WithContext("go: reading runtime.forEachGRace");
    }
    std::vector<uint64_t> targets = RipRelativeLoadTargets(code, for_each->entry, 2);
    if (targets.size() == 2) {
      candidates.emplace_back(targets[0], targets[1]);
      candidates.emplace_back(targets[1], targets[0]);
    }
  }

  ProcMemMemoryReader memory(proc_root_, pid, limits.max_read_bytes);
  GoProcessView view;
  view.layout = choice->layout;
  view.load_bias = *bias;
  Status validation = FailedPreconditionError("no candidate for runtime.allglen/allgptr");
  for (const auto& [len, ptr] : candidates) {
    view.allglen_address = len + *bias;
    view.allgptr_address = ptr + *bias;
    validation = ValidateView(memory, *table, view);
    if (validation.ok()) break;
    if (validation.code() == StatusCode::kPermissionDenied ||
        validation.code() == StatusCode::kNotFound) {
      return Status(validation.code(),
                    "go: " + validation.message() +
                        (validation.code() == StatusCode::kPermissionDenied
                             ? ": needs the ptrace profile (or the target's UID, dumpable)"
                             : ""));
    }
  }
  if (!validation.ok()) {
    return FailedPreconditionError(
        "go: " + result.version + " is not supported: the " + std::string(choice->layout->minor) +
        " layout does not fit this process (" + validation.message() + ")");
  }
  if (!choice->exact) {
    result.problems.push_back("go: no layout table for " + result.version + "; read with " +
                              std::string(choice->layout->minor) +
                              "'s, which the process's main goroutine validated");
  }

  // Inline trees live in go:func.*; a stripped binary names it only through moduledata.
  if (gofunc == 0) {
    auto read = [&](uint64_t address, std::span<uint8_t> out) -> Status {
      if (*bias == 0) return elf->ReadVirtual(address, out);
      return memory.Read(address, out);
    };
    // runtime.firstmoduledata: in .go.module since Go 1.26, in .noptrdata before.
    for (std::string_view name : {".go.module", ".noptrdata"}) {
      const ElfSection* section = elf->Section(name);
      if (section == nullptr || gofunc != 0) continue;
      StatusOr<uint64_t> found = FindGoFunc(*section, *bias, pclntab_section->address,
                                            table->TextStart(), *choice->layout, read);
      if (found.ok()) gofunc = *found;
    }
    if (gofunc == 0) {
      result.problems.push_back("go: inlined calls not expanded (go:func.* not found)");
    }
  }
  view.gofunc = gofunc;
  view.now_nanotime = MonotonicNow();
  VirtualReader read_virtual = [&elf](uint64_t vaddr, std::span<uint8_t> out) {
    return elf->ReadVirtual(vaddr, out);
  };
  Status read = ReadGoroutines(memory, *table, view, &read_virtual, limits, result);
  if (!read.ok()) return read.WithContext("go");
  return std::optional<RuntimeStacks>(std::move(result));
}

}  // namespace ephemera::runtimes::golang
