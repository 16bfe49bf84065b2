// Demangle: readable function names from ELF symbol names. Pure.
#ifndef EPHEMERA_DEBUGPOD_STACKS_DEMANGLE_H_
#define EPHEMERA_DEBUGPOD_STACKS_DEMANGLE_H_

#include <string>
#include <string_view>

namespace ephemera::stacks {

// Itanium C++ names (_Z...) are demangled with abi::__cxa_demangle; Rust legacy names, which use
// the same scheme, also lose their trailing "::h<16 hex digits>" hash. Rust v0 names (_R...) go
// through DemangleRustV0. Anything else (C, Go, names the demanglers reject) comes back unchanged.
std::string Demangle(std::string_view name);

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_DEMANGLE_H_
