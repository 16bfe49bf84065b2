#include "debugpod/snapshot/capture.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "debugpod/procfs/real_proc_fs.h"
#include "tests/debugpod/snapshot/fakes.h"

namespace ephemera::snapshot {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCmdlineSecret[] = "fixture-cmdline-token-7f3a";
constexpr char kEnvSecret[] = "fixture-env-secret-91c2";

std::string TestData(const std::string& relative) {
  return std::string(EPHEMERA_TESTDATA_DIR) + "/snapshot/" + relative;
}

redact::Redactor MakeRedactor() {
  StatusOr<redact::Redactor> redactor = redact::Redactor::Create({{"LOG_LEVEL"}, {}, {}});
  EXPECT_TRUE(redactor.ok()) << redactor.status().ToString();
  return std::move(redactor).value();
}

stacks::ProcessStacks ServerStacks() {
  stacks::ProcessStacks s;
  stacks::ThreadStack main_thread;
  main_thread.tid = 1;
  main_thread.frames = {{0x7f0010001234, "epoll_wait", 20, "/lib/x86_64-linux-gnu/libc.so.6"},
                        {0x55d0c0012345, "Server::Loop()", 5, "/app/server"}};
  main_thread.freeze = std::chrono::microseconds(40);
  main_thread.unwind = "cfi";
  stacks::ThreadStack worker;
  worker.tid = 5;
  worker.frames = {{0x55d0c0019999, "Worker::Run()", 0, "/app/server"}};
  worker.freeze = std::chrono::microseconds(60);
  worker.unwind = "frame-pointer";
  s.threads = {main_thread, worker};
  s.total_freeze = std::chrono::microseconds(100);
  s.max_thread_freeze = std::chrono::microseconds(60);
  return s;
}

// The builder over the fixture namespace: pid 1 (server, main), pid 7 (worker, its child) and
// pid 20 (the tool, excluded).
class CaptureTest : public ::testing::Test {
 protected:
  CaptureTest()
      : cgroup_(TestData("cgroup")),
        redactor_(MakeRedactor()),
        deps_{proc_,
              cgroup_,
              [](int) -> std::unique_ptr<procfs::CgroupFs> {
                return std::make_unique<procfs::RealCgroupFs>(TestData("target-cgroup"));
              },
              stacks_,
              redactor_,
              clock_} {
    request_.self_pid = 20;
    request_.tool_euid = 1000;
    request_.tool_version = "9.9.9";
    request_.capture_time = "2024-05-01T12:00:00.000Z";
    request_.deadline = clock_.SteadyNow() + milliseconds(20000);
    request_.deadline_budget = milliseconds(20000);
    stacks_.Set(1, ServerStacks());
  }

  Json Capture() {
    CaptureResult result = CaptureSnapshot(request_, deps_);
    EXPECT_TRUE(result.targets_found);
    return result.document;
  }

  static const Json& Process(const Json& doc, int pid) {
    for (const Json& p : doc["processes"]) {
      if (p["pid"] == pid) return p;
    }
    ADD_FAILURE() << "no process " << pid;
    return doc;
  }

  static bool HasDegraded(const Json& doc, std::string_view section, int pid,
                          std::string_view reason_part) {
    for (const Json& d : doc["degraded"]) {
      if (d["section"] == section && d.value("pid", -1) == pid &&
          d["reason"].get<std::string>().find(reason_part) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  FakeProcFs proc_;
  procfs::RealCgroupFs cgroup_;
  FakeStackSource stacks_;
  FakeClock clock_;
  redact::Redactor redactor_;
  CaptureDeps deps_;
  CaptureRequest request_;
};

TEST_F(CaptureTest, HeaderTargetsAndTree) {
  Json doc = Capture();
  EXPECT_EQ(doc["apiVersion"], "ephemera.dev/snapshot/v1");
  EXPECT_EQ(doc["kind"], "Snapshot");
  EXPECT_EQ(doc["captureTime"], "2024-05-01T12:00:00.000Z");
  EXPECT_EQ(doc["tool"]["version"], "9.9.9");
  EXPECT_EQ(doc["tool"]["profile"], "ptrace");
  EXPECT_EQ(doc["budget"]["deadlineMillis"], 20000);
  EXPECT_EQ(doc["targets"]["mainPid"], 1);
  EXPECT_EQ(doc["targets"]["pids"], Json::array({1, 7}));
  EXPECT_EQ(doc["sections"].size(), 9u);
  ASSERT_EQ(doc["processTree"].size(), 2u);
  EXPECT_EQ(doc["processTree"][0]["name"], "server");
  EXPECT_EQ(doc["processTree"][0]["children"], Json::array({7}));
  EXPECT_EQ(doc["processTree"][1]["ppid"], 1);
  EXPECT_EQ(doc["processes"].size(), 2u);
  EXPECT_TRUE(doc["degraded"].empty()) << doc["degraded"].dump();
}

TEST_F(CaptureTest, ProcessSection) {
  Json doc = Capture();
  const Json& p = Process(doc, 1);
  EXPECT_EQ(p["name"], "server");
  EXPECT_EQ(p["ppid"], 0);
  EXPECT_EQ(p["state"], "S");
  EXPECT_EQ(p["uids"]["effective"], 1000);
  EXPECT_EQ(p["threadCount"], 2);
  EXPECT_EQ(p["memory"]["vmRssKiB"], 5000);
  EXPECT_EQ(p["contextSwitches"]["voluntary"], 120);
  EXPECT_EQ(p["capabilities"]["bounding"], "00000000a80425fb");
  EXPECT_EQ(p["cpu"]["userMillis"], 5000);  // 500 ticks at 100 Hz
  EXPECT_EQ(p["io"]["writeBytes"], 4096);
  EXPECT_THAT(p["cmdline"].get<std::string>(), HasSubstr("/app/server --listen=:8080"));
}

TEST_F(CaptureTest, ThreadsCarryNamesStatesAndStacks) {
  Json doc = Capture();
  const Json& threads = Process(doc, 1)["threads"];
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_EQ(threads[0]["tid"], 1);
  EXPECT_EQ(threads[0]["name"], "server");
  EXPECT_EQ(threads[0]["wchan"], "do_epoll_wait");
  EXPECT_EQ(threads[1]["name"], "server-worker");
  EXPECT_EQ(threads[1]["state"], "R");
  EXPECT_EQ(threads[1]["wchan"], "");  // "0": running
  EXPECT_EQ(threads[1]["userMillis"], 3000);
  const Json& stack = threads[0]["stack"];
  EXPECT_EQ(stack["unwind"], "cfi");
  EXPECT_EQ(stack["freezeMicros"], 40);
  ASSERT_EQ(stack["frames"].size(), 2u);
  EXPECT_EQ(stack["frames"][1]["symbol"], "Server::Loop()");
  EXPECT_EQ(stack["frames"][1]["pc"], "0x55d0c0012345");
  EXPECT_EQ(stack["frames"][1]["offset"], 5);
  EXPECT_EQ(stack["frames"][1]["module"], "/app/server");
  EXPECT_EQ(threads[1]["stack"]["frames"][0]["symbol"], "Worker::Run()");
  EXPECT_EQ(doc["overhead"]["targetFreezeMicros"], 100);
  EXPECT_EQ(doc["overhead"]["targetMaxThreadFreezeMicros"], 60);
  EXPECT_EQ(stacks_.LastOptions().proc_root, "/proc");
  EXPECT_EQ(stacks_.LastOptions().deadline, request_.deadline);
}

TEST_F(CaptureTest, FdsAndSocketsJoinedByInode) {
  Json doc = Capture();
  const Json& p = Process(doc, 1);
  EXPECT_EQ(p["fdCount"], 7);
  ASSERT_EQ(p["fds"].size(), 7u);
  EXPECT_EQ(p["fds"][0]["target"], "/dev/null");
  EXPECT_EQ(p["fds"][0]["type"], "file");
  EXPECT_EQ(p["fds"][1]["type"], "pipe");
  const Json& sockets = p["sockets"];
  ASSERT_EQ(sockets.size(), 4u);
  EXPECT_EQ(sockets[0]["fd"], 3);
  EXPECT_EQ(sockets[0]["protocol"], "tcp");
  EXPECT_EQ(sockets[0]["local"], "0.0.0.0:8080");
  EXPECT_EQ(sockets[0]["state"], "LISTEN");
  EXPECT_EQ(sockets[1]["remote"], "127.0.0.1:40000");
  EXPECT_EQ(sockets[1]["state"], "ESTABLISHED");
  EXPECT_EQ(sockets[2]["protocol"], "unix");
  EXPECT_EQ(sockets[2]["path"], "/run/app.sock");
  EXPECT_EQ(sockets[2]["state"], "LISTEN");
  EXPECT_EQ(sockets[3]["protocol"], "other");  // inode 1999 is in no table
  // No udp6 table in the fixture: a kernel without IPv6 is not a failure.
  EXPECT_FALSE(HasDegraded(doc, "sockets", 1, "udp6"));
}

TEST_F(CaptureTest, LimitsCgroupAndMaps) {
  Json doc = Capture();
  const Json& p = Process(doc, 1);
  ASSERT_EQ(p["limits"].size(), 4u);
  EXPECT_EQ(p["limits"][1]["name"], "Max open files");
  EXPECT_EQ(p["limits"][1]["soft"], 1048576);
  EXPECT_EQ(p["limits"][0]["hard"], "unlimited");
  const Json& cgroup = p["cgroup"];
  EXPECT_EQ(cgroup["version"], 2);
  EXPECT_EQ(cgroup["source"], "tool");
  EXPECT_EQ(cgroup["cpuUsageNanos"], 5000000);
  EXPECT_EQ(cgroup["nrThrottled"], 2);
  EXPECT_EQ(cgroup["throttledNanos"], 300000);
  EXPECT_EQ(cgroup["cpuQuotaMicros"], -1);
  EXPECT_EQ(cgroup["memoryLimitBytes"], 67108864);
  const Json& maps = p["maps"];
  EXPECT_EQ(maps["count"], 8);
  EXPECT_EQ(maps["byKind"]["heap"]["bytes"], 0x100000);
  ASSERT_EQ(maps["files"].size(), 2u);
  EXPECT_EQ(maps["files"][0]["path"], "/app/server");  // the largest file first
  EXPECT_EQ(maps["files"][0]["count"], 3);
  EXPECT_EQ(maps["largest"][0]["start"], "0x7f0000000000");
  EXPECT_EQ(maps["largest"][0]["kind"], "anon");
}

TEST_F(CaptureTest, CgroupFallsBackToTheTargetsOwnView) {
  Json doc = Capture();
  const Json& cgroup = Process(doc, 7)["cgroup"];
  EXPECT_EQ(cgroup["source"], "target");
  EXPECT_EQ(cgroup["cpuUsageNanos"], 70000);
  EXPECT_EQ(cgroup["cpuQuotaMicros"], 50000);
  EXPECT_EQ(cgroup["memoryLimitBytes"], "unlimited");
}

TEST_F(CaptureTest, SecretsAreRedactedAndCounted) {
  Json doc = Capture();
  std::string text = doc.dump();
  EXPECT_THAT(text, Not(HasSubstr(kCmdlineSecret)));
  EXPECT_THAT(text, Not(HasSubstr(kEnvSecret)));
  const Json& env = Process(doc, 1)["env"];
  ASSERT_EQ(env.size(), 4u);
  EXPECT_EQ(env[0]["name"], "PATH");
  EXPECT_EQ(env[0]["value"], "/usr/bin:/bin");
  EXPECT_EQ(env[2]["value"], "debug");  // LOG_LEVEL is allowed
  EXPECT_EQ(env[3]["name"], "DB_PASSWORD");
  EXPECT_GE(doc["redaction"]["envRedacted"].get<int>(), 1);
  int matched = 0;
  for (const auto& [rule, count] : doc["redaction"]["patternsMatched"].items()) {
    matched += count.get<int>();
  }
  EXPECT_GE(matched, 1);
  EXPECT_TRUE(doc["redaction"]["droppedFields"].empty());
}

// L6: environ entries are target-controlled text, names included. An entry without '=' (a process
// that wrote over its env area, or got a malformed envp) is all name, and a secret in it must be
// redacted like any other text, in the entry and in what droppedFields names.
TEST_F(CaptureTest, EnvNamesAndEntriesWithoutEqualsAreRedacted) {
  std::string pattern = (std::filesystem::temp_directory_path() / "env-names-XXXXXX").string();
  const std::string root = mkdtemp(pattern.data());
  std::filesystem::create_directories(root + "/1");
  std::ofstream(root + "/1/stat")
      << "1 (app) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 17 0 "
         "0 0 0 0 0\n";
  const std::string jwt =
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IiLCJpYXQiOjE3MDAwMDAwMDB9."
      "c2lnbmF0dXJlLXRoYXQtaXMtbG9uZy1lbm91Z2g";
  std::ofstream(root + "/1/environ", std::ios::binary)
      << "PATH=/usr/bin" << '\0' << "--token " << jwt << '\0' << "MY " << jwt << "=1" << '\0';
  procfs::RealProcFs proc(root);
  CaptureDeps deps{proc, cgroup_, nullptr, stacks_, redactor_, clock_};
  request_.self_pid = 99;
  request_.sections = SectionSet();
  request_.sections.Add(Section::kEnv);
  CaptureResult result = CaptureSnapshot(request_, deps);
  std::filesystem::remove_all(root);
  ASSERT_TRUE(result.targets_found);
  const std::string text = result.document.dump();
  EXPECT_THAT(text, Not(HasSubstr(jwt.substr(0, 40))));
  EXPECT_THAT(text, Not(HasSubstr(jwt.substr(jwt.size() - 20))));
  const Json& env = Process(result.document, 1)["env"];
  ASSERT_EQ(env.size(), 3u) << env.dump();
  EXPECT_EQ(env[0]["name"], "PATH");
  EXPECT_THAT(env[1]["name"].get<std::string>(), HasSubstr("[REDACTED"));
  EXPECT_THAT(env[2]["name"].get<std::string>(), HasSubstr("[REDACTED"));
}

TEST_F(CaptureTest, OnlySelectedSectionsAreCaptured) {
  request_.sections = SectionSet();
  request_.sections.Add(Section::kThreads);
  request_.sections.Add(Section::kSockets);
  Json doc = Capture();
  EXPECT_EQ(doc["sections"], Json::array({"threads", "sockets"}));
  const Json& p = Process(doc, 1);
  EXPECT_TRUE(p.contains("threads"));
  EXPECT_FALSE(p["threads"][0].contains("stack"));
  EXPECT_TRUE(p.contains("sockets"));
  for (const char* absent : {"fds", "maps", "env", "limits", "cgroup", "cmdline", "io"}) {
    EXPECT_FALSE(p.contains(absent)) << absent;
  }
  EXPECT_EQ(p["name"], "server");  // identity is always there
  EXPECT_TRUE(doc["processTree"].empty());
  EXPECT_TRUE(stacks_.CapturedPids().empty());
}

TEST_F(CaptureTest, StacksWithoutThreadsListOnlyTidsAndStacks) {
  request_.sections = SectionSet();
  request_.sections.Add(Section::kStacks);
  Json doc = Capture();
  const Json& threads = Process(doc, 1)["threads"];
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_FALSE(threads[0].contains("name"));
  EXPECT_TRUE(threads[0].contains("stack"));
}

TEST_F(CaptureTest, RestrictedProfileDoesNotAttemptStacks) {
  request_.profile = Profile::kRestricted;
  Json doc = Capture();
  EXPECT_TRUE(stacks_.CapturedPids().empty());
  EXPECT_EQ(doc["tool"]["profile"], "restricted");
  EXPECT_TRUE(HasDegraded(doc, "stacks", 1, "profile restricted: no CAP_SYS_PTRACE"));
  EXPECT_TRUE(HasDegraded(doc, "stacks", 7, "profile restricted: no CAP_SYS_PTRACE"));
}

// A runtime reader with canned answers per pid: stacks, an error, or "not this runtime".
class FakeRuntimeReader final : public runtimes::RuntimeReader {
 public:
  StatusOr<std::optional<runtimes::RuntimeStacks>> Read(int pid,
                                                        const runtimes::RuntimeLimits&) override {
    asked.push_back(pid);
    auto it = answers.find(pid);
    if (it == answers.end()) return std::optional<runtimes::RuntimeStacks>();
    return it->second;
  }
  std::map<int, StatusOr<std::optional<runtimes::RuntimeStacks>>> answers;
  std::vector<int> asked;
};

runtimes::SourceFrame Frame(std::string function, std::string file, int line) {
  runtimes::SourceFrame f;
  f.function = std::move(function);
  f.file = std::move(file);
  f.line = line;
  return f;
}

runtimes::RuntimeStacks GoWorkers() {
  runtimes::RuntimeStacks go;
  go.language = "go";
  go.version = "go1.22.5";
  go.method = "memory";
  for (int i = 0; i < 3; ++i) {
    runtimes::RuntimeStack worker;
    worker.id = std::to_string(20 + i);
    worker.state = "chan receive";
    worker.wait_seconds = 840 + i;
    worker.frames = {Frame("main.worker", "/src/main.go", 42),
                     Frame("main.main", "/src/main.go", 9)};
    go.stacks.push_back(std::move(worker));
  }
  // A secret in a frame's file path is redacted like any other text from the target.
  runtimes::RuntimeStack main_goroutine;
  main_goroutine.id = "1";
  main_goroutine.state = "running";
  main_goroutine.tid = 1;
  main_goroutine.frames = {Frame("main.main", std::string("/src/") + kEnvSecret + "/main.go", 9)};
  go.stacks.push_back(std::move(main_goroutine));
  go.total = 4;
  go.problems = {"goroutine 5: stack unreadable"};
  return go;
}

TEST_F(CaptureTest, RuntimeStacksAreGroupedRedactedAndReadInBothProfiles) {
  FakeRuntimeReader reader;
  reader.answers.emplace(1, std::optional<runtimes::RuntimeStacks>(GoWorkers()));
  deps_.runtimes = {&reader};
  for (Profile profile : {Profile::kPtrace, Profile::kRestricted}) {
    request_.profile = profile;
    Json doc = Capture();
    const Json& runtime = Process(doc, 1)["runtime"];
    EXPECT_EQ(runtime["language"], "go");
    EXPECT_EQ(runtime["version"], "go1.22.5");
    EXPECT_EQ(runtime["method"], "memory");
    EXPECT_EQ(runtime["count"], 4);
    ASSERT_EQ(runtime["groups"].size(), 2u);
    const Json& workers = runtime["groups"][0];
    EXPECT_EQ(workers["count"], 3);
    EXPECT_EQ(workers["state"], "chan receive");
    EXPECT_EQ(workers["waitSeconds"]["min"], 840);
    EXPECT_EQ(workers["waitSeconds"]["max"], 842);
    EXPECT_EQ(workers["members"].size(), 3u);
    EXPECT_EQ(workers["frames"][0]["function"], "main.worker");
    EXPECT_EQ(workers["frames"][0]["line"], 42);
    EXPECT_EQ(runtime["groups"][1]["members"][0]["tid"], 1);
    EXPECT_THAT(doc.dump(), Not(HasSubstr(kEnvSecret)));
    EXPECT_TRUE(HasDegraded(doc, "stacks", 1, "go: goroutine 5: stack unreadable"));
    EXPECT_FALSE(Process(doc, 7).contains("runtime"));  // the reader said: not a Go process
  }
  EXPECT_EQ(reader.asked, (std::vector<int>{1, 7, 1, 7}));
}

TEST_F(CaptureTest, ARuntimeThatCannotBeReadIsDegradedWithItsReason) {
  FakeRuntimeReader reader;
  reader.answers.emplace(7, PermissionDeniedError("python: EPERM reading 8 bytes at 0x10"));
  deps_.runtimes = {&reader};
  Json doc = Capture();
  EXPECT_FALSE(Process(doc, 7).contains("runtime"));
  EXPECT_TRUE(HasDegraded(doc, "stacks", 7, "python: EPERM reading 8 bytes at 0x10"));
}

TEST_F(CaptureTest, AReaderThatCannotTellDoesNotHideTheNextOne) {
  FakeRuntimeReader unsure;
  unsure.answers.emplace(1, PermissionDeniedError("go: EACCES: cannot open /proc/1/exe"));
  FakeRuntimeReader python;
  runtimes::RuntimeStacks stacks = GoWorkers();
  stacks.language = "python";
  python.answers.emplace(1, std::optional<runtimes::RuntimeStacks>(stacks));
  deps_.runtimes = {&unsure, &python};
  Json doc = Capture();
  EXPECT_EQ(Process(doc, 1)["runtime"]["language"], "python");
  EXPECT_FALSE(HasDegraded(doc, "stacks", 1, "EACCES"));
}

TEST_F(CaptureTest, RuntimesAreNotAskedWithoutTheStacksSection) {
  FakeRuntimeReader reader;
  deps_.runtimes = {&reader};
  request_.sections = SectionSet();
  request_.sections.Add(Section::kThreads);
  Capture();
  EXPECT_TRUE(reader.asked.empty());
}

TEST_F(CaptureTest, UnreadableFilesBecomeDegradedWithTheErrno) {
  proc_.Fail(1, "environ", PermissionDeniedError("EACCES: open /proc/1/environ"));
  proc_.Fail(1, "fd", PermissionDeniedError("EACCES: opendir /proc/1/fd"));
  stacks_.Set(7, PermissionDeniedError("EPERM: ptrace not permitted"));
  Json doc = Capture();
  EXPECT_TRUE(HasDegraded(doc, "env", 1, "EACCES: open /proc/1/environ"));
  // Same uid as the tool: the hint says why that can still be refused.
  EXPECT_TRUE(HasDegraded(doc, "env", 1, "not dumpable"));
  EXPECT_TRUE(HasDegraded(doc, "fds", 1, "EACCES: opendir /proc/1/fd"));
  EXPECT_TRUE(HasDegraded(doc, "sockets", 1, "EACCES"));
  EXPECT_TRUE(HasDegraded(doc, "stacks", 7, "EPERM: ptrace not permitted"));
  EXPECT_FALSE(Process(doc, 1).contains("env"));
  EXPECT_TRUE(Process(doc, 1).contains("maps"));
}

TEST_F(CaptureTest, PermissionHintNamesBothUidsWhenTheyDiffer) {
  request_.tool_euid = 65534;
  proc_.Fail(1, "maps", PermissionDeniedError("EACCES: open /proc/1/maps"));
  Json doc = Capture();
  EXPECT_TRUE(HasDegraded(doc, "maps", 1, "process runs as uid 1000, the tool as uid 65534"));
}

TEST_F(CaptureTest, ProcessThatExitsMidCaptureIsReportedOnce) {
  stacks_.OnCapture([this](int pid) {
    if (pid == 1) proc_.Exit(7);
  });
  Json doc = Capture();
  EXPECT_TRUE(HasDegraded(doc, "process", 7, "process exited"));
  int entries_for_7 = 0;
  for (const Json& d : doc["degraded"]) entries_for_7 += d.value("pid", -1) == 7 ? 1 : 0;
  EXPECT_EQ(entries_for_7, 1);
  EXPECT_EQ(Process(doc, 7).size(), 1u);  // just the pid
}

TEST_F(CaptureTest, PerThreadStackErrorsAreDegraded) {
  stacks::ProcessStacks s = ServerStacks();
  s.threads[1].frames.clear();
  s.threads[1].error = "ESRCH: thread exited before it could be stopped";
  stacks_.Set(1, s);
  Json doc = Capture();
  bool found = false;
  for (const Json& d : doc["degraded"]) {
    if (d["section"] == "stacks" && d["pid"] == 1 && d.value("tid", 0) == 5) found = true;
  }
  EXPECT_TRUE(found) << doc["degraded"].dump();
  EXPECT_FALSE(Process(doc, 1)["threads"][1].contains("stack"));
}

TEST_F(CaptureTest, ModulesTheStackWalkRefusedAreDegraded) {
  stacks::ProcessStacks s = ServerStacks();
  s.module_errors = {"/app/bomb.so: ResourceExhausted: module needs more than 134217728 bytes"};
  stacks_.Set(1, s);
  Json doc = Capture();
  EXPECT_TRUE(HasDegraded(doc, "stacks", 1, "module /app/bomb.so: ResourceExhausted"))
      << doc["degraded"].dump();
  EXPECT_TRUE(Process(doc, 1)["threads"][0].contains("stack"));  // the stacks themselves stay
}

TEST_F(CaptureTest, DeadlineDegradesEverythingNotYetCaptured) {
  // The stack capture of pid 1 takes the rest of the budget.
  stacks_.OnCapture([this](int) { clock_.Advance(milliseconds(30000)); });
  Json doc = Capture();
  const Json& p1 = Process(doc, 1);
  EXPECT_TRUE(p1.contains("threads"));
  EXPECT_TRUE(p1["threads"][0].contains("stack"));
  for (const char* section : {"fds", "sockets", "limits", "cgroup", "maps", "env"}) {
    EXPECT_TRUE(HasDegraded(doc, section, 1, "deadline")) << section;
    EXPECT_FALSE(p1.contains(section)) << section;
  }
  for (Section s : kAllSections) {
    EXPECT_TRUE(HasDegraded(doc, SectionName(s), 7, "deadline")) << SectionName(s);
  }
  EXPECT_EQ(stacks_.CapturedPids(), std::vector<int>({1}));
}

TEST_F(CaptureTest, DeadlineDuringAListingKeepsWhatWasListed) {
  proc_.OnRead([this](int pid, std::string_view relative) {
    if (pid == 1 && relative == "task/1/wchan") clock_.Advance(milliseconds(30000));
  });
  Json doc = Capture();
  const Json& threads = Process(doc, 1)["threads"];
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_EQ(threads[0]["name"], "server");
  EXPECT_TRUE(HasDegraded(doc, "threads", 1, "deadline (listed 1 of 2 threads)"));
  EXPECT_TRUE(HasDegraded(doc, "stacks", 1, "deadline"));
  EXPECT_TRUE(stacks_.CapturedPids().empty());
}

TEST_F(CaptureTest, CpuBudgetStopsTheSectionUnderWayAndDegradesTheRest) {
  FakeToolMeters meters;
  deps_.meters = &meters;
  request_.cpu_budget = milliseconds(500);
  // The fd listing of pid 1 is where the CPU runs out.
  proc_.OnRead([this, &meters](int pid, std::string_view relative) {
    if (pid == 1 && relative.starts_with("fd/")) {
      meters.SetCpu(milliseconds(500));
      clock_.Advance(kCpuCheckInterval);
    }
  });
  Json doc = Capture();
  const Json& p1 = Process(doc, 1);
  EXPECT_TRUE(p1.contains("threads"));
  EXPECT_TRUE(p1["threads"][0].contains("stack"));
  EXPECT_TRUE(HasDegraded(doc, "fds", 1, "CPU budget of 500ms reached (read 1 of "))
      << doc["degraded"].dump();
  for (const char* section : {"sockets", "limits", "cgroup", "maps", "env"}) {
    EXPECT_TRUE(HasDegraded(doc, section, 1, "CPU budget of 500ms reached")) << section;
    EXPECT_FALSE(p1.contains(section)) << section;
  }
  for (Section s : kAllSections) {
    EXPECT_TRUE(HasDegraded(doc, SectionName(s), 7, "CPU budget of 500ms reached"))
        << SectionName(s);
  }
  EXPECT_EQ(doc["overhead"]["budgetReached"], "cpu");
  EXPECT_EQ(doc["budget"]["cpuMillis"], 500);
  EXPECT_FALSE(doc["budget"].contains("memoryBytes"));
  EXPECT_TRUE(api::ValidateSnapshot(doc).ok());
}

TEST_F(CaptureTest, MemoryBudgetReachedInTheStacksIsReportedForThem) {
  FakeToolMeters meters;
  deps_.meters = &meters;
  request_.memory_budget_bytes = std::int64_t{32} << 20;
  // Symbolizing pid 1's stacks takes the tool past its budget; the stack source sees it through
  // stop_early, as the real one does between threads and binaries.
  bool stop_early_seen = false;
  stacks_.OnCapture([&](int) {
    EXPECT_FALSE(stacks_.LastOptions().stop_early());
    meters.SetPeakRss(std::int64_t{40} << 20);
    clock_.Advance(kMemoryCheckInterval);
    stop_early_seen = stacks_.LastOptions().stop_early();
  });
  Json doc = Capture();
  EXPECT_TRUE(stop_early_seen);
  EXPECT_TRUE(HasDegraded(doc, "stacks", 1, "memory budget of 32Mi reached (captured 2 of 2"))
      << doc["degraded"].dump();
  EXPECT_TRUE(HasDegraded(doc, "fds", 1, "memory budget of 32Mi reached"));
  EXPECT_TRUE(HasDegraded(doc, "process", 7, "memory budget of 32Mi reached"));
  EXPECT_EQ(doc["overhead"]["budgetReached"], "memory");
  EXPECT_EQ(doc["budget"]["memoryBytes"], std::int64_t{32} << 20);
}

TEST_F(CaptureTest, NoBudgetReachedWritesNoBudgetReached) {
  FakeToolMeters meters;
  deps_.meters = &meters;
  request_.cpu_budget = milliseconds(500);
  request_.memory_budget_bytes = std::int64_t{64} << 20;
  Json doc = Capture();
  EXPECT_TRUE(doc["degraded"].empty()) << doc["degraded"].dump();
  EXPECT_FALSE(doc["overhead"].contains("budgetReached"));
}

TEST_F(CaptureTest, CpuBackstopDocumentSaysWhyItIsEmpty) {
  request_.cpu_budget = milliseconds(500);
  Json doc = CpuBackstopDocument(request_, std::chrono::seconds(2));
  EXPECT_TRUE(api::ValidateSnapshot(doc).ok());
  EXPECT_TRUE(doc["processes"].empty());
  ASSERT_EQ(doc["degraded"].size(), 1u);
  EXPECT_EQ(doc["degraded"][0]["section"], "*");
  EXPECT_THAT(doc["degraded"][0]["reason"].get<std::string>(),
              HasSubstr("cpu backstop: the tool used 2s of CPU time"));
  EXPECT_EQ(doc["overhead"]["budgetReached"], "cpu");
  EXPECT_EQ(doc["budget"]["cpuMillis"], 500);
}

TEST_F(CaptureTest, MissingPidIsReportedAsDegradedDocument) {
  request_.pid = 4242;
  CaptureResult result = CaptureSnapshot(request_, deps_);
  EXPECT_FALSE(result.targets_found);
  const Json& doc = result.document;
  EXPECT_TRUE(doc["processes"].empty());
  EXPECT_EQ(doc["targets"]["mainPid"], 4242);
  ASSERT_EQ(doc["degraded"].size(), 1u);
  EXPECT_EQ(doc["degraded"][0]["section"], "process");
  EXPECT_THAT(doc["degraded"][0]["reason"].get<std::string>(), HasSubstr("not found"));
}

TEST_F(CaptureTest, ExplicitPidSelectsItsSubtree) {
  request_.pid = 7;
  Json doc = Capture();
  EXPECT_EQ(doc["targets"]["mainPid"], 7);
  EXPECT_EQ(doc["targets"]["pids"], Json::array({7}));
}

TEST_F(CaptureTest, SocketEntriesCarryTheirQueues) {
  Json doc = Capture();
  const Json& sockets = Process(doc, 1)["sockets"];
  ASSERT_GE(sockets.size(), 3u);
  EXPECT_EQ(sockets[0]["state"], "LISTEN");
  EXPECT_EQ(sockets[0]["acceptQueue"], 0x75);  // rx_queue of a listener
  EXPECT_FALSE(sockets[0].contains("receiveQueueBytes"));
  EXPECT_EQ(sockets[1]["sendQueueBytes"], 0x5A0);
  EXPECT_EQ(sockets[1]["receiveQueueBytes"], 0x200);
  EXPECT_FALSE(sockets[1].contains("acceptQueue"));
  EXPECT_FALSE(sockets[2].contains("sendQueueBytes"));  // unix sockets print no queues
}

TEST_F(CaptureTest, EvidenceIsReadOnceForTheMainTarget) {
  Json doc = Capture();
  ASSERT_TRUE(doc.contains("evidence")) << doc.dump();
  const Json& network = doc["evidence"]["network"];
  EXPECT_EQ(network["counters"]["listenOverflows"], 4211);
  EXPECT_EQ(network["counters"]["resetsSent"], 1746);
  EXPECT_EQ(network["counters"]["udpReceiveBufferErrors"], 5);
  EXPECT_EQ(network["somaxconn"], 128);
  ASSERT_EQ(network["listeners"].size(), 1u);
  EXPECT_EQ(network["listeners"][0]["local"], "0.0.0.0:8080");
  EXPECT_EQ(network["listeners"][0]["acceptQueue"], 0x75);
  EXPECT_EQ(network["listenersTruncated"], false);
  EXPECT_TRUE(network["errors"].empty()) << network["errors"].dump();

  const Json& pressure = doc["evidence"]["pressure"];
  EXPECT_EQ(pressure["source"], "cgroup");
  EXPECT_DOUBLE_EQ(pressure["cpu"]["some"]["avg10"].get<double>(), 63.10);
  EXPECT_EQ(pressure["cpu"]["full"]["total"], 801234);
  EXPECT_TRUE(pressure.contains("io"));

  const Json& memory = doc["evidence"]["memory"];
  EXPECT_EQ(memory["cgroupVersion"], 2);
  EXPECT_EQ(memory["events"]["oomKill"], 2);
  EXPECT_EQ(memory["events"]["max"], 40);
  EXPECT_FALSE(memory.contains("oomControl"));
  EXPECT_TRUE(doc["degraded"].empty()) << doc["degraded"].dump();
  // The top-level evidence comes after the processes, before the redaction report.
  std::vector<std::string> keys;
  for (const auto& [key, value] : doc.items()) keys.push_back(key);
  auto at = [&](const std::string& key) { return std::find(keys.begin(), keys.end(), key); };
  EXPECT_EQ(at("evidence"), at("processes") + 1);
}

TEST_F(CaptureTest, EvidencePartsFollowTheirSections) {
  request_.sections = SectionSet();
  request_.sections.Add(Section::kSockets);
  Json doc = Capture();
  EXPECT_TRUE(doc["evidence"].contains("network"));
  EXPECT_FALSE(doc["evidence"].contains("pressure"));
  EXPECT_FALSE(doc["evidence"].contains("memory"));

  request_.sections = SectionSet();
  request_.sections.Add(Section::kCgroup);
  doc = Capture();
  EXPECT_FALSE(doc["evidence"].contains("network"));
  EXPECT_TRUE(doc["evidence"].contains("pressure"));
  EXPECT_TRUE(doc["evidence"].contains("memory"));

  request_.sections = SectionSet();
  request_.sections.Add(Section::kProcess);
  doc = Capture();
  EXPECT_EQ(doc["evidence"], Json::object());
}

TEST_F(CaptureTest, UnreadableEvidenceIsDegradedWithItsReasonAndNeverZero) {
  proc_.Fail(1, "net/netstat", PermissionDeniedError("EACCES: open /proc/1/net/netstat"));
  proc_.Fail(1, "net/snmp", PermissionDeniedError("EACCES: open /proc/1/net/snmp"));
  proc_.Fail(1, "cgroup", PermissionDeniedError("EACCES: open /proc/1/cgroup"));
  Json doc = Capture();
  const Json& network = doc["evidence"]["network"];
  EXPECT_FALSE(network.contains("counters"));  // not a table of zeros
  EXPECT_EQ(network["errors"].size(), 2u);
  EXPECT_TRUE(network.contains("listeners"));  // the tables were readable
  bool network_degraded = false;
  bool memory_degraded = false;
  for (const Json& d : doc["degraded"]) {
    const std::string reason = d["reason"];
    if (d["section"] == "sockets" && reason.starts_with("evidence.network: ") &&
        reason.find("EACCES: open /proc/1/net/netstat") != std::string::npos) {
      network_degraded = true;
    }
    if (d["section"] == "cgroup" && reason.starts_with("evidence.memory: ") &&
        reason.find("EACCES: open /proc/1/cgroup") != std::string::npos) {
      memory_degraded = true;
    }
  }
  EXPECT_TRUE(network_degraded) << doc["degraded"].dump();
  EXPECT_TRUE(memory_degraded) << doc["degraded"].dump();
  // Without the cgroup, pressure is the machine's, and says so.
  EXPECT_EQ(doc["evidence"]["pressure"]["source"], "system");
  EXPECT_FALSE(doc["evidence"]["memory"].contains("events"));
}

TEST_F(CaptureTest, AKernelWithoutACounterLeavesItOut) {
  proc_.Replace(1, "net/netstat", "TcpExt: ListenDrops TCPTimeouts\nTcpExt: 4 37\n");
  Json doc = Capture();
  const Json& counters = doc["evidence"]["network"]["counters"];
  EXPECT_EQ(counters["listenDrops"], 4);
  EXPECT_FALSE(counters.contains("listenOverflows"));
  EXPECT_EQ(counters["resetsSent"], 1746);  // from net/snmp
}

TEST_F(CaptureTest, EvidenceRespectsTheDeadline) {
  proc_.OnRead([this](int pid, std::string_view relative) {
    if (pid == 1 && relative == "net/netstat") clock_.Advance(milliseconds(30000));
  });
  Json doc = Capture();
  EXPECT_TRUE(doc["evidence"].contains("network"));  // the part under way is finished
  EXPECT_FALSE(doc["evidence"].contains("pressure"));
  EXPECT_FALSE(doc["evidence"].contains("memory"));
  int deadline_entries = 0;
  for (const Json& d : doc["degraded"]) {
    const std::string reason = d["reason"];
    if (reason == "evidence.pressure: deadline" || reason == "evidence.memory: deadline") {
      EXPECT_EQ(d["section"], "cgroup");
      ++deadline_entries;
    }
  }
  EXPECT_EQ(deadline_entries, 2);
}

TEST_F(CaptureTest, EvidenceFallsBackToTheTargetsOwnCgroupView) {
  // The tool's view does not show pid 1's cgroup: only the target's own mount does.
  proc_.Replace(1, "cgroup", "0::/../elsewhere\n");
  Json doc = Capture();
  EXPECT_EQ(Process(doc, 1)["cgroup"]["source"], "target");
  // The target's view (tests/testdata/snapshot/target-cgroup) has no PSI files and no
  // memory.events: the machine's pressure, and the reason memory has no events.
  EXPECT_EQ(doc["evidence"]["pressure"]["source"], "system");
  EXPECT_FALSE(doc["evidence"]["memory"].contains("events"));
  EXPECT_TRUE(HasDegraded(doc, "cgroup", -1, "evidence.memory: ")) << doc["degraded"].dump();
  // The machine's pressure is a source, not a failure; its errors say why.
  EXPECT_FALSE(HasDegraded(doc, "cgroup", -1, "evidence.pressure: ")) << doc["degraded"].dump();
  EXPECT_THAT(doc["evidence"]["pressure"]["errors"].dump(), HasSubstr("no *.pressure files"));
}

TEST_F(CaptureTest, ThreadsInUninterruptibleSleepAreListedAsBlocked) {
  proc_.Replace(1, "task/5/stat",
                "5 (server-worker) D 0 1 1 0 -1 4194560 100 0 0 0 300 100 0 0 20 0 2 0 100 "
                "20480000 1250 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n");
  proc_.Replace(1, "task/5/wchan", "io_schedule");
  Json doc = Capture();
  const Json& p = Process(doc, 1);
  ASSERT_EQ(p["blockedThreads"].size(), 1u) << p.dump();
  EXPECT_EQ(p["blockedThreads"][0]["tid"], 5);
  EXPECT_EQ(p["blockedThreads"][0]["name"], "server-worker");
  EXPECT_EQ(p["blockedThreads"][0]["wchan"], "io_schedule");
  EXPECT_EQ(Process(doc, 7)["blockedThreads"], Json::array());

  request_.sections = SectionSet();
  request_.sections.Add(Section::kStacks);
  doc = Capture();
  EXPECT_FALSE(Process(doc, 1).contains("blockedThreads"));  // gated by threads
}

TEST_F(CaptureTest, StrictPiiRedactsListenerAddresses) {
  StatusOr<redact::Redactor> strict =
      redact::Redactor::Create({{"LOG_LEVEL"}, {}, {}, redact::PiiMode::kStrict});
  ASSERT_TRUE(strict.ok()) << strict.status().ToString();
  redactor_ = std::move(strict).value();
  request_.pii = redact::PiiMode::kStrict;
  // A listener bound to one address (10.1.2.3:8080), not to all of them.
  proc_.Replace(
      1, "net/tcp",
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0302010A:1F90 00000000:0000 0A 00000000:00000001 00:00000000 00000000  1000 "
      "       0 1001 1 0000000000000000 100 0 0 10 0\n");
  Json doc = Capture();
  const Json& listeners = doc["evidence"]["network"]["listeners"];
  ASSERT_EQ(listeners.size(), 1u) << doc["evidence"].dump();
  const std::string local = listeners[0].value("local", "");
  EXPECT_THAT(local, Not(HasSubstr("10.1.2.3"))) << local;
  EXPECT_THAT(local, HasSubstr("REDACTED")) << local;
}

TEST_F(CaptureTest, ToolUsageAndWatchdogDocument) {
  Json doc = Capture();
  SetToolUsage(doc, {12, 3456, 78});
  EXPECT_EQ(doc["overhead"]["toolCpuMillis"], 12);
  EXPECT_EQ(doc["overhead"]["toolMaxRssKiB"], 3456);
  EXPECT_EQ(doc["overhead"]["wallMillis"], 78);

  Json watchdog = WatchdogDocument(request_, milliseconds(22000));
  EXPECT_EQ(watchdog["apiVersion"], "ephemera.dev/snapshot/v1");
  EXPECT_TRUE(watchdog["processes"].empty());
  ASSERT_EQ(watchdog["degraded"].size(), 1u);
  EXPECT_THAT(watchdog["degraded"][0]["reason"].get<std::string>(), HasSubstr("22000ms"));
  // Same top-level shape as a real document.
  std::vector<std::string> keys, watchdog_keys;
  for (const auto& [k, v] : doc.items()) keys.push_back(k);
  for (const auto& [k, v] : watchdog.items()) watchdog_keys.push_back(k);
  EXPECT_EQ(keys, watchdog_keys);
}

}  // namespace
}  // namespace ephemera::snapshot

namespace ephemera::snapshot {
namespace {

// --capture logs: the values the tool hides go to the controller inside the encrypted document
// (docs/decisions/log-pull.md), and only then.
class ValueKeysTest : public CaptureTest {};

TEST_F(ValueKeysTest, AreWrittenOnlyWhenTheControllerPullsTheLog) {
  Json doc = Capture();
  EXPECT_FALSE(doc.contains("controllerOnly")) << "not without --capture logs";

  request_.value_keys_for_controller = true;
  doc = Capture();
  ASSERT_TRUE(doc.contains("controllerOnly"));
  // DB_PASSWORD is hidden; PATH, HOME and the allowed LOG_LEVEL are shown, and so not handed over.
  EXPECT_EQ(doc["controllerOnly"]["valueKeys"], Json::array({"fixture-env-secret-91c2"}));
  EXPECT_EQ(doc["controllerOnly"]["environsUnread"], 0);
}

TEST_F(ValueKeysTest, ATargetWhoseEnvironmentCannotBeReadIsCounted) {
  request_.value_keys_for_controller = true;
  proc_.Fail(7, "environ", PermissionDeniedError("EACCES: open /proc/7/environ"));
  Json doc = Capture();
  EXPECT_EQ(doc["controllerOnly"]["environsUnread"], 1);
  EXPECT_EQ(doc["controllerOnly"]["valueKeys"], Json::array({"fixture-env-secret-91c2"}));
}

}  // namespace
}  // namespace ephemera::snapshot
