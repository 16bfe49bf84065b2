#include "base/json_access.h"

#include <gtest/gtest.h>

namespace ephemera::base {
namespace {

using nlohmann::json;

TEST(JsonAccessTest, FieldsOfTheRightTypeAreRead) {
  const json object = {{"name", "x"}, {"count", 3}, {"nothing", nullptr}};
  EXPECT_EQ(StringField(object, "name"), "x");
  EXPECT_EQ(IntField(object, "count"), 3);
  ASSERT_NE(FindField(object, "nothing"), nullptr);
  EXPECT_TRUE(FindField(object, "nothing")->is_null());
}

TEST(JsonAccessTest, MissingOrMistypedFieldsReadAsAbsent) {
  const json object = {{"name", 7}, {"count", "3"}, {"ratio", 1.5}};
  EXPECT_EQ(StringField(object, "name"), "");
  EXPECT_EQ(StringField(object, "missing"), "");
  EXPECT_EQ(IntField(object, "count"), std::nullopt);
  EXPECT_EQ(IntField(object, "ratio"), std::nullopt);
  EXPECT_EQ(FindField(object, "missing"), nullptr);
  for (const json& not_an_object : {json(nullptr), json::array({1}), json("s"), json(1)}) {
    EXPECT_EQ(FindField(not_an_object, "name"), nullptr);
    EXPECT_EQ(StringField(not_an_object, "name"), "");
    EXPECT_EQ(IntField(not_an_object, "name"), std::nullopt);
  }
}

TEST(JsonAccessTest, ObjectsAndArraysOfOtherTypesReadAsAbsentOrEmpty) {
  const json object = {{"spec", {{"a", 1}}}, {"list", {1, 2}}, {"text", "x"}};
  ASSERT_NE(ObjectField(object, "spec"), nullptr);
  EXPECT_EQ(ObjectField(object, "spec")->at("a"), 1);
  EXPECT_EQ(ObjectField(object, "list"), nullptr);
  EXPECT_EQ(ObjectField(object, "missing"), nullptr);
  EXPECT_EQ(ObjectFieldOrEmpty(object, "spec").size(), 1u);
  EXPECT_TRUE(ObjectFieldOrEmpty(object, "text").is_object());
  EXPECT_TRUE(ObjectFieldOrEmpty(object, "text").empty());
  EXPECT_EQ(ArrayField(object, "list").size(), 2u);
  EXPECT_TRUE(ArrayField(object, "spec").is_array());
  EXPECT_TRUE(ArrayField(object, "spec").empty());
  EXPECT_TRUE(ArrayField(json("not an object"), "list").empty());
}

TEST(JsonAccessTest, StringAtFollowsAPointer) {
  const json session = {{"spec", {{"target", {{"pod", "web-0"}, {"port", 80}}}}}};
  EXPECT_EQ(StringAt(session, "/spec/target/pod"), "web-0");
  EXPECT_EQ(StringAt(session, "/spec/target/port"), "");
  EXPECT_EQ(StringAt(session, "/spec/missing/pod"), "");
  EXPECT_EQ(StringAt(json::array(), "/spec"), "");
}

}  // namespace
}  // namespace ephemera::base
