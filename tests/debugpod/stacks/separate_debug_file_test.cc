// Separate debug files: a stripped binary names its static functions once the loader finds its
// debug file by .gnu_debuglink (under /usr/lib/debug or in .debug/ beside it) or by build ID, and
// a file that only has the right name (wrong CRC) is not taken. Fixture roots are made at build
// time by make_debuglink_root.sh.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "debugpod/stacks/elf_code_map.h"
#include "debugpod/stacks/elf_module.h"
#include "debugpod/stacks/file_byte_source.h"

namespace ephemera::stacks {
namespace {

const std::string kRoot = STACKS_DEBUGLINK_ROOT;

// The ELF address of DebuglinkMarkerFunction, from the `nm -S` line the fixture script wrote.
uint64_t MarkerAddress() {
  std::ifstream in(kRoot + "/marker.nm");
  uint64_t address = 0;
  in >> std::hex >> address;
  EXPECT_NE(address, 0u) << "marker.nm unreadable";
  return address;
}

procfs::MapEntry AppMapping() {
  procfs::MapEntry mapping;
  mapping.start = 0x400000;
  mapping.end = 0x401000;
  mapping.perms = "r-xp";
  mapping.path = "/app/bin/app";
  return mapping;
}

std::string SymbolAt(const ElfModule& module, uint64_t address) {
  std::optional<SymbolMatch> match = module.FindSymbol(address);
  return match ? std::string(match->name) : "";
}

TEST(SeparateDebugFileTest, StrippedBinaryRecordsItsDebugLinkAndBuildId) {
  StatusOr<std::unique_ptr<FileByteSource>> file =
      FileByteSource::Open(kRoot + "/proc/1/root/app/bin/app");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  StatusOr<ElfModule> module = ElfModule::Parse(**file);
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  EXPECT_FALSE(module->HasSymtab());
  ASSERT_TRUE(module->DebugLink().has_value());
  EXPECT_EQ(module->DebugLink()->file_name, "app.debug");
  EXPECT_EQ(module->BuildId().size() % 2, 0u);
  EXPECT_GE(module->BuildId().size(), 16u);
  // Stripped: the static function has no name.
  EXPECT_NE(SymbolAt(*module, MarkerAddress()), "DebuglinkMarkerFunction");
}

TEST(SeparateDebugFileTest, FindsTheDebugFileEveryWayGdbDoes) {
  const uint64_t marker = MarkerAddress();
  // 1: /usr/lib/debug/app/bin/app.debug; 2: /app/bin/.debug/app.debug; 3: by build ID.
  for (int pid : {1, 2, 3}) {
    ProcRootModuleLoader loader(kRoot + "/proc", pid);
    StatusOr<std::unique_ptr<ElfModule>> module = loader.Load(AppMapping());
    ASSERT_TRUE(module.ok()) << module.status().ToString();
    EXPECT_TRUE((*module)->HasSymtab()) << "root " << pid;
    EXPECT_EQ(SymbolAt(**module, marker), "DebuglinkMarkerFunction") << "root " << pid;
    bool noted = false;
    for (const std::string& note : (*module)->Notes()) noted |= note.starts_with("symbols from ");
    EXPECT_TRUE(noted) << "root " << pid;
  }
}

TEST(SeparateDebugFileTest, AFileWithTheRightNameButAnotherCrcIsNotTaken) {
  ProcRootModuleLoader loader(kRoot + "/proc", 4);
  StatusOr<std::unique_ptr<ElfModule>> module = loader.Load(AppMapping());
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  EXPECT_FALSE((*module)->HasSymtab());
  EXPECT_NE(SymbolAt(**module, MarkerAddress()), "DebuglinkMarkerFunction");
}

}  // namespace
}  // namespace ephemera::stacks
