#include "debugpod/procfs/cgroup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "debugpod/procfs/real_proc_fs.h"

namespace ephemera::procfs {
namespace {

using ::testing::ElementsAre;

std::string TestData(const std::string& relative) {
  return std::string(EPHEMERA_TESTDATA_DIR) + "/procfs/" + relative;
}

std::vector<CgroupMembership> Memberships(std::string_view text) {
  StatusOr<std::vector<CgroupMembership>> m = ParseCgroup(text);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : std::vector<CgroupMembership>{};
}

TEST(ParseCgroupTest, ParsesV1AndV2Lines) {
  RealProcFs fs(TestData("proc"));
  StatusOr<std::string> text = fs.ReadFile(4242, "cgroup");
  ASSERT_TRUE(text.ok());
  std::vector<CgroupMembership> m = Memberships(*text);
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[0].hierarchy_id, 9);
  EXPECT_THAT(m[0].controllers, ElementsAre("name=systemd"));
  EXPECT_EQ(m[2].path, "/kubepods/pod1");
  EXPECT_THAT(m[2].controllers, ElementsAre("memory"));
  EXPECT_EQ(m[5].hierarchy_id, 0);
  EXPECT_TRUE(m[5].controllers.empty());
  EXPECT_EQ(m[5].path, "/");
}

TEST(ParseCgroupTest, SplitsCombinedControllersAndKeepsColonsInPath) {
  std::vector<CgroupMembership> m = Memberships("3:cpu,cpuacct:/a:b\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_THAT(m[0].controllers, ElementsAre("cpu", "cpuacct"));
  EXPECT_EQ(m[0].path, "/a:b");
}

TEST(ParseCgroupTest, RejectsMalformedLine) {
  EXPECT_FALSE(ParseCgroup("memory/kubepods\n").ok());
  EXPECT_FALSE(ParseCgroup("x:memory:/\n").ok());
}

TEST(NormalizeCgroupPathTest, ResolvesDotsAndRejectsEscapes) {
  EXPECT_EQ(NormalizeCgroupPath("/"), "");
  EXPECT_EQ(NormalizeCgroupPath("/a/./b/../c"), "a/c");
  EXPECT_FALSE(NormalizeCgroupPath("/../other-container").has_value());
}

TEST(ReadCgroupUsageTest, ReadsV1Controllers) {
  RealCgroupFs fs(TestData("cgroup-v1"));
  StatusOr<CgroupUsage> usage = ReadCgroupUsage(
      fs, Memberships("4:memory:/kubepods/pod1\n2:cpuacct:/kubepods/pod1\n1:cpu:/kubepods/pod1\n"
                      "0::/\n"));
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_EQ(usage->version, 1);
  EXPECT_EQ(usage->cpu_path, "/kubepods/pod1");
  EXPECT_EQ(usage->cpu_usage_nanos, 123456789u);
  EXPECT_EQ(usage->nr_periods, 100u);
  EXPECT_EQ(usage->nr_throttled, 7u);
  EXPECT_EQ(usage->throttled_nanos, 2500000u);
  EXPECT_EQ(usage->cpu_quota_micros, 50000);
  EXPECT_EQ(usage->cpu_period_micros, 100000u);
  EXPECT_EQ(usage->memory_usage_bytes, 52428800u);
  EXPECT_TRUE(usage->memory_unlimited);
  EXPECT_FALSE(usage->memory_limit_bytes.has_value());
  EXPECT_TRUE(usage->errors.empty()) << usage->errors.front();
}

TEST(ReadCgroupUsageTest, ReadsV1CombinedCpuCpuacctDirectory) {
  RealCgroupFs fs(TestData("cgroup-v1-combined"));
  StatusOr<CgroupUsage> usage =
      ReadCgroupUsage(fs, Memberships("4:memory:/kubepods/pod2\n2:cpu,cpuacct:/kubepods/pod2\n"));
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_EQ(usage->cpu_usage_nanos, 42u);
  EXPECT_EQ(usage->nr_periods, 3u);
  EXPECT_EQ(usage->memory_limit_bytes, 268435456u);
  EXPECT_FALSE(usage->memory_unlimited);
  // The fixture has no cfs quota files: reported, not silently absent.
  EXPECT_EQ(usage->errors.size(), 2u);
}

TEST(ReadCgroupUsageTest, ReadsV2Unified) {
  RealCgroupFs fs(TestData("cgroup-v2"));
  StatusOr<CgroupUsage> usage = ReadCgroupUsage(fs, Memberships("0::/kubepods/pod3\n"));
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_EQ(usage->version, 2);
  EXPECT_EQ(usage->cpu_usage_nanos, 2000000u);
  EXPECT_EQ(usage->nr_periods, 40u);
  EXPECT_EQ(usage->nr_throttled, 4u);
  EXPECT_EQ(usage->throttled_nanos, 900000u);
  EXPECT_EQ(usage->cpu_quota_micros, 20000);
  EXPECT_EQ(usage->cpu_period_micros, 100000u);
  EXPECT_EQ(usage->memory_usage_bytes, 7340032u);
  EXPECT_TRUE(usage->memory_unlimited);
  EXPECT_TRUE(usage->errors.empty());
}

TEST(ReadCgroupUsageTest, ReportsPathOutsideTheMountedHierarchy) {
  RealCgroupFs fs(TestData("cgroup-v2"));
  StatusOr<CgroupUsage> usage = ReadCgroupUsage(fs, Memberships("0::/../other\n"));
  ASSERT_FALSE(usage.ok());
  EXPECT_EQ(usage.status().code(), StatusCode::kNotFound);
  EXPECT_NE(usage.status().message().find("escapes"), std::string::npos);
}

TEST(ReadCgroupUsageTest, MissingCgroupDirectoryIsNotFound) {
  RealCgroupFs fs(TestData("cgroup-v1"));
  StatusOr<CgroupUsage> usage = ReadCgroupUsage(fs, Memberships("4:memory:/gone\n"));
  ASSERT_FALSE(usage.ok());
  EXPECT_EQ(usage.status().code(), StatusCode::kNotFound);
  EXPECT_NE(usage.status().message().find("ENOENT"), std::string::npos);
}

TEST(FindFlatKeyTest, FindsExactKeyOnly) {
  EXPECT_EQ(FindFlatKey("nr_periods 5\nnr_throttled 1\n", "nr_throttled"), 1u);
  EXPECT_FALSE(FindFlatKey("nr_periods 5\n", "nr_period").has_value());
}

}  // namespace
}  // namespace ephemera::procfs
