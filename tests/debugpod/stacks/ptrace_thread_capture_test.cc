// Component tests for the stop-copy-resume step and the memory readers, against real processes.
#include "debugpod/stacks/ptrace_thread_capture.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>

#include "debugpod/procfs/real_proc_fs.h"
#include "target_process.h"

namespace ephemera::stacks {
namespace {

// A forked child that shares our address-space layout: what we wrote before fork is at the same
// address in the child. The child just waits to be killed.
class ForkedChild {
 public:
  ForkedChild() {
    pid_ = fork();
    if (pid_ == 0) {
      while (true) pause();
    }
  }
  ~ForkedChild() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_t Pid() const { return pid_; }

 private:
  pid_t pid_;
};

const procfs::ProcFs& HostProc() {
  static const procfs::RealProcFs proc("/proc", size_t{16} << 20);
  return proc;
}

std::vector<procfs::MapEntry> MapsOf(int pid) {
  StatusOr<std::string> text = HostProc().ReadFile(pid, "maps");
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *procfs::ParseMaps(*text) : std::vector<procfs::MapEntry>{};
}

TEST(MemoryReaderTest, BothReadersSeeTheSameBytes) {
  std::vector<uint8_t> pattern(3000);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 7 + 3);
  ForkedChild child;
  ASSERT_GT(child.Pid(), 0);
  uint64_t address = reinterpret_cast<uint64_t>(pattern.data());
  std::vector<uint8_t> by_vm(3000);
  StatusOr<size_t> n = ReadMemoryWithProcessVmReadv(child.Pid(), address, by_vm);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3000u);
  EXPECT_EQ(by_vm, pattern);
  int fd = open(("/proc/" + std::to_string(child.Pid()) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::vector<uint8_t> by_mem(3000);
  n = ReadMemoryWithProcMem(fd, address, by_mem);
  close(fd);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3000u);
  EXPECT_EQ(by_mem, pattern);
}

TEST(MemoryReaderTest, ReadsStopAtTheFirstUnmappedPage) {
  long page = sysconf(_SC_PAGESIZE);
  auto* region = static_cast<uint8_t*>(
      mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(region, MAP_FAILED);
  std::memset(region, 0x5a, page);
  ASSERT_EQ(munmap(region + page, page), 0);
  ForkedChild child;
  uint64_t address = reinterpret_cast<uint64_t>(region) + page - 100;
  std::vector<uint8_t> buffer(1000);
  StatusOr<size_t> by_vm = ReadMemoryWithProcessVmReadv(child.Pid(), address, buffer);
  ASSERT_TRUE(by_vm.ok()) << by_vm.status().ToString();
  EXPECT_EQ(*by_vm, 100u);
  EXPECT_EQ(buffer[99], 0x5a);
  int fd = open(("/proc/" + std::to_string(child.Pid()) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  StatusOr<size_t> by_mem = ReadMemoryWithProcMem(fd, address, buffer);
  ASSERT_TRUE(by_mem.ok()) << by_mem.status().ToString();
  EXPECT_EQ(*by_mem, 100u);
  StatusOr<size_t> nothing =
      ReadMemoryWithProcMem(fd, reinterpret_cast<uint64_t>(region) + page, buffer);
  EXPECT_FALSE(nothing.ok());
  EXPECT_THAT(nothing.status().message(), ::testing::HasSubstr("EIO"));
  close(fd);
  munmap(region, page);
}

TEST(ThreadCaptureTest, CopiesRegistersAndBoundedStackOfEveryThread) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_NOFP});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  ThreadCaptureRequest request;
  request.pid = (*target)->Pid();
  request.stack_bytes = 4096;
  request.maps = MapsOf(request.pid);
  StatusOr<std::vector<CapturedThread>> threads = CaptureThreadStates(HostProc(), request);
  ASSERT_TRUE(threads.ok()) << threads.status().ToString();
  StatusOr<std::vector<int>> tids = HostProc().ListTasks(request.pid);
  ASSERT_TRUE(tids.ok());
  ASSERT_EQ(threads->size(), tids->size());
  for (const CapturedThread& t : *threads) {
    EXPECT_TRUE(t.error.empty()) << t.error;
    EXPECT_GT(t.freeze.count(), 0);
    // The copy (stop seen to detach) is part of the stop-to-detach span, never more.
    EXPECT_GT(t.held.count(), 0);
    EXPECT_LE(t.held, t.freeze);
    ASSERT_TRUE(t.registers.Get(kRegRip).has_value());
    ASSERT_TRUE(t.registers.Get(kRegRsp).has_value());
    EXPECT_EQ(t.stack.base, *t.registers.Get(kRegRsp));
    EXPECT_GT(t.stack.bytes.size(), 0u);
    EXPECT_LE(t.stack.bytes.size(), 4096u);
    EXPECT_EQ(t.memory_source, MemorySource::kProcessVmReadv);
    EXPECT_TRUE(t.copy_error.empty()) << t.copy_error;
    // The copy never runs past the mapping that holds the stack pointer.
    const procfs::MapEntry* stack_map = procfs::FindMapping(request.maps, t.stack.base);
    ASSERT_NE(stack_map, nullptr);
    EXPECT_LE(t.stack.base + t.stack.bytes.size(), stack_map->end);
  }
  StatusOr<unsigned long> alive = (*target)->Ping();
  EXPECT_TRUE(alive.ok()) << alive.status().ToString();
  StatusOr<int> code = (*target)->Quit();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
}

TEST(ThreadCaptureTest, NoThreadStaysTracedAfterCapture) {
  StatusOr<std::unique_ptr<TargetProcess>> target =
      TargetProcess::Start({STACKS_PARKED_NOFP, "--idle", "20"});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  ThreadCaptureRequest request;
  request.pid = (*target)->Pid();
  StatusOr<std::vector<CapturedThread>> threads = CaptureThreadStates(HostProc(), request);
  ASSERT_TRUE(threads.ok()) << threads.status().ToString();
  EXPECT_EQ(threads->size(), 25u);
  for (const auto& [tid, name] : (*target)->ThreadNames()) {
    std::ifstream status("/proc/" + std::to_string(request.pid) + "/task/" + std::to_string(tid) +
                         "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.starts_with("TracerPid:")) {
        EXPECT_EQ(line, "TracerPid:\t0") << name;
      }
      if (line.starts_with("State:")) {
        EXPECT_EQ(line.find("t (tracing stop)"), std::string::npos) << name;
      }
    }
  }
  StatusOr<int> code = (*target)->Quit();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
}

// The line of /proc/<pid>/task/<tid>/status that starts with `key`, empty if none.
std::string StatusLine(int pid, int tid, std::string_view key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(key)) return line;
  }
  return "";
}

// Traced threads of `pid` right now (TracerPid not 0).
int CountTraced(int pid, const std::map<int, std::string>& threads) {
  int traced = 0;
  for (const auto& [tid, name] : threads) {
    std::string tracer = StatusLine(pid, tid, "TracerPid:");
    traced += !tracer.empty() && tracer != "TracerPid:\t0";
  }
  return traced;
}

TEST(ThreadCaptureTest, OnResumedSeesEachThreadRunningAgain) {
  StatusOr<std::unique_ptr<TargetProcess>> target = TargetProcess::Start({STACKS_PARKED_NOFP});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  ThreadCaptureRequest request;
  request.pid = (*target)->Pid();
  request.maps = MapsOf(request.pid);
  std::vector<int> seen;
  request.on_resumed = [&](CapturedThread& t) {
    seen.push_back(t.tid);
    EXPECT_TRUE(t.error.empty()) << t.error;
    EXPECT_GT(t.stack.bytes.size(), 0u);
    // Detached: no tracer, not in a tracing stop.
    EXPECT_EQ(StatusLine(request.pid, t.tid, "TracerPid:"), "TracerPid:\t0");
    EXPECT_EQ(StatusLine(request.pid, t.tid, "State:").find("tracing stop"), std::string::npos);
    std::vector<uint8_t>().swap(t.stack.bytes);  // consumed, as CaptureStacks does
  };
  StatusOr<std::vector<CapturedThread>> threads = CaptureThreadStates(HostProc(), request);
  ASSERT_TRUE(threads.ok()) << threads.status().ToString();
  ASSERT_EQ(seen.size(), threads->size());
  for (const CapturedThread& t : *threads) {
    EXPECT_TRUE(t.stack.bytes.empty()) << "the callback's consumption is kept, tid " << t.tid;
  }
  EXPECT_TRUE((*target)->TracedThreads().empty());
}

// 60 busy threads sharing one CPU (the last): each takes long to reach its stop.
StatusOr<std::unique_ptr<TargetProcess>> StartSlowToStop() {
  return TargetProcess::Start({STACKS_PARKED_NOFP, "--busy", "60", "--cpu",
                               std::to_string(sysconf(_SC_NPROCESSORS_ONLN) - 1)});
}

// A request for `pid` that waits long for each stop (a loaded test machine must not fail it).
ThreadCaptureRequest PatientRequest(int pid) {
  ThreadCaptureRequest request;
  request.pid = pid;
  request.maps = MapsOf(pid);
  request.stop_timeout = std::chrono::seconds(10);
  return request;
}

// Threads that are slow to stop (busy, sharing one CPU) are waited for several at a time, never
// more than kStopWindow; each is still handed over detached.
TEST(ThreadCaptureTest, SlowThreadsAreWaitedForTogetherWithinTheWindow) {
  StatusOr<std::unique_ptr<TargetProcess>> target = StartSlowToStop();
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  const std::map<int, std::string> names = (*target)->ThreadNames();
  ThreadCaptureRequest request = PatientRequest((*target)->Pid());
  int most_traced = 0;
  request.on_resumed = [&](CapturedThread& t) {
    EXPECT_EQ(StatusLine(request.pid, t.tid, "TracerPid:"), "TracerPid:\t0");
    most_traced = std::max(most_traced, CountTraced(request.pid, names));
    std::vector<uint8_t>().swap(t.stack.bytes);
  };
  StatusOr<std::vector<CapturedThread>> threads = CaptureThreadStates(HostProc(), request);
  ASSERT_TRUE(threads.ok()) << threads.status().ToString();
  ASSERT_EQ(threads->size(), 65u);
  for (const CapturedThread& t : *threads) EXPECT_EQ(t.error, "") << "tid " << t.tid;
  EXPECT_GT(most_traced, 1) << "never more than one thread waited for at once";
  EXPECT_LE(most_traced, static_cast<int>(kStopWindow));
  EXPECT_TRUE((*target)->TracedThreads().empty());
  StatusOr<int> code = (*target)->Quit();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
}

// stop_early (the tool's budget) said stop while several threads were interrupted: those are still
// taken and handed over detached, no further thread is stopped, and the rest say why.
TEST(ThreadCaptureTest, StopEarlyTakesTheThreadsInFlightAndStopsNoMore) {
  StatusOr<std::unique_ptr<TargetProcess>> target = StartSlowToStop();
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  const std::map<int, std::string> names = (*target)->ThreadNames();
  ThreadCaptureRequest request = PatientRequest((*target)->Pid());
  bool several_in_flight = false;
  int asked_after_stop = 0;
  request.stop_early = [&] {
    if (several_in_flight) ++asked_after_stop;
    return several_in_flight;
  };
  request.on_resumed = [&](CapturedThread& t) {
    EXPECT_EQ(StatusLine(request.pid, t.tid, "TracerPid:"), "TracerPid:\t0");
    if (CountTraced(request.pid, names) > 1) several_in_flight = true;
    std::vector<uint8_t>().swap(t.stack.bytes);
  };
  StatusOr<std::vector<CapturedThread>> threads = CaptureThreadStates(HostProc(), request);
  ASSERT_TRUE(threads.ok()) << threads.status().ToString();
  ASSERT_EQ(threads->size(), 65u);
  ASSERT_TRUE(several_in_flight) << "the window never held more than one thread";
  int captured = 0, left = 0;
  for (const CapturedThread& t : *threads) {
    if (t.error.empty()) {
      ++captured;
    } else {
      EXPECT_EQ(t.error, "budget reached before this thread was stopped") << "tid " << t.tid;
      EXPECT_EQ(t.error_number, ECANCELED);
      ++left;
    }
  }
  EXPECT_GE(captured, 2);
  EXPECT_GE(left, 1);
  // Asked once, when it first said stop: never again for threads it will not stop.
  EXPECT_EQ(asked_after_stop, 1);
  EXPECT_TRUE((*target)->TracedThreads().empty());
  StatusOr<int> code = (*target)->Quit();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
}

std::atomic<int> child_signals{0};
void CountChildSignal(int) { child_signals.fetch_add(1); }

TEST(ThreadCaptureTest, CallersChildSignalIsNotSwallowed) {
  StatusOr<std::unique_ptr<TargetProcess>> target =
      TargetProcess::Start({STACKS_PARKED_NOFP, "--idle", "50"});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  struct sigaction counting {};
  counting.sa_handler = CountChildSignal;
  sigemptyset(&counting.sa_mask);
  struct sigaction previous {};
  ASSERT_EQ(sigaction(SIGCHLD, &counting, &previous), 0);
  child_signals = 0;
  // A child of ours exits while SIGCHLD is blocked: its SIGCHLD is pending when the capture starts,
  // so the capture's own wait for stop notifications consumes it.
  sigset_t child_signal;
  sigset_t old_mask;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &child_signal, &old_mask);
  pid_t quick = fork();
  if (quick == 0) _exit(0);
  siginfo_t exited{};
  waitid(P_PID, static_cast<id_t>(quick), &exited, WEXITED | WNOWAIT);
  ThreadCaptureRequest request;
  request.pid = (*target)->Pid();
  StatusOr<std::vector<CapturedThread>> threads = CaptureThreadStates(HostProc(), request);
  waitpid(quick, nullptr, 0);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);  // a pending SIGCHLD is delivered here
  sigaction(SIGCHLD, &previous, nullptr);
  ASSERT_TRUE(threads.ok()) << threads.status().ToString();
  EXPECT_GT(child_signals.load(), 0) << "the SIGCHLD for our own child never reached its handler";
  StatusOr<int> code = (*target)->Quit();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
}

TEST(ThreadCaptureTest, MissingProcessIsNotFound) {
  ThreadCaptureRequest request;
  request.pid = 0x7ffffff0;
  EXPECT_EQ(CaptureThreadStates(HostProc(), request).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ephemera::stacks
