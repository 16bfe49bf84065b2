#include "debugpod/runtimes/golang/build_info.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ephemera::runtimes::golang {
namespace {

std::vector<uint8_t> BuildInfoBytes(const std::string& version, const std::string& modinfo,
                                    uint8_t flags = 2) {
  std::vector<uint8_t> out(kBuildInfoMagic.begin(), kBuildInfoMagic.end());
  out.push_back(8);
  out.push_back(flags);
  out.resize(32, 0);
  for (const std::string* s : {&version, &modinfo}) {
    uint64_t n = s->size();
    while (n >= 0x80) {
      out.push_back(static_cast<uint8_t>(n | 0x80));
      n >>= 7;
    }
    out.push_back(static_cast<uint8_t>(n));
    out.insert(out.end(), s->begin(), s->end());
  }
  return out;
}

TEST(BuildInfoTest, ReadsVersionAndMainModule) {
  StatusOr<GoBuildInfo> info = ParseBuildInfo(BuildInfoBytes(
      "go1.22.12", "0w\xaf\f\x92t\b\x02\x41\xe1\xc1\a\xe6\xd6\x18\xe6path\tephemera.dev/x\nmod\t"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->version, "go1.22.12");
  EXPECT_EQ(info->main_module, "ephemera.dev/x");
}

TEST(BuildInfoTest, RefusesWhatIsNotBuildInfo) {
  std::vector<uint8_t> bytes = BuildInfoBytes("go1.22.12", "");
  bytes[1] = 'X';
  EXPECT_EQ(ParseBuildInfo(bytes).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBuildInfo({}).status().code(), StatusCode::kInvalidArgument);
}

TEST(BuildInfoTest, RefusesThePointerFormatOfOldReleases) {
  EXPECT_EQ(ParseBuildInfo(BuildInfoBytes("go1.17", "", 0)).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(BuildInfoTest, BoundsAndChecksStringLengths) {
  std::vector<uint8_t> bytes = BuildInfoBytes(std::string(5000, 'g'), "");
  EXPECT_EQ(ParseBuildInfo(bytes, 4096).status().code(), StatusCode::kDataLoss);
  std::vector<uint8_t> truncated = BuildInfoBytes("go1.22.12", "");
  truncated.resize(36);
  EXPECT_EQ(ParseBuildInfo(truncated).status().code(), StatusCode::kDataLoss);
  std::vector<uint8_t> endless_varint = BuildInfoBytes("", "");
  endless_varint.resize(32);
  endless_varint.insert(endless_varint.end(), 20, 0xff);
  EXPECT_EQ(ParseBuildInfo(endless_varint).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ephemera::runtimes::golang
