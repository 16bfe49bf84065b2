// Helpers for the stack-capture unit tests: reading the checked-in ELF fixtures and their symbol
// manifests (written by tests/testdata/stacks/make_fixtures.sh).
#ifndef EPHEMERA_TESTS_DEBUGPOD_STACKS_FIXTURE_FILES_H_
#define EPHEMERA_TESTS_DEBUGPOD_STACKS_FIXTURE_FILES_H_

#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace ephemera::stacks {

inline std::string FixturePath(const std::string& name) {
  return std::string(EPHEMERA_TESTDATA_DIR) + "/stacks/" + name;
}

inline std::vector<uint8_t> ReadFixture(const std::string& name) {
  std::ifstream in(FixturePath(name), std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct ExpectedSymbol {
  uint64_t address = 0;
  uint64_t size = 0;
  std::string name;
};

// Lines of `nm -S`: "<address> <size> <type> <name>".
inline std::vector<ExpectedSymbol> ReadSymbolManifest(const std::string& name) {
  std::ifstream in(FixturePath(name));
  std::vector<ExpectedSymbol> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    ExpectedSymbol s;
    std::string type;
    fields >> std::hex >> s.address >> s.size >> type >> s.name;
    if (fields) out.push_back(s);
  }
  return out;
}

}  // namespace ephemera::stacks

#endif  // EPHEMERA_TESTS_DEBUGPOD_STACKS_FIXTURE_FILES_H_
