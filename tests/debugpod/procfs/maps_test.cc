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

constexpr char kMaps[] =
    "7f0000001000-7f0000002000 r-xp 00001000 fd:01 1234                       /usr/lib/libc.so.6\n"
    "555555554000-555555555000 r--p 00000000 fd:01 42   /app/server (deleted)\n"
    "555555555000-555555556000 r-xp 00001000 fd:01 42   /app/server (deleted)\n"
    "7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0                          [vdso]\n"
    "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n"
    "7f0000003000-7f0000004000 rw-p 00000000 00:00 0 \n";

TEST(ParseMapsTest, ParsesAndSortsEntries) {
  StatusOr<std::vector<MapEntry>> maps = ParseMaps(kMaps);
  ASSERT_TRUE(maps.ok()) << maps.status().ToString();
  ASSERT_EQ(maps->size(), 6u);
  const MapEntry& server_text = (*maps)[1];
  EXPECT_EQ(server_text.start, 0x555555555000u);
  EXPECT_EQ(server_text.end, 0x555555556000u);
  EXPECT_EQ(server_text.offset, 0x1000u);
  EXPECT_EQ(server_text.inode, 42u);
  EXPECT_TRUE(server_text.Executable());
  EXPECT_TRUE(server_text.Readable());
  EXPECT_EQ(server_text.path, "/app/server (deleted)");
  EXPECT_EQ((*maps)[2].path, "/usr/lib/libc.so.6");
  EXPECT_EQ((*maps)[3].path, "");
  EXPECT_FALSE((*maps)[3].Executable());
}

TEST(ParseMapsTest, FindsMappingByAddress) {
  std::vector<MapEntry> maps = *ParseMaps(kMaps);
  const MapEntry* vdso = FindMapping(maps, 0x7ffff7fc1800);
  ASSERT_NE(vdso, nullptr);
  EXPECT_EQ(vdso->path, "[vdso]");
  EXPECT_EQ(FindMapping(maps, 0x7ffff7fc3000), nullptr);  // end is exclusive
  EXPECT_EQ(FindMapping(maps, 0x1000), nullptr);
}

TEST(ParseMapsTest, RejectsMalformedLineNamingIt) {
  StatusOr<std::vector<MapEntry>> maps = ParseMaps("00400000-00401000 r-xp 0 fd:01 1 /a\nbogus\n");
  ASSERT_FALSE(maps.ok());
  EXPECT_EQ(maps.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(maps.status().message().find("line 2"), std::string::npos);
  // Each field is checked: a bad offset, inode or permission string, an end before the start.
  for (const char* line :
       {"00400000-00401000 r-xp zz fd:01 1 /a", "00400000-00401000 r-xp 0 fd:01 x /a",
        "00400000-00401000 r-x 0 fd:01 1 /a", "00401000-00400000 r-xp 0 fd:01 1 /a",
        "00400000-00401000 r-xp 0 fd:01"}) {
    EXPECT_FALSE(ParseMaps(line).ok()) << line;
  }
}

TEST(ParseMapsTest, ReadsTheFixtureLikeTheSummary) {
  StatusOr<std::vector<MapEntry>> maps = ParseMaps(FixtureMaps());
  StatusOr<MapsSummary> summary = ParseMapsSummary(FixtureMaps(), 3);
  ASSERT_TRUE(maps.ok()) << maps.status().ToString();
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(maps->size(), summary->total.count);
  for (size_t i = 1; i < maps->size(); ++i) EXPECT_LE((*maps)[i - 1].start, (*maps)[i].start);
}

}  // namespace
}  // namespace ephemera::procfs
