#include "debugpod/stacks/demangle.h"

#include <gtest/gtest.h>

namespace ephemera::stacks {
namespace {

TEST(DemangleTest, DemanglesCxxNames) {
  EXPECT_EQ(Demangle("_ZN4tiny8MultiplyEii"), "tiny::Multiply(int, int)");
  EXPECT_EQ(Demangle("_ZNSt6thread11_State_implINS_8_InvokerISt5tupleIJZ4mainEUlvE_EEEEE6_M_runEv"),
            "std::thread::_State_impl<std::thread::_Invoker<std::tuple<main::{lambda()#1}> > "
            ">::_M_run()");
}

TEST(DemangleTest, DemanglesGccCloneSuffixes) {
  EXPECT_EQ(Demangle("_ZN6parked13ParkedInAlphaEi.cold"),
            "parked::ParkedInAlpha(int) [clone .cold]");
}

TEST(DemangleTest, StripsRustLegacyHash) {
  EXPECT_EQ(Demangle("_ZN3std2rt10lang_start17h0123456789abcdefE"), "std::rt::lang_start");
  EXPECT_EQ(Demangle("_ZN4core3ptr13drop_in_place17hfedcba9876543210E"),
            "core::ptr::drop_in_place");
}

TEST(DemangleTest, KeepsCxxNamesThatMerelyLookLikeHashes) {
  // Not Rust: the last component has 17 characters starting with h, but not h + 16 hex digits.
  EXPECT_EQ(Demangle("_ZN1a17hxyzxyzxyzxyzxyzwE"), "a::hxyzxyzxyzxyzxyzw");
  EXPECT_EQ(Demangle("_ZN1a17h0123456789abcdefEv"), "a::h0123456789abcdef()");
}

TEST(DemangleTest, LeavesCGoAndInvalidNamesAlone) {
  EXPECT_EQ(Demangle("parked_in_alpha"), "parked_in_alpha");
  EXPECT_EQ(Demangle("main.main"), "main.main");
  EXPECT_EQ(Demangle("runtime.gopark"), "runtime.gopark");
  EXPECT_EQ(Demangle("_Znotreallymangled"), "_Znotreallymangled");
  EXPECT_EQ(Demangle(""), "");
}

}  // namespace
}  // namespace ephemera::stacks
