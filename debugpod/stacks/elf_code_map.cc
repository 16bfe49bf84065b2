#include "debugpod/stacks/elf_code_map.h"

#include <sys/auxv.h>
#include <zlib.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "debugpod/stacks/demangle.h"
#include "debugpod/stacks/file_byte_source.h"

namespace ephemera::stacks {
namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";

// The calling process's own vDSO image: identical, byte for byte, to every other process's.
StatusOr<std::unique_ptr<ElfModule>> LoadOwnVdso(const ElfLimits& limits) {
  uint64_t start = getauxval(AT_SYSINFO_EHDR);
  if (start == 0) return NotFoundError("no vDSO");
  // This process's own map, not the target's: read directly, not through the target's ProcFs.
  std::ifstream in("/proc/self/maps");
  std::stringstream text;
  text << in.rdbuf();
  StatusOr<std::vector<procfs::MapEntry>> maps = procfs::ParseMaps(text.str());
  if (!maps.ok()) return maps.status();
  const procfs::MapEntry* vdso = procfs::FindMapping(*maps, start);
  if (!vdso || vdso->path != "[vdso]") return NotFoundError("own vDSO mapping not found");
  // The vDSO is mapped readable in every process, this one included.
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  const auto* image = reinterpret_cast<const uint8_t*>(start);
  MemoryByteSource source(std::span<const uint8_t>(image, vdso->end - start));
  StatusOr<ElfModule> module = ElfModule::Parse(source, limits);
  if (!module.ok()) return module.status();
  return std::make_unique<ElfModule>(std::move(*module));
}

StatusOr<std::unique_ptr<ElfModule>> ParseFile(const FileByteSource& file,
                                               const ElfLimits& limits) {
  StatusOr<ElfModule> module = ElfModule::Parse(file, limits);
  if (!module.ok()) return module.status();
  return std::make_unique<ElfModule>(std::move(*module));
}

// CRC-32 (zlib's, the one .gnu_debuglink records) of all of `file`.
StatusOr<uint32_t> FileCrc32(const FileByteSource& file) {
  uLong crc = crc32(0, nullptr, 0);
  std::vector<uint8_t> chunk(size_t{1} << 16);
  for (uint64_t offset = 0; offset < file.Size();) {
    const auto n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), file.Size() - offset));
    EPHEMERA_RETURN_IF_ERROR(file.ReadAt(offset, std::span<uint8_t>(chunk.data(), n)));
    crc = crc32(crc, chunk.data(), static_cast<uInt>(n));
    offset += n;
  }
  return static_cast<uint32_t>(crc);
}

// When `module` (the file at `path`, absolute, in the target's root directory `root`) has no
// .symtab, looks for its separate debug file the way GDB does: by build ID under
// /usr/lib/debug/.build-id, then by its .gnu_debuglink name beside the file, in the .debug
// directory beside it and under /usr/lib/debug. A candidate counts only if its build ID, or for a
// debug link its CRC-32, matches. Best effort: nothing found leaves `module` as it is.
void AdoptSeparateDebugFile(const std::string& root, const std::string& path, ElfModule& module,
                            const ElfLimits& limits) {
  if (module.HasSymtab()) return;
  const std::string& build_id = module.BuildId();
  if (build_id.size() > 2) {
    const std::string candidate =
        "/usr/lib/debug/.build-id/" + build_id.substr(0, 2) + "/" + build_id.substr(2) + ".debug";
    if (StatusOr<std::unique_ptr<FileByteSource>> file = FileByteSource::Open(root + candidate);
        file.ok()) {
      StatusOr<ElfModule> debug = ElfModule::Parse(**file, limits);
      if (debug.ok() && debug->BuildId() == build_id) {
        module.AdoptDebugFile(std::move(*debug), candidate);
        return;
      }
    }
  }
  const std::optional<GnuDebugLink>& link = module.DebugLink();
  if (!link) return;
  const std::string dir = path.substr(0, path.rfind('/'));
  for (const std::string& candidate :
       {dir + "/" + link->file_name, dir + "/.debug/" + link->file_name,
        "/usr/lib/debug" + dir + "/" + link->file_name}) {
    if (candidate == path) continue;
    StatusOr<std::unique_ptr<FileByteSource>> file = FileByteSource::Open(root + candidate);
    if (!file.ok() || (*file)->Size() > limits.max_file_bytes) continue;
    StatusOr<uint32_t> crc = FileCrc32(**file);
    if (!crc.ok() || *crc != link->crc) continue;
    StatusOr<ElfModule> debug = ElfModule::Parse(**file, limits);
    if (!debug.ok()) continue;
    module.AdoptDebugFile(std::move(*debug), candidate);
    return;
  }
}

}  // namespace

StatusOr<std::unique_ptr<ElfModule>> ProcRootModuleLoader::Load(const procfs::MapEntry& mapping) {
  StatusOr<std::unique_ptr<ElfModule>> module = LoadImage(mapping);
  if (module.ok() && mapping.path.starts_with("/")) {
    std::string path = mapping.path;
    if (path.ends_with(kDeletedSuffix)) path.resize(path.size() - kDeletedSuffix.size());
    AdoptSeparateDebugFile(proc_root_ + "/" + std::to_string(pid_) + "/root", path, **module,
                           limits_);
  }
  return module;
}

StatusOr<std::unique_ptr<ElfModule>> ProcRootModuleLoader::LoadImage(
    const procfs::MapEntry& mapping) {
  if (mapping.path == "[vdso]") return LoadOwnVdso(limits_);
  if (mapping.path.empty() || mapping.path[0] != '/') {
    return NotFoundError("not backed by a file");
  }
  std::string path = mapping.path;
  if (path.ends_with(kDeletedSuffix)) path.resize(path.size() - kDeletedSuffix.size());
  std::string process_dir = proc_root_ + "/" + std::to_string(pid_);

  StatusOr<std::unique_ptr<FileByteSource>> by_path =
      FileByteSource::Open(process_dir + "/root" + path);
  if (by_path.ok() && (mapping.inode == 0 || (*by_path)->Inode() == mapping.inode)) {
    return ParseFile(**by_path, limits_);
  }
  char range[64];
  std::snprintf(range, sizeof range, "%" PRIx64 "-%" PRIx64, mapping.start, mapping.end);
  StatusOr<std::unique_ptr<FileByteSource>> by_mapping =
      FileByteSource::Open(process_dir + "/map_files/" + range);
  if (by_mapping.ok()) return ParseFile(**by_mapping, limits_);
  // A different inode under the same path (overlay filesystems may renumber): better than nothing.
  if (by_path.ok()) return ParseFile(**by_path, limits_);
  return by_path.status();
}

ElfCodeMap::ElfCodeMap(std::vector<procfs::MapEntry> maps, ModuleLoader& loader,
                       std::chrono::steady_clock::time_point deadline, uint64_t max_module_bytes)
    : maps_(std::move(maps)),
      loader_(loader),
      deadline_(deadline),
      max_module_bytes_(max_module_bytes) {}

bool ElfCodeMap::IsCode(uint64_t pc) {
  const procfs::MapEntry* mapping = procfs::FindMapping(maps_, pc);
  return mapping != nullptr && mapping->Executable();
}

const ElfModule* ElfCodeMap::ModuleFor(const procfs::MapEntry& mapping) {
  auto it = modules_.find(mapping.path);
  if (it != modules_.end()) return it->second.get();
  if (deadline_ != std::chrono::steady_clock::time_point{} &&
      std::chrono::steady_clock::now() >= deadline_) {
    return nullptr;  // not cached: a later call with time left may still load it
  }
  if (stop_early_ && stop_early_()) return nullptr;
  const auto over_budget = [&] {
    return ResourceExhaustedError(
        "refused: this process's modules already hold " + std::to_string(module_bytes_) +
        " bytes (the per-process cap is " + std::to_string(max_module_bytes_) + ")");
  };
  StatusOr<std::unique_ptr<ElfModule>> module =
      module_bytes_ >= max_module_bytes_ ? over_budget() : loader_.Load(mapping);
  if (module.ok() && (*module)->MemoryBytes() > max_module_bytes_ - module_bytes_) {
    module = over_budget();
  }
  if (!module.ok()) {
    if (module.status().code() != StatusCode::kNotFound || mapping.path.starts_with("/")) {
      failures_[mapping.path] = module.status().ToString();
    }
    modules_[mapping.path] = nullptr;
    return nullptr;
  }
  module_bytes_ += (*module)->MemoryBytes();
  const ElfModule* raw = module->get();
  modules_[mapping.path] = std::move(*module);
  return raw;
}

ElfCodeMap::Located ElfCodeMap::Locate(uint64_t pc) {
  Located located;
  located.mapping = procfs::FindMapping(maps_, pc);
  if (!located.mapping || !located.mapping->Executable()) return located;
  const ElfModule* module = ModuleFor(*located.mapping);
  if (!module) return located;
  std::optional<uint64_t> bias = module->LoadBias(located.mapping->start, located.mapping->offset);
  if (!bias) return located;
  located.module = module;
  located.bias = *bias;
  return located;
}

StatusOr<UnwindRow> ElfCodeMap::FindUnwindRow(uint64_t pc) {
  Located located = Locate(pc);
  if (!located.module) return NotFoundError("no module with CFI at this pc");
  return located.module->FindUnwindRow(pc - located.bias);
}

Frame ElfCodeMap::Symbolize(const UnwoundFrame& frame) {
  Frame out;
  out.pc = frame.pc;
  uint64_t lookup = frame.is_return_address ? frame.pc - 1 : frame.pc;
  Located located = Locate(lookup);
  if (located.mapping) out.module = located.mapping->path;
  if (!located.module) return out;
  std::optional<SymbolMatch> symbol = located.module->FindSymbol(lookup - located.bias);
  if (!symbol) return out;
  out.symbol = Demangle(symbol->name);
  out.symbol_offset = symbol->offset + (frame.pc - lookup);
  return out;
}

std::vector<std::string> ElfCodeMap::ModuleErrors() const {
  std::vector<std::string> out;
  for (const auto& [path, reason] : failures_) {
    std::string line = path;
    line += ": ";
    line += reason;
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace ephemera::stacks
