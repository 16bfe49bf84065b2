// Fixtures shared by the report tests: snapshot documents from tests/testdata/report and small
// documents built in code.
#ifndef EPHEMERA_TESTS_CLI_REPORT_REPORT_FIXTURES_H_
#define EPHEMERA_TESTS_CLI_REPORT_REPORT_FIXTURES_H_

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace ephemera::report {

// The parsed document tests/testdata/report/<name>; a null json when missing (the test then fails
// on its assertions with the file name in the message).
inline nlohmann::json LoadReportFixture(const std::string& name) {
  std::ifstream in(std::string(EPHEMERA_TESTDATA_DIR) + "/report/" + name);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
}

// A thread entry with a captured stack whose frames call the given functions, innermost first.
inline nlohmann::json ThreadWithStack(int tid, const std::string& name,
                                      const std::vector<std::string>& functions,
                                      const std::string& wchan = "futex_wait_queue") {
  nlohmann::json frames = nlohmann::json::array();
  int pc = 0x401000;
  for (const auto& function : functions) {
    std::ostringstream hex;
    hex << "0x" << std::hex << pc;
    frames.push_back(
        {{"pc", hex.str()}, {"symbol", function}, {"offset", 16}, {"module", "/app/server"}});
    pc += 0x100;
  }
  return {{"tid", tid},
          {"name", name},
          {"state", "S"},
          {"userMillis", 0},
          {"systemMillis", 0},
          {"lastProcessor", 0},
          {"wchan", wchan},
          {"stack", {{"unwind", "cfi"}, {"freezeMicros", 20}, {"frames", frames}}}};
}

// minimal.json with the given threads (and sections threads and stacks) in its only process.
inline nlohmann::json SnapshotWithThreads(const nlohmann::json& threads) {
  nlohmann::json doc = LoadReportFixture("minimal.json");
  doc["sections"] = {"process", "threads", "stacks"};
  doc["processes"][0]["threads"] = threads;
  doc["processes"][0]["threadCount"] = threads.size();
  return doc;
}

}  // namespace ephemera::report

#endif  // EPHEMERA_TESTS_CLI_REPORT_REPORT_FIXTURES_H_
