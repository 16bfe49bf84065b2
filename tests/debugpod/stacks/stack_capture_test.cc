// Component tests: CaptureStacks against real processes on this host (needs ptrace: root or
// CAP_SYS_PTRACE).
#include "debugpod/stacks/stack_capture.h"

#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/stacks/elf_code_map.h"
#include "debugpod/stacks/elf_module.h"
#include "debugpod/stacks/file_byte_source.h"
#include "target_process.h"

namespace ephemera::stacks {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// The host's /proc, with the cap the tool gives the stack capture.
const procfs::ProcFs& HostProc() {
  static const procfs::RealProcFs proc("/proc", kMaxMapsBytes);
  return proc;
}

// The host's /proc, recording what is read through it and failing what a test asks it to.
class RecordingProcFs final : public procfs::ProcFs {
 public:
  StatusOr<std::string> ReadFile(int pid, std::string_view relative) const override {
    reads_.push_back(std::to_string(pid) + "/" + std::string(relative));
    if (relative == fail_file_) return fail_status_;
    return HostProc().ReadFile(pid, relative);
  }
  StatusOr<std::string> ReadTaskFile(int pid, int tid, std::string_view relative) const override {
    return HostProc().ReadTaskFile(pid, tid, relative);
  }
  StatusOr<std::string> ReadLink(int pid, std::string_view relative) const override {
    return HostProc().ReadLink(pid, relative);
  }
  StatusOr<std::string> ReadNetFile(int pid, std::string_view name) const override {
    return HostProc().ReadNetFile(pid, name);
  }
  StatusOr<std::vector<int>> ListPids() const override { return HostProc().ListPids(); }
  StatusOr<std::vector<int>> ListTasks(int pid) const override {
    reads_.push_back(std::to_string(pid) + "/task/");
    if (fail_tasks_) return NotFoundError("ENOENT: opendir (test)");
    return HostProc().ListTasks(pid);
  }
  StatusOr<std::vector<int>> ListFds(int pid) const override { return HostProc().ListFds(pid); }

  void FailFile(std::string relative, Status status) {
    fail_file_ = std::move(relative);
    fail_status_ = std::move(status);
  }
  void FailTasks() { fail_tasks_ = true; }
  const std::vector<std::string>& Reads() const { return reads_; }

 private:
  mutable std::vector<std::string> reads_;
  std::string fail_file_;
  Status fail_status_ = OkStatus();
  bool fail_tasks_ = false;
};

StackCaptureOptions DefaultOptions() {
  StackCaptureOptions options;
  options.deadline = Clock::now() + std::chrono::seconds(30);
  return options;
}

std::string Describe(const ThreadStack& t) {
  std::ostringstream out;
  out << "tid " << t.tid << " unwind=" << t.unwind << " stop=\"" << t.stop_reason << "\" error=\""
      << t.error << "\" freeze=" << t.freeze.count() << "us\n";
  for (const Frame& f : t.frames) {
    out << "  0x" << std::hex << f.pc << std::dec << " " << f.symbol << "+" << f.symbol_offset
        << " (" << f.module << ")\n";
  }
  return out.str();
}

std::string Describe(const ProcessStacks& p) {
  std::string out;
  for (const ThreadStack& t : p.threads) out += Describe(t);
  for (const std::string& e : p.module_errors) out += "module error: " + e + "\n";
  return out;
}

const ThreadStack* FindThread(const ProcessStacks& stacks, int tid) {
  for (const ThreadStack& t : stacks.threads) {
    if (t.tid == tid) return &t;
  }
  return nullptr;
}

bool HasFrame(const ThreadStack& t, std::string_view symbol_part) {
  for (const Frame& f : t.frames) {
    if (f.symbol.find(symbol_part) != std::string::npos) return true;
  }
  return false;
}

const Frame* FrameWith(const ThreadStack& t, std::string_view symbol_part) {
  for (const Frame& f : t.frames) {
    if (f.symbol.find(symbol_part) != std::string::npos) return &f;
  }
  return nullptr;
}

// Captures `target` and checks that the thread named `name` has a frame whose symbol contains each
// of `symbols`. Returns the capture for further checks.
ProcessStacks CaptureAndExpect(TargetProcess& target,
                               const std::map<std::string, std::vector<std::string>>& expected) {
  StatusOr<ProcessStacks> stacks = CaptureStacks(target.Pid(), HostProc(), DefaultOptions());
  EXPECT_TRUE(stacks.ok()) << stacks.status().ToString();
  if (!stacks.ok()) return {};
  std::map<int, std::string> names = target.ThreadNames();
  std::map<std::string, int> tid_of;
  for (const auto& [tid, name] : names) tid_of[name] = tid;
  for (const auto& [name, symbols] : expected) {
    auto it = tid_of.find(name);
    if (it == tid_of.end()) {
      ADD_FAILURE() << "no thread named " << name;
      continue;
    }
    const ThreadStack* t = FindThread(*stacks, it->second);
    if (!t) {
      ADD_FAILURE() << "thread " << name << " missing from the capture";
      continue;
    }
    EXPECT_TRUE(t->error.empty()) << name << ": " << t->error;
    for (const std::string& symbol : symbols) {
      EXPECT_TRUE(HasFrame(*t, symbol)) << name << " lacks " << symbol << "\n" << Describe(*t);
    }
  }
  return std::move(*stacks);
}

void ExpectFreezeRecorded(const ProcessStacks& stacks, size_t threads) {
  EXPECT_EQ(stacks.threads.size(), threads) << Describe(stacks);
  std::chrono::microseconds sum{0};
  std::chrono::microseconds max{0};
  for (const ThreadStack& t : stacks.threads) {
    EXPECT_GT(t.freeze.count(), 0) << "tid " << t.tid;
    if (t.error.empty()) {
      EXPECT_GT(t.held.count(), 0) << "tid " << t.tid;
      EXPECT_LE(t.held, t.freeze) << "tid " << t.tid;
    }
    sum += t.freeze;
    max = std::max(max, t.freeze);
  }
  EXPECT_EQ(stacks.total_freeze, sum);
  EXPECT_EQ(stacks.max_thread_freeze, max);
}

// The target keeps working after the capture: its ticker still counts and every thread (a stopped
// one would hang the join) finishes on "q".
void ExpectStillRunningThenQuit(TargetProcess& target) {
  StatusOr<unsigned long> before = target.Ping();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  StatusOr<unsigned long> after = before;
  for (int i = 0; i < 200 && after.ok() && *after <= *before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    after = target.Ping();
  }
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_GT(*after, *before) << "the ticker thread stopped counting";
  StatusOr<int> code = target.Quit();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
}

bool IsPositionIndependent(const std::string& path) {
  StatusOr<std::unique_ptr<FileByteSource>> file = FileByteSource::Open(path);
  if (!file.ok()) return false;
  StatusOr<ElfModule> module = ElfModule::Parse(**file);
  return module.ok() && module->IsPositionIndependent();
}

const std::map<std::string, std::vector<std::string>> kParkedExpectations = {
    {"alpha", {"ParkedInAlpha"}},
    {"beta", {"ParkedInBeta"}},
    {"gamma", {"ParkedInGamma"}},
    {"ticker", {"TickInDelta"}},
};

TEST(StackCaptureTest, FindsParkedFunctionsInPieBinaryWithoutFramePointers) {
  ASSERT_TRUE(IsPositionIndependent(STACKS_PARKED_NOFP)) << "expected a PIE test binary";
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_NOFP});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  ProcessStacks stacks = CaptureAndExpect(**target, kParkedExpectations);
  ExpectFreezeRecorded(stacks, 5);
  const ThreadStack* main_thread = FindThread(stacks, (*target)->Pid());
  ASSERT_NE(main_thread, nullptr);
  EXPECT_TRUE(HasFrame(*main_thread, "main")) << Describe(*main_thread);
  // Only CFI can walk code built without frame pointers; the module is the PIE binary itself.
  for (const ThreadStack& t : stacks.threads) {
    if (const Frame* f = FrameWith(t, "ParkedIn")) {
      EXPECT_EQ(t.unwind, "cfi") << Describe(t);
      EXPECT_EQ(std::filesystem::path(f->module).filename(), "stacks-parked-nofp");
      EXPECT_GT(f->symbol_offset, 0u);
    }
  }
  ExpectStillRunningThenQuit(**target);
}

TEST(StackCaptureTest, FollowsFramePointersThroughCodeWithoutUnwindTables) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_FP});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  ProcessStacks stacks = CaptureAndExpect(**target, kParkedExpectations);
  ExpectFreezeRecorded(stacks, 5);
  // libc frames unwind with CFI, the test program's own frames only through rbp.
  bool saw_mixed = false;
  for (const ThreadStack& t : stacks.threads) saw_mixed |= t.unwind == "mixed";
  EXPECT_TRUE(saw_mixed) << Describe(stacks);
  ExpectStillRunningThenQuit(**target);
}

TEST(StackCaptureTest, FindsParkedFunctionsInStaticBinary) {
  ASSERT_FALSE(IsPositionIndependent(STACKS_PARKED_STATIC));
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_STATIC});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  ProcessStacks stacks = CaptureAndExpect(**target, kParkedExpectations);
  ExpectFreezeRecorded(stacks, 5);
  // Static glibc: the blocking call itself is symbolized from the same binary.
  std::map<int, std::string> names = (*target)->ThreadNames();
  for (const ThreadStack& t : stacks.threads) {
    if (names[t.tid] != "alpha") continue;
    ASSERT_FALSE(t.frames.empty());
    EXPECT_EQ(std::filesystem::path(t.frames[0].module).filename(), "stacks-parked-static");
    EXPECT_THAT(t.frames[0].symbol, HasSubstr("read")) << Describe(t);
  }
  ExpectStillRunningThenQuit(**target);
}

TEST(StackCaptureTest, FindsParkedFunctionsInCProgram) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_C});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  ProcessStacks stacks = CaptureAndExpect(
      **target, {{"alpha", {"parked_in_alpha", "alpha_main"}}, {"beta", {"parked_in_beta"}}});
  ExpectFreezeRecorded(stacks, 3);
  const ThreadStack* main_thread = FindThread(stacks, (*target)->Pid());
  ASSERT_NE(main_thread, nullptr);
  EXPECT_TRUE(HasFrame(*main_thread, "main")) << Describe(*main_thread);
  StatusOr<int> code = (*target)->Quit();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
}

#ifdef EPHEMERA_TARGET_BINARY
TEST(StackCaptureTest, FindsWorkerFunctionsInEphemeraTarget) {
  // Port 0: the kernel's choice, which no other process on the host can be holding.
  StatusOr<std::unique_ptr<TargetProcess>> target =
      TargetProcess::Start({EPHEMERA_TARGET_BINARY, "--threads", "2", "--port", "0"});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  // Workers park right after the banner; capture until they have (a few tries at most).
  std::map<std::string, std::string> expected = {{"checkout-0", "SleepInCheckoutLoop"},
                                                 {"orders-1", "WaitForOrders"},
                                                 {"pipe-reader", "ReadFromPipe"},
                                                 {"acceptor", "AcceptConnections"}};
  std::string last;
  bool all_found = false;
  for (int attempt = 0; attempt < 20 && !all_found; ++attempt) {
    StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), HostProc(), DefaultOptions());
    ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
    std::map<int, std::string> names = (*target)->ThreadNames();
    all_found = true;
    for (const auto& [name, symbol] : expected) {
      bool found = false;
      for (const ThreadStack& t : stacks->threads) {
        found |= names[t.tid] == name && HasFrame(t, symbol);
      }
      all_found &= found;
    }
    last = Describe(*stacks);
    if (!all_found) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(all_found) << last;
  kill((*target)->Pid(), SIGTERM);
  StatusOr<int> code = (*target)->WaitForExit(std::chrono::seconds(10));
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
}
#endif

TEST(StackCaptureTest, SymbolizesGoBinary) {
  const char* go = "/usr/local/go/bin/go";
  ASSERT_EQ(access(go, X_OK), 0) << "Go toolchain not found at " << go
                                 << ": install Go there to run the Go stack-capture test";
  std::string binary = std::string(STACKS_GO_BINARY_DIR) + "/go-parked";
  std::string cache = std::string(STACKS_GO_BINARY_DIR) + "/go-cache";
  std::string command = "env GOTOOLCHAIN=local GOFLAGS= GOCACHE=" + cache + " " + go +
                        " build -o " + binary + " " + STACKS_GO_SOURCE + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << "go build failed: " << command;
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({binary});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), HostProc(), DefaultOptions());
  ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
  const ThreadStack* main_thread = FindThread(*stacks, (*target)->Pid());
  ASSERT_NE(main_thread, nullptr);
  EXPECT_TRUE(HasFrame(*main_thread, "main.sleepInGo")) << Describe(*main_thread);
  EXPECT_TRUE(HasFrame(*main_thread, "main.main")) << Describe(*main_thread);
  EXPECT_TRUE(HasFrame(*main_thread, "runtime.main")) << Describe(*main_thread);
  int runtime_frames = 0;
  for (const ThreadStack& t : stacks->threads) {
    for (const Frame& f : t.frames) runtime_frames += f.symbol.starts_with("runtime.");
  }
  EXPECT_GT(runtime_frames, 0) << Describe(*stacks);
  StatusOr<unsigned long> rounds = (*target)->Ping();
  EXPECT_TRUE(rounds.ok()) << rounds.status().ToString();
  StatusOr<int> code = (*target)->Quit();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
}

TEST(StackCaptureTest, SymbolizesDeletedBinaryThroughMapFiles) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ephemera-stacks-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::path copy = dir / "parked-deleted";
  std::filesystem::copy_file(STACKS_PARKED_NOFP, copy,
                             std::filesystem::copy_options::overwrite_existing);
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({copy.string()});
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  ProcessStacks stacks = CaptureAndExpect(**target, {{"alpha", {"ParkedInAlpha"}}});
  for (const ThreadStack& t : stacks.threads) {
    if (const Frame* f = FrameWith(t, "ParkedInAlpha")) {
      EXPECT_THAT(f->module, HasSubstr("parked-deleted (deleted)"));
    }
  }
  ExpectStillRunningThenQuit(**target);
}

TEST(ProcRootModuleLoaderTest, LoadsTheVdsoFromTheCallingProcess) {
  std::ifstream in("/proc/self/maps");
  std::stringstream text;
  text << in.rdbuf();
  StatusOr<std::vector<procfs::MapEntry>> maps = procfs::ParseMaps(text.str());
  ASSERT_TRUE(maps.ok());
  const procfs::MapEntry* vdso = nullptr;
  for (const procfs::MapEntry& m : *maps) {
    if (m.path == "[vdso]") vdso = &m;
  }
  ASSERT_NE(vdso, nullptr) << "no [vdso] mapping in this process";
  ProcRootModuleLoader loader("/proc", getpid());
  ElfCodeMap code(*maps, loader);
  bool found_gettime = false;
  for (uint64_t pc = vdso->start; pc < vdso->end && !found_gettime; pc += 4) {
    Frame f = code.Symbolize({pc, false});
    found_gettime = f.symbol.find("gettime") != std::string::npos;
  }
  EXPECT_TRUE(found_gettime);
  EXPECT_TRUE(code.ModuleErrors().empty());
}

TEST(StackCaptureTest, PassedDeadlineStopsNothing) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_NOFP});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  StackCaptureOptions options;
  options.deadline = Clock::now() - std::chrono::milliseconds(1);
  StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), HostProc(), options);
  ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
  ASSERT_EQ(stacks->threads.size(), 5u);
  for (const ThreadStack& t : stacks->threads) {
    EXPECT_THAT(t.error, HasSubstr("deadline"));
    EXPECT_EQ(t.freeze.count(), 0);
    EXPECT_TRUE(t.frames.empty());
  }
  EXPECT_EQ(stacks->total_freeze.count(), 0);
  ExpectStillRunningThenQuit(**target);
}

// stop_early (the snapshot tool's CPU and memory budget) is asked before each thread is stopped
// (and before each binary is loaded for symbols, on the same thread): once it says so, no further
// thread is stopped, and the ones stopped before stay captured.
TEST(StackCaptureTest, StopEarlyStopsTheRestOfTheThreads) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_NOFP});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  StackCaptureOptions options;
  options.deadline = Clock::now() + std::chrono::seconds(30);
  std::atomic<int> asked{0};
  options.stop_early = [&asked] { return asked.fetch_add(1) >= 2; };
  StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), HostProc(), options);
  ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
  ASSERT_EQ(stacks->threads.size(), 5u);
  int captured = 0;
  for (const ThreadStack& t : stacks->threads) {
    if (t.error.empty()) {
      ++captured;
      EXPECT_FALSE(t.frames.empty());
    } else {
      EXPECT_EQ(t.error, "budget reached before this thread was stopped");
      EXPECT_EQ(t.freeze.count(), 0);
    }
  }
  // The first thread always; the second unless the first one's binary load asked in between.
  EXPECT_GE(captured, 1);
  EXPECT_LE(captured, 2);
  ExpectStillRunningThenQuit(**target);
}

TEST(StackCaptureTest, ShortDeadlineIsRespectedOnManyThreads) {
  StatusOr<std::unique_ptr<TargetProcess>> target =
      TargetProcess::Start({STACKS_PARKED_NOFP, "--idle", "300"});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  StackCaptureOptions options;
  constexpr auto kBudget = std::chrono::milliseconds(3);
  Clock::time_point start = Clock::now();
  options.deadline = start + kBudget;
  StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), HostProc(), options);
  auto elapsed = Clock::now() - start;
  ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
  ASSERT_EQ(stacks->threads.size(), 305u);
  int skipped = 0;
  for (const ThreadStack& t : stacks->threads) {
    if (!t.error.empty()) {
      // Skipped at the deadline, or the thread being stopped when the deadline cut its wait short.
      EXPECT_THAT(t.error, AnyOf(HasSubstr("deadline"), HasSubstr("did not stop in time")));
      ++skipped;
    }
  }
  EXPECT_GT(skipped, 0) << "305 threads captured within " << kBudget.count() << "ms";
  // Stopping ends at the deadline; what remains (unwinding what was captured, with modules that
  // are only loaded while time is left) is bounded too. The bound is loose on purpose: this machine
  // is shared and noisy, and a capture that ignored the deadline would show in `skipped` above.
  EXPECT_LT(elapsed, kBudget + std::chrono::seconds(5));
  ExpectStillRunningThenQuit(**target);
}

TEST(StackCaptureTest, FrameLimitAndStackSliceAreHonoured) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_NOFP});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  StackCaptureOptions options = DefaultOptions();
  options.max_frames = 2;
  StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), HostProc(), options);
  ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
  for (const ThreadStack& t : stacks->threads) {
    EXPECT_LE(t.frames.size(), 2u) << Describe(t);
    EXPECT_EQ(t.stop_reason, "frame limit") << Describe(t);
  }
  // A 64-byte slice is too small to unwind far, and the capture still succeeds.
  options.max_frames = 64;
  options.stack_bytes = 64;
  stacks = CaptureStacks((*target)->Pid(), HostProc(), options);
  ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
  for (const ThreadStack& t : stacks->threads) {
    EXPECT_TRUE(t.error.empty()) << t.error;
    EXPECT_GE(t.frames.size(), 1u);
    EXPECT_LT(t.frames.size(), 6u) << Describe(t);
  }
  ExpectStillRunningThenQuit(**target);
}

TEST(StackCaptureTest, UnprivilegedCallerGetsPermissionDeniedWithReason) {
  ASSERT_EQ(geteuid(), 0u) << "this test drops from root to nobody; run it as root";
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_NOFP});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(report[0]);
    // nobody:nogroup, no supplementary groups; setuid from root drops every capability.
    std::string result;
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
      result = "setup failed";
    } else {
      StatusOr<ProcessStacks> stacks =
          CaptureStacks((*target)->Pid(), HostProc(), DefaultOptions());
      result = stacks.ok() ? "OK" : stacks.status().ToString();
    }
    ssize_t unused = write(report[1], result.data(), result.size());
    (void)unused;
    _exit(0);
  }
  close(report[1]);
  std::string result;
  char buf[512];
  ssize_t n;
  while ((n = read(report[0], buf, sizeof buf)) > 0) result.append(buf, static_cast<size_t>(n));
  close(report[0]);
  waitpid(child, nullptr, 0);
  EXPECT_THAT(result, HasSubstr("PermissionDenied: EPERM: ptrace not permitted"));
  EXPECT_THAT(result, HasSubstr("CAP_SYS_PTRACE"));
  ExpectStillRunningThenQuit(**target);
}

TEST(StackCaptureTest, MissingProcessIsNotFound) {
  // Find a pid that is not in use.
  int pid = 4000000;
  while (pid > 1 && kill(pid, 0) == 0) --pid;
  StatusOr<ProcessStacks> stacks = CaptureStacks(pid, HostProc(), DefaultOptions());
  EXPECT_EQ(stacks.status().code(), StatusCode::kNotFound) << stacks.status().ToString();
}

TEST(StackCaptureTest, ReadsTheMapAndTheThreadListThroughProcFs) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_NOFP});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  RecordingProcFs proc;
  StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), proc, DefaultOptions());
  ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
  const std::string pid = std::to_string((*target)->Pid());
  EXPECT_THAT(proc.Reads(), ::testing::Contains(pid + "/maps"));
  EXPECT_THAT(proc.Reads(), ::testing::Contains(pid + "/task/"));
  EXPECT_FALSE(stacks->threads.empty());
  ExpectStillRunningThenQuit(**target);
}

// A map the ProcFs refuses (too large) leaves stacks of pcs and says why.
TEST(StackCaptureTest, AMapTooLargeToReadKeepsThePcs) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_NOFP});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  RecordingProcFs proc;
  proc.FailFile("maps", ResourceExhaustedError("file larger than the read cap (test)"));
  StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), proc, DefaultOptions());
  ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
  EXPECT_THAT(stacks->module_errors, ::testing::Contains("file larger than the read cap (test)"));
  const ThreadStack* main_thread = FindThread(*stacks, (*target)->Pid());
  ASSERT_NE(main_thread, nullptr);
  ASSERT_FALSE(main_thread->frames.empty()) << Describe(*main_thread);
  EXPECT_NE(main_thread->frames[0].pc, 0u);
  EXPECT_FALSE(HasFrame(*main_thread, "main")) << "no map, no symbols";
  ExpectStillRunningThenQuit(**target);
}

TEST(StackCaptureTest, AThreadListThatIsGoneIsNotFound) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_NOFP});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  RecordingProcFs proc;
  proc.FailTasks();
  StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), proc, DefaultOptions());
  EXPECT_EQ(stacks.status().code(), StatusCode::kNotFound) << stacks.status().ToString();
  ExpectStillRunningThenQuit(**target);
}

// The highest CPU this process may run on: busy targets are pinned there, so that their spinning
// threads share one CPU (each waits its turn to reach a stop, as on an oversubscribed node) and
// leave the others to the rest of the machine.
int LastAllowedCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  int last = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) last = cpu;
  }
  return last;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// 100 threads that never block, on one CPU: each reaches its stop only when the scheduler next
// runs it, half a round of 100 time slices later on average (0.2-0.8 s on this shared machine), so
// stopping them one at a time would need tens of seconds. The window waits for up to 16 together,
// which takes a few seconds; the deadline is generous for that and short for one at a time. What is
// asserted is that every thread was captured and none is left traced or stopped, not the time.
TEST(StackCaptureTest, CapturesManyBusyThreadsWithinTheDeadline) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start(
      {STACKS_PARKED_NOFP, "--busy", "100", "--cpu", std::to_string(LastAllowedCpu())});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  StackCaptureOptions options;
  options.deadline = Clock::now() + std::chrono::seconds(20);
  // A busy thread on an oversubscribed CPU may wait a whole scheduling round for its stop.
  options.stop_timeout = std::chrono::seconds(10);
  StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), HostProc(), options);
  ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
  EXPECT_EQ(Join((*target)->TracedThreads()), "");
  std::map<int, std::string> names = (*target)->ThreadNames();
  ASSERT_EQ(stacks->threads.size(), 105u);
  int busy_in_spin = 0;
  for (const ThreadStack& t : stacks->threads) {
    EXPECT_EQ(t.error, "") << "tid " << t.tid << " " << names[t.tid];
    EXPECT_GT(t.freeze.count(), 0) << "tid " << t.tid;
    EXPECT_LE(t.held, t.freeze) << "tid " << t.tid;
    if (names[t.tid].starts_with("busy-") && HasFrame(t, "SpinInBusy")) ++busy_in_spin;
  }
  EXPECT_EQ(busy_in_spin, 100) << Describe(*stacks);
  ExpectStillRunningThenQuit(**target);
}

// The deadline passes while the window holds threads interrupted and not yet stopped: they are
// given up on, the rest is reported as not reached, and nothing stays traced or stopped.
TEST(StackCaptureTest, DeadlineMidWindowReleasesEveryThread) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start(
      {STACKS_PARKED_NOFP, "--busy", "100", "--cpu", std::to_string(LastAllowedCpu())});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  StackCaptureOptions options;
  options.deadline = Clock::now() + std::chrono::milliseconds(100);
  StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), HostProc(), options);
  ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
  // At once, before anything else: the window's threads are released by the time the call returns.
  EXPECT_EQ(Join((*target)->TracedThreads()), "");
  ASSERT_EQ(stacks->threads.size(), 105u);
  int not_captured = 0;
  for (const ThreadStack& t : stacks->threads) {
    if (t.error.empty()) continue;
    ++not_captured;
    EXPECT_THAT(t.error, HasSubstr("deadline")) << "tid " << t.tid;
    EXPECT_TRUE(t.frames.empty());
  }
  // 100 threads sharing one CPU, each ~0.1 s from its stop: not all fit in 0.1 s.
  EXPECT_GT(not_captured, 0);
  ExpectStillRunningThenQuit(**target);
}

// Threads exit (and others appear) while the window waits for them: those are reported with
// ESRCH, every other thread is captured, and nothing stays traced or stopped.
TEST(StackCaptureTest, ThreadsExitingDuringTheCaptureAreReportedAndReleased) {
  StatusOr<std::unique_ptr<TargetProcess>> target =
      TargetProcess::Start({STACKS_PARKED_NOFP, "--busy", "30", "--churn", "8", "--cpu",
                            std::to_string(LastAllowedCpu())});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  StackCaptureOptions options = DefaultOptions();
  options.stop_timeout = std::chrono::seconds(10);
  for (int round = 0; round < 3; ++round) {
    StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), HostProc(), options);
    ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
    EXPECT_EQ(Join((*target)->TracedThreads()), "");
    std::map<int, std::string> names = (*target)->ThreadNames();
    int captured = 0;
    for (const ThreadStack& t : stacks->threads) {
      if (t.error.empty()) {
        ++captured;
      } else {
        EXPECT_THAT(t.error, HasSubstr("ESRCH")) << "tid " << t.tid;
        EXPECT_EQ(names.count(t.tid), 0u) << "reported gone but still there: " << t.tid;
      }
    }
    // The long-lived threads (4 parked, main, 30 busy, 8 churners) never exit.
    EXPECT_GE(captured, 43) << Describe(*stacks);
  }
  ExpectStillRunningThenQuit(**target);
}

// A thread in an uninterruptible wait (here: the parent side of vfork()) never reaches its stop.
// It is given up on after stop_timeout, every other thread is captured, and once the wait ends
// the thread runs on: it was not left traced or with a stop pending.
TEST(StackCaptureTest, AThreadThatNeverStopsTimesOutAndIsReleased) {
  StatusOr<std::unique_ptr<TargetProcess>> target =
      TargetProcess::Start({STACKS_PARKED_NOFP, "--vfork", "--idle", "20"});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  int vforker = 0;
  for (const auto& [tid, name] : (*target)->ThreadNames()) {
    if (name == "vforker") vforker = tid;
  }
  ASSERT_NE(vforker, 0);
  ASSERT_THAT((*target)->ThreadStates()[vforker], ::testing::StartsWith("D"))
      << "the vfork parent should be in uninterruptible sleep";
  StackCaptureOptions options = DefaultOptions();
  options.stop_timeout = std::chrono::milliseconds(300);
  StatusOr<ProcessStacks> stacks = CaptureStacks((*target)->Pid(), HostProc(), options);
  ASSERT_TRUE(stacks.ok()) << stacks.status().ToString();
  EXPECT_EQ(Join((*target)->TracedThreads()), "");
  ASSERT_EQ(stacks->threads.size(), 26u);
  for (const ThreadStack& t : stacks->threads) {
    if (t.tid == vforker) {
      EXPECT_THAT(t.error, HasSubstr("ETIMEDOUT")) << Describe(t);
      EXPECT_EQ(t.freeze.count(), 0) << "it never stopped";
    } else {
      EXPECT_EQ(t.error, "") << "tid " << t.tid;
    }
  }
  // "q" ends the vfork wait; the process exits 0 only if the vforker then runs to its join.
  ExpectStillRunningThenQuit(**target);
}

TEST(StackCaptureTest, OwnProcessIsRefused) {
  StatusOr<ProcessStacks> stacks = CaptureStacks(getpid(), HostProc(), DefaultOptions());
  EXPECT_EQ(stacks.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ephemera::stacks
