#include "debugpod/stacks/demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <optional>

#include "debugpod/stacks/rust_demangle.h"

namespace ephemera::stacks {
namespace {

constexpr size_t kMaxNameLength = 4096;

bool IsRustHash(std::string_view s) {
  if (s.size() != 19 || !s.starts_with("::h")) return false;
  for (char c : s.substr(3)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string Demangle(std::string_view name) {
  if (name.starts_with("_R")) {
    std::optional<std::string> rust = DemangleRustV0(name);
    return rust ? *std::move(rust) : std::string(name);
  }
  if (!name.starts_with("_Z") || name.size() > kMaxNameLength) return std::string(name);
  std::string mangled(name);
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), &std::free);
  if (status != 0 || !demangled) return mangled;
  std::string out(demangled.get());
  // Rust legacy mangling: _ZN<path>17h<hash>E demangles to "path::h<hash>".
  if (name.starts_with("_ZN") && name.ends_with("E") && out.size() > 19 &&
      IsRustHash(std::string_view(out).substr(out.size() - 19))) {
    out.resize(out.size() - 19);
  }
  return out;
}

}  // namespace ephemera::stacks
