#include "debugpod/stacks/byte_reader.h"

#include <gtest/gtest.h>

#include <vector>

namespace ephemera::stacks {
namespace {

TEST(ByteReaderTest, DecodesLeb128) {
  // 624485 = 0xe5 0x8e 0x26 (DWARF 5, appendix C); -123456 = 0xc0 0xbb 0x78.
  std::vector<uint8_t> bytes = {0xe5, 0x8e, 0x26, 0xc0, 0xbb, 0x78, 0x7f, 0x80, 0x01};
  ByteReader in(bytes);
  EXPECT_EQ(in.Uleb128(), 624485u);
  EXPECT_EQ(in.Sleb128(), -123456);
  EXPECT_EQ(in.Sleb128(), -1);
  EXPECT_EQ(in.Uleb128(), 128u);
  EXPECT_TRUE(in.Ok());
  EXPECT_TRUE(in.AtEnd());
}

TEST(ByteReaderTest, ReadsPastTheEndFailStickily) {
  std::vector<uint8_t> bytes = {1, 2, 3};
  ByteReader in(bytes);
  EXPECT_EQ(in.U16(), 0x0201u);
  EXPECT_EQ(in.U32(), 0u);
  EXPECT_FALSE(in.Ok());
  EXPECT_EQ(in.U8(), 0u);
  EXPECT_FALSE(in.Ok());
}

TEST(ByteReaderTest, UnterminatedLeb128Fails) {
  std::vector<uint8_t> bytes = {0x80, 0x80};
  ByteReader in(bytes);
  in.Uleb128();
  EXPECT_FALSE(in.Ok());
}

TEST(ByteReaderTest, DecodesPcRelativeSdata4AgainstFieldAddress) {
  // -16 as sdata4 at ELF address 0x2004 (after 4 bytes of padding): 0x2004 - 16 = 0x1ff4.
  std::vector<uint8_t> bytes = {0, 0, 0, 0, 0xf0, 0xff, 0xff, 0xff};
  ByteReader in(bytes, 0x2000);
  in.Skip(4);
  std::optional<uint64_t> p = in.EncodedPointer(kPePcrel | kPeSdata4, {});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, 0x1ff4u);
}

TEST(ByteReaderTest, DecodesDatarelUdata4AbsptrAndOmit) {
  std::vector<uint8_t> bytes = {0x10, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
  ByteReader in(bytes, 0x5000);
  PointerBases bases{.data = 0x3000};
  EXPECT_EQ(in.EncodedPointer(kPeDatarel | kPeUdata4, bases), std::optional<uint64_t>(0x3010));
  EXPECT_EQ(in.EncodedPointer(kPeAbsptr, bases), std::optional<uint64_t>(0x1122334455667788));
  EXPECT_EQ(in.EncodedPointer(kPeOmit, bases), std::nullopt);
  EXPECT_TRUE(in.Ok());
}

TEST(ByteReaderTest, IndirectPointerIsConsumedButNotResolved) {
  std::vector<uint8_t> bytes = {1, 0, 0, 0, 0xaa};
  ByteReader in(bytes);
  EXPECT_EQ(in.EncodedPointer(kPeIndirect | kPePcrel | kPeSdata4, {}), std::nullopt);
  EXPECT_TRUE(in.Ok());
  EXPECT_EQ(in.U8(), 0xaa);
}

TEST(ByteReaderTest, UnknownPointerFormatFails) {
  std::vector<uint8_t> bytes = {0, 0, 0, 0};
  ByteReader in(bytes);
  EXPECT_EQ(in.EncodedPointer(0x07, {}), std::nullopt);
  EXPECT_FALSE(in.Ok());
}

}  // namespace
}  // namespace ephemera::stacks
