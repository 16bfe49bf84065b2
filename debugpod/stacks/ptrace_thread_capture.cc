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
#include <deque>
#include <optional>
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

// The window (kStopWindow threads interrupted at once, see the header) opens one more thread each
// time this passes without a stop being seen: a thread that is running or asleep stops within
// microseconds, so threads that stop at once are taken one at a time, none waiting behind
// another's copy, while threads that wait for a busy CPU are waited for together.
constexpr auto kWidenAfter = std::chrono::microseconds(200);

// How long CaptureThreadStates waits, after the capture thread exited, for the kernel to detach
// the threads that never reached their stop (it does so as the tracer exits; microseconds).
constexpr auto kReleaseWait = std::chrono::seconds(1);

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

// Per-capture state: the threads still to do, the window of threads interrupted and not yet seen
// stopped, the results waiting for on_resumed, and the threads given up on that are still attached
// (a thread that never reached its stop cannot be detached; the tracer's exit releases it). Lives
// on the worker thread that is the tracer.
class StopWindow {
 public:
  StopWindow(const procfs::ProcFs& proc, const ThreadCaptureRequest& request,
             std::vector<int> first_listing)
      : proc_(proc), request_(request), tids_(std::move(first_listing)) {
    opened_ = !request_.on_resumed;
    out_.reserve(tids_.size() + 16);  // no reallocation while threads are stopped, as a rule
  }
  ~StopWindow() {
    if (mem_fd_ >= 0) close(mem_fd_);
  }
  StopWindow(const StopWindow&) = delete;
  StopWindow& operator=(const StopWindow&) = delete;

  // Captures every thread. Afterwards no thread is stopped; StillAttached() lists those that never
  // reached a stop and are still traced until this thread exits.
  void Run();
  // The results, sorted by tid.
  std::vector<CapturedThread> TakeResults();
  std::vector<int> StillAttached() const;
  // Whether a SIGCHLD was consumed. SIGCHLD does not queue, so one that also stood for a child of
  // the calling process (merged into a pending stop notification) may be among them.
  bool ConsumedChildSignal() const { return consumed_child_signal_; }

 private:
  struct Attached {
    int tid = 0;
    size_t index = 0;  // into out_
    Clock::time_point interrupted;
  };

  bool PastDeadline(Clock::time_point now) const {
    return HasDeadline(request_.deadline) && now >= request_.deadline;
  }
  // Asks request_.stop_early (once it said stop, no more): false once no further thread may be
  // stopped. Asked only when there is another thread to stop; past the deadline it is not asked
  // (that stop is the deadline's, reported as such).
  bool MayStartAnother() {
    if (!stopped_early_ && !PastDeadline(Clock::now()) && request_.stop_early &&
        request_.stop_early()) {
      stopped_early_ = true;
    }
    return !stopped_early_;
  }
  bool HasMoreThreads() const { return next_ < tids_.size() || !relisted_; }
  std::optional<int> NextThread();
  bool MayWiden(Clock::time_point now) const;
  void Start(int tid);
  void Reap(pid_t tid, int status, Clock::time_point seen);
  void CopyAndDetach(const Attached& thread, int status, Clock::time_point seen);
  void GiveUp(size_t position, int error_number, std::string message);
  void GiveUpOnSlowThreads(Clock::time_point now);
  void RunOnePending();
  void Wait(Clock::time_point now);
  void ReleaseStoppedLateThreads();
  void CopyStack(CapturedThread& thread);

  const procfs::ProcFs& proc_;
  const ThreadCaptureRequest& request_;
  std::vector<int> tids_;
  size_t next_ = 0;
  bool relisted_ = false;
  std::set<int> seen_;
  std::vector<CapturedThread> out_;
  std::vector<Attached> in_flight_;  // interrupted, not yet seen stopped; at most kStopWindow
  std::vector<Attached> late_;       // given up on, still attached
  std::deque<size_t> pending_;       // results not yet handed to on_resumed
  // When the latest wait for a stop that found none began: every thread still attached was
  // running (or asleep) then, so a thread seen stopped later stopped after it.
  Clock::time_point not_stopped_at_;
  Clock::time_point last_interrupt_;
  // When the window may take one more thread: kWidenAfter after the first thread of an empty
  // window was interrupted, then kWidenAfter later for each thread added, and never sooner than
  // kWidenAfter after the last stop seen. Kept on that schedule rather than counted from each
  // interrupt, so a tool that was kept off the CPU for milliseconds (a loaded node) catches up at
  // once instead of adding one thread per wakeup.
  Clock::time_point widen_at_;
  Clock::duration sleep_cap_ = kMinSignalWait;
  // Whether more than one thread may be interrupted at once: only after the first captured stack
  // was handed to on_resumed, whose unwind loads the modules most threads share (the binary, libc)
  // while no other thread is interrupted.
  bool opened_ = false;
  bool vm_readv_usable_ = true;
  int mem_fd_ = -1;
  bool consumed_child_signal_ = false;
  bool stopped_early_ = false;  // request_.stop_early said so: no further thread is stopped
};

std::optional<int> StopWindow::NextThread() {
  while (true) {
    while (next_ < tids_.size()) {
      int tid = tids_[next_++];
      if (seen_.insert(tid).second) return tid;
    }
    if (relisted_) return std::nullopt;
    // Once more, for threads created meanwhile.
    relisted_ = true;
    StatusOr<std::vector<int>> again = ListThreads(proc_, request_.pid);
    if (!again.ok()) return std::nullopt;
    tids_ = std::move(*again);
    next_ = 0;
  }
}

bool StopWindow::MayWiden(Clock::time_point now) const {
  if (!opened_ || stopped_early_ || in_flight_.size() >= kStopWindow) return false;
  // Each result waiting for on_resumed may hold a stack copy: keep them as few as the window.
  if (pending_.size() >= kStopWindow) return false;
  return now >= widen_at_;
}

void StopWindow::Start(int tid) {
  const size_t index = out_.size();
  CapturedThread& thread = out_.emplace_back();
  thread.tid = tid;
  auto fail = [&](int error_number, std::string message) {
    thread.error_number = error_number;
    thread.error = std::move(message);
    std::vector<uint8_t>().swap(thread.stack.bytes);
    if (request_.on_resumed) pending_.push_back(index);
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
  const Clock::time_point interrupted = Clock::now();
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
    int e = errno;
    // Not stopped, so PTRACE_DETACH cannot run; the kernel releases it when the worker exits.
    late_.push_back({tid, index, interrupted});
    return fail(e, ErrnoName(e) + ": PTRACE_INTERRUPT failed");
  }
  widen_at_ = in_flight_.empty() ? interrupted + kWidenAfter : widen_at_ + kWidenAfter;
  in_flight_.push_back({tid, index, interrupted});
  last_interrupt_ = interrupted;
  sleep_cap_ = kMinSignalWait;
}

void StopWindow::CopyStack(CapturedThread& thread) {
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

void StopWindow::Reap(pid_t tid, int status, Clock::time_point seen) {
  sleep_cap_ = kMinSignalWait;
  // A stop was seen: the window widens only after kWidenAfter passes without one, so threads that
  // stop at once keep being taken one at a time instead of waiting behind each other's copies.
  widen_at_ = std::max(widen_at_, seen + kWidenAfter);
  auto same_tid = [tid](const Attached& a) { return a.tid == tid; };
  if (auto it = std::find_if(in_flight_.begin(), in_flight_.end(), same_tid);
      it != in_flight_.end()) {
    const Attached thread = *it;
    in_flight_.erase(it);
    CapturedThread& result = out_[thread.index];
    if (WIFSTOPPED(status)) {
      CopyAndDetach(thread, status, seen);
    } else {
      result.error_number = ESRCH;
      result.error = "ESRCH: thread exited while being stopped";
      std::vector<uint8_t>().swap(result.stack.bytes);
    }
    if (request_.on_resumed) pending_.push_back(thread.index);
    return;
  }
  if (auto it = std::find_if(late_.begin(), late_.end(), same_tid); it != late_.end()) {
    // Given up on, and stopped (or exited) since: let it go at once. It stays uncaptured.
    if (WIFSTOPPED(status)) {
      const int pending_signal = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
      // NOLINTNEXTLINE(performance-no-int-to-ptr): the signal number is ptrace's data pointer
      ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(intptr_t{pending_signal}));
      out_[it->index].freeze = std::chrono::ceil<std::chrono::microseconds>(
          Clock::now() - std::max(it->interrupted, not_stopped_at_));
    }
    late_.erase(it);
    return;
  }
  // Every tracee of this thread is in one of the lists; release anything else all the same.
  if (WIFSTOPPED(status)) ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
}

void StopWindow::CopyAndDetach(const Attached& attached, int status, Clock::time_point seen) {
  CapturedThread& thread = out_[attached.index];
  // It stopped after the later of its interrupt and the last wait that found nothing stopped.
  const Clock::time_point running_at = std::max(attached.interrupted, not_stopped_at_);
  // A signal that arrived first leaves the thread in signal-delivery-stop: hand it back on detach.
  const int pending_signal = (status >> 16) == 0 ? WSTOPSIG(status) : 0;

  user_regs_struct regs{};
  iovec iov{&regs, sizeof regs};
  const bool have_registers =
      ptrace(PTRACE_GETREGSET, thread.tid, reinterpret_cast<void*>(NT_PRSTATUS), &iov) == 0;
  const int register_error = errno;
  if (have_registers) {
    thread.registers = ToRegisterSet(regs);
    CopyStack(thread);
  }
  // NOLINTNEXTLINE(performance-no-int-to-ptr): ptrace takes the signal number as its data pointer
  ptrace(PTRACE_DETACH, thread.tid, nullptr, reinterpret_cast<void*>(intptr_t{pending_signal}));
  // One clock reading ends both intervals, so `held` can never exceed `freeze` even when this
  // tool is preempted right after the detach.
  const Clock::time_point released = Clock::now();
  thread.freeze = std::chrono::ceil<std::chrono::microseconds>(released - running_at);
  thread.held = std::chrono::ceil<std::chrono::microseconds>(released - seen);
  if (!have_registers) {
    thread.error_number = register_error;
    thread.error = ErrnoName(register_error) + ": PTRACE_GETREGSET failed";
    std::vector<uint8_t>().swap(thread.stack.bytes);
  }
}

void StopWindow::GiveUp(size_t position, int error_number, std::string message) {
  const Attached thread = in_flight_[position];
  in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(position));
  CapturedThread& result = out_[thread.index];
  result.error_number = error_number;
  result.error = std::move(message);
  std::vector<uint8_t>().swap(result.stack.bytes);
  late_.push_back(thread);
  if (request_.on_resumed) pending_.push_back(thread.index);
}

void StopWindow::GiveUpOnSlowThreads(Clock::time_point now) {
  for (size_t i = 0; i < in_flight_.size();) {
    if (now - in_flight_[i].interrupted >= request_.stop_timeout) {
      GiveUp(i, ETIMEDOUT,
             "ETIMEDOUT: thread did not stop in time (uninterruptible sleep?); it was released "
             "without being captured");
    } else {
      ++i;
    }
  }
}

void StopWindow::RunOnePending() {
  const size_t index = pending_.front();
  pending_.pop_front();
  request_.on_resumed(out_[index]);
  if (out_[index].error.empty()) opened_ = true;
}

void StopWindow::Wait(Clock::time_point now) {
  // Right after an interrupt, poll instead of sleeping (see kSpinBeforeSleep).
  if (now - last_interrupt_ < kSpinBeforeSleep) return;
  Clock::time_point until = request_.deadline;
  if (!HasDeadline(until)) until = now + kMaxSignalWait;
  for (const Attached& thread : in_flight_) {
    until = std::min(until, thread.interrupted + request_.stop_timeout);
  }
  if (opened_ && !stopped_early_ && in_flight_.size() < kStopWindow && HasMoreThreads()) {
    until = std::min(until, widen_at_);
  }
  if (until <= now) return;
  auto wait = std::min<Clock::duration>(until - now, sleep_cap_);
  sleep_cap_ = std::min<Clock::duration>(sleep_cap_ * 2, kMaxSignalWait);
  sigset_t child_signal;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  timespec ts{0, static_cast<long>(std::chrono::nanoseconds(wait).count())};
  siginfo_t info{};
  if (sigtimedwait(&child_signal, &info, &ts) == SIGCHLD) consumed_child_signal_ = true;
}

void StopWindow::Run() {
  while (true) {
    const Clock::time_point polled = Clock::now();
    int status = 0;
    const pid_t reported = waitpid(-1, &status, __WALL | __WNOTHREAD | WNOHANG);
    if (reported > 0) {
      Reap(reported, status, Clock::now());
      continue;
    }
    if (reported < 0 && errno == EINTR) continue;
    // Nothing reported (or, ECHILD, nothing attached): no attached thread had stopped at `polled`.
    not_stopped_at_ = polled;
    const Clock::time_point now = Clock::now();
    if (PastDeadline(now)) break;
    GiveUpOnSlowThreads(now);
    if (in_flight_.empty()) {
      // Nothing is interrupted, so the callbacks delay no thread; then the next thread.
      while (!pending_.empty()) RunOnePending();
      if (!HasMoreThreads() || !MayStartAnother()) break;
      std::optional<int> tid = NextThread();
      if (!tid) break;
      Start(*tid);
      continue;
    }
    if (MayWiden(now) && HasMoreThreads() && MayStartAnother()) {
      if (std::optional<int> tid = NextThread()) {
        Start(*tid);
        continue;
      }
    }
    // Nothing stopped yet: use the wait for a callback (a thread that stops meanwhile waits for
    // it), else sleep until a stop, a timeout, or the time to widen the window.
    if (!pending_.empty()) {
      RunOnePending();
      continue;
    }
    Wait(now);
  }
  // The deadline passed, or every thread is done: give up on what has not stopped, report what
  // was not reached, and release whatever stopped since.
  while (!in_flight_.empty()) {
    GiveUp(0, ETIMEDOUT,
           "ETIMEDOUT: deadline exceeded while waiting for this thread to stop; it was released "
           "without being captured");
  }
  while (std::optional<int> tid = NextThread()) {
    CapturedThread& skipped = out_.emplace_back();
    skipped.tid = *tid;
    skipped.error_number = stopped_early_ ? ECANCELED : ETIMEDOUT;
    skipped.error = stopped_early_ ? "budget reached before this thread was stopped"
                                   : "deadline exceeded before this thread was stopped";
  }
  while (!pending_.empty()) RunOnePending();
  ReleaseStoppedLateThreads();
}

void StopWindow::ReleaseStoppedLateThreads() {
  while (!late_.empty()) {
    int status = 0;
    const pid_t reported = waitpid(-1, &status, __WALL | __WNOTHREAD | WNOHANG);
    if (reported < 0 && errno == EINTR) continue;
    if (reported <= 0) break;
    Reap(reported, status, Clock::now());
  }
}

std::vector<CapturedThread> StopWindow::TakeResults() {
  std::vector<CapturedThread> out = std::move(out_);
  std::sort(out.begin(), out.end(),
            [](const CapturedThread& a, const CapturedThread& b) { return a.tid < b.tid; });
  return out;
}

std::vector<int> StopWindow::StillAttached() const {
  std::vector<int> tids;
  for (const Attached& thread : late_) tids.push_back(thread.tid);
  return tids;
}

struct StopLoopResult {
  std::vector<CapturedThread> threads;
  std::vector<int> still_attached;  // released by the kernel as the worker exits
  int worker_tid = 0;
};

StopLoopResult RunStopLoop(const procfs::ProcFs& proc, const ThreadCaptureRequest& request,
                           const std::vector<int>& first_listing) {
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // this thread only: short waits stay short
  RequestShortSlice();                     // this thread only: wakeups after a stop preempt
  StopWindow window(proc, request, first_listing);
  window.Run();
  // Give the caller's SIGCHLD handler, if it has one, the signal it may have missed (it becomes
  // deliverable once CaptureThreadStates restores the caller's signal mask).
  struct sigaction current {};
  if (window.ConsumedChildSignal() && sigaction(SIGCHLD, nullptr, &current) == 0 &&
      current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN) {
    kill(getpid(), SIGCHLD);
  }
  return {window.TakeResults(), window.StillAttached(), static_cast<int>(gettid())};
}

// join() returns once the worker's exit has cleared its thread id, a moment before the kernel
// detaches the worker's remaining tracees: wait (briefly) until none of them names it as tracer.
void AwaitRelease(const procfs::ProcFs& proc, int pid, std::vector<int> tids, int worker_tid) {
  const Clock::time_point give_up = Clock::now() + kReleaseWait;
  while (!tids.empty() && Clock::now() < give_up) {
    std::erase_if(tids, [&](int tid) { return TracerOf(proc, pid, tid) != worker_tid; });
    if (!tids.empty()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
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
  // attached (a thread that never reached its stop cannot be detached otherwise), and this waits
  // for that before returning.
  // SIGCHLD is blocked here while the capture runs (the worker inherits the mask) so that the
  // kernel's stop notifications wait for the worker's sigtimedwait instead of being discarded here.
  sigset_t child_signal;
  sigset_t previous;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &child_signal, &previous);
  Status started = OkStatus();
  try {
    StopLoopResult result;
    std::thread worker([&] { result = RunStopLoop(proc, request, *tids); });
    worker.join();
    AwaitRelease(proc, request.pid, std::move(result.still_attached), result.worker_tid);
    out = std::move(result.threads);
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
