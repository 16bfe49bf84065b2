#include "base/secret_bytes.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace ephemera::base {
namespace {

TEST(SecretBytesTest, AdoptTakesTheBytesAndEmptiesTheSource) {
  std::string secret = "AGE-SECRET-KEY-1QQQQ";
  SecretBytes held = SecretBytes::Adopt(std::move(secret));
  EXPECT_EQ(held.View(), "AGE-SECRET-KEY-1QQQQ");
  EXPECT_TRUE(secret.empty());  // NOLINT(bugprone-use-after-move): Adopt wipes and clears it
}

TEST(SecretBytesTest, MovingLeavesTheSourceEmpty) {
  SecretBytes a(std::string_view("key material"));
  SecretBytes b(std::move(a));
  EXPECT_EQ(b.View(), "key material");
  EXPECT_TRUE(a.IsEmpty());  // NOLINT(bugprone-use-after-move): the move wipes the source
}

TEST(WipeStringTest, ClearsTheString) {
  std::string s = "token";
  WipeString(s);
  EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace ephemera::base
