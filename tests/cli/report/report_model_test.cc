#include "cli/report/report_model.h"

#include <gtest/gtest.h>

#include "tests/cli/report/report_fixtures.h"

namespace ephemera::report {
namespace {

using nlohmann::json;

// The threads of the only process of a document holding `threads`, read as the reports read them.
std::vector<api::SnapshotThread> ReadThreads(const json& threads) {
  api::SnapshotDocument doc = api::ReadSnapshotDocument(SnapshotWithThreads(threads));
  if (doc.processes.empty() || !doc.processes[0].threads.has_value()) return {};
  return *doc.processes[0].threads;
}

ReportModel ModelOf(const json& snapshot, const ReportContext& context = {}) {
  return BuildReportModel(api::ReadSnapshotDocument(snapshot), context);
}

TEST(ReportModelTest, GroupsIdenticalStacksWithTheirCount) {
  json threads = json::array();
  for (int i = 0; i < 12; ++i) {
    threads.push_back(ThreadWithStack(100 + i, "worker-" + std::to_string(i),
                                      {"futex_wait", "WaitForWork", "WorkerMain", "start_thread"}));
  }
  threads.push_back(
      ThreadWithStack(99, "main", {"accept", "ServeForever", "main"}, "inet_csk_accept"));
  threads.push_back(ThreadWithStack(98, "timer", {"nanosleep", "TimerLoop", "start_thread"}));

  std::vector<StackGroup> groups = GroupThreadsByStack(ReadThreads(threads));

  ASSERT_EQ(groups.size(), 3U);
  EXPECT_EQ(groups[0].thread_labels.size(), 12U);
  EXPECT_EQ(groups[0].thread_labels[0], "worker-0 [100]");
  ASSERT_TRUE(groups[0].has_stack);
  ASSERT_EQ(groups[0].frames.size(), 4U);
  EXPECT_EQ(groups[0].frames[0].function, "futex_wait+16");
  EXPECT_EQ(groups[0].frames[0].identity, "futex_wait");
  EXPECT_EQ(groups[0].wchans, std::vector<std::string>{"futex_wait_queue"});
  // Ties (one thread each) come lowest tid first.
  EXPECT_EQ(groups[1].thread_labels, std::vector<std::string>{"timer [98]"});
  EXPECT_EQ(groups[2].thread_labels, std::vector<std::string>{"main [99]"});
}

TEST(ReportModelTest, GroupsByFunctionNotByOffset) {
  json a = ThreadWithStack(1, "a", {"Spin", "main"});
  json b = ThreadWithStack(2, "b", {"Spin", "main"});
  b["stack"]["frames"][0]["offset"] = 40;
  b["stack"]["frames"][0]["pc"] = "0x401028";
  json c = ThreadWithStack(3, "c", {"Spin", "Other"});

  std::vector<StackGroup> groups = GroupThreadsByStack(ReadThreads(json::array({a, b, c})));

  ASSERT_EQ(groups.size(), 2U);
  EXPECT_EQ(groups[0].thread_labels.size(), 2U);
}

TEST(ReportModelTest, ThreadsWithoutStacksGroupByWchan) {
  json threads = json::array({{{"tid", 1}, {"state", "S"}, {"wchan", "do_wait"}},
                              {{"tid", 2}, {"state", "R"}, {"wchan", ""}},
                              {{"tid", 3}, {"state", "S"}, {"wchan", "do_wait"}}});

  std::vector<StackGroup> groups = GroupThreadsByStack(ReadThreads(threads));

  ASSERT_EQ(groups.size(), 2U);
  EXPECT_EQ(groups[0].thread_labels.size(), 2U);
  EXPECT_FALSE(groups[0].has_stack);
  EXPECT_EQ(groups[0].wchans, std::vector<std::string>{"do_wait"});
}

TEST(ReportModelTest, UnknownSymbolsShowThePcAndMergeOnIt) {
  json thread = ThreadWithStack(1, "", {"main"});
  thread["stack"]["frames"][0].erase("symbol");

  std::vector<StackGroup> groups = GroupThreadsByStack(ReadThreads(json::array({thread})));

  ASSERT_EQ(groups.size(), 1U);
  EXPECT_EQ(groups[0].thread_labels, std::vector<std::string>{"[1]"});
  ASSERT_EQ(groups[0].frames.size(), 1U);
  EXPECT_EQ(groups[0].frames[0].function, "??");
  EXPECT_EQ(groups[0].frames[0].identity, "0x401000");
}

TEST(ReportModelTest, FormatsSizesAndDurations) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(268435456), "256 MiB");
  EXPECT_EQ(FormatMicros(850), "850 us");
  EXPECT_EQ(FormatMicros(12345), "12.3 ms");
  EXPECT_EQ(FormatMicros(2050000), "2.05 s");
  EXPECT_EQ(OptionalBytes(std::nullopt), "-");
  EXPECT_EQ(PiiModeText("<script>"), "unknown mode");
  api::SnapshotPressureLine line;
  line.avg10 = 1.254;
  line.avg300 = 0;
  EXPECT_EQ(FormatPressureLine(line), "1.25 / - / 0.00");
  EXPECT_EQ(FormatPressureLine(std::nullopt), "-");
}

TEST(ReportModelTest, HeaderJoinsContextAndDocument) {
  ReportContext context;
  context.session = "checkout-slow";
  context.namespace_name = "shop";
  context.pod = "checkout-7d9f";
  context.container = "app";

  HeaderModel header = ModelOf(LoadReportFixture("minimal.json"), context).header;

  EXPECT_EQ(header.session, "shop/checkout-slow");
  EXPECT_EQ(header.target, "pod checkout-7d9f, container app");
  EXPECT_EQ(header.captured_at, "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(header.title, "Ephemera snapshot checkout-slow (2026-01-02T03:04:05.678Z)");
  EXPECT_EQ(header.schema, "ephemera.dev/snapshot/v1");
  EXPECT_EQ(header.sections, "process");
}

TEST(ReportModelTest, ProcessTreeNestsChildrenUnderParents) {
  json doc = LoadReportFixture("minimal.json");
  doc["processTree"] = {{{"pid", 1}, {"ppid", 0}, {"name", "sh"}, {"children", {7}}},
                        {{"pid", 7}, {"ppid", 1}, {"name", "app"}, {"children", json::array()}},
                        {{"pid", 9}, {"ppid", 10}, {"name", "x"}, {"children", {10}}},
                        {{"pid", 10}, {"ppid", 9}, {"name", "y"}, {"children", {9}}}};

  ReportModel model = ModelOf(doc);

  ASSERT_TRUE(model.process_tree.has_value());
  const std::vector<TreeNode>& roots = *model.process_tree;
  // 1 is a root; 9 and 10 form a cycle, listed from the lowest pid.
  ASSERT_EQ(roots.size(), 2U);
  EXPECT_EQ(roots[0].pid, 1);
  ASSERT_EQ(roots[0].children.size(), 1U);
  EXPECT_EQ(roots[0].children[0].name, "app");
  EXPECT_EQ(roots[1].pid, 9);
  ASSERT_EQ(roots[1].children.size(), 1U);
  EXPECT_EQ(roots[1].children[0].pid, 10);
  EXPECT_TRUE(roots[1].children[0].children.empty());
}

TEST(ReportModelTest, MissingSectionsCarryTheirDegradedReason) {
  json doc = LoadReportFixture("minimal.json");
  doc["sections"] = {"process", "fds", "env"};
  doc["degraded"] = {{{"section", "env"}, {"pid", 7}, {"reason", "EACCES: open environ"}}};
  doc["processes"][0]["fds"] = {{{"fd", 0}, {"type", "file"}, {"target", "/dev/null"}},
                                {{"fd", 3}, {"type", "socket"}, {"target", "socket:[1]"}},
                                {{"fd", 4}, {"type", ""}, {"target", "?"}}};

  ReportModel model = ModelOf(doc);

  ASSERT_EQ(model.processes.size(), 1U);
  const ProcessModel& process = model.processes[0];
  EXPECT_FALSE(process.sockets.requested);
  ASSERT_TRUE(process.env.requested);
  EXPECT_FALSE(process.env.content.has_value());
  EXPECT_EQ(process.env.degraded_reason, "EACCES: open environ");
  EXPECT_EQ(process.degraded_entries, 1U);
  ASSERT_TRUE(process.fds.content.has_value());
  EXPECT_EQ(process.fds.content->count, "3");
  using TypeCount = std::pair<std::string, std::size_t>;
  EXPECT_EQ(process.fds.content->by_type,
            (std::vector<TypeCount>{{"unknown", 1}, {"file", 1}, {"socket", 1}}));
}

TEST(ReportModelTest, SummarisesCgroupAndOverheadForPeople) {
  json doc = LoadReportFixture("minimal.json");
  doc["sections"] = {"process", "cgroup"};
  doc["processes"][0]["cgroup"] = {{"version", 2},
                                   {"source", "target"},
                                   {"cpuQuotaMicros", 50000},
                                   {"cpuPeriodMicros", 100000},
                                   {"nrPeriods", 200},
                                   {"nrThrottled", 7},
                                   {"memoryUsageBytes", 1048576},
                                   {"memoryLimitBytes", "unlimited"}};
  doc["overhead"] = {{"targetFreezeMicros", 559}, {"toolCpuMillis", 36}};

  ReportModel model = ModelOf(doc);

  ASSERT_TRUE(model.processes[0].cgroup.content.has_value());
  const CgroupModel& cgroup = *model.processes[0].cgroup.content;
  EXPECT_EQ(cgroup.where, "v2, read from the target's view");
  EXPECT_EQ(cgroup.cpu_quota, "0.50 CPU (50000 us per 100000 us)");
  ASSERT_TRUE(cgroup.throttled.has_value());
  EXPECT_EQ(cgroup.throttled->periods + cgroup.throttled->percent, "7 of 200 periods (3.5%)");
  EXPECT_EQ(cgroup.memory, "1.0 MiB used, limit unlimited");
  ASSERT_TRUE(model.overhead.has_value());
  EXPECT_EQ(model.overhead->target_freeze, "559 us");
  EXPECT_EQ(model.overhead->tool_cpu, "36.0 ms");
  EXPECT_EQ(model.overhead->wall, "-");
  EXPECT_EQ(model.overhead->budget_reached, "");
}

TEST(ReportModelTest, ShowsTheBudgetAndWhichWasReached) {
  json doc = LoadReportFixture("minimal.json");
  doc["budget"] = {{"deadlineMillis", 20000},
                   {"maxOutputBytes", 4194304},
                   {"cpuMillis", 500},
                   {"memoryBytes", 67108864}};
  doc["overhead"] = {{"toolCpuMillis", 512}, {"budgetReached", "cpu"}};
  ReportModel model = ModelOf(doc);
  ASSERT_TRUE(model.overhead.has_value());
  EXPECT_EQ(model.overhead->budget, "CPU 500.0 ms, memory 64 MiB, wall 20.00 s");
  EXPECT_EQ(model.overhead->budget_reached, "CPU");
  doc["overhead"]["budgetReached"] = "wall";
  EXPECT_EQ(ModelOf(doc).overhead->budget_reached, "wall (deadline)");
  doc["overhead"]["budgetReached"] = "disk";
  EXPECT_EQ(ModelOf(doc).overhead->budget_reached, "") << "an unknown word is not shown as one";
}

TEST(ReportModelTest, ListsEveryCapturedStackFreeze) {
  json threads = json::array({ThreadWithStack(2, "b", {"f"}),
                              ThreadWithStack(1, "a", {"g"}),
                              {{"tid", 3}, {"name", "no-stack"}}});

  ReportModel model = ModelOf(SnapshotWithThreads(threads));

  ASSERT_EQ(model.freezes.size(), 2U);
  EXPECT_EQ(model.freezes[0].tid.text, "2");  // document order
  EXPECT_EQ(model.freezes[0].freeze_micros.integer, 20);
  EXPECT_EQ(model.freezes[1].name, "a");
}

}  // namespace
}  // namespace ephemera::report
