#include "debugpod/stacks/proc_maps.h"

#include <gtest/gtest.h>

namespace ephemera::stacks {
namespace {

constexpr char kMaps[] =
    "7f0000001000-7f0000002000 r-xp 00001000 fd:01 1234                       /usr/lib/libc.so.6\n"
    "555555554000-555555555000 r--p 00000000 fd:01 42   /app/server (deleted)\n"
    "555555555000-555555556000 r-xp 00001000 fd:01 42   /app/server (deleted)\n"
    "7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0                          [vdso]\n"
    "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n"
    "7f0000003000-7f0000004000 rw-p 00000000 00:00 0 \n";

TEST(ProcMapsTest, ParsesAndSortsEntries) {
  StatusOr<std::vector<MapEntry>> maps = ParseProcMaps(kMaps);
  ASSERT_TRUE(maps.ok()) << maps.status().ToString();
  ASSERT_EQ(maps->size(), 6u);
  const MapEntry& server_text = (*maps)[1];
  EXPECT_EQ(server_text.start, 0x555555555000u);
  EXPECT_EQ(server_text.end, 0x555555556000u);
  EXPECT_EQ(server_text.offset, 0x1000u);
  EXPECT_EQ(server_text.inode, 42u);
  EXPECT_TRUE(server_text.executable);
  EXPECT_TRUE(server_text.readable);
  EXPECT_EQ(server_text.path, "/app/server (deleted)");
  EXPECT_EQ((*maps)[2].path, "/usr/lib/libc.so.6");
  EXPECT_EQ((*maps)[3].path, "");
  EXPECT_FALSE((*maps)[3].executable);
}

TEST(ProcMapsTest, FindsMappingByAddress) {
  std::vector<MapEntry> maps = *ParseProcMaps(kMaps);
  const MapEntry* vdso = FindMapping(maps, 0x7ffff7fc1800);
  ASSERT_NE(vdso, nullptr);
  EXPECT_EQ(vdso->path, "[vdso]");
  EXPECT_EQ(FindMapping(maps, 0x7ffff7fc3000), nullptr);  // end is exclusive
  EXPECT_EQ(FindMapping(maps, 0x1000), nullptr);
}

TEST(ProcMapsTest, RejectsMalformedLineNamingIt) {
  StatusOr<std::vector<MapEntry>> maps =
      ParseProcMaps("00400000-00401000 r-xp 0 fd:01 1 /a\nbogus\n");
  ASSERT_FALSE(maps.ok());
  EXPECT_EQ(maps.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(maps.status().message().find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace ephemera::stacks
