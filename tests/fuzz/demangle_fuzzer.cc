// Fuzzes Demangle (debugpod/stacks/demangle.h): symbol names come from the target's ELF files, so
// libstdc++'s __cxa_demangle (for "_Z" names) and the Rust handling around it see hostile input.
// Byte 0 steers: 0 prefixes "_Z", 1 prefixes "_ZN" (Rust legacy shape), 2 prefixes "_R",
// anything else takes the rest as it is.
#include <cstddef>
#include <cstdint>
#include <string>

#include "debugpod/stacks/demangle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kPrefixes[] = {"_Z", "_ZN", "_R"};
  std::string name = data[0] < 3 ? kPrefixes[data[0]] : "";
  name.append(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)ephemera::stacks::Demangle(name);
  return 0;
}
