#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/report/report.h"
#include "tests/cli/report/report_fixtures.h"

namespace ephemera::report {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::string RenderTextOrDie(const json& doc, const ReportContext& context = {}) {
  StatusOr<std::string> text = RenderText(doc, context);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : std::string();
}

TEST(TextReportTest, HeaderShowsContextAndDocumentFacts) {
  ReportContext context;
  context.session = "checkout-slow";
  context.namespace_name = "shop";
  context.requester = "alice";
  context.reason = "INC-42 checkout latency";
  context.pod = "checkout-7d9f";
  context.container = "app";

  std::string text = RenderTextOrDie(LoadReportFixture("minimal.json"), context);

  EXPECT_THAT(text, HasSubstr("shop/checkout-slow"));
  EXPECT_THAT(text, HasSubstr("alice"));
  EXPECT_THAT(text, HasSubstr("INC-42 checkout latency"));
  EXPECT_THAT(text, HasSubstr("pod checkout-7d9f, container app"));
  EXPECT_THAT(text, HasSubstr("2026-01-02T03:04:05.678Z"));
  EXPECT_THAT(text, HasSubstr("ephemera.dev/snapshot/v1"));
  EXPECT_THAT(text, HasSubstr("/app/server --listen :8080"));
  EXPECT_THAT(text, HasSubstr("512 KiB"));  // vmRssKiB
}

TEST(TextReportTest, ContextTimeReplacesTheDocumentTime) {
  ReportContext context;
  context.captured_at = "2026-01-02T03:04:09Z";

  std::string text = RenderTextOrDie(LoadReportFixture("minimal.json"), context);

  EXPECT_THAT(text, HasSubstr("2026-01-02T03:04:09Z"));
}

TEST(TextReportTest, IdenticalStacksPrintOnceWithTheirCount) {
  json threads = json::array();
  for (int i = 0; i < 12; ++i) {
    threads.push_back(ThreadWithStack(100 + i, "worker-" + std::to_string(i),
                                      {"futex_wait", "WaitForWork", "WorkerMain"}));
  }
  threads.push_back(ThreadWithStack(7, "app", {"accept", "main"}, "inet_csk_accept"));

  std::string text = RenderTextOrDie(SnapshotWithThreads(threads));

  EXPECT_THAT(text, HasSubstr("13 threads in 2 stack groups"));
  EXPECT_THAT(text, HasSubstr("12 threads: worker-0 [100], worker-1 [101]"));
  EXPECT_THAT(text, HasSubstr("… 4 more (state S, wchan futex_wait_queue)"));
  EXPECT_THAT(text, HasSubstr("1 thread: app [7] (state S, wchan inet_csk_accept)"));
  // The frames of the big group are printed once, and the big group comes first.
  std::size_t first = text.find("WaitForWork+16");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(text.find("WaitForWork+16", first + 1), std::string::npos);
  EXPECT_LT(first, text.find("accept+16"));
  EXPECT_THAT(text, HasSubstr("    #0  0x401000  futex_wait+16 from /app/server\n"
                              "    #1  0x401100  WaitForWork+16 from /app/server\n"));
}

// ephemera-target.json: `ephemera-snapshot --pid <sh> --format json` of a shell wrapper running
// `ephemera-target --threads 4` (see tests/testdata/report/README.md).
TEST(TextReportTest, RendersARealSnapshot) {
  std::string text = RenderTextOrDie(LoadReportFixture("ephemera-target.json"));

  EXPECT_THAT(text, HasSubstr("17603  sh\n  └─ 17604  ephemera-target\n"));
  EXPECT_THAT(text, HasSubstr("8 threads in 6 stack groups"));
  EXPECT_THAT(text, HasSubstr("2 threads: checkout-0 [17609], checkout-2 [17611] (state S, wchan "
                              "hrtimer_nanosleep)"));
  EXPECT_THAT(text, HasSubstr("2 threads: orders-1 [17610], orders-3 [17612]"));
  EXPECT_THAT(text, HasSubstr("SleepInCheckoutLoop()+48 from "));
  EXPECT_THAT(text, testing::ContainsRegex("#1 +0x557ee93bfcc0  \\?\\? from /usr/bin/dash"));
  EXPECT_THAT(text, HasSubstr("Open fds: 11 (file 5, pipe 3, socket 3)"));
  EXPECT_THAT(text, HasSubstr("     4  tcp    127.0.0.1:49526  127.0.0.1:18473  ESTABLISHED\n"));
  EXPECT_THAT(text, HasSubstr("DB_PASSWORD=[REDACTED]"));
  EXPECT_THAT(text, HasSubstr("--token=[REDACTED:secret-key-value]"));
  EXPECT_THAT(text, HasSubstr("Target frozen  8.9 ms in total, longest single thread 8.4 ms"));
  EXPECT_THAT(text, HasSubstr("Tool RSS       7.9 MiB peak"));
}

TEST(TextReportTest, ListsTheFirstFdsAndSummarisesAllByKind) {
  json doc = LoadReportFixture("minimal.json");
  doc["sections"] = {"process", "fds", "sockets"};
  json fds = json::array();
  for (int fd = 0; fd < 40; ++fd) {
    fds.push_back({{"fd", fd},
                   {"type", fd < 30 ? "socket" : "file"},
                   {"target", "socket:[" + std::to_string(1000 + fd) + "]"}});
  }
  doc["processes"][0]["fdCount"] = 5000;
  doc["processes"][0]["fds"] = fds;
  doc["processes"][0]["sockets"] = {{{"fd", 3},
                                     {"inode", 1003},
                                     {"protocol", "unix"},
                                     {"state", "CONNECTED"},
                                     {"type", "stream"},
                                     {"path", "@agent"}}};

  std::string text = RenderTextOrDie(doc);

  EXPECT_THAT(text, HasSubstr("Open fds: 5000 (socket 30, file 10)"));
  EXPECT_THAT(text, HasSubstr("    31  file    socket:[1031]\n    … 8 more in the document"));
  EXPECT_THAT(text, HasSubstr(" 3  unix/stream  @agent"));
}

TEST(TextReportTest, ShowsRedactionCountsPerRuleNeverValues) {
  std::string text = RenderTextOrDie(LoadReportFixture("degraded.json"));

  EXPECT_THAT(text, HasSubstr("4 values replaced by [REDACTED]"));
  EXPECT_THAT(text, testing::ContainsRegex("bearer-token +2\n"));
  EXPECT_THAT(text, testing::ContainsRegex("secret-key-value +1\n"));
  EXPECT_THAT(text, HasSubstr("processes[pid=11].cmdline"));
}

TEST(TextReportTest, ShowsWhatWasDegradedAndWhy) {
  std::string text = RenderTextOrDie(LoadReportFixture("degraded.json"));

  EXPECT_THAT(text, HasSubstr("profile restricted: no CAP_SYS_PTRACE"));
  EXPECT_THAT(text, HasSubstr("EACCES: open /proc/10/environ (process runs as uid 0"));
  EXPECT_THAT(text, HasSubstr("output cap: dropped to fit --max-output-bytes 16384"));
  EXPECT_THAT(text, HasSubstr("process exited"));
  // A requested section that is missing points at its reason where it would have been.
  EXPECT_THAT(text, HasSubstr("Memory map\n  not captured: output cap"));
  EXPECT_THAT(text, HasSubstr("(no stack captured)"));
}

TEST(TextReportTest, ToleratesMissingSectionsAndNullFigures) {
  json doc = LoadReportFixture("degraded.json");
  doc.erase("overhead");
  doc.erase("redaction");
  doc.erase("processTree");
  doc["processes"][1].erase("threads");

  std::string text = RenderTextOrDie(doc);

  EXPECT_THAT(text, HasSubstr("PROCESS 12  gone"));
  EXPECT_THAT(text, HasSubstr("no overhead figures in the document"));
  EXPECT_THAT(text, HasSubstr("RSS            - (peak -"));
  EXPECT_THAT(text, HasSubstr("limit unlimited"));
}

TEST(TextReportTest, ReportsADocumentWithoutProcesses) {
  json doc = LoadReportFixture("minimal.json");
  doc["processes"] = json::array();
  doc["processTree"] = json::array();
  doc["degraded"] = {{{"section", "*"},
                      {"reason",
                       "watchdog: capture did not finish within 22000ms; nothing "
                       "captured is included"}}};

  std::string text = RenderTextOrDie(doc);

  EXPECT_THAT(text, HasSubstr("none captured (see DEGRADED)"));
  EXPECT_THAT(text, HasSubstr("watchdog: capture did not finish"));
}

TEST(TextReportTest, InvalidDocumentIsInvalidArgument) {
  json doc = LoadReportFixture("minimal.json");
  doc["apiVersion"] = "v1";

  StatusOr<std::string> text = RenderText(doc, {});

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("ephemera.dev/snapshot/v1"));
}

TEST(TextReportTest, ControlCharactersFromTheTargetCannotReachTheTerminal) {
  json doc = LoadReportFixture("minimal.json");
  doc["processes"][0]["cmdline"] =
      "evil \x1b]0;pwned\x07 \x1b[2J\ttab \xc2\x9b"
      "31m rtl\xe2\x80\xae";
  doc["processes"][0]["name"] = "na\nme";
  doc["sections"] = {"process", "fds", "maps"};
  doc["processes"][0]["fds"] = {
      {{"fd", 0}, {"type", "fi\x1b[1mle"}, {"target", "/dev/\x1b[31mnull"}}};
  doc["processes"][0]["maps"] = {{"count", "\x1b[5m"}, {"bytes", 0}};

  std::string text = RenderTextOrDie(doc);

  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
  EXPECT_THAT(text, Not(HasSubstr("\x07")));
  EXPECT_THAT(text, Not(HasSubstr("\t")));
  EXPECT_THAT(text, Not(HasSubstr("\xc2\x9b")));
  EXPECT_THAT(text, Not(HasSubstr("\xe2\x80\xae")));
  EXPECT_THAT(text, HasSubstr("evil \\x1B]0;pwned\\x07 \\x1B[2J\\x09tab \\u009B31m rtl\\u202E"));
  EXPECT_THAT(text, HasSubstr("na\\x0Ame"));
}

TEST(TextReportTest, ColumnsAreAligned) {
  std::string text = RenderTextOrDie(LoadReportFixture("degraded.json"));

  // The fd table: right-aligned FD column, TYPE column starting at the same offset on every row.
  EXPECT_THAT(text, HasSubstr("    FD  TYPE  TARGET\n"
                              "     0  file  /dev/null\n"
                              "     1  pipe  pipe:[100]\n"));
}

TEST(TextReportTest, OpensWithTheFindingsAndTheirEvidence) {
  std::string text = RenderTextOrDie(LoadReportFixture("incident.json"));
  const std::size_t findings = text.find("\nFINDINGS\n");
  ASSERT_NE(findings, std::string::npos) << text;
  EXPECT_LT(findings, text.find("\nPROCESS TREE\n"));
  EXPECT_THAT(text, HasSubstr("  * CPU throttled in 63.0% of periods\n    evidence: cpu.stat of "
                              "cgroup /kubepods/pod7"));
  EXPECT_THAT(text, HasSubstr("  * previous instance exited 137 (OOMKilled) 3 min before the "
                              "capture\n"));
  EXPECT_THAT(text, HasSubstr("limit at most 4096 (somaxconn)"));
}

TEST(TextReportTest, SaysWhenNothingCrossedAThreshold) {
  std::string text = RenderTextOrDie(LoadReportFixture("minimal.json"));
  EXPECT_THAT(text, HasSubstr("FINDINGS\n  none: no figure in the snapshot crossed a threshold"));
}

TEST(TextReportTest, ShowsTheEvidence) {
  std::string text = RenderTextOrDie(LoadReportFixture("incident.json"));
  EXPECT_THAT(text, HasSubstr("EVIDENCE (network namespace and cgroup of the main target)"));
  EXPECT_THAT(text, HasSubstr("listenOverflows         TcpExt ListenOverflows     4211\n"));
  EXPECT_THAT(text, HasSubstr("tcp    0.0.0.0:8080          4000\n"));
  EXPECT_THAT(text, HasSubstr("cpu       63.10 / 40.00 / 12.50  50.00 / 30.00 / 10.00\n"));
  EXPECT_THAT(text, HasSubstr("LOW  HIGH  MAX  OOM  OOM_KILL  OOM_GROUP_KILL\n"));
  EXPECT_THAT(text, HasSubstr("Open fds       1000 open, soft limit 1024 (97.7%)\n"));
  EXPECT_THAT(text, HasSubstr("Blocked threads (state D): 6\n"));
  EXPECT_THAT(text, HasSubstr("  200  writer  io_schedule\n"));
  EXPECT_THAT(text, HasSubstr("SEND-Q  RECV-Q  ACCEPT-Q"));
}

TEST(TextReportTest, ShowsTheLogsEscaped) {
  std::string text = RenderTextOrDie(LoadReportFixture("incident.json"));
  EXPECT_THAT(text, HasSubstr("\nLOGS\n  Container      app\n"));
  EXPECT_THAT(text, HasSubstr("previous instance: restart count 3; 1 line (52 B read); 1 dropped"));
  EXPECT_THAT(text, HasSubstr("terminated: exit code 137, signal 9, OOMKilled; ran "
                              "2026-12-06T17:50:00Z to 2026-12-06T17:57:00Z\n"));
  EXPECT_THAT(text, HasSubstr("    2026-12-06T17:59:59.000000000Z \\x1B[31mred\\x1B[0m"));
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
}

TEST(TextReportTest, ShowsALogInstanceThatCouldNotBeRead) {
  json doc = LoadReportFixture("incident.json");
  doc["logs"]["instances"][1] = {{"instance", "previous"},
                                 {"lines", json::array()},
                                 {"error", "the container has no previous instance"}};
  std::string text = RenderTextOrDie(doc);
  EXPECT_THAT(text, HasSubstr("  not read: the container has no previous instance\n"));
}

}  // namespace
}  // namespace ephemera::report
