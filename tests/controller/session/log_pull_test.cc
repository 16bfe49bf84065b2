#include "controller/session/log_pull.h"

#include <gtest/gtest.h>

#include <string>

#include "api/snapshot_document.h"

namespace ephemera::session {
namespace {

using namespace std::chrono_literals;

redact::Redactor PlainRedactor() {
  auto redactor = redact::Redactor::Create({});
  EXPECT_TRUE(redactor.ok());
  return *redactor;
}

TEST(LogLimitsTest, UnsetFieldsTakeThePolicysDefaults) {
  LogPolicy policy;
  api::LogsSpec spec;
  LogLimits limits = EffectiveLogLimits(spec, policy);
  EXPECT_EQ(limits.tail_lines, policy.default_tail_lines);
  EXPECT_EQ(limits.limit_bytes, policy.default_limit_bytes);
  EXPECT_FALSE(limits.since.has_value());
  EXPECT_TRUE(limits.previous);
  spec.tail_lines = 7;
  spec.since = 90s;
  spec.previous = false;
  limits = EffectiveLogLimits(spec, policy);
  EXPECT_EQ(limits.tail_lines, 7);
  EXPECT_EQ(limits.since, 90s);
  EXPECT_FALSE(limits.previous);
}

TEST(LogLimitsTest, EachCeilingIsRefusedJustAboveAndAcceptedAtIt) {
  LogPolicy policy;
  api::LogsSpec spec;
  spec.tail_lines = policy.max_tail_lines;
  spec.limit_bytes = policy.max_limit_bytes;
  spec.since = policy.max_since;
  EXPECT_EQ(LogsProblem(spec, policy), "");
  api::LogsSpec lines = spec;
  lines.tail_lines = policy.max_tail_lines + 1;
  EXPECT_NE(LogsProblem(lines, policy).find("spec.logs.tailLines"), std::string::npos);
  api::LogsSpec bytes = spec;
  bytes.limit_bytes = policy.max_limit_bytes + 1;
  EXPECT_NE(LogsProblem(bytes, policy).find("spec.logs.limitBytes"), std::string::npos);
  api::LogsSpec since = spec;
  since.since = policy.max_since + 1s;
  EXPECT_NE(LogsProblem(since, policy).find("spec.logs.since"), std::string::npos);
}

TEST(TakeControllerOnlyTest, RemovesTheSectionAndAToolWrittenLogsSection) {
  Document doc = {{"apiVersion", "v"},
                  {"logs", {{"forged", true}}},
                  {"controllerOnly", {{"valueKeys", {"abcdefgh", "ijklmnop"}}}}};
  auto keys = TakeControllerOnly(doc);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_TRUE(keys->present);
  EXPECT_EQ(keys->values, (std::vector<std::string>{"abcdefgh", "ijklmnop"}));
  EXPECT_EQ(keys->environs_unread, 0);
  EXPECT_EQ(doc, Document({{"apiVersion", "v"}}));
  EXPECT_EQ(ValueKeysProblem(*keys), "");
}

TEST(TakeControllerOnlyTest, AbsentMeansTheLogMustNotBeRead) {
  Document doc = {{"apiVersion", "v"}};
  auto keys = TakeControllerOnly(doc);
  ASSERT_TRUE(keys.ok());
  EXPECT_FALSE(keys->present);
  EXPECT_NE(ValueKeysProblem(*keys), "");
  ValueKeys unread;
  unread.present = true;
  unread.environs_unread = 2;
  EXPECT_NE(ValueKeysProblem(unread).find("2 target process"), std::string::npos);
}

TEST(TakeControllerOnlyTest, RefusesWhatIsBeyondItsBoundsOrOfAnotherType) {
  const std::vector<Document> bad = {
      Document("text"),
      Document::object(),
      Document({{"valueKeys", "abc"}}),
      Document({{"valueKeys", {1, 2}}}),
      Document({{"valueKeys", {std::string(api::kMaxValueKeyBytes + 1, 'a')}}}),
      Document({{"valueKeys", Document::array()}, {"environsUnread", -1}}),
      Document({{"valueKeys", Document::array()}, {"environsUnread", "0"}}),
  };
  for (const Document& section : bad) {
    Document doc = {{"controllerOnly", section}};
    auto keys = TakeControllerOnly(doc);
    EXPECT_EQ(keys.status().code(), StatusCode::kInvalidArgument) << section.dump();
    EXPECT_FALSE(doc.contains("controllerOnly")) << "removed even when refused";
  }
  Document many = {{"controllerOnly", {{"valueKeys", Document::array()}}}};
  for (std::size_t i = 0; i <= api::kMaxValueKeys; ++i) {
    many["controllerOnly"]["valueKeys"].push_back("value-" + std::to_string(i));
  }
  EXPECT_FALSE(TakeControllerOnly(many).ok());
  Document at_bound = {
      {"controllerOnly", {{"valueKeys", {std::string(api::kMaxValueKeyBytes, 'a')}}}}};
  EXPECT_TRUE(TakeControllerOnly(at_bound).ok());
}

TEST(BuildLogInstanceTest, RedactsEachLineAndDropsWhatIsNotText) {
  const std::string secret = "s3cr3t-value-42";
  const redact::Redactor redactor = PlainRedactor().WithSecretValues({secret});
  LogInstanceRead read;
  read.instance = "current";
  read.restart_count = 2;
  read.text = "one\r\nwith " + secret + " inside\n" + std::string("bin\0ary", 7) + "\n" +
              std::string(kMaxLogLineBytes + 1, 'x') + "\n\nlast";
  redact::RedactionReport report;
  LogInstanceSummary summary;
  LogLimits limits{100, 1 << 20, std::nullopt, true};
  const Document out = BuildLogInstance(read, limits, redactor, report, summary);
  EXPECT_EQ(out["lines"], Document({"one", "with [REDACTED:secret-value] inside", "", "last"}));
  EXPECT_EQ(out["droppedLines"], 2);
  EXPECT_EQ(out["truncated"], false);
  EXPECT_EQ(out["restartCount"], 2);
  EXPECT_EQ(summary.lines, 4);
  EXPECT_EQ(summary.bytes, static_cast<std::int64_t>(read.text->size()));
  EXPECT_EQ(report.patterns_matched["secret-value"], 1);
  EXPECT_FALSE(out.contains("error"));
}

TEST(BuildLogInstanceTest, AReadCutAtLimitBytesDropsItsCutLastLine) {
  LogInstanceRead read;
  read.instance = "current";
  read.text = std::string("full line\npassword=abc");  // cut in the middle of a secret
  redact::RedactionReport report;
  LogInstanceSummary summary;
  const LogLimits limits{100, static_cast<std::int64_t>(read.text->size()), std::nullopt, true};
  const Document out = BuildLogInstance(read, limits, PlainRedactor(), report, summary);
  EXPECT_EQ(out["lines"], Document({"full line"}));
  EXPECT_EQ(out["truncated"], true);
  EXPECT_EQ(out["droppedLines"], 1);
}

TEST(BuildLogInstanceTest, AnInstanceThatCouldNotBeReadSaysWhyAndHasTheTermination) {
  LogInstanceRead read;
  read.instance = "previous";
  read.text = NotFoundError("previous terminated container app not found");
  read.termination = TerminationView{137, 9, "OOMKilled", "", "2026-01-01T00:00:00Z"};
  redact::RedactionReport report;
  LogInstanceSummary summary;
  const Document out = BuildLogInstance(read, LogLimits{10, 10, std::nullopt, true},
                                        PlainRedactor(), report, summary);
  EXPECT_TRUE(out["lines"].empty());
  EXPECT_EQ(out["error"], "previous terminated container app not found");
  EXPECT_EQ(summary.error, "previous terminated container app not found");
  EXPECT_EQ(out["termination"], Document({{"exitCode", 137},
                                          {"signal", 9},
                                          {"reason", "OOMKilled"},
                                          {"finishedAt", "2026-01-01T00:00:00Z"}}));
}

TEST(AddLogsSectionTest, AddsTheSectionTheCountsAndADegradedEntryPerUnreadInstance) {
  Document doc = {{"sections", {"process"}},
                  {"redaction", {{"patternsMatched", {{"jwt", 2}}}}},
                  {"degraded", Document::array()}};
  redact::RedactionReport report;
  report.patterns_matched["jwt"] = 1;
  report.patterns_matched["email"] = 3;
  Document instances = Document::array();
  instances.push_back({{"instance", "current"}, {"lines", Document::array()}});
  instances.push_back({{"instance", "previous"}, {"error", "gone"}});
  AddLogsSection(doc, "app", LogLimits{10, 20, 60s, true}, instances, report);
  EXPECT_EQ(doc["sections"], Document({"process", "logs"}));
  EXPECT_EQ(doc["redaction"]["patternsMatched"]["jwt"], 3);
  EXPECT_EQ(doc["redaction"]["patternsMatched"]["email"], 3);
  EXPECT_EQ(doc["logs"]["limits"],
            Document({{"tailLines", 10}, {"limitBytes", 20}, {"sinceSeconds", 60}}));
  ASSERT_EQ(doc["degraded"].size(), 1u);
  EXPECT_EQ(doc["degraded"][0]["section"], "logs");
  EXPECT_EQ(doc["degraded"][0]["reason"], "previous instance: gone");
}

}  // namespace
}  // namespace ephemera::session
