#include "controller/detection/container_mark.h"

#include <gtest/gtest.h>

namespace ephemera::detection {
namespace {

constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

TEST(ContainerMarkTest, IsHmacSha256OfPodUidAndName) {
  // Computed independently: printf 'uid-1/ephemera-3f9a1c0b7e' |
  //   openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
  EXPECT_EQ(ContainerMark(kKey, "uid-1", "ephemera-3f9a1c0b7e"),
            "47fcaa61e29ade5be099d662673be903161e4cc3bbb205177bd7e788b54ae747");
}

TEST(ContainerMarkTest, BindsPodAndContainerName) {
  const std::string mark = ContainerMark(kKey, "uid-1", "ephemera-a");
  EXPECT_TRUE(IsValidMark(mark, kKey, "uid-1", "ephemera-a"));
  EXPECT_FALSE(IsValidMark(mark, kKey, "uid-2", "ephemera-a")) << "copied to another pod";
  EXPECT_FALSE(IsValidMark(mark, kKey, "uid-1", "debugger-x")) << "copied to another container";
  EXPECT_FALSE(IsValidMark(mark, "another-key-another-key-another-k", "uid-1", "ephemera-a"));
  EXPECT_FALSE(IsValidMark("", kKey, "uid-1", "ephemera-a"));
  EXPECT_FALSE(IsValidMark(mark.substr(0, 63), kKey, "uid-1", "ephemera-a"));
}

TEST(ContainerMarkTest, NoKeyMeansNoValidMark) {
  EXPECT_FALSE(IsValidMark(ContainerMark("", "uid-1", "c"), "", "uid-1", "c"));
}

TEST(ContainerMarkTest, AddMarkReplacesAnEarlierMarkAndKeepsOtherEnv) {
  nlohmann::json container = {
      {"name", "ephemera-a"},
      {"env", {{{"name", "EPHEMERA_MARK"}, {"value", "forged"}}, {{"name", "X"}, {"value", "1"}}}}};
  AddMark(container, kKey, "uid-1");
  ASSERT_EQ(container["env"].size(), 2u);
  EXPECT_EQ(container["env"][0]["name"], "X");
  EXPECT_EQ(container["env"][1]["name"], kMarkEnvName);
  EXPECT_TRUE(
      IsValidMark(container["env"][1]["value"].get<std::string>(), kKey, "uid-1", "ephemera-a"));
}

}  // namespace
}  // namespace ephemera::detection
