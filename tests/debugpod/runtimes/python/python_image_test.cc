#include "debugpod/runtimes/python/python_image.h"

#include <gtest/gtest.h>

namespace ephemera::runtimes::python {
namespace {

TEST(PythonImageTest, VersionFromFileName) {
  EXPECT_EQ(VersionFromFileName("/usr/lib/libpython3.11.so.1.0")->minor, 11);
  EXPECT_EQ(VersionFromFileName("libpython3.13t.so")->minor, 13);
  EXPECT_EQ(VersionFromFileName("/usr/bin/python3.9")->minor, 9);
  EXPECT_EQ(VersionFromFileName("/usr/bin/python2.7")->major, 2);
  EXPECT_EQ(VersionFromFileName("/usr/bin/python3.12 (deleted)")->minor, 12);
  EXPECT_FALSE(VersionFromFileName("/usr/bin/python3").has_value());
  EXPECT_FALSE(VersionFromFileName("/app/server").has_value());
  EXPECT_FALSE(VersionFromFileName("/x/python3.").has_value());
}

TEST(PythonImageTest, IsPythonExecutableName) {
  EXPECT_TRUE(IsPythonExecutableName("/usr/bin/python3.11"));
  EXPECT_TRUE(IsPythonExecutableName("python"));
  EXPECT_FALSE(IsPythonExecutableName("/usr/bin/pythonic/app"));
  EXPECT_FALSE(IsPythonExecutableName("/usr/bin/gunicorn"));
}

std::vector<procfs::MapEntry> Maps() {
  return *procfs::ParseMaps(
      "55d000000000-55d000001000 r--p 00000000 08:01 10 /usr/bin/python3.11\n"
      "7f0000000000-7f0000100000 r--p 00000000 08:01 20 /opt/lib/libpython3.12.so.1.0\n"
      "7f0000100000-7f0000300000 r-xp 00100000 08:01 20 /opt/lib/libpython3.12.so.1.0\n"
      "7f0000400000-7f0000410000 rw-p 00380000 08:01 20 /opt/lib/libpython3.12.so.1.0\n");
}

TEST(PythonImageTest, FindsTheLibraryFirst) {
  std::optional<PythonImage> lib = FindLibpython(Maps());
  ASSERT_TRUE(lib.has_value());
  EXPECT_EQ(lib->path, "/opt/lib/libpython3.12.so.1.0");
  EXPECT_EQ(lib->inode, 20u);
  EXPECT_TRUE(lib->is_library);
  EXPECT_EQ(lib->name_version->minor, 12);
  std::optional<PythonImage> exe = FindExecutable(Maps(), "/usr/bin/python3.11");
  ASSERT_TRUE(exe.has_value());
  EXPECT_FALSE(exe->is_library);
  EXPECT_FALSE(FindExecutable(Maps(), "/usr/bin/other").has_value());
}

TEST(PythonImageTest, LoadBiasFromTheMappingASegmentCovers) {
  std::optional<PythonImage> lib = FindLibpython(Maps());
  // A data segment at file offset 0x380a40, ELF address 0x381a40 (one page above its offset).
  std::vector<stacks::LoadSegment> segments = {
      {.offset = 0x380a40, .vaddr = 0x381a40, .file_size = 0x1000, .mem_size = 0x2000}};
  std::optional<uint64_t> bias = LoadBias(Maps(), *lib, segments);
  ASSERT_TRUE(bias.has_value());
  // The mapping at 0x7f0000400000 holds file offset 0x380000 = ELF address 0x381000.
  EXPECT_EQ(*bias, 0x7f0000400000u - 0x381000u);
  EXPECT_FALSE(LoadBias(Maps(), *lib, {}).has_value());
}

}  // namespace
}  // namespace ephemera::runtimes::python
