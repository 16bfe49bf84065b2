// Rust v0 names built by hand from the grammar of RFC 2603, one production at a time.
#include "debugpod/stacks/rust_demangle.h"

#include <gtest/gtest.h>

#include <string>

#include "debugpod/stacks/demangle.h"

namespace ephemera::stacks {
namespace {

std::string V0(std::string_view name) { return DemangleRustV0(name).value_or("<rejected>"); }

TEST(RustDemangleTest, CrateRootsAndNestedPaths) {
  // C <disambiguator s1234_> 7mycrate, then a value (v) named foo.
  EXPECT_EQ(V0("_RNvCs1234_7mycrate3foo"), "mycrate::foo");
  EXPECT_EQ(V0("_RNvNtCs1_4core3ptr13drop_in_place"), "core::ptr::drop_in_place");
  EXPECT_EQ(V0("_RC7mycrate"), "mycrate");
}

TEST(RustDemangleTest, ClosuresAndShimsShowTheirIndex) {
  // Namespace C (closure), no disambiguator (#0), empty name; then one with disambiguator s_ (#1).
  EXPECT_EQ(V0("_RNCNvC4main3run0"), "main::run::{closure#0}");
  EXPECT_EQ(V0("_RNCNvC4main3runs_0"), "main::run::{closure#1}");
  EXPECT_EQ(V0("_RNSNvC4main3run4vtbl"), "main::run::{shim:vtbl#0}");
}

TEST(RustDemangleTest, InherentAndTraitImpls) {
  // M: impl in mycrate::foo of the type B2_ (back reference to offset 3, "NtC7mycrate3foo"), ::Bar.
  EXPECT_EQ(V0("_RNvMNtC7mycrate3fooNtB2_3Bar3new"), "<mycrate::foo::Bar>::new");
  // X: impl in mycrate of core::fmt::Display for mycrate::Bar.
  EXPECT_EQ(V0("_RNvXC7mycrateNtB2_3BarNtNtC4core3fmt7Display3fmt"),
            "<mycrate::Bar as core::fmt::Display>::fmt");
  // Y: the trait's own item, <T as Trait>.
  EXPECT_EQ(V0("_RNvYNtC1a1SNtC1a1T1f"), "<a::S as a::T>::f");
}

TEST(RustDemangleTest, GenericArgumentsAndTypes) {
  EXPECT_EQ(V0("_RINvNtC4core3ptr13drop_in_placeNtNtC5alloc6string6StringE"),
            "core::ptr::drop_in_place::<alloc::string::String>");
  EXPECT_EQ(V0("_RINvC7mycrate4funcRShTlbEOuE"), "mycrate::func::<&[u8], (i32, bool), *mut ()>");
  EXPECT_EQ(V0("_RINvC1a1fQL_ePaTmEAhj4_E"), "a::f::<&mut str, *const i8, (u32,), [u8; 4]>");
  // A type path with generic arguments prints without "::".
  EXPECT_EQ(V0("_RINvC1a1fINtC1a3VecyEE"), "a::f::<a::Vec<u64>>");
  EXPECT_EQ(V0("_RINvC1a1fFUKCjEuE"), "a::f::<unsafe extern \"C\" fn(usize)>");
  EXPECT_EQ(V0("_RINvC1a1fFmEyE"), "a::f::<fn(u32) -> u64>");
  EXPECT_EQ(V0("_RINvC1a1fDNtC1a5TraitEL_E"), "a::f::<dyn a::Trait>");
  EXPECT_EQ(V0("_RINvC1a1fLs_E"), "a::f::<'_>");
}

TEST(RustDemangleTest, ConstArguments) {
  EXPECT_EQ(V0("_RINvC1a3arrKj10_E"), "a::arr::<16>");
  EXPECT_EQ(V0("_RINvC1a3arrKln5_E"), "a::arr::<-5>");
  EXPECT_EQ(V0("_RINvC1a3arrKb1_E"), "a::arr::<true>");
  EXPECT_EQ(V0("_RINvC1a3arrKpE"), "a::arr::<_>");
}

TEST(RustDemangleTest, InstantiatingCrateAndVendorSuffixAreLeftOut) {
  EXPECT_EQ(V0("_RNvC7mycrate3fooC5other"), "mycrate::foo");
  EXPECT_EQ(V0("_RNvC7mycrate3foo.llvm.1234"), "mycrate::foo");
}

TEST(RustDemangleTest, PunycodeIdentifiersAreMarked) {
  EXPECT_EQ(V0("_RNvC1au7gdr_4cb"), "a::punycode{gdr_4cb}");
}

TEST(RustDemangleTest, RejectsMalformedNames) {
  for (std::string_view bad : {
           "_R",                  // no path
           "_RNvC",               // identifier missing
           "_RNvC7mycrate",       // nested path without its name
           "_RNvC99mycrate3foo",  // length past the end
           "_RB_",                // back reference to itself
           "_RNvB9_3foo",         // forward back reference
           "_RINvC1a1fhX",        // generic arguments never closed
           "_RNvC7mycrate3foo!",  // trailing garbage
           "_R0NvC1a1f",          // an encoding version other than the implicit 0
           "_RNvC1a1fKj",         // unknown const outside arguments
           "_RINvC1a1fKjz_E",     // const digit that is not hex
           "_ZN3foo3barE",        // not v0
       }) {
    EXPECT_EQ(DemangleRustV0(bad), std::nullopt) << bad;
  }
}

TEST(RustDemangleTest, HostileNamesAreBounded) {
  // Deep nesting: each "R" opens a reference type.
  std::string deep = "_RINvC1a1f" + std::string(10000, 'R') + "hE";
  EXPECT_EQ(DemangleRustV0(deep), std::nullopt);
  // Back references that double the output at every step: each tuple type refers twice to the
  // one before it (offsets count from after "_R").
  const auto base62 = [](size_t n) {
    if (n == 0) return std::string("_");
    constexpr std::string_view kDigits =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string digits;
    for (size_t v = n - 1;; v /= 62) {
      digits.insert(digits.begin(), kDigits[v % 62]);
      if (v < 62) break;
    }
    return digits + "_";
  };
  std::string body = "INvC1a1f";
  size_t previous = body.size();
  body += "ThhE";
  for (int i = 0; i < 30; ++i) {
    const size_t here = body.size();
    body += "TB" + base62(previous) + "B" + base62(previous) + "E";
    previous = here;
  }
  const std::string doubling = "_R" + body + "E";
  // Two levels are fine and show the back references resolve.
  EXPECT_EQ(V0("_RINvC1a1fThhETB7_B7_EE"), "a::f::<(u8, u8), ((u8, u8), (u8, u8))>");
  EXPECT_EQ(DemangleRustV0(doubling), std::nullopt);
}

TEST(RustDemangleTest, DemangleUsesItForRNames) {
  EXPECT_EQ(Demangle("_RNvNtCs1_4core3ptr13drop_in_place"), "core::ptr::drop_in_place");
  EXPECT_EQ(Demangle("_RNvC"), "_RNvC");  // rejected: unchanged
}

}  // namespace
}  // namespace ephemera::stacks
