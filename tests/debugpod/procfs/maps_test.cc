#include "debugpod/procfs/maps.h"

#include <gtest/gtest.h>

#include <string>

#include "debugpod/procfs/real_proc_fs.h"

namespace ephemera::procfs {
namespace {

std::string FixtureMaps() {
  RealProcFs fs(std::string(EPHEMERA_TESTDATA_DIR) + "/procfs/proc");
  StatusOr<std::string> text = fs.ReadFile(4242, "maps");
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : "";
}

TEST(ParseMapsSummaryTest, TotalsPerKind) {
  StatusOr<MapsSummary> summary = ParseMapsSummary(FixtureMaps(), 3);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->total.count, 16u);
  EXPECT_EQ(summary->by_kind.at("file").count, 5u);  // 4 of the binary + the memfd
  EXPECT_EQ(summary->by_kind.at("heap").count, 1u);
  EXPECT_EQ(summary->by_kind.at("heap").bytes, 0x17813000u - 0x177f1000u);
  EXPECT_EQ(summary->by_kind.at("stack").count, 1u);
  EXPECT_EQ(summary->by_kind.at("vdso").count, 3u);  // vvar, vdso, vsyscall
  EXPECT_EQ(summary->by_kind.at("anon").count, 6u);  // 5 unnamed + [anon:arena]
  uint64_t sum = 0;
  for (const auto& [kind, totals] : summary->by_kind) sum += totals.bytes;
  EXPECT_EQ(sum, summary->total.bytes);
}

TEST(ParseMapsSummaryTest, TotalsPerFile) {
  StatusOr<MapsSummary> summary = ParseMapsSummary(FixtureMaps(), 3);
  ASSERT_TRUE(summary.ok());
  ASSERT_EQ(summary->by_file.size(), 2u);
  const MappingTotals& binary = summary->by_file.at("/app/ephemera-target");
  EXPECT_EQ(binary.count, 4u);
  EXPECT_EQ(binary.bytes, 0x1000u + 0x15a000u + 0x59000u + 0x3000u);
  EXPECT_EQ(summary->by_file.count("/memfd:shared buffer (deleted)"), 1u);
}

TEST(ParseMapsSummaryTest, KeepsTheLargestMappingsInOrder) {
  StatusOr<MapsSummary> summary = ParseMapsSummary(FixtureMaps(), 3);
  ASSERT_TRUE(summary.ok());
  ASSERT_EQ(summary->largest.size(), 3u);
  EXPECT_EQ(summary->largest[0].start, 0x7ff4b4021000u);  // the reserved malloc arena
  EXPECT_EQ(summary->largest[0].Bytes(), 0x7ff4b8000000u - 0x7ff4b4021000u);
  EXPECT_EQ(summary->largest[0].perms, "---p");
  EXPECT_EQ(summary->largest[0].kind, "anon");
  EXPECT_EQ(summary->largest[1].Bytes(), 0x800000u);  // a thread stack
  EXPECT_EQ(summary->largest[2].path, "/app/ephemera-target");
  EXPECT_EQ(summary->largest[2].perms, "r-xp");
  EXPECT_GE(summary->largest[1].Bytes(), summary->largest[2].Bytes());
}

TEST(ParseMapsSummaryTest, EmptyMapsIsAnEmptySummary) {
  StatusOr<MapsSummary> summary = ParseMapsSummary("", 10);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->total.count, 0u);
  EXPECT_TRUE(summary->largest.empty());
}

TEST(ParseMapsSummaryTest, RejectsMalformedLine) {
  StatusOr<MapsSummary> summary =
      ParseMapsSummary("00400000-00401000 r--p 00000000 fe:00 1 /bin/x\nnot a mapping\n", 1);
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.status().message().find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace ephemera::procfs
