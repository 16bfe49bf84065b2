#include "api/snapshot_document.h"

#include <gtest/gtest.h>

#include <algorithm>
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
  for (const char* name : {"minimal.json", "degraded.json", "ephemera-target.json", "incident.json",
                           "runtimes.json"}) {
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

TEST(SnapshotDocumentTest, ReadsTheIncidentEvidence) {
  SnapshotDocument doc = ReadSnapshotDocument(LoadReportFixture("incident.json"));

  ASSERT_TRUE(doc.evidence.has_value());
  ASSERT_TRUE(doc.evidence->network.has_value());
  const SnapshotNetworkEvidence& network = *doc.evidence->network;
  ASSERT_TRUE(network.counters.has_value());
  EXPECT_EQ(network.counters->size(), kNetworkCounters.size());
  EXPECT_EQ(network.counters->front().kernel, "TcpExt ListenOverflows");
  EXPECT_EQ(network.Counter(evidence_field::kListenOverflows), 4211);
  EXPECT_EQ(network.Counter(evidence_field::kUdpReceiveBufferErrors), 5);
  ASSERT_EQ(network.listeners.size(), 2U);
  EXPECT_EQ(network.listeners[0].local, "0.0.0.0:8080");
  EXPECT_EQ(network.listeners[0].accept_queue, 4000);
  EXPECT_EQ(network.listeners[1].protocol, "tcp6");
  EXPECT_EQ(network.somaxconn, 4096);
  EXPECT_FALSE(network.listeners_truncated);

  ASSERT_TRUE(doc.evidence->pressure.has_value());
  EXPECT_EQ(doc.evidence->pressure->source, "cgroup");
  ASSERT_TRUE(doc.evidence->pressure->cpu.has_value());
  ASSERT_TRUE(doc.evidence->pressure->cpu->some.has_value());
  EXPECT_DOUBLE_EQ(doc.evidence->pressure->cpu->some->avg10.value_or(0), 63.1);
  EXPECT_EQ(doc.evidence->pressure->cpu->full->total_micros, 801234);

  ASSERT_TRUE(doc.evidence->memory.has_value());
  EXPECT_EQ(doc.evidence->memory->cgroup_version.integer, 2);
  ASSERT_TRUE(doc.evidence->memory->events.has_value());
  EXPECT_EQ(doc.evidence->memory->events->oom_kill, 2);
  EXPECT_EQ(doc.evidence->memory->events->high, 12);
  EXPECT_FALSE(doc.evidence->memory->oom_control.has_value());
}

TEST(SnapshotDocumentTest, ReadsTheNewPerProcessFields) {
  SnapshotDocument doc = ReadSnapshotDocument(LoadReportFixture("incident.json"));

  const SnapshotProcess& process = doc.processes.at(0);
  EXPECT_EQ(process.fd_count.integer, 1000);
  ASSERT_TRUE(process.blocked_threads.has_value());
  ASSERT_EQ(process.blocked_threads->size(), 6U);
  EXPECT_EQ(process.blocked_threads->at(0).tid.integer, 200);
  EXPECT_EQ(process.blocked_threads->at(0).name, "writer");
  EXPECT_EQ(process.blocked_threads->at(0).wchan, "io_schedule");
  ASSERT_TRUE(process.sockets.has_value());
  EXPECT_EQ(process.sockets->at(0).accept_queue, 4000);
  EXPECT_EQ(process.sockets->at(0).send_queue_bytes, std::nullopt);
  EXPECT_EQ(process.sockets->at(1).send_queue_bytes, 1440);
  EXPECT_EQ(process.sockets->at(1).receive_queue_bytes, 512);
  EXPECT_EQ(process.sockets->at(1).accept_queue, std::nullopt);
}

TEST(SnapshotDocumentTest, ReadsTheLogsSectionAsTheControllerWritesIt) {
  SnapshotDocument doc = ReadSnapshotDocument(LoadReportFixture("incident.json"));

  EXPECT_TRUE(doc.Requested(snapshot_section::kLogs));
  ASSERT_TRUE(doc.logs.has_value());
  EXPECT_EQ(doc.logs->container, "app");
  ASSERT_TRUE(doc.logs->limits.has_value());
  EXPECT_EQ(doc.logs->limits->tail_lines, 1000);
  EXPECT_EQ(doc.logs->limits->limit_bytes, 262144);
  EXPECT_EQ(doc.logs->limits->since_seconds, 3600);
  ASSERT_EQ(doc.logs->instances.size(), 2U);
  const SnapshotLogInstance& current = doc.logs->instances[0];
  EXPECT_EQ(current.instance, log_field::kCurrent);
  EXPECT_EQ(current.restart_count.integer, 3);
  ASSERT_EQ(current.lines.size(), 2U);
  EXPECT_NE(current.lines[1].find("<script>"), std::string::npos);
  EXPECT_EQ(current.line_count, 2);
  EXPECT_EQ(current.bytes, 140);
  EXPECT_EQ(current.truncated, false);
  EXPECT_FALSE(current.termination.has_value());
  EXPECT_FALSE(current.error.has_value());
  const SnapshotLogInstance& previous = doc.logs->instances[1];
  EXPECT_EQ(previous.instance, log_field::kPrevious);
  EXPECT_EQ(previous.dropped_lines, 1);
  ASSERT_TRUE(previous.termination.has_value());
  EXPECT_EQ(previous.termination->exit_code, 137);
  EXPECT_EQ(previous.termination->signal, 9);
  EXPECT_EQ(previous.termination->reason, "OOMKilled");
  EXPECT_EQ(previous.termination->started_at, "2026-12-06T17:50:00Z");
  EXPECT_EQ(previous.termination->finished_at, "2026-12-06T17:57:00Z");
}

TEST(SnapshotDocumentTest, ReadsALogInstanceThatCouldNotBeRead) {
  json doc = LoadReportFixture("minimal.json");
  doc["logs"] = {
      {"container", "app"},
      {"instances", json::array({{{"instance", "previous"},
                                  {"restartCount", 0},
                                  {"lines", json::array()},
                                  {"lineCount", 0},
                                  {"bytes", 0},
                                  {"truncated", false},
                                  {"droppedLines", 0},
                                  {"error", "the container has no previous instance"}}})}};

  SnapshotDocument read = ReadSnapshotDocument(doc);

  ASSERT_TRUE(read.logs.has_value());
  EXPECT_FALSE(read.logs->limits.has_value());
  ASSERT_EQ(read.logs->instances.size(), 1U);
  EXPECT_TRUE(read.logs->instances[0].lines.empty());
  EXPECT_EQ(read.logs->instances[0].error, "the container has no previous instance");
}

TEST(SnapshotDocumentTest, EvidenceAndLogsOfTheWrongTypeReadAsAbsent) {
  json doc = LoadReportFixture("incident.json");
  json evidence_array = doc;
  evidence_array["evidence"] = json::array({1});
  evidence_array["logs"] = "logs";
  EXPECT_TRUE(ValidateSnapshot(evidence_array).ok()) << ValidateSnapshot(evidence_array).ToString();
  SnapshotDocument read = ReadSnapshotDocument(evidence_array);
  EXPECT_FALSE(read.evidence.has_value());
  EXPECT_FALSE(read.logs.has_value());

  json damaged = doc;
  damaged["evidence"]["network"]["counters"] = {{"listenOverflows", "many"}, {"listenDrops", 2.5}};
  damaged["evidence"]["network"]["listeners"] = json::array({7, {{"acceptQueue", "x"}}});
  damaged["evidence"]["pressure"]["cpu"] = {{"some", {{"avg10", "hot"}}}, {"full", 3}};
  damaged["evidence"]["memory"]["events"] = {{"oomKill", true}};
  damaged["evidence"]["memory"]["oomControl"] = {{"underOom", 1}};
  damaged["processes"][0]["blockedThreads"] = json::array({"x", {{"tid", "y"}}});
  damaged["logs"]["instances"] = json::array(
      {3, {{"lines", json::array({1, json::object(), "ok"})}, {"termination", "gone"}}});
  read = ReadSnapshotDocument(damaged);

  ASSERT_TRUE(read.evidence.has_value());
  ASSERT_TRUE(read.evidence->network.has_value());
  ASSERT_TRUE(read.evidence->network->counters.has_value());
  EXPECT_TRUE(read.evidence->network->counters->empty());
  EXPECT_EQ(read.evidence->network->Counter(evidence_field::kListenOverflows), std::nullopt);
  ASSERT_EQ(read.evidence->network->listeners.size(), 1U);
  EXPECT_EQ(read.evidence->network->listeners[0].accept_queue, std::nullopt);
  ASSERT_TRUE(read.evidence->pressure->cpu.has_value());
  EXPECT_EQ(read.evidence->pressure->cpu->some->avg10, std::nullopt);
  EXPECT_FALSE(read.evidence->pressure->cpu->full.has_value());
  EXPECT_EQ(read.evidence->memory->events->oom_kill, std::nullopt);
  EXPECT_EQ(read.evidence->memory->oom_control->under_oom, std::nullopt);
  ASSERT_TRUE(read.processes[0].blocked_threads.has_value());
  EXPECT_EQ(read.processes[0].blocked_thread_entries, 2U);
  ASSERT_EQ(read.processes[0].blocked_threads->size(), 1U);
  EXPECT_EQ(read.processes[0].blocked_threads->at(0).tid.text, "y");
  ASSERT_EQ(read.logs->instances.size(), 1U);
  EXPECT_EQ(read.logs->instances[0].lines, (std::vector<std::string>{"1", "{}", "ok"}));
  EXPECT_FALSE(read.logs->instances[0].termination.has_value());
}

TEST(SnapshotDocumentTest, BoundsWhatAHostileDocumentMakesTheReaderHold) {
  json doc = LoadReportFixture("minimal.json");
  json lines = json::array();
  for (std::size_t i = 0; i < kMaxReadLogLinesPerInstance + 5; ++i) lines.push_back("l");
  json instances = json::array();
  for (std::size_t i = 0; i < kMaxReadLogInstances + 3; ++i) {
    instances.push_back({{"instance", "current"}, {"lines", lines}});
  }
  doc["logs"] = {{"instances", instances}};
  json listeners = json::array();
  for (std::size_t i = 0; i < kMaxReadListeners + 1; ++i) listeners.push_back({{"local", "x"}});
  json errors = json::array();
  for (std::size_t i = 0; i < kMaxReadEvidenceErrors + 1; ++i) errors.push_back("e");
  doc["evidence"] = {{"network", {{"listeners", listeners}, {"errors", errors}}}};

  SnapshotDocument read = ReadSnapshotDocument(doc);

  ASSERT_EQ(read.logs->instances.size(), kMaxReadLogInstances);
  EXPECT_EQ(read.logs->instances[0].lines.size(), kMaxReadLogLinesPerInstance);
  EXPECT_EQ(read.logs->instances[0].lines_left_out, 5U);
  EXPECT_EQ(read.evidence->network->listeners.size(), kMaxReadListeners);
  EXPECT_TRUE(read.evidence->network->listeners_truncated);
  EXPECT_EQ(read.evidence->network->errors.size(), kMaxReadEvidenceErrors);
}

TEST(SnapshotDocumentTest, ReadsTheRuntimeObjectAsTheToolWritesIt) {
  SnapshotDocument read = ReadSnapshotDocument(LoadReportFixture("runtimes.json"));

  ASSERT_EQ(read.processes.size(), 3U);
  ASSERT_TRUE(read.processes[0].runtime.has_value());
  const SnapshotRuntime& go = *read.processes[0].runtime;
  EXPECT_EQ(go.language, "go");
  EXPECT_EQ(go.version, "go1.22.5");
  EXPECT_EQ(go.method, "memory");
  EXPECT_EQ(go.freeze_micros, 0);
  EXPECT_EQ(go.count, 1034);
  ASSERT_EQ(go.groups.size(), 4U);
  EXPECT_EQ(go.groups[0].count, 512);
  EXPECT_EQ(go.groups[0].state, "chan receive");
  EXPECT_EQ(go.groups[0].min_wait_seconds, 840);
  EXPECT_EQ(go.groups[0].max_wait_seconds, 890);
  ASSERT_EQ(go.groups[0].members.size(), kMaxRuntimeGroupMembers);
  EXPECT_EQ(go.groups[0].members[0].id, "17");
  EXPECT_EQ(go.groups[0].members[0].name, "");
  EXPECT_FALSE(go.groups[0].members[0].tid.has_value());
  ASSERT_EQ(go.groups[0].frames.size(), 4U);
  EXPECT_EQ(go.groups[0].frames[2].function, "main.worker");
  EXPECT_EQ(go.groups[0].frames[2].file, "/src/app/main.go");
  EXPECT_EQ(go.groups[0].frames[2].line, 42);
  EXPECT_FALSE(go.groups[0].frames_truncated);
  EXPECT_TRUE(go.groups[2].frames_truncated);
  EXPECT_EQ(go.groups[3].members[1].tid, 9);
  EXPECT_FALSE(go.groups[3].min_wait_seconds.has_value());
  EXPECT_TRUE(go.deadlocks.empty());

  ASSERT_TRUE(read.processes[2].runtime.has_value());
  const SnapshotRuntime& java = *read.processes[2].runtime;
  EXPECT_EQ(java.method, "attach");
  EXPECT_EQ(java.freeze_micros, 1840);
  EXPECT_EQ(java.groups_omitted, 1);
  EXPECT_EQ(java.groups[1].members[0].name, "worker-1");
  ASSERT_EQ(java.groups[1].frames[0].locks.size(), 2U);
  EXPECT_EQ(java.groups[1].frames[0].locks[0].action, "waiting to lock");
  EXPECT_EQ(java.groups[1].frames[0].locks[0].class_name, "java.lang.Object");
  EXPECT_EQ(java.groups[1].frames[0].locks[0].id, "0x000000071a0b2c48");
  EXPECT_FALSE(java.groups[0].frames[0].line.has_value());
  ASSERT_EQ(java.deadlocks.size(), 1U);
  EXPECT_EQ(java.deadlocks[0].members, (std::vector<std::string>{"worker-1", "worker-2"}));
  EXPECT_NE(java.deadlocks[0].description.find("which is held by \"worker-2\""), std::string::npos);

  EXPECT_FALSE(
      ReadSnapshotDocument(LoadReportFixture("minimal.json")).processes[0].runtime.has_value());
}

TEST(SnapshotDocumentTest, RuntimePartsOfTheWrongTypeReadAsAbsent) {
  json doc = LoadReportFixture("minimal.json");
  doc["processes"][0]["runtime"] = {
      {"language", 7},
      {"count", "many"},
      {"freezeMicros", -1.5},
      {"groups",
       {"not a group",
        {{"count", -4},
         {"state", json::array()},
         {"waitSeconds", {{"min", 90}, {"max", 30}}},
         {"members", {1, {{"id", 17}, {"tid", "x"}}, {{"name", "t"}}}},
         {"frames", {{{"function", 3}, {"line", -2}, {"locks", "none"}}, "frame"}},
         {"framesTruncated", "yes"}},
        {{"count", 3}, {"waitSeconds", 60}, {"members", {}}, {"frames", {}}}}},
      {"groupsOmitted", -3},
      {"deadlocks", {{{"members", "a"}}, 5, {{"members", {"t1", 2}}, {"description", {1}}}}}};
  json not_an_object = LoadReportFixture("minimal.json");
  not_an_object["processes"][0]["runtime"] = "go";

  SnapshotDocument read;
  ASSERT_NO_THROW(read = ReadSnapshotDocument(doc));
  EXPECT_FALSE(ReadSnapshotDocument(not_an_object).processes[0].runtime.has_value());

  ASSERT_TRUE(read.processes[0].runtime.has_value());
  const SnapshotRuntime& runtime = *read.processes[0].runtime;
  EXPECT_EQ(runtime.language, "");
  EXPECT_FALSE(runtime.count.has_value());
  EXPECT_FALSE(runtime.freeze_micros.has_value());
  EXPECT_EQ(runtime.groups_omitted, 0);
  ASSERT_EQ(runtime.groups.size(), 2U);
  const SnapshotRuntimeGroup& odd = runtime.groups[0];
  EXPECT_EQ(odd.count, 2);  // a negative count reads as the members listed
  EXPECT_EQ(odd.state, "");
  EXPECT_FALSE(odd.min_wait_seconds.has_value());  // min above max
  ASSERT_EQ(odd.members.size(), 2U);
  EXPECT_EQ(odd.members[0].id, "17");
  EXPECT_FALSE(odd.members[0].tid.has_value());
  EXPECT_EQ(odd.members[1].name, "t");
  ASSERT_EQ(odd.frames.size(), 1U);
  EXPECT_EQ(odd.frames[0].function, "");
  EXPECT_FALSE(odd.frames[0].line.has_value());
  EXPECT_TRUE(odd.frames[0].locks.empty());
  EXPECT_FALSE(odd.frames_truncated);
  EXPECT_EQ(runtime.groups[1].count, 3);
  EXPECT_FALSE(runtime.groups[1].max_wait_seconds.has_value());
  ASSERT_EQ(runtime.deadlocks.size(), 2U);
  EXPECT_TRUE(runtime.deadlocks[0].members.empty());
  EXPECT_EQ(runtime.deadlocks[1].members, (std::vector<std::string>{"t1", "2"}));
  EXPECT_EQ(runtime.deadlocks[1].description, "");
}

TEST(SnapshotDocumentTest, BoundsTheRuntimeObjectAtItsDocumentedCaps) {
  json frame = {{"function", "f"}, {"locks", json::array()}};
  for (std::size_t i = 0; i < kMaxReadRuntimeLocks + 2; ++i) {
    frame["locks"].push_back({{"action", "locked"}, {"class", "C"}, {"id", "0x1"}});
  }
  json group = {{"count", 1000}, {"members", json::array()}, {"frames", json::array()}};
  for (std::size_t i = 0; i < kMaxRuntimeGroupMembers + 5; ++i) {
    group["members"].push_back({{"id", std::to_string(i)}});
  }
  for (std::size_t i = 0; i < kMaxReadRuntimeFrames + 1; ++i) group["frames"].push_back(frame);
  json groups = json::array({group});
  for (std::size_t i = 1; i < kMaxRuntimeGroups + 7; ++i) groups.push_back({{"count", 1}});
  json deadlocks = json::array();
  for (std::size_t i = 0; i < kMaxReadRuntimeDeadlocks + 1; ++i) {
    deadlocks.push_back({{"members", json(kMaxReadRuntimeDeadlockMembers + 1, "t")}});
  }
  json doc = LoadReportFixture("minimal.json");
  doc["processes"][0]["runtime"] = {
      {"groups", groups}, {"groupsOmitted", 10}, {"deadlocks", deadlocks}};

  SnapshotRuntime runtime = *ReadSnapshotDocument(doc).processes[0].runtime;

  ASSERT_EQ(runtime.groups.size(), kMaxRuntimeGroups);
  EXPECT_EQ(runtime.groups_omitted, 17);
  EXPECT_EQ(runtime.groups[0].count, 1000);
  EXPECT_EQ(runtime.groups[0].members.size(), kMaxRuntimeGroupMembers);
  EXPECT_EQ(runtime.groups[0].frames.size(), kMaxReadRuntimeFrames);
  EXPECT_TRUE(runtime.groups[0].frames_truncated);
  EXPECT_EQ(runtime.groups[0].frames[0].locks.size(), kMaxReadRuntimeLocks);
  ASSERT_EQ(runtime.deadlocks.size(), kMaxReadRuntimeDeadlocks);
  EXPECT_EQ(runtime.deadlocks[0].members.size(), kMaxReadRuntimeDeadlockMembers);
}

TEST(SnapshotDocumentTest, LogsIsASectionNameButNotOneTheToolCaptures) {
  EXPECT_EQ(snapshot_section::kLogs, "logs");
  EXPECT_EQ(std::find(snapshot_section::kAll.begin(), snapshot_section::kAll.end(),
                      snapshot_section::kLogs),
            snapshot_section::kAll.end());
}

}  // namespace
}  // namespace ephemera::api
