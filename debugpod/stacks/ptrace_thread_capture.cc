#include "debugpod/stacks/ptrace_thread_capture.h"

#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <set>
#include <string_view>
#include <system_error>
#include <thread>

#include "debugpod/stacks/errno_name.h"

namespace ephemera::stacks {
namespace {

using Clock = std::chrono::steady_clock;

// Waiting for a stop: waitpid(WNOHANG), then sleep in sigtimedwait for the SIGCHLD the kernel sends
// the tracer when the thread stops (SIGCHLD is blocked on the capture thread and, during the
// capture, on the calling thread, so it stays pending for us). A blocking waitpid could not honour
// the timeout. The SIGCHLD is sent to the tracer's process, not to the capture thread: if another
// thread of the process leaves SIGCHLD unblocked, it goes there and is discarded. So each sleep is
// bounded, starting at kMinSignalWait and doubling up to kMaxSignalWait: a lost signal costs a
// quickly stopping thread at most 50 µs more, and a thread that takes long to stop (it waits for
// a busy CPU) costs a few dozen wakeups, not one every 50 µs.
constexpr auto kMinSignalWait = std::chrono::microseconds(50);
constexpr auto kMaxSignalWait = std::chrono::microseconds(1000);

// Before sleeping, poll for the stop this long. A thread that is running or asleep in the kernel
// reaches its stop within microseconds of PTRACE_INTERRUPT; a tracer that is still on a CPU then
// sees it at once, while one asleep in sigtimedwait must first be woken and scheduled, which on a
// busy machine takes milliseconds that the thread spends stopped. Bounded, so a thread that needs
// long to be scheduled costs at most this much CPU.
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(150);

// The slice the capture thread asks the scheduler for (sched_attr::sched_runtime of a fair task,
// Linux >= 6.12, clamped to 0.1-100 ms there and ignored before). A short slice gives the thread
// an early deadline, so on a busy CPU its wakeup after a stop preempts the running task instead of
// queueing behind it. Needs no privilege; failure changes nothing but latency.
constexpr uint64_t kCaptureSliceNanos = 100'000;

struct SchedAttr {  // struct sched_attr of sched_setattr(2); glibc has no wrapper
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

// Asks for a short scheduler slice for the calling thread, keeping its policy (SCHED_OTHER) and
// nice value. Best effort.
void RequestShortSlice() {
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = SCHED_OTHER;
  errno = 0;
  const int nice_value = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  attr.sched_nice = errno == 0 ? nice_value : 0;
  attr.sched_runtime = kCaptureSliceNanos;
  syscall(SYS_sched_setattr, 0, &attr, 0);
}

bool HasDeadline(Clock::time_point deadline) { return deadline != Clock::time_point{}; }

// The TracerPid line of a thread's status, 0 if none or unreadable.
int TracerOf(const procfs::ProcFs& proc, int pid, int tid) {
  StatusOr<std::string> status = proc.ReadTaskFile(pid, tid, "status");
  if (!status.ok()) return 0;
  std::string_view text = *status;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.starts_with("TracerPid:")) continue;
    line.remove_prefix(10);
    while (!line.empty() && (line[0] == ' ' || line[0] == '\t')) line.remove_prefix(1);
    int tracer = 0;
    std::from_chars(line.data(), line.data() + line.size(), tracer);
    return tracer;
  }
  return 0;
}

#if defined(__x86_64__)

RegisterSet ToRegisterSet(const user_regs_struct& r) {
  RegisterSet set;
  set.Set(kRegRax, r.rax);
  set.Set(kRegRdx, r.rdx);
  set.Set(kRegRcx, r.rcx);
  set.Set(kRegRbx, r.rbx);
  set.Set(kRegRsi, r.rsi);
  set.Set(kRegRdi, r.rdi);
  set.Set(kRegRbp, r.rbp);
  set.Set(kRegRsp, r.rsp);
  const unsigned long long high[] = {r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15};
  for (int i = 0; i < 8; ++i) set.Set(kRegR8 + i, high[i]);
  set.Set(kRegRip, r.rip);
  return set;
}

// Per-capture state of the stop loop. Lives on the worker thread that is the tracer.
class StopLoop {
 public:
  StopLoop(const procfs::ProcFs& proc, const ThreadCaptureRequest& request)
      : proc_(proc), request_(request) {}
  ~StopLoop() {
    if (mem_fd_ >= 0) close(mem_fd_);
  }
  StopLoop(const StopLoop&) = delete;
  StopLoop& operator=(const StopLoop&) = delete;

  CapturedThread Capture(int tid);
  // Detaches threads that reached their stop after their timeout.
  void ReleaseLateStops();
  // Whether a SIGCHLD was consumed. SIGCHLD does not queue, so one that also stood for a child of
  // the calling process (merged into a pending stop notification) may be among them.
  bool ConsumedChildSignal() const { return consumed_child_signal_; }

 private:
  enum class WaitOutcome { kStopped, kExited, kTimedOut, kFailed };
  WaitOutcome WaitForStop(int tid, Clock::time_point give_up, int& status);
  void CopyStack(CapturedThread& thread);

  const procfs::ProcFs& proc_;
  const ThreadCaptureRequest& request_;
  bool vm_readv_usable_ = true;
  int mem_fd_ = -1;
  std::vector<int> late_;
  bool consumed_child_signal_ = false;
};

StopLoop::WaitOutcome StopLoop::WaitForStop(int tid, Clock::time_point give_up, int& status) {
  const Clock::time_point spin_until = std::min(give_up, Clock::now() + kSpinBeforeSleep);
  while (Clock::now() < spin_until) {
    const pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
    if (r == tid) return WIFSTOPPED(status) ? WaitOutcome::kStopped : WaitOutcome::kExited;
    if (r < 0 && errno != EINTR) return WaitOutcome::kFailed;
  }
  sigset_t child_signal;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  Clock::duration sleep_cap = kMinSignalWait;
  while (true) {
    pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
    if (r == tid) return WIFSTOPPED(status) ? WaitOutcome::kStopped : WaitOutcome::kExited;
    if (r < 0 && errno != EINTR) return WaitOutcome::kFailed;
    Clock::time_point now = Clock::now();
    if (now >= give_up) return WaitOutcome::kTimedOut;
    auto wait = std::min<Clock::duration>(give_up - now, sleep_cap);
    sleep_cap = std::min<Clock::duration>(sleep_cap * 2, kMaxSignalWait);
    timespec ts{0, static_cast<long>(std::chrono::nanoseconds(wait).count())};
    siginfo_t info{};
    if (sigtimedwait(&child_signal, &info, &ts) == SIGCHLD) consumed_child_signal_ = true;
  }
}

void StopLoop::CopyStack(CapturedThread& thread) {
  // thread.stack.bytes was allocated before the thread was stopped; only the copy happens here.
  std::optional<uint64_t> sp = thread.registers.Get(kRegRsp);
  if (!sp) return;
  size_t length = thread.stack.bytes.size();
  if (const procfs::MapEntry* mapping = procfs::FindMapping(request_.maps, *sp)) {
    length = static_cast<size_t>(std::min<uint64_t>(length, mapping->end - *sp));
  }
  std::span<uint8_t> out(thread.stack.bytes.data(), length);
  thread.stack.base = *sp;
  if (length == 0) return;
  if (vm_readv_usable_) {
    StatusOr<size_t> copied = ReadMemoryWithProcessVmReadv(thread.tid, *sp, out);
    if (copied.ok()) {
      thread.stack.bytes.resize(*copied);
      thread.memory_source = MemorySource::kProcessVmReadv;
      return;
    }
    // Blocked by seccomp or not built into the kernel: use /proc/<pid>/mem from now on.
    if (copied.status().message().starts_with("ENOSYS") ||
        copied.status().message().starts_with("EPERM")) {
      vm_readv_usable_ = false;
    }
  }
  if (mem_fd_ < 0) {
    std::string path = request_.proc_root + "/" + std::to_string(request_.pid) + "/mem";
    mem_fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (mem_fd_ < 0) {
      thread.stack.bytes.clear();
      thread.copy_error = ErrnoName(errno) + " opening " + path;
      return;
    }
  }
  StatusOr<size_t> copied = ReadMemoryWithProcMem(mem_fd_, *sp, out);
  if (copied.ok()) {
    thread.stack.bytes.resize(*copied);
    thread.memory_source = MemorySource::kProcMem;
  } else {
    thread.stack.bytes.clear();
    thread.copy_error = copied.status().message();
  }
}

CapturedThread StopLoop::Capture(int tid) {
  CapturedThread thread;
  thread.tid = tid;
  auto fail = [&](int error_number, std::string message) {
    thread.error_number = error_number;
    thread.error = std::move(message);
    return thread;
  };

  // Allocate (and fault in) the copy's buffer before the thread is stopped.
  thread.stack.bytes.assign(request_.stack_bytes, 0);
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
    int e = errno;
    if (e == EPERM) {
      if (int tracer = TracerOf(proc_, request_.pid, tid); tracer != 0) {
        return fail(e, "EPERM: thread is already traced by pid " + std::to_string(tracer));
      }
      return fail(e,
                  "EPERM: ptrace not permitted (needs CAP_SYS_PTRACE or same uid and "
                  "ptrace_scope 0)");
    }
    if (e == ESRCH) return fail(e, "ESRCH: thread exited before it could be stopped");
    return fail(e, ErrnoName(e) + ": PTRACE_SEIZE failed");
  }

  Clock::time_point start = Clock::now();
  auto finish = [&] {
    thread.freeze = std::chrono::ceil<std::chrono::microseconds>(Clock::now() - start);
  };
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
    int e = errno;
    // Not stopped, so PTRACE_DETACH cannot run; the kernel releases it when the worker exits.
    late_.push_back(tid);
    finish();
    return fail(e, ErrnoName(e) + ": PTRACE_INTERRUPT failed");
  }
  Clock::time_point give_up = start + request_.stop_timeout;
  if (HasDeadline(request_.deadline)) give_up = std::min(give_up, request_.deadline);
  int status = 0;
  switch (WaitForStop(tid, give_up, status)) {
    case WaitOutcome::kStopped:
      break;
    case WaitOutcome::kExited:
      finish();
      return fail(ESRCH, "ESRCH: thread exited while being stopped");
    case WaitOutcome::kTimedOut:
      late_.push_back(tid);
      finish();
      return fail(ETIMEDOUT,
                  "ETIMEDOUT: thread did not stop in time (uninterruptible sleep?); it was "
                  "released without being captured");
    case WaitOutcome::kFailed: {
      int e = errno;
      late_.push_back(tid);
      finish();
      return fail(e, ErrnoName(e) + ": waiting for the thread to stop failed");
    }
  }
  const Clock::time_point seen = Clock::now();
  // A signal that arrived first leaves the thread in signal-delivery-stop: hand it back on detach.
  int pending_signal = (status >> 16) == 0 ? WSTOPSIG(status) : 0;

  user_regs_struct regs{};
  iovec iov{&regs, sizeof regs};
  bool have_registers =
      ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_PRSTATUS), &iov) == 0;
  int register_error = errno;
  if (have_registers) {
    thread.registers = ToRegisterSet(regs);
    CopyStack(thread);
  }
  // NOLINTNEXTLINE(performance-no-int-to-ptr): ptrace takes the signal number as its data pointer
  auto* signal_data = reinterpret_cast<void*>(static_cast<intptr_t>(pending_signal));
  ptrace(PTRACE_DETACH, tid, nullptr, signal_data);
  // One clock reading ends both intervals, so `held` can never exceed `freeze` even when this
  // tool is preempted right after the detach.
  const Clock::time_point released = Clock::now();
  thread.freeze = std::chrono::ceil<std::chrono::microseconds>(released - start);
  thread.held = std::chrono::ceil<std::chrono::microseconds>(released - seen);
  if (!have_registers) {
    return fail(register_error, ErrnoName(register_error) + ": PTRACE_GETREGSET failed");
  }
  return thread;
}

void StopLoop::ReleaseLateStops() {
  for (int tid : late_) {
    int status = 0;
    if (waitpid(tid, &status, __WALL | WNOHANG) == tid && WIFSTOPPED(status)) {
      ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
    }
  }
}

// The thread ids `proc` lists for `pid`, sorted; NotFound when the process is gone or has none.
StatusOr<std::vector<int>> ListThreads(const procfs::ProcFs& proc, int pid) {
  StatusOr<std::vector<int>> tids = proc.ListTasks(pid);
  if (!tids.ok() && tids.status().code() == StatusCode::kNotFound) {
    return NotFoundError("process " + std::to_string(pid) + " not found");
  }
  if (!tids.ok()) return tids.status();
  std::erase(*tids, 0);
  if (tids->empty()) return NotFoundError("process " + std::to_string(pid) + " has no threads");
  return tids;
}

std::vector<CapturedThread> RunStopLoop(const procfs::ProcFs& proc,
                                        const ThreadCaptureRequest& request,
                                        const std::vector<int>& first_listing) {
  std::vector<CapturedThread> out;
  std::set<int> seen;
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // this thread only: short waits stay short
  RequestShortSlice();                     // this thread only: wakeups after a stop preempt
  StopLoop loop(proc, request);
  out.reserve(first_listing.size() + 16);
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<int> tids = first_listing;
    if (pass > 0) {
      StatusOr<std::vector<int>> again = ListThreads(proc, request.pid);
      if (!again.ok()) break;
      tids = std::move(*again);
    }
    for (int tid : tids) {
      if (!seen.insert(tid).second) continue;
      if (HasDeadline(request.deadline) && Clock::now() >= request.deadline) {
        CapturedThread skipped;
        skipped.tid = tid;
        skipped.error_number = ETIMEDOUT;
        skipped.error = "deadline exceeded before this thread was stopped";
        out.push_back(std::move(skipped));
        continue;
      }
      if (request.stop_early && request.stop_early()) {
        CapturedThread skipped;
        skipped.tid = tid;
        skipped.error_number = ECANCELED;
        skipped.error = "budget reached before this thread was stopped";
        out.push_back(std::move(skipped));
        continue;
      }
      out.push_back(loop.Capture(tid));
      if (request.on_resumed) request.on_resumed(out.back());
    }
  }
  loop.ReleaseLateStops();
  // Give the caller's SIGCHLD handler, if it has one, the signal it may have missed (it becomes
  // deliverable once CaptureThreadStates restores the caller's signal mask).
  struct sigaction current {};
  if (loop.ConsumedChildSignal() && sigaction(SIGCHLD, nullptr, &current) == 0 &&
      current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN) {
    kill(getpid(), SIGCHLD);
  }
  std::sort(out.begin(), out.end(),
            [](const CapturedThread& a, const CapturedThread& b) { return a.tid < b.tid; });
  return out;
}

#endif  // defined(__x86_64__)

}  // namespace

StatusOr<size_t> ReadMemoryWithProcessVmReadv(int pid, uint64_t address, std::span<uint8_t> out) {
  iovec local{out.data(), out.size()};
  // NOLINTNEXTLINE(performance-no-int-to-ptr): a remote address, never dereferenced here
  iovec remote{reinterpret_cast<void*>(address), out.size()};
  ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n <= 0) {
    int e = n < 0 ? errno : EFAULT;
    return UnavailableError(ErrnoName(e) + ": process_vm_readv failed");
  }
  return static_cast<size_t>(n);
}

StatusOr<size_t> ReadMemoryWithProcMem(int mem_fd, uint64_t address, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        pread(mem_fd, out.data() + done, out.size() - done, static_cast<off_t>(address + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (done > 0) break;  // the rest is not mapped
      int e = n < 0 ? errno : EFAULT;
      return UnavailableError(ErrnoName(e) + ": reading /proc/<pid>/mem failed");
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

StatusOr<std::vector<CapturedThread>> CaptureThreadStates(const procfs::ProcFs& proc,
                                                          const ThreadCaptureRequest& request) {
#if defined(__x86_64__)
  StatusOr<std::vector<int>> tids = ListThreads(proc, request.pid);
  if (!tids.ok()) return tids.status();
  std::vector<CapturedThread> out;
  // The tracer is this short-lived thread: as it exits, the kernel detaches anything still
  // attached, so a thread that missed its stop cannot stay stopped for long.
  // SIGCHLD is blocked here while the capture runs (the worker inherits the mask) so that the
  // kernel's stop notifications wait for the worker's sigtimedwait instead of being discarded here.
  sigset_t child_signal;
  sigset_t previous;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &child_signal, &previous);
  Status started = OkStatus();
  try {
    std::thread worker([&] { out = RunStopLoop(proc, request, *tids); });
    worker.join();
  } catch (const std::system_error& e) {
    started = ResourceExhaustedError(std::string("cannot start the capture thread: ") + e.what());
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (!started.ok()) return started;
  return out;
#else
  (void)proc;
  (void)request;
  return FailedPreconditionError("stack capture supports x86-64 only");
#endif
}

}  // namespace ephemera::stacks
