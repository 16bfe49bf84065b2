// Fuzzes ElfModule (debugpod/stacks/elf_module.h): the snapshot tool parses every ELF file the
// target maps, and the target wrote those files. Parse, then every query the symbolizer and the
// unwinder make, and adoption of a separate debug file. Invariant: what a module holds stays
// within the per-module byte cap.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <utility>

#include "debugpod/stacks/byte_source.h"
#include "debugpod/stacks/demangle.h"
#include "debugpod/stacks/elf_module.h"

namespace {

namespace stacks = ephemera::stacks;

// Small caps so that the fuzzer explores what happens at them.
constexpr stacks::ElfLimits kLimits{.max_file_bytes = 1 << 20,
                                    .max_section_bytes = 256 << 10,
                                    .max_module_bytes = 1 << 20,
                                    .max_symbols = 4096};

void Query(const stacks::ElfModule& module) {
  (void)module.BuildId();
  (void)module.DebugLink();
  (void)module.Notes();
  for (const stacks::LoadSegment& s : module.LoadSegments()) {
    (void)module.LoadBias(s.vaddr, s.offset, s.executable);
    for (uint64_t pc = s.vaddr; pc < s.vaddr + 512 && pc >= s.vaddr; pc += 61) {
      if (std::optional<stacks::SymbolMatch> symbol = module.FindSymbol(pc)) {
        (void)stacks::Demangle(symbol->name);
      }
      (void)module.FindUnwindRow(pc);
    }
  }
  for (uint64_t pc : {uint64_t{0}, uint64_t{0x1000}, uint64_t{0x1040}, ~uint64_t{0}}) {
    (void)module.FindSymbol(pc);
    (void)module.FindUnwindRow(pc);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stacks::MemoryByteSource source(std::span<const uint8_t>(data, size));
  ephemera::StatusOr<stacks::ElfModule> module = stacks::ElfModule::Parse(source, kLimits);
  if (!module.ok()) return 0;
  // Retained bytes stay under the cap, plus the one FDE index counted after it was built.
  if (module->MemoryBytes() > kLimits.max_module_bytes + 2 * kLimits.max_section_bytes) {
    std::abort();
  }
  Query(*module);
  // The same bytes as the module's own separate debug file.
  ephemera::StatusOr<stacks::ElfModule> debug = stacks::ElfModule::Parse(source, kLimits);
  if (debug.ok()) {
    module->AdoptDebugFile(std::move(*debug), "/usr/lib/debug/fuzz.debug");
    Query(*module);
  }
  return 0;
}
