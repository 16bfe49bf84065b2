#include "api/snapshot_document.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace ephemera::api {
namespace {

using nlohmann::json;

json LoadReportFixture(const std::string& name) {
  std::ifstream in(std::string(EPHEMERA_TESTDATA_DIR) + "/report/" + name);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
}

TEST(SnapshotDocumentTest, ValidatesTheReportFixtures) {
  for (const char* name : {"minimal.json", "degraded.json", "ephemera-target.json"}) {
    json doc = LoadReportFixture(name);
    Status status = ValidateSnapshot(doc);
    EXPECT_TRUE(status.ok()) << name << ": " << status.ToString();
  }
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

TEST(SnapshotDocumentTest, ReadsTheToolsOwnOutput) {
  SnapshotDocument doc = ReadSnapshotDocument(LoadReportFixture("ephemera-target.json"));

  EXPECT_EQ(doc.api_version, kSnapshotApiVersion);
  ASSERT_TRUE(doc.tool.has_value());
  EXPECT_EQ(doc.tool->name, kSnapshotToolName);
  EXPECT_EQ(doc.sections.size(), snapshot_section::kAll.size());
  EXPECT_TRUE(doc.Requested(snapshot_section::kStacks));
  ASSERT_FALSE(doc.processes.empty());
  const SnapshotProcess& process = doc.processes.back();
  EXPECT_GT(process.pid, 0);
  ASSERT_TRUE(process.threads.has_value());
  EXPECT_EQ(process.threads->size(), process.thread_entries);
  ASSERT_TRUE(process.fds.has_value());
  EXPECT_FALSE(process.fds->empty());
  ASSERT_TRUE(process.maps.has_value());
  EXPECT_TRUE(process.maps->by_kind.has_value());
  ASSERT_TRUE(doc.redaction.has_value());
  EXPECT_FALSE(doc.redaction->patterns_matched.empty());
  ASSERT_TRUE(doc.overhead.has_value());
  EXPECT_TRUE(doc.overhead->target_freeze_micros.has_value());
}

TEST(SnapshotDocumentTest, ValuesKeepWhatTheDocumentHeld) {
  json doc = LoadReportFixture("minimal.json");
  doc["processes"][0]["fdCount"] = "seven";
  doc["processes"][0]["ppid"] = nullptr;
  doc["processes"][0]["threadCount"] = {{"x", 1}};
  doc["processes"][0]["limits"] = {
      {{"name", "Max open files"}, {"soft", 1024}, {"hard", "unlimited"}}};

  SnapshotProcess process = ReadSnapshotDocument(doc).processes.at(0);

  EXPECT_EQ(process.fd_count.text, "seven");
  EXPECT_EQ(process.fd_count.integer, std::nullopt);
  EXPECT_TRUE(process.ppid.present);
  EXPECT_EQ(process.ppid.text, "-");
  EXPECT_EQ(process.thread_count.text, R"({"x":1})");
  ASSERT_TRUE(process.limits.has_value());
  EXPECT_EQ(process.limits->at(0).soft.integer, 1024);
  EXPECT_EQ(process.limits->at(0).hard.text, "unlimited");
  EXPECT_FALSE(process.cgroup.has_value());
  EXPECT_FALSE(process.io.has_value());
}

TEST(SnapshotDocumentTest, ToleratesPartsOfTheWrongType) {
  json doc = LoadReportFixture("minimal.json");
  doc["processes"][0]["threads"] = "none";
  doc["processes"][0]["maps"] = json::array();
  doc["processes"][0]["env"] = {{{"name", "A"}}, "not an object"};
  doc["processTree"] = {{{"pid", "1"}}, 7};
  doc["degraded"] = {"text", {{"section", "fds"}, {"pid", 7}, {"reason", "EACCES"}}};

  SnapshotDocument read = ReadSnapshotDocument(doc);

  const SnapshotProcess& process = read.processes.at(0);
  EXPECT_FALSE(process.threads.has_value());
  EXPECT_FALSE(process.maps.has_value());
  ASSERT_TRUE(process.env.has_value());
  ASSERT_EQ(process.env->size(), 2U);
  EXPECT_EQ(process.env->at(0).value, std::nullopt);
  EXPECT_EQ(process.env->at(1).name, "");
  ASSERT_EQ(read.process_tree.size(), 2U);  // listed, but neither has an integer pid
  EXPECT_EQ(read.process_tree[0].pid, std::nullopt);
  EXPECT_EQ(read.process_tree[1].pid, std::nullopt);
  EXPECT_EQ(read.DegradedReason(7, "fds"), "EACCES");
  EXPECT_EQ(read.DegradedReason(7, "env"), "");
  EXPECT_EQ(read.DegradedCount(7), 1U);
}

TEST(SnapshotDocumentTest, ReadsAnythingWithoutThrowing) {
  for (const json& doc : {json(nullptr), json::array({1, 2}), json("x"), json(3.5),
                          json{{"processes", {{{"pid", "x"}}, 4}}, {"sections", {1, "env"}}}}) {
    SnapshotDocument read = ReadSnapshotDocument(doc);
    EXPECT_TRUE(read.processes.empty() || read.processes[0].pid == 0) << doc.dump();
  }
  SnapshotDocument read =
      ReadSnapshotDocument(json{{"sections", {1, "env"}}, {"processes", {{{"pid", 3}}}}});
  EXPECT_EQ(read.sections, std::vector<std::string>{"env"});
  EXPECT_EQ(read.processes.at(0).pid, 3);
}

}  // namespace
}  // namespace ephemera::api
