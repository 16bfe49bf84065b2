// The findings the reports open with: each kind on a document just under and just over its
// threshold (report_model.h, docs/cli.md "Findings").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "cli/report/report_model.h"
#include "tests/cli/report/report_fixtures.h"

namespace ephemera::report {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// incident.json with every figure below its threshold: no finding.
json Quiet() {
  json doc = LoadReportFixture("incident.json");
  json& p = doc["processes"][0];
  doc["evidence"]["network"]["counters"]["listenOverflows"] = 0;
  doc["evidence"]["network"]["listeners"][0]["acceptQueue"] = 10;
  p["sockets"][0]["acceptQueue"] = 10;
  p["cgroup"]["nrThrottled"] = 0;
  p["fdCount"] = 10;
  p["cgroup"]["memoryUsageBytes"] = 1024;
  doc["evidence"]["memory"]["events"]["oomKill"] = 0;
  p["blockedThreads"] = json::array();
  json threads = json::array();
  for (const json& thread : p["threads"]) {
    if (thread["state"] == "D") continue;
    threads.push_back(thread);
    if (threads.size() >= 5) break;  // the main thread and 4 on the futex
  }
  p["threads"] = threads;
  doc["logs"]["instances"][1]["termination"]["exitCode"] = 1;
  doc["logs"]["instances"][1]["termination"]["signal"] = nullptr;
  doc["logs"]["instances"][1]["termination"]["reason"] = "Error";
  return doc;
}

std::vector<Finding> FindingsOf(const json& doc) {
  return ComputeFindings(api::ReadSnapshotDocument(doc)).findings;
}

std::vector<std::string> KindsOf(const json& doc) {
  std::vector<std::string> kinds;
  for (const Finding& finding : FindingsOf(doc)) kinds.push_back(finding.kind);
  return kinds;
}

// The one finding of `doc`, which must be of `kind`.
Finding OnlyFinding(const json& doc, const std::string& kind) {
  std::vector<Finding> findings = FindingsOf(doc);
  EXPECT_EQ(findings.size(), 1U) << doc.dump().substr(0, 200);
  if (findings.empty()) return {};
  EXPECT_EQ(findings[0].kind, kind);
  return findings[0];
}

json BlockedThread(int tid, const std::string& wchan) {
  return {{"tid", tid}, {"name", "writer"}, {"wchan", wchan}};
}

TEST(FindingsTest, TheQuietDocumentHasNone) {
  EXPECT_TRUE(KindsOf(Quiet()).empty()) << ::testing::PrintToString(KindsOf(Quiet()));
}

TEST(FindingsTest, TheIncidentFixtureHasEveryKind) {
  EXPECT_EQ(KindsOf(LoadReportFixture("incident.json")),
            (std::vector<std::string>{"accept-queue", "cpu-throttled", "fds-near-limit",
                                      "memory-near-limit", "oom-kill", "blocked-threads",
                                      "futex-convoy", "previous-instance-killed"}));
}

TEST(FindingsTest, AcceptQueueAtNinetyPercentOfSomaxconn) {
  json doc = Quiet();  // somaxconn 4096: 90% is 3686.4
  doc["evidence"]["network"]["listeners"][0]["acceptQueue"] = 3686;
  EXPECT_TRUE(KindsOf(doc).empty());
  doc["evidence"]["network"]["listeners"][0]["acceptQueue"] = 3687;
  Finding finding = OnlyFinding(doc, "accept-queue");
  EXPECT_EQ(finding.title,
            "accept queue of 0.0.0.0:8080 full or nearly: 3687 connections waiting, limit at most "
            "4096 (somaxconn)");
  EXPECT_THAT(finding.evidence, HasSubstr("acceptQueue 3687, 90.0% of net.core.somaxconn 4096"));
}

TEST(FindingsTest, AcceptQueueFromTheSocketsWhenTheEvidenceHasNoListeners) {
  json doc = Quiet();
  doc["evidence"]["network"]["listeners"] = json::array();
  doc["processes"][0]["sockets"][0]["acceptQueue"] = 3687;
  EXPECT_THAT(OnlyFinding(doc, "accept-queue").title, HasSubstr("3687 connections waiting"));
  doc["evidence"]["network"].erase("somaxconn");  // no known limit: no finding on the queue
  EXPECT_TRUE(KindsOf(doc).empty());
}

TEST(FindingsTest, AnyListenOverflow) {
  json doc = Quiet();
  doc["evidence"]["network"]["counters"]["listenOverflows"] = 1;
  Finding finding = OnlyFinding(doc, "accept-queue");
  EXPECT_EQ(finding.title, "listen queues overflowed 1 times");
  EXPECT_THAT(finding.evidence, HasSubstr("TcpExt ListenOverflows 1"));
  // With a full queue the overflows are part of its evidence, not a second finding.
  doc["evidence"]["network"]["listeners"][0]["acceptQueue"] = 4096;
  EXPECT_THAT(OnlyFinding(doc, "accept-queue").evidence, HasSubstr("ListenOverflows 1"));
}

TEST(FindingsTest, CpuThrottledInAQuarterOfPeriods) {
  json doc = Quiet();  // 1200 periods: 25% is 300
  doc["processes"][0]["cgroup"]["nrThrottled"] = 299;
  EXPECT_TRUE(KindsOf(doc).empty());
  doc["processes"][0]["cgroup"]["nrThrottled"] = 300;
  Finding finding = OnlyFinding(doc, "cpu-throttled");
  EXPECT_EQ(finding.title, "CPU throttled in 25.0% of periods");
  EXPECT_THAT(finding.evidence, HasSubstr("300 of 1200 periods throttled"));
}

TEST(FindingsTest, FdsAtNinetyPercentOfTheSoftLimit) {
  json doc = Quiet();  // soft limit 1024: 90% is 921.6
  doc["processes"][0]["fdCount"] = 921;
  EXPECT_TRUE(KindsOf(doc).empty());
  doc["processes"][0]["fdCount"] = 922;
  Finding finding = OnlyFinding(doc, "fds-near-limit");
  EXPECT_EQ(finding.title, "fds at 90.0% of the limit (922 of 1024)");
  EXPECT_THAT(finding.evidence, HasSubstr("fdCount 922, soft RLIMIT_NOFILE"));
}

TEST(FindingsTest, MemoryAtNinetyPercentOfTheLimit) {
  json doc = Quiet();
  doc["processes"][0]["cgroup"]["memoryLimitBytes"] = 1000;
  doc["processes"][0]["cgroup"]["memoryUsageBytes"] = 899;
  EXPECT_TRUE(KindsOf(doc).empty());
  doc["processes"][0]["cgroup"]["memoryUsageBytes"] = 900;
  EXPECT_EQ(OnlyFinding(doc, "memory-near-limit").title,
            "memory at 90.0% of the limit (900 B of 1000 B)");
  doc["processes"][0]["cgroup"]["memoryLimitBytes"] = "unlimited";
  EXPECT_TRUE(KindsOf(doc).empty());
}

TEST(FindingsTest, AnyOomKillOnCgroupV2OrV1) {
  json doc = Quiet();
  doc["evidence"]["memory"]["events"]["oomKill"] = 1;
  Finding v2 = OnlyFinding(doc, "oom-kill");
  EXPECT_EQ(v2.title, "1 OOM kill recorded in the memory cgroup");
  EXPECT_THAT(v2.evidence, HasSubstr("memory.events of cgroup /kubepods/pod7: oom_kill 1"));

  doc["evidence"]["memory"] = {
      {"cgroupVersion", 1},
      {"oomControl", {{"oomKillDisable", false}, {"underOom", true}, {"oomKill", 0}}},
      {"failcnt", 17}};
  EXPECT_TRUE(KindsOf(doc).empty());
  doc["evidence"]["memory"]["oomControl"]["oomKill"] = 3;
  Finding v1 = OnlyFinding(doc, "oom-kill");
  EXPECT_EQ(v1.title, "3 OOM kills recorded in the memory cgroup");
  EXPECT_THAT(v1.evidence, HasSubstr("memory.oom_control: oom_kill 3, under_oom 1"));
  EXPECT_THAT(v1.evidence, HasSubstr("memory.failcnt 17"));
}

TEST(FindingsTest, OneThreadInStateD) {
  json doc = Quiet();
  doc["processes"][0]["blockedThreads"] = json::array({BlockedThread(200, "io_schedule")});
  Finding finding = OnlyFinding(doc, "blocked-threads");
  EXPECT_EQ(finding.title, "1 thread in uninterruptible sleep (state D): waiting in the kernel");
  EXPECT_THAT(finding.evidence, HasSubstr("writer [200] on io_schedule"));
}

TEST(FindingsTest, FiveThreadsOnTheSameWchan) {
  json doc = Quiet();
  json blocked = json::array();
  for (int i = 0; i < 4; ++i) blocked.push_back(BlockedThread(200 + i, "io_schedule"));
  blocked.push_back(BlockedThread(210, "rwsem_down_read_slowpath"));
  doc["processes"][0]["blockedThreads"] = blocked;
  EXPECT_EQ(OnlyFinding(doc, "blocked-threads").title,
            "5 threads in uninterruptible sleep (state D): waiting in the kernel");
  doc["processes"][0]["blockedThreads"][4]["wchan"] = "io_schedule";
  EXPECT_EQ(OnlyFinding(doc, "blocked-threads").title,
            "5 threads waiting on the same wchan io_schedule (uninterruptible sleep, state D)");
}

TEST(FindingsTest, TenThreadsOnAFutexWithOneStack) {
  json doc = LoadReportFixture("incident.json");
  json quiet = Quiet();
  json threads = json::array();
  for (const json& thread : doc["processes"][0]["threads"]) {
    if (thread["name"] == "worker" && threads.size() < 9) threads.push_back(thread);
  }
  quiet["processes"][0]["threads"] = threads;
  EXPECT_TRUE(KindsOf(quiet).empty());
  json tenth = threads[0];
  tenth["tid"] = 999;
  quiet["processes"][0]["threads"].push_back(tenth);
  Finding finding = OnlyFinding(quiet, "futex-convoy");
  EXPECT_EQ(finding.title, "10 threads waiting on a futex with identical stacks (a lock convoy?)");
  EXPECT_THAT(finding.evidence,
              HasSubstr("wchan futex_wait_queue; stack __futex_abstimed_wait_common <- "
                        "pthread_mutex_lock <- Cache::Get()"));
  // The same count on another wchan, or with different stacks, is no convoy.
  quiet["processes"][0]["threads"][9]["stack"]["frames"][2]["symbol"] = "Other()";
  EXPECT_TRUE(KindsOf(quiet).empty());
}

TEST(FindingsTest, PreviousInstanceOomKilledOrExit137) {
  json doc = Quiet();
  json& termination = doc["logs"]["instances"][1]["termination"];
  termination["exitCode"] = 137;
  Finding finding = OnlyFinding(doc, "previous-instance-killed");
  EXPECT_EQ(finding.title, "previous instance exited 137 (Error) 3 min before the capture");
  EXPECT_THAT(finding.evidence, HasSubstr("exitCode 137"));
  EXPECT_THAT(finding.evidence, HasSubstr("restartCount 3"));

  termination["finishedAt"] = "2026-12-06T15:55:00Z";
  EXPECT_EQ(OnlyFinding(doc, "previous-instance-killed").title,
            "previous instance exited 137 (Error) 2 h 5 min before the capture");
  termination["finishedAt"] = "2026-12-06T17:59:15Z";
  EXPECT_EQ(OnlyFinding(doc, "previous-instance-killed").title,
            "previous instance exited 137 (Error) 45 s before the capture");

  termination["exitCode"] = 1;
  termination["reason"] = "OOMKilled";
  termination["finishedAt"] = "not a time";
  EXPECT_EQ(OnlyFinding(doc, "previous-instance-killed").title,
            "previous instance exited 1 (OOMKilled)");
}

TEST(FindingsTest, HostileFiguresMakeNoFindingAndNoCrash) {
  json doc = Quiet();
  json& p = doc["processes"][0];
  p["cgroup"]["nrPeriods"] = 0;
  p["cgroup"]["nrThrottled"] = 5;
  p["fdCount"] = -5;
  p["limits"][1]["soft"] = 0;
  p["cgroup"]["memoryLimitBytes"] = -1;
  p["cgroup"]["memoryUsageBytes"] = std::numeric_limits<std::int64_t>::max();
  doc["evidence"]["network"]["somaxconn"] = 0;
  doc["evidence"]["network"]["listeners"][0]["acceptQueue"] = -1;
  doc["evidence"]["memory"]["events"]["oomKill"] = -3;
  p["blockedThreads"] = json::array({"x", 3});
  doc["logs"]["instances"][1]["termination"] = {{"exitCode", "137"}, {"finishedAt", 5}};
  EXPECT_TRUE(KindsOf(doc).empty()) << ::testing::PrintToString(KindsOf(doc));
}

TEST(FindingsTest, AreBounded) {
  json doc = Quiet();
  json process = doc["processes"][0];
  process["blockedThreads"] = json::array({BlockedThread(1, "io_schedule")});
  doc["processes"] = json::array();
  for (std::size_t i = 0; i < kMaxFindings + 4; ++i) {
    process["pid"] = 100 + static_cast<int>(i);
    doc["processes"].push_back(process);
  }
  FindingsModel findings = ComputeFindings(api::ReadSnapshotDocument(doc));
  EXPECT_EQ(findings.findings.size(), kMaxFindings);
  EXPECT_EQ(findings.left_out, 4U);
}

}  // namespace
}  // namespace ephemera::report
