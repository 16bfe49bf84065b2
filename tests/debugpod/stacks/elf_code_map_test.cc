#include "debugpod/stacks/elf_code_map.h"

#include <gtest/gtest.h>

#include <map>

#include "debugpod/stacks/byte_source.h"
#include "fixture_files.h"

namespace ephemera::stacks {
namespace {

constexpr uint64_t kBase = 0x555555554000;
constexpr char kPath[] = "/app/tiny";

// Serves the tiny_pie.elf fixture for kPath and counts loads.
class FakeModuleLoader : public ModuleLoader {
 public:
  FakeModuleLoader() : bytes_(ReadFixture("tiny_pie.elf")) {}
  StatusOr<std::unique_ptr<ElfModule>> Load(const procfs::MapEntry& mapping) override {
    ++loads_[mapping.path];
    if (mapping.path != kPath) return NotFoundError("no such file");
    MemoryByteSource source(bytes_);
    StatusOr<ElfModule> module = ElfModule::Parse(source);
    if (!module.ok()) return module.status();
    return std::make_unique<ElfModule>(std::move(*module));
  }
  int Loads(const std::string& path) { return loads_[path]; }

 private:
  std::vector<uint8_t> bytes_;
  std::map<std::string, int> loads_;
};

// The fixture's segments mapped at kBase the way ld.so maps a PIE, plus anonymous code and a
// missing library.
std::vector<procfs::MapEntry> Maps() {
  return {
      {kBase, kBase + 0x1000, "r--p", 0, 7, kPath},
      {kBase + 0x1000, kBase + 0x2000, "r-xp", 0x1000, 7, kPath},
      {kBase + 0x2000, kBase + 0x3000, "r--p", 0x2000, 7, kPath},
      {0x7f0000000000, 0x7f0000001000, "r-xp", 0, 0, ""},
      {0x7f0000010000, 0x7f0000011000, "r-xp", 0x1000, 9, "/lib/missing.so"},
  };
}

ExpectedSymbol Symbol(const std::string& name) {
  for (const ExpectedSymbol& s : ReadSymbolManifest("tiny_pie.symbols")) {
    if (s.name == name) return s;
  }
  ADD_FAILURE() << "no " << name << " in the manifest";
  return {};
}

TEST(ElfCodeMapTest, SymbolizesPieAddressesWithLoadBias) {
  FakeModuleLoader loader;
  ElfCodeMap code(Maps(), loader);
  ExpectedSymbol multiply = Symbol("_ZN4tiny8MultiplyEii");
  Frame f = code.Symbolize({kBase + multiply.address + 3, false});
  EXPECT_EQ(f.symbol, "tiny::Multiply(int, int)");
  EXPECT_EQ(f.symbol_offset, 3u);
  EXPECT_EQ(f.module, kPath);
  EXPECT_EQ(f.pc, kBase + multiply.address + 3);
}

TEST(ElfCodeMapTest, ReturnAddressPastTheEndBelongsToTheCaller) {
  FakeModuleLoader loader;
  ElfCodeMap code(Maps(), loader);
  ExpectedSymbol accumulate = Symbol("_ZN4tiny10AccumulateEi");
  // A call as the last instruction (a noreturn callee) leaves a return address one past the end.
  Frame f = code.Symbolize({kBase + accumulate.address + accumulate.size, true});
  EXPECT_EQ(f.symbol, "tiny::Accumulate(int)");
  EXPECT_EQ(f.symbol_offset, accumulate.size);
}

TEST(ElfCodeMapTest, FindsCfiThroughTheBias) {
  FakeModuleLoader loader;
  ElfCodeMap code(Maps(), loader);
  ExpectedSymbol plain = Symbol("plain_c_function");
  StatusOr<UnwindRow> row = code.FindUnwindRow(kBase + plain.address);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->pc_begin, plain.address);
  EXPECT_TRUE(code.IsCode(kBase + plain.address));
  EXPECT_FALSE(code.IsCode(kBase + 0x10));  // the read-only first page
}

TEST(ElfCodeMapTest, LoadsEachModuleOnceAndReportsFailures) {
  FakeModuleLoader loader;
  ElfCodeMap code(Maps(), loader);
  ExpectedSymbol plain = Symbol("plain_c_function");
  for (int i = 0; i < 3; ++i) code.Symbolize({kBase + plain.address, false});
  Frame missing = code.Symbolize({0x7f0000010010, false});
  code.Symbolize({0x7f0000010020, false});
  EXPECT_EQ(loader.Loads(kPath), 1);
  EXPECT_EQ(loader.Loads("/lib/missing.so"), 1);
  EXPECT_EQ(missing.module, "/lib/missing.so");
  EXPECT_EQ(missing.symbol, "");
  std::vector<std::string> errors = code.ModuleErrors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("/lib/missing.so"), std::string::npos);
}

TEST(ElfCodeMapTest, AnonymousCodeHasNoModuleOrSymbol) {
  FakeModuleLoader loader;
  ElfCodeMap code(Maps(), loader);
  Frame f = code.Symbolize({0x7f0000000100, false});
  EXPECT_EQ(f.module, "");
  EXPECT_EQ(f.symbol, "");
  EXPECT_TRUE(code.ModuleErrors().empty());
}

TEST(ElfCodeMapTest, LoadsNothingOncePastTheDeadline) {
  FakeModuleLoader loader;
  auto past = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  ElfCodeMap code(Maps(), loader, past);
  ExpectedSymbol plain = Symbol("plain_c_function");
  Frame f = code.Symbolize({kBase + plain.address, false});
  EXPECT_EQ(loader.Loads(kPath), 0);
  EXPECT_EQ(f.module, kPath);
  EXPECT_EQ(f.symbol, "");
  EXPECT_EQ(code.FindUnwindRow(kBase + plain.address).status().code(), StatusCode::kNotFound);
}

// The snapshot tool's CPU and memory budget stop module loads like the deadline; a module loaded
// before the budget ran out stays usable.
TEST(ElfCodeMapTest, LoadsNothingOnceStopEarlySaysSo) {
  FakeModuleLoader loader;
  ElfCodeMap code(Maps(), loader);
  bool stop = true;
  code.SetStopEarly([&stop] { return stop; });
  ExpectedSymbol plain = Symbol("plain_c_function");
  Frame f = code.Symbolize({kBase + plain.address, false});
  EXPECT_EQ(loader.Loads(kPath), 0);
  EXPECT_EQ(f.module, kPath);
  EXPECT_EQ(f.symbol, "");
  EXPECT_TRUE(code.ModuleErrors().empty()) << "a budget is not a module's failure";
  stop = false;
  EXPECT_EQ(code.Symbolize({kBase + plain.address, false}).symbol, "plain_c_function");
  EXPECT_EQ(loader.Loads(kPath), 1);
  stop = true;
  EXPECT_EQ(code.Symbolize({kBase + plain.address, false}).symbol, "plain_c_function");
}

TEST(ElfCodeMapTest, ModulesPastTheProcessByteCapAreRefusedAndReported) {
  FakeModuleLoader loader;
  ExpectedSymbol plain = Symbol("plain_c_function");
  {
    ElfCodeMap code(Maps(), loader);
    ASSERT_EQ(code.Symbolize({kBase + plain.address, false}).symbol, "plain_c_function");
    EXPECT_GT(code.ModuleBytes(), 0u);
  }
  ElfCodeMap code(Maps(), loader, {}, /*max_module_bytes=*/64);
  Frame f = code.Symbolize({kBase + plain.address, false});
  EXPECT_EQ(f.module, kPath);
  EXPECT_EQ(f.symbol, "");
  EXPECT_EQ(code.ModuleBytes(), 0u);
  std::vector<std::string> errors = code.ModuleErrors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find(std::string(kPath) + ": ResourceExhausted"), std::string::npos)
      << errors[0];
  EXPECT_NE(errors[0].find("per-process cap"), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace ephemera::stacks
