// Language-level stacks in the reports: the model of a process's `runtime`, the text and HTML
// layout (language frames first, native ones on demand), escaping, and the two findings it makes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "cli/report/report.h"
#include "cli/report/report_model.h"
#include "tests/cli/report/report_fixtures.h"

namespace ephemera::report {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

json Runtimes() { return LoadReportFixture("runtimes.json"); }

ReportModel ModelOf(const json& snapshot) {
  return BuildReportModel(api::ReadSnapshotDocument(snapshot), {});
}

std::string Text(const json& doc, bool native_frames = false) {
  StatusOr<std::string> text = RenderText(doc, {}, ReportOptions{native_frames});
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : std::string();
}

std::string Html(const json& doc, bool native_frames = false) {
  StatusOr<std::string> html = RenderHtml(doc, {}, ReportOptions{native_frames});
  EXPECT_TRUE(html.ok()) << html.status().ToString();
  return html.ok() ? *html : std::string();
}

std::vector<Finding> FindingsOf(const json& doc) {
  return ComputeFindings(api::ReadSnapshotDocument(doc)).findings;
}

// The part of `text` from `from` up to (not including) `to`, or "" when `from` is not in it.
std::string Between(const std::string& text, const std::string& from, const std::string& to) {
  const std::size_t start = text.find(from);
  if (start == std::string::npos) return "";
  return text.substr(start, text.find(to, start + from.size()) - start);
}

// A Go process of minimal.json with one group of `count` goroutines of `total`, waiting between
// `min_wait` and `max_wait` seconds in chan receive.
json GoWaiting(std::int64_t count, std::int64_t total, std::int64_t min_wait,
               std::int64_t max_wait) {
  json doc = LoadReportFixture("minimal.json");
  doc["processes"][0]["runtime"] = {
      {"language", "go"},
      {"version", "go1.22.5"},
      {"method", "memory"},
      {"count", total},
      {"groups",
       {{{"count", count},
         {"state", "chan receive"},
         {"waitSeconds", {{"min", min_wait}, {"max", max_wait}}},
         {"members", {{{"id", "17"}}}},
         {"frames",
          {{{"function", "runtime.gopark"}, {"file", "/go/src/runtime/proc.go"}, {"line", 402}},
           {{"function", "main.worker"}, {"file", "/src/app/main.go"}, {"line", 42}}}}}}}};
  return doc;
}

TEST(RuntimeModelTest, GroupsAsTheGoDumpDoes) {
  ReportModel model = ModelOf(Runtimes());
  ASSERT_EQ(model.processes.size(), 3U);
  ASSERT_TRUE(model.processes[0].runtime.has_value());
  const RuntimeModel& go = *model.processes[0].runtime;
  EXPECT_EQ(go.title, "go1.22.5 (memory read, target not stopped): 1034 goroutines");
  ASSERT_EQ(go.groups.size(), 4U);
  EXPECT_EQ(go.groups[0].heading, "512 goroutines: chan receive, 14 min");
  EXPECT_EQ(go.groups[0].count, 512);
  EXPECT_EQ(go.groups[0].members.size(), 16U);
  EXPECT_EQ(go.groups[0].members_left_out, 496);
  EXPECT_EQ(go.groups[0].frames[2].function, "main.worker");
  EXPECT_EQ(go.groups[0].frames[2].location, "/src/app/main.go:42");
  EXPECT_EQ(go.groups[1].heading, "500 goroutines: IO wait, 5 s to 30 s");
  EXPECT_EQ(go.groups[3].heading, "2 goroutines: running");
  EXPECT_EQ(go.groups[3].members, (std::vector<std::string>{"1 [tid 8]", "5 [tid 9]"}));
  EXPECT_TRUE(go.deadlocks.empty());

  const RuntimeModel& python = *model.processes[1].runtime;
  EXPECT_EQ(python.title, "Python 3.11.2 (memory read, target not stopped): 3 threads");
  EXPECT_EQ(python.groups[0].members,
            (std::vector<std::string>{"\"Thread-1\" [tid 33]", "\"Thread-2\" [tid 34]"}));

  const RuntimeModel& java = *model.processes[2].runtime;
  EXPECT_EQ(java.title, "Java 17.0.15+6 (JVM attach, target paused 1.8 ms): 41 threads");
  EXPECT_EQ(java.groups_omitted, 1);
  ASSERT_EQ(java.deadlocks.size(), 1U);
  EXPECT_EQ(java.deadlocks[0].title, "Java deadlock: \"worker-1\", \"worker-2\"");
  EXPECT_EQ(java.deadlocks[0].description.size(), 4U);
  EXPECT_EQ(java.groups[1].frames[0].locks,
            (std::vector<std::string>{"- waiting to lock <0x000000071a0b2c48> (a java.lang.Object)",
                                      "- locked <0x000000071a0b2c58> (a com.example.Account)"}));
  EXPECT_EQ(java.groups[0].frames[0].location, "Unsafe.java");
}

TEST(RuntimeModelTest, SetsApartTheNativeStacksOfThreadsWithARuntimeStack) {
  ReportModel model = ModelOf(Runtimes());
  const ThreadsModel& go = *model.processes[0].threads.content;
  EXPECT_EQ(go.thread_count, 4U);
  ASSERT_EQ(go.groups.size(), 1U);  // tids 7 and 10 run no goroutine the document names
  EXPECT_EQ(go.groups[0].thread_labels,
            (std::vector<std::string>{"checkout [7]", "checkout [10]"}));
  EXPECT_EQ(go.runtime_thread_count, 2U);
  ASSERT_EQ(go.runtime_groups.size(), 1U);
  EXPECT_EQ(go.runtime_groups[0].thread_labels,
            (std::vector<std::string>{"checkout [8]", "checkout [9]"}));

  json without_runtime = Runtimes();
  without_runtime["processes"][0].erase("runtime");
  const ThreadsModel& plain = *ModelOf(without_runtime).processes[0].threads.content;
  EXPECT_EQ(plain.groups.size(), 2U);
  EXPECT_TRUE(plain.runtime_groups.empty());
}

TEST(RuntimeModelTest, FormatsWhatTheDocumentLeavesOutSensibly) {
  json doc = LoadReportFixture("minimal.json");
  doc["processes"][0]["runtime"] = {
      {"language", "ruby"},
      {"method", "ptrace"},
      {"groups", {{{"count", 3}, {"frames", {{{"line", 7}}}}}, {{"count", 2}}}}};
  const RuntimeModel runtime = *ModelOf(doc).processes[0].runtime;
  EXPECT_EQ(runtime.title, "ruby (ptrace): 5 threads");  // no count: the groups' sum
  EXPECT_EQ(runtime.groups[0].heading, "3 threads");
  EXPECT_EQ(runtime.groups[0].frames[0].function, "??");
  EXPECT_EQ(runtime.groups[0].frames[0].location, "");
  EXPECT_EQ(runtime.groups[0].members_left_out, 3);
}

TEST(RuntimeTextReportTest, ShowsLanguageFramesBeforeNativeOnes) {
  const std::string text = Text(Runtimes());
  const std::string go = Between(text, "PROCESS 7", "PROCESS 31");
  EXPECT_THAT(go, HasSubstr("  go1.22.5 (memory read, target not stopped): 1034 goroutines in 4 "
                            "groups\n"));
  EXPECT_THAT(go, HasSubstr("\n  512 goroutines: chan receive, 14 min\n"
                            "    17, 18, 19, 20, 21, 22, 23, 24, … 504 more\n"
                            "      runtime.gopark  /usr/local/go/src/runtime/proc.go:402\n"));
  EXPECT_THAT(go, HasSubstr("\n      main.worker  /src/app/main.go:42\n"));
  EXPECT_THAT(go, HasSubstr("\n      … deeper frames not captured\n"));
  EXPECT_THAT(go, HasSubstr("\n    1 [tid 8], 5 [tid 9]\n"));
  EXPECT_LT(go.find("main.worker"), go.find("Threads: 4 threads in 2 stack groups"));

  const std::string python = Between(text, "PROCESS 31", "PROCESS 52");
  EXPECT_THAT(python, HasSubstr("\n  2 threads: waiting\n    \"Thread-1\" [tid 33], \"Thread-2\" "
                                "[tid 34]\n      wait  /usr/lib/python3.11/threading.py:320\n"));
}

TEST(RuntimeTextReportTest, JavaThreadsShowLocksAndTheDeadlockFirst) {
  const std::string java = Between(Text(Runtimes()), "PROCESS 52", "REDACTION");
  EXPECT_THAT(java, HasSubstr("\n  DEADLOCK  Java deadlock: \"worker-1\", \"worker-2\"\n"
                              "    \"worker-1\": waiting to lock monitor 0x00007f3a1c003f00"));
  EXPECT_THAT(java, HasSubstr("\n  1 thread: BLOCKED\n    \"worker-1\" [tid 60]\n"
                              "      com.example.Ledger.transfer  Ledger.java:42\n"
                              "        - waiting to lock <0x000000071a0b2c48> (a "
                              "java.lang.Object)\n"
                              "        - locked <0x000000071a0b2c58> (a com.example.Account)\n"));
  EXPECT_THAT(java, HasSubstr("\n  … 1 more group not in the document (smaller ones)\n"));
  EXPECT_LT(java.find("DEADLOCK"), java.find("38 threads: TIMED_WAITING"));
}

TEST(RuntimeTextReportTest, NativeStacksOfRuntimeThreadsOnlyWithTheFlag) {
  const std::string hidden = Text(Runtimes());
  EXPECT_THAT(hidden, HasSubstr("\n  Native stacks of 2 threads with a Go stack hidden "
                                "(--native-frames shows them)\n"));
  EXPECT_THAT(hidden, HasSubstr("\n  Native stacks of 2 threads with a Java stack hidden"));
  EXPECT_THAT(hidden, Not(HasSubstr("ObjectMonitor::enter")));
  EXPECT_THAT(hidden, Not(HasSubstr("checkout [8]")));
  EXPECT_THAT(hidden, HasSubstr("2 threads: checkout [7], checkout [10]"));  // no goroutine named

  const std::string shown = Text(Runtimes(), /*native_frames=*/true);
  EXPECT_THAT(shown, Not(HasSubstr("--native-frames shows them")));
  EXPECT_THAT(shown, HasSubstr("\n  Native stacks of 2 threads with a Java stack\n\n"
                               "  2 threads: worker-1 [60], worker-2 [61]"));
  EXPECT_THAT(shown, HasSubstr("ObjectMonitor::enter+16 from /usr/lib/jvm/lib/server/libjvm.so"));
}

TEST(RuntimeTextReportTest, ProcessesWithoutARuntimeRenderAsBefore) {
  json doc = Runtimes();
  for (json& process : doc["processes"]) process.erase("runtime");
  const std::string text = Text(doc);
  EXPECT_EQ(text, Text(doc, /*native_frames=*/true));
  EXPECT_THAT(text, Not(HasSubstr("Native stacks of")));
  EXPECT_THAT(text, HasSubstr("ObjectMonitor::enter"));
  EXPECT_EQ(Text(LoadReportFixture("incident.json")),
            Text(LoadReportFixture("incident.json"), /*native_frames=*/true));
}

TEST(RuntimeHtmlReportTest, ShowsLanguageFramesAndCollapsesNativeOnes) {
  const std::string html = Html(Runtimes());
  const std::string java = Between(html, "<div class=\"proc\" id=\"stacks-52\">", "</section>");
  EXPECT_THAT(java, HasSubstr("<div class=\"runtime\" id=\"runtime-52\"><h4>Java 17.0.15+6 (JVM "
                              "attach, target paused 1.8 ms): 41 threads</h4>"));
  EXPECT_THAT(java, HasSubstr("<div class=\"deadlock\"><div class=\"title\">Java deadlock: "
                              "&quot;worker-1&quot;, &quot;worker-2&quot;</div>"));
  EXPECT_THAT(java, HasSubstr("<div class=\"lock\">- waiting to lock &lt;0x000000071a0b2c48&gt; "
                              "(a java.lang.Object)</div>"));
  EXPECT_THAT(java, HasSubstr("<div class=\"group\" data-members=\"38\"><div class=\"title\">38 "
                              "threads: TIMED_WAITING</div>"));
  EXPECT_THAT(java, HasSubstr("<details id=\"native-52\"><summary>Native stacks of 2 threads with "
                              "a Java stack</summary>"));
  EXPECT_LT(java.find("id=\"runtime-52\""), java.find("id=\"flame-52\""));
  EXPECT_LT(java.find("<details"), java.find("ObjectMonitor::enter"));
  EXPECT_THAT(Html(Runtimes(), /*native_frames=*/true),
              HasSubstr("<details id=\"native-52\" open>"));
  const std::string go = Between(html, "<div class=\"proc\" id=\"stacks-7\">", "</section>");
  EXPECT_THAT(go, HasSubstr("<div class=\"title\">512 goroutines: chan receive, 14 min</div>"));
  EXPECT_THAT(go, HasSubstr("<li>main.worker <span class=\"module\">/src/app/main.go:42</span>"));
}

TEST(RuntimeHtmlReportTest, CriticalFindingsStandOut) {
  const std::string html = Html(Runtimes());
  EXPECT_THAT(html, HasSubstr("<li data-kind=\"runtime-deadlock\" class=\"critical\"><div "
                              "class=\"title\">Critical: Java deadlock in pid 52 java"));
  EXPECT_THAT(html,
              HasSubstr("<li data-kind=\"runtime-wait\"><div class=\"title\">512 goroutines"));
}

TEST(RuntimeReportTest, HostileNamesAreEscapedInHtmlAndPrintableInText) {
  const std::string script = "<script>alert('x')</script>";
  json doc = Runtimes();
  json& java = doc["processes"][2]["runtime"];
  java["version"] = "17\"" + script;
  java["groups"][1]["state"] = script;
  java["groups"][1]["members"][0]["name"] = "w\"orker" + script;
  java["groups"][1]["frames"][0]["function"] = "com.Evil.\x1b[31m" + script;
  java["groups"][1]["frames"][0]["file"] = "\"/><img src=x onerror=alert(1)>.java";
  java["groups"][1]["frames"][0]["locks"][0]["class"] = "</ol>" + script;
  java["deadlocks"][0]["members"][0] = script;
  java["deadlocks"][0]["description"] = script + "\n'quoted'";

  const std::string html = Html(doc);
  EXPECT_THAT(html, Not(HasSubstr(script)));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("</ol><script")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("&quot;w&quot;orker&lt;script&gt;"));
  EXPECT_THAT(html, HasSubstr("&quot;/&gt;&lt;img src=x onerror=alert(1)&gt;.java:42"));
  EXPECT_THAT(html, HasSubstr("&#39;quoted&#39;"));
  // Only the report's own script element.
  EXPECT_EQ(html.find("<script>"), html.rfind("<script>"));

  const std::string text = Text(doc);
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
  EXPECT_THAT(text, HasSubstr("com.Evil.\\x1B[31m<script>"));
}

TEST(RuntimeFindingsTest, AJavaDeadlockIsCriticalAndListedFirst) {
  std::vector<Finding> findings = FindingsOf(Runtimes());
  ASSERT_EQ(findings.size(), 2U);
  EXPECT_EQ(findings[0].kind, "runtime-deadlock");
  EXPECT_TRUE(findings[0].critical);
  EXPECT_EQ(findings[0].title,
            "Java deadlock in pid 52 java: \"worker-1\", \"worker-2\" wait for each other");
  EXPECT_THAT(findings[0].evidence, HasSubstr("see the stacks of process 52"));
  EXPECT_THAT(findings[0].evidence, HasSubstr("\"worker-1\": waiting to lock monitor"));
  EXPECT_FALSE(findings[1].critical);

  const std::string text = Text(Runtimes());
  EXPECT_THAT(text, HasSubstr("FINDINGS\n  ! CRITICAL: Java deadlock in pid 52 java"));
}

TEST(RuntimeFindingsTest, ManyGoroutinesWaitingLongInOnePlace) {
  // 512 of 1034 (under half) but at least 100; the 500 in IO wait waited under a minute; the 20
  // on a mutex are neither many nor most.
  std::vector<Finding> findings = FindingsOf(Runtimes());
  ASSERT_EQ(findings.size(), 2U);
  EXPECT_EQ(findings[1].kind, "runtime-wait");
  EXPECT_EQ(findings[1].title,
            "512 goroutines blocked in chan receive for 14 min at main.worker (main.go:42)");
  EXPECT_THAT(findings[1].evidence,
              HasSubstr("pid 7 checkout: 512 of 1034 goroutines (49.5%) share one stack"));
  EXPECT_THAT(findings[1].evidence, HasSubstr("see the stacks of process 7"));
}

TEST(RuntimeFindingsTest, WaitThresholds) {
  auto kinds = [](const json& doc) {
    std::vector<std::string> out;
    for (const Finding& finding : FindingsOf(doc)) out.push_back(finding.kind);
    return out;
  };
  const std::vector<std::string> wait = {"runtime-wait"};
  EXPECT_EQ(kinds(GoWaiting(100, 100000, 60, 60)), wait);       // many
  EXPECT_TRUE(kinds(GoWaiting(99, 100000, 600, 600)).empty());  // neither many nor most
  EXPECT_EQ(kinds(GoWaiting(10, 20, 60, 61)), wait);            // half, at least 10
  EXPECT_TRUE(kinds(GoWaiting(9, 10, 600, 600)).empty());       // most, but too few
  EXPECT_TRUE(kinds(GoWaiting(500, 500, 59, 900)).empty());     // not all of them waited long
  EXPECT_TRUE(kinds(GoWaiting(std::numeric_limits<std::int64_t>::max(), -1, 59, 59)).empty());
  const std::vector<Finding> most = FindingsOf(GoWaiting(10, 20, 60, 150));
  ASSERT_EQ(most.size(), 1U);
  EXPECT_EQ(most[0].title,
            "10 goroutines blocked in chan receive for 60 s to 2 min at main.worker (main.go:42)");
}

}  // namespace
}  // namespace ephemera::report
