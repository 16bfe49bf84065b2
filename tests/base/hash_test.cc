#include "base/hash.h"

#include <gtest/gtest.h>

namespace ephemera::base {
namespace {

TEST(HexEncodeTest, WritesTwoLowerCaseDigitsPerByte) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string_view("\x00\x0f\xa0\xff", 4)), "000fa0ff");
}

TEST(Sha256HexTest, MatchesKnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace ephemera::base
