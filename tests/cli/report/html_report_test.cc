#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cli/report/report.h"
#include "tests/cli/report/report_fixtures.h"

namespace ephemera::report {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::string RenderHtmlOrDie(const json& doc, const ReportContext& context = {}) {
  StatusOr<std::string> html = RenderHtml(doc, context);
  EXPECT_TRUE(html.ok()) << html.status().ToString();
  return html.ok() ? *html : std::string();
}

std::size_t Count(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(HtmlReportTest, HasTheKeyElements) {
  std::string html = RenderHtmlOrDie(LoadReportFixture("ephemera-target.json"));

  for (const char* id : {"header",
                         "summary",
                         "processes",
                         "process-tree",
                         "stacks",
                         "fds",
                         "sockets",
                         "memory",
                         "cgroup",
                         "limits",
                         "env",
                         "redaction",
                         "degraded",
                         "overhead",
                         "flame-17604",
                         "stacks-17604",
                         "fds-table-17604",
                         "sockets-table-17604",
                         "memory-chart-17604",
                         "freeze-table"}) {
    EXPECT_THAT(html, HasSubstr(std::string("id=\"") + id + "\"")) << id;
  }
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("</html>\n"));
}

TEST(HtmlReportTest, IsSelfContained) {
  for (const char* fixture : {"ephemera-target.json", "minimal.json", "degraded.json"}) {
    std::string html = RenderHtmlOrDie(LoadReportFixture(fixture));

    EXPECT_THAT(html, Not(HasSubstr("http://"))) << fixture;
    EXPECT_THAT(html, Not(HasSubstr("https://"))) << fixture;
    EXPECT_THAT(html, Not(HasSubstr("//cdn"))) << fixture;
    EXPECT_THAT(html, Not(HasSubstr("src="))) << fixture;
    EXPECT_THAT(html, Not(HasSubstr("@import"))) << fixture;
    EXPECT_THAT(html, Not(HasSubstr("url("))) << fixture;
    EXPECT_THAT(html, Not(HasSubstr("<link"))) << fixture;
    EXPECT_EQ(Count(html, "<script"), 1U) << fixture;
    EXPECT_EQ(Count(html, "<style"), 1U) << fixture;
    EXPECT_THAT(html, HasSubstr("Content-Security-Policy\" content=\"default-src 'none';"));
  }
}

TEST(HtmlReportTest, EscapesEverythingTakenFromTheDocument) {
  const std::string evil = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;";
  json doc = LoadReportFixture("ephemera-target.json");
  json& process = doc["processes"][1];
  process["cmdline"] = evil;
  process["name"] = evil;
  process["threads"][0]["name"] = evil;
  process["threads"][0]["wchan"] = evil;
  process["threads"][0]["stack"]["frames"][0]["symbol"] = evil;
  process["threads"][0]["stack"]["frames"][0]["module"] = evil;
  process["fds"][0]["target"] = evil;
  process["sockets"][0]["local"] = evil;
  process["maps"]["files"][0]["path"] = evil;
  process["maps"]["byKind"][evil] = {{"count", 1}, {"bytes", 4096}};
  process["limits"][0]["name"] = evil;
  process["env"][0]["name"] = evil;
  process["env"][0]["value"] = evil;
  process["cgroup"]["cpuPath"] = evil;
  doc["processTree"][1]["name"] = evil;
  doc["redaction"]["patternsMatched"][evil] = 1;
  doc["redaction"]["droppedFields"] = {evil};
  doc["degraded"] = {{{"section", evil}, {"pid", 17604}, {"reason", evil}}};
  doc["tool"]["version"] = evil;
  doc["captureTime"] = evil;
  ReportContext context;
  context.session = evil;
  context.reason = evil;

  std::string html = RenderHtmlOrDie(doc, context);

  EXPECT_EQ(Count(html, "<script"), 1U);
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("\"'>")));
  EXPECT_THAT(html, Not(HasSubstr("alert(1)</script>")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x "
                              "onerror=alert(2)&gt;&amp;amp;"));
  // Every place above shows the text, escaped (the title, a tooltip, a cell, an SVG label...).
  EXPECT_GE(Count(html, "&lt;script&gt;alert(1)"), 20U);
}

TEST(HtmlReportTest, DrawsIdenticalStacksAsOneGroup) {
  json threads = json::array();
  for (int i = 0; i < 12; ++i) {
    threads.push_back(ThreadWithStack(100 + i, "worker-" + std::to_string(i),
                                      {"futex_wait", "WaitForWork", "WorkerMain"}));
  }
  threads.push_back(ThreadWithStack(7, "app", {"accept", "main"}, "inet_csk_accept"));

  std::string html = RenderHtmlOrDie(SnapshotWithThreads(threads));

  EXPECT_EQ(Count(html, "class=\"group\""), 2U);
  EXPECT_THAT(html, HasSubstr("<div class=\"group\" data-threads=\"12\">"));
  EXPECT_THAT(html, HasSubstr("<div class=\"group\" data-threads=\"1\">"));
  EXPECT_LT(html.find("data-threads=\"12\">"),
            html.find("<div class=\"group\" data-threads=\"1\">"));
  // The flame picture: a root over all 13 threads, the workers' path 12 wide.
  EXPECT_THAT(html, HasSubstr("style=\"flex:13 13 0\""));
  EXPECT_THAT(html, HasSubstr("data-threads=\"12\">WorkerMain</div>"));
  EXPECT_THAT(html, HasSubstr("data-threads=\"12\">futex_wait</div>"));
  EXPECT_THAT(html, HasSubstr("data-threads=\"1\">accept</div>"));
}

TEST(HtmlReportTest, ShowsRedactionDegradedAndOverhead) {
  std::string html = RenderHtmlOrDie(LoadReportFixture("degraded.json"));

  std::string redaction = html.substr(html.find("id=\"redaction\""));
  EXPECT_THAT(redaction, HasSubstr("4 replaced by [REDACTED]"));
  EXPECT_THAT(redaction,
              HasSubstr("<td>bearer-token</td><td class=\"num\" data-sort=\"2\">2</td>"));
  EXPECT_THAT(redaction, HasSubstr("processes[pid=11].cmdline"));
  std::string degraded = html.substr(html.find("id=\"degraded\""));
  EXPECT_THAT(degraded, HasSubstr("profile restricted: no CAP_SYS_PTRACE"));
  EXPECT_THAT(degraded, HasSubstr("output cap: dropped to fit --max-output-bytes 16384"));
  EXPECT_THAT(degraded, HasSubstr("process exited"));
  EXPECT_THAT(html, HasSubstr("Not captured: output cap: dropped"));
  std::string overhead = html.substr(html.find("id=\"overhead\""));
  EXPECT_THAT(overhead, HasSubstr("<dd>1.90 s</dd>"));  // toolCpuMillis
}

TEST(HtmlReportTest, ToleratesMissingSections) {
  json doc = LoadReportFixture("minimal.json");
  doc.erase("overhead");
  doc.erase("redaction");
  doc.erase("processTree");
  doc.erase("sections");

  std::string html = RenderHtmlOrDie(doc);

  EXPECT_THAT(html, HasSubstr("No overhead figures in the document."));
  EXPECT_THAT(html, HasSubstr("No redaction report in the document."));
  EXPECT_THAT(html, HasSubstr("Not requested (--capture did not include fds)"));
  EXPECT_THAT(html, HasSubstr("id=\"overhead\""));
}

TEST(HtmlReportTest, TablesCarrySortKeys) {
  std::string html = RenderHtmlOrDie(LoadReportFixture("ephemera-target.json"));

  EXPECT_THAT(html, HasSubstr("<table id=\"fds-table-17604\" class=\"sortable\">"));
  // Sizes sort by bytes, not by their text.
  EXPECT_THAT(html, HasSubstr("<td class=\"num\" data-sort=\"1867776\">1.8 MiB</td>"));
}

TEST(HtmlReportTest, InvalidDocumentIsInvalidArgument) {
  StatusOr<std::string> html =
      RenderHtml(json::parse(R"({"apiVersion": "v1", "kind": "Pod"})"), {});

  ASSERT_FALSE(html.ok());
  EXPECT_EQ(html.status().code(), StatusCode::kInvalidArgument);
}

TEST(HtmlReportTest, OpensWithTheFindings) {
  std::string html = RenderHtmlOrDie(LoadReportFixture("incident.json"));
  const std::size_t findings = html.find("<section id=\"findings\">");
  ASSERT_NE(findings, std::string::npos);
  EXPECT_LT(findings, html.find("<section id=\"summary\">"));
  EXPECT_EQ(Count(html, "<li data-kind=\""), 8U);
  EXPECT_THAT(html, HasSubstr("<li data-kind=\"futex-convoy\"><div class=\"title\">14 threads "
                              "waiting on a futex with identical stacks"));
  EXPECT_THAT(html, HasSubstr("Evidence: listener tcp 0.0.0.0:8080: acceptQueue 4000"));
}

TEST(HtmlReportTest, ShowsTheEvidenceAndTheLogsEscaped) {
  std::string html = RenderHtmlOrDie(LoadReportFixture("incident.json"));
  EXPECT_THAT(html, HasSubstr("<section id=\"evidence\">"));
  EXPECT_THAT(html, HasSubstr("<table id=\"network-counters\""));
  EXPECT_THAT(html, HasSubstr("<table id=\"listeners\""));
  EXPECT_THAT(html, HasSubstr("<table id=\"pressure\""));
  EXPECT_THAT(html, HasSubstr("<table id=\"memory-events\""));
  EXPECT_THAT(html, HasSubstr("<table id=\"blocked-7\""));
  EXPECT_THAT(html, HasSubstr("1000 open, soft limit 1024 (97.7%)"));
  EXPECT_THAT(html, HasSubstr("<section id=\"logs\">"));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<script>alert(1)")));
  EXPECT_THAT(html, HasSubstr("Terminated: exit code 137, signal 9, OOMKilled"));
}

TEST(HtmlReportTest, SaysWhenLogsWereNotRequested) {
  std::string html = RenderHtmlOrDie(LoadReportFixture("minimal.json"));
  EXPECT_THAT(html, HasSubstr("Not requested (--capture did not include logs)."));
  EXPECT_THAT(html, HasSubstr("Not requested (--capture included neither sockets nor cgroup)."));
}

}  // namespace
}  // namespace ephemera::report
