// Fuzzes DemangleRustV0 (debugpod/stacks/rust_demangle.h), the hand-written Rust v0 demangler, on
// names the target chose. Its contract: well-formed or nullopt, never more than 4096 bytes out,
// bounded nesting (no stack exhaustion), linear work.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "debugpod/stacks/rust_demangle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Most inputs get the "_R" prefix, so the fuzzer spends its time past the first check.
  std::string name = size > 0 && data[0] == 0 ? "" : "_R";
  name.append(reinterpret_cast<const char*>(data), size);
  std::optional<std::string> out = ephemera::stacks::DemangleRustV0(name);
  if (out && out->size() > 4096) std::abort();
  return 0;
}
