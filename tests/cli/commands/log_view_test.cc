#include "cli/commands/log_view.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace ephemera::commands {
namespace {

using command_line::ExitCode;
using nlohmann::json;

json Fixture(const std::string& name) {
  std::ifstream in(std::string(EPHEMERA_TESTDATA_DIR) + "/logs/" + name);
  return json::parse(in);
}

struct Printed {
  CommandOutcome outcome;
  std::string out;
  std::string err;
};

Printed Write(const json& document, bool timestamps = false) {
  std::ostringstream out;
  std::ostringstream err;
  LogViewOptions options;
  options.timestamps = timestamps;
  CommandOutcome outcome = WriteLogs(document, options, out, err);
  return {outcome, out.str(), err.str()};
}

TEST(LogViewTest, PrintsThePreviousInstanceFirstWithoutTimestamps) {
  Printed printed = Write(Fixture("crashloop.json"));
  EXPECT_TRUE(printed.outcome.Succeeded()) << printed.outcome.message;
  EXPECT_EQ(printed.out,
            "allocating cache for user [REDACTED:email]\n"
            "out of memory\n"
            "listening on :8080\n"
            "GET /pay 500 token=[REDACTED:key-value]\n"
            "\\x1B[31mpanic\\x1B[0m in \\u009B2J handler \\u202Eevil\n");
}

TEST(LogViewTest, HeadersAndNotesGoToStderr) {
  Printed printed = Write(Fixture("crashloop.json"));
  EXPECT_EQ(printed.err,
            "== previous instance (restart count 3; exited 137, signal 9, OOMKilled, at "
            "2026-12-06T17:57:00Z) ==\n"
            "== current instance (restart count 3) ==\n"
            "(cut at the byte limit of 262144 bytes: --limit-bytes reads more, --tail or --since "
            "fewer)\n"
            "(2 lines left out: not text, longer than 16 KiB, or not redactable)\n");
}

TEST(LogViewTest, TimestampsAreKeptWhenAsked) {
  Printed printed = Write(Fixture("crashloop.json"), /*timestamps=*/true);
  EXPECT_EQ(printed.out.rfind("2026-12-06T17:56:59.000000000Z allocating cache", 0), 0u)
      << printed.out;
  EXPECT_NE(printed.out.find("\n2026-12-06T18:00:00.123456789Z GET /pay 500 token="),
            std::string::npos)
      << printed.out;
}

TEST(LogViewTest, ALineWithoutATimestampIsPrintedWhole) {
  json document = Fixture("crashloop.json");
  document["logs"]["instances"][0]["lines"] = json::array({"not-a-time rest of line"});
  document["logs"]["instances"][1]["lines"] = json::array();
  Printed printed = Write(document);
  EXPECT_EQ(printed.out, "not-a-time rest of line\n");
  EXPECT_NE(printed.err.find("== previous instance (restart count 3; exited 137, signal 9, "
                             "OOMKilled, at 2026-12-06T17:57:00Z) ==\n(no lines)\n"),
            std::string::npos)
      << printed.err;
}

TEST(LogViewTest, AnInstanceWithAnErrorSaysWhyOnStderr) {
  json document = Fixture("crashloop.json");
  json& previous = document["logs"]["instances"][1];
  previous = {{"instance", "previous"},
              {"restartCount", 0},
              {"lines", json::array()},
              {"lineCount", 0},
              {"bytes", 0},
              {"truncated", false},
              {"droppedLines", 0},
              {"error", "the container has no previous instance"}};
  Printed printed = Write(document);
  EXPECT_TRUE(printed.outcome.Succeeded()) << "the current instance was read";
  EXPECT_EQ(printed.err.rfind("== previous instance (restart count 0): not read: the container "
                              "has no previous instance ==\n== current instance",
                              0),
            0u)
      << printed.err;
  EXPECT_EQ(printed.out.find("out of memory"), std::string::npos);
}

TEST(LogViewTest, FailsWhenNoInstanceCouldBeRead) {
  json document = Fixture("crashloop.json");
  for (json& instance : document["logs"]["instances"]) {
    instance["lines"] = json::array();
    instance["error"] = "pods/log: the kubelet did not answer";
  }
  document["logs"]["instances"][0]["error"] = "\x1b]0;owned\x07";
  Printed printed = Write(document);
  EXPECT_EQ(printed.outcome.exit_code, ExitCode::kFailed);
  EXPECT_EQ(printed.outcome.message,
            "no log could be read (previous instance: pods/log: the kubelet did not answer; "
            "current instance: \\x1B]0;owned\\x07)");
  EXPECT_TRUE(printed.out.empty());
  EXPECT_EQ(printed.err.find('\x1b'), std::string::npos) << "escape sequences are escaped";
}

TEST(LogViewTest, ADocumentWithoutLogsSaysWhy) {
  json document = Fixture("crashloop.json");
  document.erase("logs");
  Printed bare = Write(document);
  EXPECT_EQ(bare.outcome.exit_code, ExitCode::kFailed);
  EXPECT_NE(bare.outcome.message.find("the snapshot has no logs section"), std::string::npos)
      << bare.outcome.message;

  document["degraded"] = json::array(
      {{{"section", "logs"}, {"reason", "requester may not get pods/log in namespace shop"}}});
  Printed degraded = Write(document);
  EXPECT_EQ(degraded.outcome.message,
            "the snapshot holds no log: requester may not get pods/log in namespace shop");
  std::ostringstream out;
  EXPECT_EQ(WriteLogsJson(document, out).exit_code, ExitCode::kFailed);
  EXPECT_TRUE(out.str().empty());
}

TEST(LogViewTest, JsonIsTheLogsSectionInAscii) {
  const json document = Fixture("crashloop.json");
  std::ostringstream out;
  ASSERT_TRUE(WriteLogsJson(document, out).Succeeded());
  const std::string text = out.str();
  EXPECT_EQ(json::parse(text), document["logs"]);
  EXPECT_TRUE(std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x80 && (c >= 0x20 || c == '\n');
  })) << text;
}

TEST(LogViewTest, HeaderOfAnUnusualInstance) {
  EXPECT_EQ(InstanceHeader(json::object()), "== unnamed instance ==");
  EXPECT_EQ(InstanceHeader({{"instance", "current"},
                            {"termination", {{"reason", "Completed"}, {"exitCode", 0}}}}),
            "== current instance (exited 0, Completed) ==");
  EXPECT_EQ(InstanceHeader({{"instance", "current"}, {"termination", {{"reason", "Error"}}}}),
            "== current instance (terminated, Error) ==");
}

}  // namespace
}  // namespace ephemera::commands
