#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "debugpod/runtimes/hex.h"
#include "debugpod/runtimes/uvarint.h"

namespace ephemera::runtimes {
namespace {

TEST(HexTest, PrintsLowerCaseWithoutLeadingZeros) {
  EXPECT_EQ(Hex(0), "0x0");
  EXPECT_EQ(Hex(0x7f3a1c0b7e00), "0x7f3a1c0b7e00");
  EXPECT_EQ(Hex(~uint64_t{0}), "0xffffffffffffffff");
}

TEST(UvarintTest, DecodesAndAdvances) {
  const std::vector<uint8_t> bytes = {0x05, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  size_t pos = 0;
  EXPECT_EQ(ReadUvarint(bytes, pos), 5u);
  EXPECT_EQ(pos, 1u);
  EXPECT_EQ(ReadUvarint(bytes, pos), 300u);
  EXPECT_EQ(pos, 3u);
  EXPECT_EQ(ReadUvarint(bytes, pos), ~uint64_t{0});
  EXPECT_EQ(pos, bytes.size());
}

TEST(UvarintTest, TruncatedOrTooLongIsNothing) {
  const std::vector<uint8_t> truncated = {0x80, 0x80};
  size_t pos = 0;
  EXPECT_EQ(ReadUvarint(truncated, pos), std::nullopt);
  const std::vector<uint8_t> six = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  pos = 0;
  EXPECT_EQ(ReadUvarint(six, pos, 5), std::nullopt);
  pos = 0;
  EXPECT_EQ(ReadUvarint(six, pos), uint64_t{1} << 35);
}

}  // namespace
}  // namespace ephemera::runtimes
