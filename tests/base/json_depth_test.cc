#include "base/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace ephemera::base {
namespace {

std::string Nested(int depth, char open, char close) {
  return std::string(static_cast<std::size_t>(depth), open) +
         std::string(static_cast<std::size_t>(depth), close);
}

TEST(JsonDepthTest, CountsArraysAndObjectsTogether) {
  EXPECT_FALSE(NestsDeeperThan(R"({"a":[{"b":[]}]})", 4));
  EXPECT_TRUE(NestsDeeperThan(R"({"a":[{"b":[[]]}]})", 4));
}

TEST(JsonDepthTest, IgnoresBracketsInsideStrings) {
  EXPECT_FALSE(NestsDeeperThan(R"(["[[[[", "{{{{", "\"[[[["])", 1));
  EXPECT_TRUE(NestsDeeperThan(R"(["\\", [[]]])", 2));  // the string ends after the escaped '\'
}

TEST(JsonDepthTest, SiblingsDoNotAddUp) {
  std::string siblings = "[";
  for (int i = 0; i < 1000; ++i) siblings += "[],";
  siblings += "[]]";
  EXPECT_FALSE(NestsDeeperThan(siblings, 2));
}

TEST(JsonDepthTest, ParsesDocumentsAtTheLimit) {
  const nlohmann::json at_limit = ParseJsonWithinDepth(Nested(kMaxJsonDepth, '[', ']'));
  ASSERT_FALSE(at_limit.is_discarded());
  EXPECT_EQ(at_limit.dump(), Nested(kMaxJsonDepth, '[', ']'));
}

TEST(JsonDepthTest, RefusesDeeperDocumentsWithoutRecursing) {
  EXPECT_TRUE(ParseJsonWithinDepth(Nested(kMaxJsonDepth + 1, '[', ']')).is_discarded());
  // 100000 levels: would overflow the stack if dumped or copied after an unbounded parse.
  EXPECT_TRUE(ParseJsonWithinDepth(Nested(100000, '[', ']')).is_discarded());
  EXPECT_TRUE(ParseJsonWithinDepth(std::string(100000, '[')).is_discarded());
}

TEST(JsonDepthTest, StillRefusesMalformedText) {
  EXPECT_TRUE(ParseJsonWithinDepth("{\"a\":").is_discarded());
  EXPECT_TRUE(ParseJsonWithinDepth("]]]]").is_discarded());
  EXPECT_EQ(ParseJsonWithinDepth(R"({"a":[1,2]})")["a"][1], 2);
}

}  // namespace
}  // namespace ephemera::base
