#include "cli/report/snapshot_document.h"

#include <gtest/gtest.h>

#include "tests/cli/report/report_fixtures.h"

namespace ephemera::report {
namespace {

using nlohmann::json;

TEST(SnapshotDocumentTest, GroupsIdenticalStacksWithTheirCount) {
  json threads = json::array();
  for (int i = 0; i < 12; ++i) {
    threads.push_back(ThreadWithStack(100 + i, "worker-" + std::to_string(i),
                                      {"futex_wait", "WaitForWork", "WorkerMain", "start_thread"}));
  }
  threads.push_back(
      ThreadWithStack(99, "main", {"accept", "ServeForever", "main"}, "inet_csk_accept"));
  threads.push_back(ThreadWithStack(98, "timer", {"nanosleep", "TimerLoop", "start_thread"}));

  std::vector<StackGroup> groups = GroupThreadsByStack(threads);

  ASSERT_EQ(groups.size(), 3U);
  EXPECT_EQ(groups[0].threads.size(), 12U);
  EXPECT_EQ(StringField(*groups[0].threads[0], "name"), "worker-0");
  ASSERT_NE(groups[0].frames, nullptr);
  EXPECT_EQ(groups[0].frames->size(), 4U);
  EXPECT_EQ(groups[0].wchans, std::vector<std::string>{"futex_wait_queue"});
  // Ties (one thread each) come lowest tid first.
  EXPECT_EQ(IntField(*groups[1].threads[0], "tid"), 98);
  EXPECT_EQ(IntField(*groups[2].threads[0], "tid"), 99);
}

TEST(SnapshotDocumentTest, GroupsByFunctionNotByOffset) {
  json a = ThreadWithStack(1, "a", {"Spin", "main"});
  json b = ThreadWithStack(2, "b", {"Spin", "main"});
  b["stack"]["frames"][0]["offset"] = 40;
  b["stack"]["frames"][0]["pc"] = "0x401028";
  json c = ThreadWithStack(3, "c", {"Spin", "Other"});

  std::vector<StackGroup> groups = GroupThreadsByStack(json::array({a, b, c}));

  ASSERT_EQ(groups.size(), 2U);
  EXPECT_EQ(groups[0].threads.size(), 2U);
}

TEST(SnapshotDocumentTest, ThreadsWithoutStacksGroupByWchan) {
  json threads = json::array({{{"tid", 1}, {"state", "S"}, {"wchan", "do_wait"}},
                              {{"tid", 2}, {"state", "R"}, {"wchan", ""}},
                              {{"tid", 3}, {"state", "S"}, {"wchan", "do_wait"}}});

  std::vector<StackGroup> groups = GroupThreadsByStack(threads);

  ASSERT_EQ(groups.size(), 2U);
  EXPECT_EQ(groups[0].threads.size(), 2U);
  EXPECT_EQ(groups[0].frames, nullptr);
  EXPECT_EQ(groups[0].wchans, std::vector<std::string>{"do_wait"});
}

TEST(SnapshotDocumentTest, AccessorsTolerateWrongTypes) {
  json object = {{"n", "seven"}, {"s", 7}, {"a", {{"x", 1}}}, {"null", nullptr}};

  EXPECT_EQ(IntField(object, "n"), std::nullopt);
  EXPECT_EQ(IntField(object, "null"), std::nullopt);
  EXPECT_EQ(StringField(object, "s"), "");
  EXPECT_TRUE(ArrayField(object, "a").empty());
  EXPECT_EQ(FindField(json::array(), "a"), nullptr);
  EXPECT_EQ(ScalarText(FindField(object, "null")), "-");
}

TEST(SnapshotDocumentTest, FormatsSizesAndDurations) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(268435456), "256 MiB");
  EXPECT_EQ(FormatMicros(850), "850 us");
  EXPECT_EQ(FormatMicros(12345), "12.3 ms");
  EXPECT_EQ(FormatMicros(2050000), "2.05 s");
}

TEST(SnapshotDocumentTest, RejectsDocumentsThatAreNotSnapshots) {
  json valid = LoadReportFixture("minimal.json");
  ASSERT_TRUE(ValidateSnapshot(valid).ok()) << ValidateSnapshot(valid).ToString();

  json no_version = valid;
  no_version.erase("apiVersion");
  json other_version = valid;
  other_version["apiVersion"] = "ephemera.dev/snapshot/v2";
  json wrong_kind = valid;
  wrong_kind["kind"] = "DebugSession";
  json processes_not_array = valid;
  processes_not_array["processes"] = {{"pid", 1}};
  json process_without_pid = valid;
  process_without_pid["processes"][0].erase("pid");

  for (const json& doc : {json::array(), json("text"), no_version, other_version, wrong_kind,
                          processes_not_array, process_without_pid}) {
    Status status = ValidateSnapshot(doc);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << doc.dump();
  }
  EXPECT_NE(ValidateSnapshot(other_version).message().find("ephemera.dev/snapshot/v2"),
            std::string::npos);
  EXPECT_NE(ValidateSnapshot(no_version).message().find("apiVersion"), std::string::npos);
}

}  // namespace
}  // namespace ephemera::report
