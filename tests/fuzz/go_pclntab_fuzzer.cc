// Fuzzes the Go reader's parsers of what the target's binary holds (debugpod/runtimes/golang):
// .go.buildinfo (ParseBuildInfo) and .gopclntab (Pclntab: parse, lookups, symbolization, the
// stack walk over words taken from the input). Invariant: no crash, no unbounded loop, and every
// frame list within the limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "debugpod/runtimes/golang/build_info.h"
#include "debugpod/runtimes/golang/pclntab.h"
#include "debugpod/stacks/byte_source.h"

namespace {

namespace golang = ephemera::runtimes::golang;

uint64_t Word(std::span<const uint8_t> bytes, size_t at) {
  uint64_t v = 0;
  if (at + 8 <= bytes.size()) std::memcpy(&v, bytes.data() + at, 8);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  (void)golang::ParseBuildInfo(bytes, 256);

  ephemera::stacks::MemoryByteSource source(bytes);
  golang::PclntabLimits limits{
      .max_functions = 4096, .max_pcvalue_steps = 4096, .max_inline_depth = 16};
  ephemera::StatusOr<golang::Pclntab> table = golang::Pclntab::Parse(source, 0x401000, limits);
  if (!table.ok()) return 0;
  (void)table->FindFuncByName("runtime.forEachGRace");
  uint64_t text = table->TextStart();
  for (uint64_t pc : {text, text + 1, text + 0x40, text + Word(bytes, 0) % 0x10000}) {
    ephemera::StatusOr<golang::GoFunc> f = table->FindFunc(pc);
    if (!f.ok()) continue;
    (void)table->SpDelta(*f, pc);
    golang::VirtualReader read = [&](uint64_t vaddr, std::span<uint8_t> out) {
      return source.ReadAt(vaddr % (size + 1), out);
    };
    (void)table->Symbolize(*f, pc, 64, &read, 1);
    ephemera::runtimes::RuntimeLimits runtime_limits;
    runtime_limits.max_frames = 32;
    golang::StackWordReader words = [&](uint64_t address) -> ephemera::StatusOr<uint64_t> {
      return Word(bytes, address % (size + 1));
    };
    golang::GoStackWalk walk =
        golang::WalkGoStack(*table, pc, 0x1000, 0x1000, 0x3000, 0, words, &read, 1, runtime_limits);
    if (walk.frames.size() > runtime_limits.max_frames) std::abort();
  }
  return 0;
}
