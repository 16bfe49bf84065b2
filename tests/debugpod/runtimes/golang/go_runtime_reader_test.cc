// Component tests of GoRuntimeReader: real Go processes (tests/debugpod/runtimes/golang/parked.go,
// normal and stripped), read from outside while they keep running. Same UID as the test, so
// process_vm_readv needs no capability. Line numbers come from the "// marker:" comments.
#include "debugpod/runtimes/golang/go_runtime_reader.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/runtimes/runtime_stacks.h"
#include "tests/debugpod/stacks/target_process.h"

namespace ephemera::runtimes::golang {
namespace {

using stacks::TargetProcess;

int MarkerLine(const std::string& marker) {
  std::ifstream in(GO_PARKED_SOURCE);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find("// marker: " + marker) != std::string::npos) return number;
  }
  ADD_FAILURE() << "marker " << marker << " not in " << GO_PARKED_SOURCE;
  return -1;
}

std::string Describe(const RuntimeStack& s) {
  std::ostringstream out;
  out << "goroutine " << s.id << " [" << s.state << "]";
  if (s.tid) out << " tid " << *s.tid;
  out << "\n";
  for (const SourceFrame& f : s.frames) {
    out << "  " << f.function << " " << f.file << ":" << f.line << "\n";
  }
  return out.str();
}

std::string Describe(const RuntimeStacks& stacks) {
  std::ostringstream out;
  out << stacks.version << " total " << stacks.total << "\n";
  for (const std::string& p : stacks.problems) out << "problem: " << p << "\n";
  for (const RuntimeStack& s : stacks.stacks) out << Describe(s);
  return out.str();
}

const SourceFrame* FrameOf(const RuntimeStack& s, const std::string& function) {
  for (const SourceFrame& f : s.frames) {
    if (f.function == function) return &f;
  }
  return nullptr;
}

std::vector<const RuntimeStack*> WithFrame(const RuntimeStacks& stacks,
                                           const std::string& function) {
  std::vector<const RuntimeStack*> found;
  for (const RuntimeStack& s : stacks.stacks) {
    if (FrameOf(s, function) != nullptr) found.push_back(&s);
  }
  return found;
}

// The thread states of `pid` (the third field of each task's stat).
std::string ThreadStates(int pid) {
  std::string states;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size()) states += stat[close + 2];
  }
  return states;
}

std::string TracerPid(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("TracerPid:")) return line.substr(10);
  }
  return "?";
}

struct Reading {
  RuntimeStacks stacks;
  std::string states_after;
  std::string tracer_after;
};

Reading ReadProgram(const std::string& binary) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({binary});
  EXPECT_TRUE(target.ok()) << target.status().ToString();
  if (!target.ok()) return {};
  EXPECT_EQ((*target)->FirstLine(), "ready");
  procfs::RealProcFs proc("/proc");
  GoRuntimeReader reader("/proc", proc);
  // "ready" is written before main reaches its read of stdin: wait (bounded) until the main
  // goroutine is parked there, so that every reading sees the same stacks.
  auto main_waits_for_input = [&] {
    auto early = reader.Read((*target)->Pid(), RuntimeLimits{});
    if (!early.ok() || !early->has_value()) return false;
    for (const RuntimeStack& s : (*early)->stacks) {
      for (const SourceFrame& f : s.frames) {
        if (f.function.ends_with("Scanner).Scan")) return true;
      }
    }
    return false;
  };
  for (int i = 0; i < 100 && !main_waits_for_input(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  rusage before{};
  rusage after{};
  getrusage(RUSAGE_SELF, &before);
  StatusOr<std::optional<RuntimeStacks>> read = reader.Read((*target)->Pid(), RuntimeLimits{});
  getrusage(RUSAGE_SELF, &after);
  Reading reading;
  reading.states_after = ThreadStates((*target)->Pid());
  reading.tracer_after = TracerPid((*target)->Pid());
  auto micros = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec);
  };
  double cpu_ms = (micros(after.ru_utime) - micros(before.ru_utime) + micros(after.ru_stime) -
                   micros(before.ru_stime)) /
                  1e3;
  std::cout << binary << ": read in " << cpu_ms << " ms CPU\n";
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  if (!read.ok()) return reading;
  EXPECT_TRUE(read->has_value());
  if (!read->has_value()) return reading;
  reading.stacks = std::move(**read);
  EXPECT_EQ(kill((*target)->Pid(), 0), 0) << "the target died while read";
  return reading;
}

void ExpectParkedProgram(const Reading& reading) {
  const RuntimeStacks& stacks = reading.stacks;
  std::string all = Describe(stacks);
  EXPECT_EQ(stacks.language, "go");
  EXPECT_TRUE(stacks.version.starts_with("go1.")) << stacks.version;
  EXPECT_EQ(stacks.method, "memory");
  EXPECT_EQ(stacks.freeze.count(), 0);
  // 100 workers, four parked ones, main: what runtime.NumGoroutine() says.
  EXPECT_EQ(stacks.total, 105u) << all;
  EXPECT_EQ(stacks.stacks.size(), 105u) << all;

  std::vector<const RuntimeStack*> workers = WithFrame(stacks, "main.receiveWork");
  ASSERT_EQ(workers.size(), 100u) << all;
  const SourceFrame* receive = FrameOf(*workers.front(), "main.receiveWork");
  EXPECT_EQ(receive->line, MarkerLine("chan-receive")) << Describe(*workers.front());
  EXPECT_TRUE(receive->file.ends_with("/parked.go")) << receive->file;
  EXPECT_EQ(workers.front()->state, "chan receive");
  EXPECT_TRUE(workers.front()->wait_seconds.has_value()) << "the GC stamps g.waitsince";
  EXPECT_NE(FrameOf(*workers.front(), "runtime.gopark"), nullptr) << Describe(*workers.front());

  std::vector<StackGroup> groups = GroupStacks(stacks);
  ASSERT_FALSE(groups.empty());
  EXPECT_EQ(groups.front().count, 100u);
  EXPECT_EQ(groups.front().state, "chan receive");

  struct Expected {
    std::string function, state, marker;
  };
  for (const Expected& e : {Expected{"main.lockShared", "sync.Mutex.Lock", "mutex-lock"},
                            Expected{"main.sleepLong", "sleep", "sleep"},
                            Expected{"main.selectForever", "select", "select"},
                            Expected{"main.acceptForever", "IO wait", "accept"}}) {
    std::vector<const RuntimeStack*> found = WithFrame(stacks, e.function);
    ASSERT_EQ(found.size(), 1u) << e.function << "\n" << all;
    EXPECT_EQ(found.front()->state, e.state) << Describe(*found.front());
    EXPECT_EQ(FrameOf(*found.front(), e.function)->line, MarkerLine(e.marker))
        << Describe(*found.front());
  }
  // sync.Mutex.Lock is inlined into lockShared: the inline tree gives it its own frame.
  const RuntimeStack* locker = WithFrame(stacks, "main.lockShared").front();
  bool lock_frame = false;
  for (const SourceFrame& f : locker->frames) lock_frame |= f.function.ends_with("Mutex).Lock");
  EXPECT_TRUE(lock_frame) << Describe(*locker);

  std::vector<const RuntimeStack*> main_goroutine = WithFrame(stacks, "main.main");
  ASSERT_EQ(main_goroutine.size(), 1u) << all;
  EXPECT_EQ(main_goroutine.front()->id, "1");
  EXPECT_NE(FrameOf(*main_goroutine.front(), "runtime.main"), nullptr);

  // Never stopped: no tracer attached, no thread in a stop state ('t' traced, 'T' stopped).
  EXPECT_EQ(reading.tracer_after.find_first_not_of("\t 0"), std::string::npos)
      << reading.tracer_after;
  EXPECT_EQ(reading.states_after.find_first_of("tT"), std::string::npos) << reading.states_after;
}

std::set<std::string> FunctionNames(const RuntimeStacks& stacks) {
  std::set<std::string> names;
  for (const RuntimeStack& s : stacks.stacks) {
    for (const SourceFrame& f : s.frames) names.insert(f.function + " " + std::to_string(f.line));
  }
  return names;
}

TEST(GoRuntimeReaderTest, ReadsParkedGoroutinesOfNormalBinary) {
  ExpectParkedProgram(ReadProgram(GO_PARKED));
}

TEST(GoRuntimeReaderTest, ReadsParkedGoroutinesOfStrippedBinary) {
  ExpectParkedProgram(ReadProgram(GO_PARKED_STRIPPED));
}

TEST(GoRuntimeReaderTest, StrippedAndNormalGiveTheSameFrames) {
  Reading normal = ReadProgram(GO_PARKED);
  Reading stripped = ReadProgram(GO_PARKED_STRIPPED);
  EXPECT_FALSE(FunctionNames(normal.stacks).empty());
  EXPECT_EQ(FunctionNames(normal.stacks), FunctionNames(stripped.stacks));
}

// The same program built by other Go releases (GOTOOLCHAIN=go1.21.13 go build …): a colon-separated
// list of binaries in EPHEMERA_GO_PARKED_BINARIES. Fetching toolchains needs the network, so the
// build does not do it.
TEST(GoRuntimeReaderTest, ReadsProgramsBuiltByOtherGoReleases) {
  const char* list = std::getenv("EPHEMERA_GO_PARKED_BINARIES");
  if (list == nullptr || *list == 0) {
    GTEST_SKIP() << "set EPHEMERA_GO_PARKED_BINARIES to parked.go built by other Go releases";
  }
  std::istringstream binaries(list);
  std::string binary;
  while (std::getline(binaries, binary, ':')) {
    SCOPED_TRACE(binary);
    Reading reading = ReadProgram(binary);
    std::cout << binary << ": " << reading.stacks.version << "\n";
    ExpectParkedProgram(reading);
  }
}

TEST(GoRuntimeReaderTest, IgnoresNonGoProcess) {
  procfs::RealProcFs proc("/proc");
  GoRuntimeReader reader("/proc", proc);
  StatusOr<std::optional<RuntimeStacks>> read = reader.Read(getpid(), RuntimeLimits{});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(read->has_value());
}

}  // namespace
}  // namespace ephemera::runtimes::golang
