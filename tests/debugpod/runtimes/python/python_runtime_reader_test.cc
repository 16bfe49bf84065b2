// Component tests: PythonRuntimeReader on real CPython processes running parked.py — the Debian
// interpreter (/usr/bin/python3) always, and each pyenv interpreter (3.9–3.13) that is installed
// (skipped, saying so, where it is not). Lines are found by the marker comments in parked.py.
#include "debugpod/runtimes/python/python_runtime_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "debugpod/procfs/maps.h"
#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/runtimes/elf_lookup.h"
#include "debugpod/runtimes/memory_reader.h"
#include "debugpod/runtimes/python/python_image.h"
#include "debugpod/runtimes/python/python_layout.h"
#include "debugpod/stacks/file_byte_source.h"
#include "tests/debugpod/stacks/target_process.h"

namespace ephemera::runtimes::python {
namespace {

using runtimes::RuntimeStack;
using runtimes::RuntimeStacks;

const std::string kParked = PYTHON_PARKED_PY;

std::map<std::string, int> Markers() {
  std::map<std::string, int> markers;
  std::ifstream in(kParked);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const size_t at = line.find("# marker: ");
    if (at != std::string::npos && line.find_first_not_of(' ') != line.find('"')) {
      markers[line.substr(at + 10)] = number;
    }
  }
  return markers;
}

// The interpreter at `path`'s own version string ("3.11.2"), or "" if it does not run.
std::string VersionOf(const std::string& path) {
  std::string command = path + " -c 'import platform; print(platform.python_version())'";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  char buffer[64] = {};
  std::string out = fgets(buffer, sizeof(buffer), pipe) != nullptr ? buffer : "";
  pclose(pipe);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string PyenvPython(const std::string& prefix, const std::string& binary = "python3") {
  const char* home = std::getenv("HOME");
  const std::filesystem::path versions = std::string(home ? home : "/root") + "/.pyenv/versions";
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(versions, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix + ".", 0) == 0 &&
        std::filesystem::exists(entry.path() / "bin" / binary)) {
      return (entry.path() / "bin" / binary).string();
    }
  }
  return "";
}

std::string InterpreterFor(const std::string& which) {
  return which == "debian" ? "/usr/bin/python3" : PyenvPython(which);
}

const RuntimeStack* StackWith(const RuntimeStacks& stacks, const std::string& function) {
  for (const RuntimeStack& stack : stacks.stacks) {
    for (const auto& frame : stack.frames) {
      if (frame.function == function) return &stack;
    }
  }
  return nullptr;
}

std::string Describe(const RuntimeStacks& stacks) {
  std::string out;
  for (const RuntimeStack& stack : stacks.stacks) {
    out += "thread " + stack.id + " tid " + std::to_string(stack.tid.value_or(-1)) + " " +
           stack.state + "\n";
    for (const auto& f : stack.frames) {
      out += "  " + f.function + " " + f.file + ":" + std::to_string(f.line) + "\n";
    }
  }
  for (const std::string& p : stacks.problems) out += "problem: " + p + "\n";
  return out;
}

class PythonReaderTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PythonReaderTest, ReadsTheParkedThreads) {
  const std::string python = InterpreterFor(GetParam());
  if (python.empty()) GTEST_SKIP() << "no pyenv interpreter " << GetParam() << " on this machine";
  const std::string real_version = VersionOf(python);
  ASSERT_FALSE(real_version.empty()) << python;
  const int minor = std::stoi(real_version.substr(2));

  auto target = stacks::TargetProcess::Start({python, kParked});
  ASSERT_TRUE(target.ok()) << target.status().message();
  ASSERT_EQ((*target)->FirstLine(), "ready");
  const int pid = (*target)->Pid();

  procfs::RealProcFs proc("/proc");
  PythonRuntimeReader reader("/proc", proc);
  StatusOr<std::optional<RuntimeStacks>> read = reader.Read(pid, {});
  ASSERT_TRUE(read.ok()) << read.status().message();
  ASSERT_TRUE(read->has_value()) << python << " not recognized";
  const RuntimeStacks& stacks = **read;
  SCOPED_TRACE(Describe(stacks));

  EXPECT_EQ(stacks.language, "python");
  EXPECT_EQ(stacks.method, "memory");
  EXPECT_EQ(stacks.freeze.count(), 0);
  // 3.9/3.10 carry no Py_Version: the file name gives "3.9".
  EXPECT_EQ(real_version.rfind(stacks.version, 0), 0u) << stacks.version << " vs " << real_version;
  if (minor >= 11) {
    EXPECT_EQ(stacks.version, real_version);
  }
  EXPECT_TRUE(stacks.problems.empty());
  // sleeper, lock waiter, queue getter, 20 workers, the monitor, the main thread.
  EXPECT_EQ(stacks.total, 25u);
  ASSERT_EQ(stacks.stacks.size(), 25u);

  const std::map<std::string, int> marker = Markers();
  const bool qualified = minor >= 11;  // co_qualname

  const RuntimeStack* sleeper = StackWith(stacks, "sleeper_café");
  ASSERT_NE(sleeper, nullptr);
  ASSERT_GE(sleeper->frames.size(), 4u);
  EXPECT_EQ(sleeper->frames[0].function, qualified ? "Parker.sleep_here" : "sleep_here");
  EXPECT_EQ(sleeper->frames[0].file, kParked);
  EXPECT_EQ(sleeper->frames[0].line, marker.at("sleep"));
  EXPECT_EQ(sleeper->frames[1].function, "inner_𠀀");
  EXPECT_EQ(sleeper->frames[1].line, marker.at("inner"));
  EXPECT_EQ(sleeper->frames[2].function, "middle_λ");
  EXPECT_EQ(sleeper->frames[2].line, marker.at("middle"));
  EXPECT_EQ(sleeper->frames[3].function, "sleeper_café");
  EXPECT_EQ(sleeper->frames[3].line, marker.at("outer"));
  // Under them, threading's bootstrap: Thread.run called by _bootstrap_inner.
  EXPECT_EQ(sleeper->frames[4].function, qualified ? "Thread.run" : "run");
  EXPECT_NE(sleeper->frames[4].file.find("threading.py"), std::string::npos);
  EXPECT_GT(sleeper->frames[4].line, 0);

  const RuntimeStack* locker = StackWith(stacks, "lock_waiter");
  ASSERT_NE(locker, nullptr);
  EXPECT_EQ(locker->frames.at(0).function, "lock_waiter");
  EXPECT_EQ(locker->frames[0].line, marker.at("lock"));

  const RuntimeStack* getter = StackWith(stacks, "queue_getter");
  ASSERT_NE(getter, nullptr);
  EXPECT_NE(getter->frames.at(0).file.find("threading.py"), std::string::npos);  // Condition.wait
  const auto getter_frame =
      std::find_if(getter->frames.begin(), getter->frames.end(),
                   [](const auto& f) { return f.function == "queue_getter"; });
  EXPECT_EQ(getter_frame->line, marker.at("queue"));

  const RuntimeStack* main_thread = StackWith(stacks, "main");
  ASSERT_NE(main_thread, nullptr);
  EXPECT_EQ(main_thread->frames.at(0).function, qualified ? "Condition.wait" : "wait");
  EXPECT_EQ(main_thread->frames.back().function, "<module>");
  EXPECT_EQ(main_thread->tid, pid);
  const auto main_frame = std::find_if(main_thread->frames.begin(), main_thread->frames.end(),
                                       [](const auto& f) { return f.function == "main"; });
  EXPECT_EQ(main_frame->line, marker.at("main-wait"));

  // The 20 workers are one group.
  const std::vector<runtimes::StackGroup> groups = runtimes::GroupStacks(stacks);
  ASSERT_FALSE(groups.empty());
  EXPECT_EQ(groups[0].count, 20u);
  ASSERT_GE(groups[0].frames.size(), 2u);
  EXPECT_EQ(groups[0].frames[0].function, "wait_for_work");
  EXPECT_EQ(groups[0].frames[0].line, marker.at("worker"));
  EXPECT_EQ(groups[0].frames[1].line, marker.at("worker-outer"));

  // Every thread is a task of the process, each a different one; no one holds the GIL twice.
  StatusOr<std::vector<int>> tasks = proc.ListTasks(pid);
  ASSERT_TRUE(tasks.ok());
  std::set<int> tids;
  int running = 0;
  for (const RuntimeStack& stack : stacks.stacks) {
    ASSERT_TRUE(stack.tid.has_value()) << stack.id;
    EXPECT_TRUE(std::binary_search(tasks->begin(), tasks->end(), *stack.tid)) << *stack.tid;
    tids.insert(*stack.tid);
    EXPECT_TRUE(stack.state == "running" || stack.state == "waiting") << stack.state;
    running += stack.state == "running" ? 1 : 0;
  }
  EXPECT_EQ(tids.size(), stacks.stacks.size());
  EXPECT_LE(running, 1);
}

INSTANTIATE_TEST_SUITE_P(Interpreters, PythonReaderTest,
                         ::testing::Values("debian", "3.9", "3.10", "3.11", "3.12", "3.13"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

TEST(PythonReaderTest, OtherProcessesAreNotPython) {
  procfs::RealProcFs proc("/proc");
  PythonRuntimeReader reader("/proc", proc);
  StatusOr<std::optional<RuntimeStacks>> self = reader.Read(getpid(), {});
  ASSERT_TRUE(self.ok()) << self.status().message();
  EXPECT_FALSE(self->has_value());
  auto sleeper = stacks::TargetProcess::Start({"/bin/sh", "-c", "echo ready; exec sleep 60"});
  ASSERT_TRUE(sleeper.ok());
  StatusOr<std::optional<RuntimeStacks>> sleep = reader.Read((*sleeper)->Pid(), {});
  ASSERT_TRUE(sleep.ok()) << sleep.status().message();
  EXPECT_FALSE(sleep->has_value());
}

TEST(PythonReaderTest, OlderPythonsAreRecognizedAndRefused) {
  for (const std::string version : {"3.6", "2.7"}) {
    const std::string python = PyenvPython(version, version == "2.7" ? "python2" : "python3");
    if (python.empty()) {
      std::printf("skipped %s: not installed\n", version.c_str());
      continue;
    }
    auto target = stacks::TargetProcess::Start(
        {python, "-c",
         "import sys, time; sys.stdout.write('ready\\n'); sys.stdout.flush(); "
         "time.sleep(60)"});
    ASSERT_TRUE(target.ok()) << target.status().message();
    procfs::RealProcFs proc("/proc");
    PythonRuntimeReader reader("/proc", proc);
    StatusOr<std::optional<RuntimeStacks>> read = reader.Read((*target)->Pid(), {});
    ASSERT_FALSE(read.ok()) << version;
    EXPECT_EQ(read.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(read.status().message(),
              "python " + version + ": layout not known; supported 3.9–3.13");
  }
}

TEST(PythonReaderTest, TinyReadBudgetGivesPartialResultsOrAnError) {
  auto target = stacks::TargetProcess::Start({"/usr/bin/python3", kParked});
  ASSERT_TRUE(target.ok()) << target.status().message();
  procfs::RealProcFs proc("/proc");
  PythonRuntimeReader reader("/proc", proc);
  runtimes::RuntimeLimits limits;
  limits.max_read_bytes = 3000;
  StatusOr<std::optional<RuntimeStacks>> read = reader.Read((*target)->Pid(), limits);
  ASSERT_TRUE(read.ok()) << read.status().message();
  ASSERT_TRUE(read->has_value());
  EXPECT_LT((*read)->stacks.size(), 25u);
  ASSERT_FALSE((*read)->problems.empty());
  EXPECT_NE((*read)->problems.back().find("budget"), std::string::npos);
}

// 3.13's _Py_DebugOffsets, read from a live process, states the built-in 3.13 table.
TEST(PythonReaderTest, DebugOffsetsOf313MatchTheTable) {
  const std::string python = PyenvPython("3.13");
  if (python.empty()) GTEST_SKIP() << "no pyenv 3.13 on this machine";
  auto target = stacks::TargetProcess::Start({python, kParked});
  ASSERT_TRUE(target.ok()) << target.status().message();
  const int pid = (*target)->Pid();
  procfs::RealProcFs proc("/proc");
  StatusOr<std::vector<procfs::MapEntry>> maps = procfs::ParseMaps(*proc.ReadFile(pid, "maps"));
  ASSERT_TRUE(maps.ok());
  std::optional<PythonImage> lib = FindLibpython(*maps);
  ASSERT_TRUE(lib.has_value());
  auto file = stacks::FileByteSource::Open(lib->path);
  ASSERT_TRUE(file.ok());
  StatusOr<runtimes::ElfLookup> elf = runtimes::ElfLookup::Parse(**file);
  ASSERT_TRUE(elf.ok());
  const std::string_view name = "_PyRuntime";
  auto symbols = elf->FindSymbols(std::span<const std::string_view>(&name, 1));
  ASSERT_TRUE(symbols.ok() && symbols->count("_PyRuntime") == 1);
  std::optional<uint64_t> bias = LoadBias(*maps, *lib, elf->LoadSegments());
  ASSERT_TRUE(bias.has_value());
  runtimes::ProcMemMemoryReader memory("/proc", pid, 1 << 20);
  std::vector<uint8_t> bytes(kDebugOffsetsBytes);
  ASSERT_TRUE(memory.Read(symbols->at("_PyRuntime").value + *bias, bytes).ok());
  StatusOr<PythonLayout> parsed = ParseDebugOffsets(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const PythonLayout table = *LayoutForMinor(13);
  EXPECT_EQ(parsed->runtime_interpreters_head, table.runtime_interpreters_head);
  EXPECT_EQ(parsed->interp_id, table.interp_id);
  EXPECT_EQ(parsed->interp_next, table.interp_next);
  EXPECT_EQ(parsed->interp_threads_head, table.interp_threads_head);
  EXPECT_EQ(parsed->gil_locked, table.gil_locked);
  EXPECT_EQ(parsed->gil_last_holder, table.gil_last_holder);
  EXPECT_EQ(parsed->tstate_frame, table.tstate_frame);
  EXPECT_EQ(parsed->tstate_thread_id, table.tstate_thread_id);
  EXPECT_EQ(parsed->tstate_native_thread_id, table.tstate_native_thread_id);
  EXPECT_EQ(parsed->frame_previous, table.frame_previous);
  EXPECT_EQ(parsed->frame_code, table.frame_code);
  EXPECT_EQ(parsed->frame_instruction, table.frame_instruction);
  EXPECT_EQ(parsed->frame_owner, table.frame_owner);
  EXPECT_EQ(parsed->code_filename, table.code_filename);
  EXPECT_EQ(parsed->code_qualname, table.code_qualname);
  EXPECT_EQ(parsed->code_line_table, table.code_line_table);
  EXPECT_EQ(parsed->code_firstlineno, table.code_firstlineno);
  EXPECT_EQ(parsed->code_code_adaptive, table.code_code_adaptive);
  EXPECT_EQ(parsed->ascii_object_size, table.ascii_object_size);
  EXPECT_EQ(parsed->unicode_state, table.unicode_state);
}

}  // namespace
}  // namespace ephemera::runtimes::python
