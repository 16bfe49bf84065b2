// ElfCodeMap: the CodeMap of one process, built from its memory map and the ELF files behind it,
// and the symbolizer that turns unwound pcs into Frames. Pure given a ModuleLoader;
// ProcRootModuleLoader is the I/O implementation that reads the files through /proc/<pid>/root.
#ifndef EPHEMERA_DEBUGPOD_STACKS_ELF_CODE_MAP_H_
#define EPHEMERA_DEBUGPOD_STACKS_ELF_CODE_MAP_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "debugpod/procfs/maps.h"
#include "debugpod/stacks/elf_module.h"
#include "debugpod/stacks/stack_capture.h"
#include "debugpod/stacks/unwinder.h"

namespace ephemera::stacks {

// Supplies the parsed ELF image behind a mapping.
class ModuleLoader {
 public:
  virtual ~ModuleLoader() = default;
  // NotFound for mappings that are not backed by an ELF file ([heap], anonymous memory); otherwise
  // whatever opening or parsing the file returned.
  virtual StatusOr<std::unique_ptr<ElfModule>> Load(const procfs::MapEntry& mapping) = 0;
};

// Reads <proc_root>/<pid>/root/<path>, falling back to <proc_root>/<pid>/map_files/<start>-<end>
// when that is missing or is not the mapped inode (a replaced or deleted binary). [vdso] is parsed
// from the calling process's own vDSO, which the kernel shares with every process. A file without
// .symtab takes its symbols from its separate debug file when the target's root has one: by build
// ID under /usr/lib/debug/.build-id, or by .gnu_debuglink name beside the file, in .debug/ beside
// it, or under /usr/lib/debug (matched by build ID or CRC-32).
class ProcRootModuleLoader final : public ModuleLoader {
 public:
  ProcRootModuleLoader(std::string proc_root, int pid, ElfLimits limits = {})
      : proc_root_(std::move(proc_root)), pid_(pid), limits_(limits) {}
  StatusOr<std::unique_ptr<ElfModule>> Load(const procfs::MapEntry& mapping) override;

 private:
  StatusOr<std::unique_ptr<ElfModule>> LoadImage(const procfs::MapEntry& mapping);

  std::string proc_root_;
  int pid_;
  ElfLimits limits_;
};

// What the modules of one process may hold in all (ElfModule::MemoryBytes summed). With the
// per-module cap (ElfLimits::max_module_bytes, 128 MiB) one process's symbolization holds at most
// this plus one module being parsed and its separate debug file: 512 MiB, well inside the tool's
// 1 GiB address-space limit (debugpod/snapshot/sandbox.h) with the tool's own ~160 MiB.
inline constexpr uint64_t kDefaultMaxProcessModuleBytes = 256ull << 20;

// Not thread-safe. Loads each module at most once (by path), lazily, and none once `deadline` has
// passed (a default-constructed deadline means none): frames then keep their pc and module only.
// Once the loaded modules hold `max_module_bytes` in all, further modules are refused (reported in
// ModuleErrors()) and their frames keep their pc and module only.
class ElfCodeMap final : public CodeMap {
 public:
  ElfCodeMap(std::vector<procfs::MapEntry> maps, ModuleLoader& loader,
             std::chrono::steady_clock::time_point deadline = {},
             uint64_t max_module_bytes = kDefaultMaxProcessModuleBytes);

  // Another reason to load no further module, asked like the deadline (the snapshot tool's CPU
  // and memory budget). Empty: none.
  void SetStopEarly(std::function<bool()> stop_early) { stop_early_ = std::move(stop_early); }

  bool IsCode(uint64_t pc) override;
  StatusOr<UnwindRow> FindUnwindRow(uint64_t pc) override;

  // The module path, and the demangled symbol and offset when the module's symbols cover the pc.
  Frame Symbolize(const UnwoundFrame& frame);

  // "path: reason" for each module that could not be loaded or was refused.
  std::vector<std::string> ModuleErrors() const;
  // What the loaded modules hold (ElfModule::MemoryBytes summed).
  uint64_t ModuleBytes() const { return module_bytes_; }

 private:
  struct Located {
    const procfs::MapEntry* mapping = nullptr;
    const ElfModule* module = nullptr;  // null when the mapping has no usable ELF image
    uint64_t bias = 0;
  };
  Located Locate(uint64_t pc);
  const ElfModule* ModuleFor(const procfs::MapEntry& mapping);

  std::vector<procfs::MapEntry> maps_;
  ModuleLoader& loader_;
  std::chrono::steady_clock::time_point deadline_;
  std::function<bool()> stop_early_;
  uint64_t max_module_bytes_;
  uint64_t module_bytes_ = 0;
  std::map<std::string, std::unique_ptr<ElfModule>> modules_;  // null: failed to load
  std::map<std::string, std::string> failures_;
};

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_ELF_CODE_MAP_H_
