// Rust v0 symbol names (RFC 2603, "_R…") turned into readable paths. Pure.
#ifndef EPHEMERA_DEBUGPOD_STACKS_RUST_DEMANGLE_H_
#define EPHEMERA_DEBUGPOD_STACKS_RUST_DEMANGLE_H_

#include <optional>
#include <string>
#include <string_view>

namespace ephemera::stacks {

// "_RNvNtCs1_4core3ptr13drop_in_place" -> "core::ptr::drop_in_place". Prints paths, inherent and
// trait impls ("<T as Trait>::f"), generic arguments ("f::<&[u8], (i32, bool)>"), closures and
// shims ("{closure#0}"), the basic, reference, pointer, array, slice, tuple, fn-pointer and dyn
// types, and integer and bool constants. Crate disambiguators (hashes), lifetimes' names, the
// instantiating crate and vendor suffixes (".llvm.123") are left out; punycode identifiers are
// shown encoded as "punycode{…}". nullopt if `name` is not a well-formed v0 name or would print
// longer than 4096 bytes; nesting is bounded, so hostile names cannot exhaust the stack.
std::optional<std::string> DemangleRustV0(std::string_view name);

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_RUST_DEMANGLE_H_
