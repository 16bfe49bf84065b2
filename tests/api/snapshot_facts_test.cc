#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "api/snapshot_document.h"

namespace ephemera::api {
namespace {

using nlohmann::json;

// A document as the snapshot tool writes it (the fields the controller reads, and some it does
// not).
json ToolDocument() {
  return {{"apiVersion", "ephemera.dev/snapshot/v1"},
          {"kind", "Snapshot"},
          {"targets", {{"mainPid", 1}, {"pids", {1, 7}}}},
          {"sections", {"process", "threads"}},
          {"processes", {{{"pid", 1}, {"cmdline", "/app"}}}},
          {"redaction",
           {{"envRedacted", 2},
            {"patternsMatched", {{"aws-access-key", 1}}},
            {"droppedFields", {"1.env[X].value"}}}},
          {"degraded",
           {{{"section", "stacks"}, {"pid", 7}, {"tid", 9}, {"reason", "ptrace: EPERM"}},
            {{"section", "process"}, {"pid", nullptr}, {"reason", "output cap"}},
            "a plain line"}},
          {"overhead",
           {{"targetFreezeMicros", 10},
            {"targetMaxThreadFreezeMicros", 4},
            {"toolCpuMillis", 3},
            {"toolMaxRssKiB", 2048},
            {"wallMillis", 15}}}};
}

// The message of the refusal of `text`, "" when it was accepted.
std::string RefusalOfText(const std::string& text) {
  auto facts = ParseSnapshotDocument(text);
  if (facts.ok()) return "";
  EXPECT_EQ(facts.status().code(), StatusCode::kDataLoss);
  return facts.status().message();
}

std::string Refusal(const json& doc) { return RefusalOfText(doc.dump()); }

constexpr char kPrefix[] = "the snapshot container's output is not a valid snapshot: ";

TEST(SnapshotFactsTest, ReadsWhatTheToolWrites) {
  auto facts = ParseSnapshotDocument(ToolDocument().dump());
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->sections, (std::vector<std::string>{"process", "threads"}));
  EXPECT_EQ(facts->pids, (std::vector<std::int64_t>{1, 7}));
  EXPECT_EQ(facts->degraded, (std::vector<std::string>{"stacks pid 7: ptrace: EPERM",
                                                       "process: output cap", "a plain line"}));
  EXPECT_EQ(facts->redaction.env_redacted, 2);
  EXPECT_EQ(facts->redaction.text_redacted, 1);  // a total only (L9)
  EXPECT_EQ(facts->redaction.dropped_fields, 1);
  EXPECT_EQ(facts->overhead.target_freeze_micros, 10);
  EXPECT_EQ(facts->overhead.tool_cpu_millis, 3);
  EXPECT_EQ(facts->overhead.tool_max_rss_kib, 2048);
  EXPECT_EQ(facts->overhead.wall_millis, 15);
}

TEST(SnapshotFactsTest, ReadsWhichBudgetWasReachedAndRefusesAnyOtherWord) {
  EXPECT_EQ(ParseSnapshotDocument(ToolDocument().dump())->overhead.budget_reached, "");
  for (const char* kind : {"cpu", "memory", "wall"}) {
    json doc = ToolDocument();
    doc["overhead"]["budgetReached"] = kind;
    auto facts = ParseSnapshotDocument(doc.dump());
    ASSERT_TRUE(facts.ok()) << facts.status().ToString();
    EXPECT_EQ(facts->overhead.budget_reached, kind);
  }
  for (const json& bad : {json("disk"), json(1), json::array()}) {
    json doc = ToolDocument();
    doc["overhead"]["budgetReached"] = bad;
    EXPECT_EQ(Refusal(doc),
              std::string(kPrefix) + "field 'overhead.budgetReached' is not cpu, memory or wall")
        << bad.dump();
  }
}

TEST(SnapshotFactsTest, OptionalFieldsMayBeAbsent) {
  auto facts = ParseSnapshotDocument(R"({"apiVersion":"ephemera.dev/snapshot/v1"})");
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_TRUE(facts->sections.empty());
  EXPECT_TRUE(facts->pids.empty());
  EXPECT_EQ(facts->overhead.wall_millis, 0);
}

// H3: nlohmann's value() threw type_error.302 on these; the controller crashed.
TEST(SnapshotFactsTest, RefusesAnApiVersionThatIsNotAString) {
  EXPECT_EQ(RefusalOfText(R"({"apiVersion":1})"),
            std::string(kPrefix) + "field 'apiVersion' is not a string");
  EXPECT_EQ(RefusalOfText(R"({"apiVersion":"ephemera.dev/snapshot/v0"})"),
            std::string(kPrefix) + "field 'apiVersion' is not ephemera.dev/snapshot/v1");
  EXPECT_EQ(RefusalOfText(R"({"kind":"Snapshot"})"),
            std::string(kPrefix) + "field 'apiVersion' is missing");
}

// H3: copying 200 000 nested arrays under "targets" overflowed the stack.
TEST(SnapshotFactsTest, RefusesDeepNestingBeforeParsing) {
  const std::string deep = R"({"apiVersion":"ephemera.dev/snapshot/v1","targets":)" +
                           std::string(200000, '[') + std::string(200000, ']') + "}";
  EXPECT_EQ(RefusalOfText(deep), std::string(kPrefix) + "it nests deeper than 128 levels");
  // Brackets inside strings are text, not nesting.
  json doc = ToolDocument();
  doc["processes"][0]["cmdline"] = std::string(1000, '[');
  EXPECT_EQ(Refusal(doc), "");
}

TEST(SnapshotFactsTest, RefusesWhatIsNotAJsonObject) {
  static constexpr char kBinary[] = "\x89PNG\r\n\x1a\n\xff\xfe garbage";
  EXPECT_EQ(RefusalOfText(std::string(kBinary, sizeof kBinary - 1)),
            std::string(kPrefix) + "it is not JSON");
  EXPECT_EQ(RefusalOfText(std::string()), std::string(kPrefix) + "it is not JSON");
  EXPECT_EQ(RefusalOfText(R"(["ephemera.dev/snapshot/v1"])"),
            std::string(kPrefix) + "it is not a JSON object");
  // Invalid UTF-8 inside a string would make every later dump() of it throw.
  EXPECT_EQ(
      RefusalOfText(std::string("{\"apiVersion\":\"ephemera.dev/snapshot/v1\",\"x\":\"\xc3\"}")),
      std::string(kPrefix) + "it is not JSON");
}

// Every field the controller reads is type-checked; the message names the field, never its value.
TEST(SnapshotFactsTest, NamesTheFieldOfTheWrongType) {
  struct Row {
    const char* pointer;  // JSON pointer into ToolDocument()
    json value;
    const char* problem;
  };
  const Row rows[] = {
      {"/sections", "process", "field 'sections' is not an array"},
      {"/sections/1", 5, "field 'sections[1]' is not a string"},
      {"/degraded", json::object(), "field 'degraded' is not an array"},
      {"/degraded/1", 5, "field 'degraded[1]' is neither a string nor an object"},
      {"/degraded/0/section", 5, "field 'degraded[0].section' is not a string"},
      {"/degraded/0/reason", json::array(), "field 'degraded[0].reason' is not a string"},
      {"/degraded/0/pid", "7", "field 'degraded[0].pid' is not an integer"},
      {"/targets", json::array(), "field 'targets' is not an object"},
      {"/targets/pids", "1 7", "field 'targets.pids' is not an array"},
      {"/targets/pids/1", 7.5, "field 'targets.pids[1]' is not an integer"},
      {"/targets/pids/0", -1, "field 'targets.pids[0]' is negative"},
      {"/targets/pids/1", std::int64_t{9'000'000'000'000'000'000},
       "field 'targets.pids[1]' is larger than any process id (4194304)"},
      {"/redaction", "none", "field 'redaction' is not an object"},
      {"/redaction/envRedacted", "2", "field 'redaction.envRedacted' is not an integer"},
      {"/redaction/patternsMatched", json::array(),
       "field 'redaction.patternsMatched' is not an object"},
      {"/redaction/patternsMatched/aws-access-key", "1",
       "field 'redaction.patternsMatched' has a count that is not an integer"},
      {"/redaction/droppedFields", 3, "field 'redaction.droppedFields' is not an array"},
      {"/overhead", 1, "field 'overhead' is not an object"},
      {"/overhead/wallMillis", 1.5, "field 'overhead.wallMillis' is not an integer"},
      {"/overhead/toolCpuMillis", 18446744073709551615ULL,
       "field 'overhead.toolCpuMillis' is too large"},
  };
  for (const Row& row : rows) {
    json doc = ToolDocument();
    doc[json::json_pointer(row.pointer)] = row.value;
    EXPECT_EQ(Refusal(doc), std::string(kPrefix) + row.problem) << row.pointer;
  }
}

TEST(SnapshotFactsTest, DoesNotEchoValuesFromTheDocument) {
  json doc = ToolDocument();
  doc["apiVersion"] = "SECRET-c0ffee";
  EXPECT_EQ(Refusal(doc).find("SECRET"), std::string::npos);
}

// What goes into the status and the audit records is bounded.
TEST(SnapshotFactsTest, BoundsWhatReachesTheStatus) {
  json doc = ToolDocument();
  doc["sections"] = json::array();
  for (std::size_t i = 0; i <= kMaxSections; ++i) doc["sections"].push_back("s");
  EXPECT_EQ(Refusal(doc), std::string(kPrefix) + "field 'sections' has more than 64 entries");

  doc = ToolDocument();
  doc["sections"][0] = std::string(kMaxSectionNameBytes + 1, 's');
  EXPECT_EQ(Refusal(doc), std::string(kPrefix) + "field 'sections[0]' is longer than 64 bytes");

  doc = ToolDocument();
  doc["targets"]["pids"] = json::array();
  for (std::size_t i = 0; i <= kMaxPids; ++i) doc["targets"]["pids"].push_back(i);
  EXPECT_EQ(Refusal(doc),
            std::string(kPrefix) + "field 'targets.pids' has more than 65536 entries");

  doc = ToolDocument();
  for (std::size_t i = 0; i <= kMaxPatternRules; ++i) {
    doc["redaction"]["patternsMatched"]["rule-" + std::to_string(i)] = 1;
  }
  EXPECT_EQ(Refusal(doc),
            std::string(kPrefix) + "field 'redaction.patternsMatched' has more than 256 rules");

  // Degraded entries are all checked, the first ones listed, the rest counted.
  doc = ToolDocument();
  doc["degraded"] = json::array();
  for (int i = 0; i < 1000; ++i) {
    doc["degraded"].push_back({{"section", "fds"}, {"pid", i}, {"reason", "gone"}});
  }
  auto facts = ParseSnapshotDocument(doc.dump());
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  ASSERT_EQ(facts->degraded.size(), kMaxDegradedListed + 1);
  EXPECT_EQ(facts->degraded.back(), "... and 936 more degraded entries (listed in the snapshot)");
  doc["degraded"][999]["reason"] = 1;
  EXPECT_EQ(Refusal(doc), std::string(kPrefix) + "field 'degraded[999].reason' is not a string");
}

// A long reason is cut on a character boundary: the status must stay valid UTF-8.
TEST(SnapshotFactsTest, CutsLongDegradedTextsOnACharacterBoundary) {
  json doc = ToolDocument();
  std::string reason = "x";
  while (reason.size() < 2 * kMaxDegradedTextBytes) reason += "\xc3\xa9";  // é
  doc["degraded"] = {{{"section", "stacks"}, {"reason", reason}}};
  auto facts = ParseSnapshotDocument(doc.dump());
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  ASSERT_EQ(facts->degraded.size(), 1u);
  const std::string& line = facts->degraded[0];
  EXPECT_LE(line.size(), std::string("stacks: ").size() + kMaxDegradedTextBytes + 3);
  EXPECT_EQ(line.substr(line.size() - 3), "...");
  EXPECT_NO_THROW((void)json(line).dump()) << "cut inside a character";
}

}  // namespace
}  // namespace ephemera::api
