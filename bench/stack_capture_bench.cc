// ephemera-bench-stacks: how long stack capture freezes the threads of a target process.
//
// Forks a target with N parked threads (half on a condition variable, half in a nanosleep loop,
// each a few calls deep), then measures, per thread and in total:
//   capture         CaptureStacks: one thread stopped at a time, registers and 32 KiB of stack
//                   copied, then resumed; unwinding and symbolization afterwards
//   bare-stop       the floor: PTRACE_SEIZE + INTERRUPT + wait + DETACH per thread, nothing copied
//   stop-the-world  the naive alternative: stop every thread, copy each, then resume them all
// and prints the ratios of the stop-the-world freeze to ours. Run as root (or with CAP_SYS_PTRACE).
//
//   ephemera-bench-stacks [--runs R] [--threads N,M,...]
#include <dirent.h>
#include <elf.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/stacks/stack_capture.h"

namespace {

using Clock = std::chrono::steady_clock;
using Micros = std::chrono::microseconds;

constexpr size_t kStackBytes = size_t{32} * 1024;

// The decimal number `text` holds entirely, or `fallback`.
int ParseInt(std::string_view text, int fallback) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size() ? value : fallback;
}

// ---- the target process ----

std::mutex target_mu;
std::condition_variable target_cv;
std::atomic<bool> target_stopping{false};  // never set: the target is killed

[[gnu::noinline]] void WaitOnCondition() {
  std::unique_lock<std::mutex> lock(target_mu);
  target_cv.wait(lock, [] { return target_stopping.load(); });
}

[[gnu::noinline]] void SleepInLoop() {
  while (!target_stopping.load()) {
    timespec ts{0, 20'000'000};
    nanosleep(&ts, nullptr);
  }
}

[[gnu::noinline]] void Depth(int levels, int index) {
  if (levels > 0) {
    Depth(levels - 1, index);
  } else if (index % 2 == 0) {
    WaitOnCondition();
  } else {
    SleepInLoop();
  }
  asm volatile("" ::: "memory");
}

// Forks a child running `threads` parked threads plus its main thread; returns once all started.
pid_t StartTarget(int threads) {
  int ready[2];
  if (pipe(ready) != 0) std::exit(1);
  pid_t pid = fork();
  if (pid != 0) {
    close(ready[1]);
    char c;
    if (read(ready[0], &c, 1) != 1) std::exit(1);
    close(ready[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return pid;
  }
  std::atomic<int> started{0};
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([i, &started] {
      started.fetch_add(1);
      Depth(4, i);
    });
  }
  while (started.load() < threads) std::this_thread::yield();
  if (write(ready[1], "r", 1) != 1) _exit(1);
  while (true) pause();
}

void StopTarget(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

std::vector<int> Tids(pid_t pid) {
  std::vector<int> tids;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  while (d != nullptr) {
    dirent* e = readdir(d);
    if (e == nullptr) break;
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') tids.push_back(ParseInt(e->d_name, 0));
  }
  if (d != nullptr) closedir(d);
  std::sort(tids.begin(), tids.end());
  return tids;
}

// ---- baselines with raw ptrace ----

bool StopAndWait(int tid) {
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) return false;
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) return false;
  int status = 0;
  return waitpid(tid, &status, __WALL) == tid && WIFSTOPPED(status);
}

void CopyState(int pid, int tid, std::vector<uint8_t>& buffer) {
  user_regs_struct regs{};
  iovec iov{&regs, sizeof regs};
  ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_PRSTATUS), &iov);
  iovec local{buffer.data(), buffer.size()};
  // NOLINTNEXTLINE(performance-no-int-to-ptr): a remote address
  iovec remote{reinterpret_cast<void*>(regs.rsp), buffer.size()};
  process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

// Per-thread freeze of the floor: stop, detach, nothing else.
std::vector<Micros> BareStop(pid_t pid) {
  std::vector<Micros> out;
  for (int tid : Tids(pid)) {
    Clock::time_point start = Clock::now();
    if (!StopAndWait(tid)) continue;
    ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
    out.push_back(std::chrono::ceil<Micros>(Clock::now() - start));
  }
  return out;
}

// Per-thread freeze when every thread is stopped first and all resume at the end.
std::vector<Micros> StopTheWorld(pid_t pid) {
  std::vector<int> tids = Tids(pid);
  std::vector<Clock::time_point> stopped_at;
  std::vector<int> stopped;
  std::vector<uint8_t> buffer(kStackBytes);
  for (int tid : tids) {
    Clock::time_point start = Clock::now();
    if (StopAndWait(tid)) {
      stopped.push_back(tid);
      stopped_at.push_back(start);
    }
  }
  for (int tid : stopped) CopyState(pid, tid, buffer);
  std::vector<Micros> out;
  for (size_t i = 0; i < stopped.size(); ++i) {
    ptrace(PTRACE_DETACH, stopped[i], nullptr, nullptr);
    out.push_back(std::chrono::ceil<Micros>(Clock::now() - stopped_at[i]));
  }
  return out;
}

// ---- statistics ----

struct Summary {
  double p50 = 0;
  double p95 = 0;
  double max = 0;
};

Summary Summarize(std::vector<double> values) {
  Summary s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  auto at = [&](double q) {
    return values[static_cast<size_t>(q * static_cast<double>(values.size() - 1))];
  };
  s.p50 = at(0.5);
  s.p95 = at(0.95);
  s.max = values.back();
  return s;
}

double Median(std::vector<double> values) { return Summarize(std::move(values)).p50; }

struct MethodResult {
  Summary per_thread;
  double total_median = 0;  // sum over threads of one run, median over runs
  double max_median = 0;    // max over threads of one run, median over runs
  double wall_median_ms = 0;
};

template <typename Run>
MethodResult Measure(int runs, Run run) {
  std::vector<double> per_thread;
  std::vector<double> totals;
  std::vector<double> maxes;
  std::vector<double> walls;
  for (int r = 0; r < runs; ++r) {
    Clock::time_point start = Clock::now();
    std::vector<Micros> freezes = run();
    walls.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    double total = 0;
    double max = 0;
    for (Micros f : freezes) {
      per_thread.push_back(static_cast<double>(f.count()));
      total += static_cast<double>(f.count());
      max = std::max(max, static_cast<double>(f.count()));
    }
    totals.push_back(total);
    maxes.push_back(max);
  }
  return {Summarize(per_thread), Median(totals), Median(maxes), Median(walls)};
}

void Print(int threads, const char* method, const MethodResult& m) {
  std::printf("%7d  %-15s %8.0f %8.0f %8.0f   %10.0f %10.0f   %9.2f\n", threads, method,
              m.per_thread.p50, m.per_thread.p95, m.per_thread.max, m.total_median, m.max_median,
              m.wall_median_ms);
}

// Targets this big get at most kBigTargetRuns runs per row, to keep `make bench` short.
constexpr int kBigTarget = 500;
constexpr int kBigTargetRuns = 5;

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows appear as they are measured
  int runs = 20;
  std::vector<int> sizes = {10, 100, 1000};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::max(1, ParseInt(argv[++i], 1));
    } else if (arg == "--threads" && i + 1 < argc) {
      sizes.clear();
      std::string list = argv[++i];
      for (size_t pos = 0; pos < list.size();) {
        size_t comma = list.find(',', pos);
        sizes.push_back(std::max(0, ParseInt(list.substr(pos, comma - pos), 0)));
        pos = comma == std::string::npos ? list.size() : comma + 1;
      }
    } else {
      std::fprintf(stderr, "usage: ephemera-bench-stacks [--runs R] [--threads N,M,...]\n");
      return 2;
    }
  }

  std::printf(
      "ephemera-bench-stacks: freeze per target thread, %d runs per row (at most %d from %d "
      "threads), "
      "%zu-byte stack slice\n",
      runs, kBigTargetRuns, kBigTarget, kStackBytes);
  std::printf("%7s  %-15s %8s %8s %8s   %10s %10s   %9s\n", "threads", "method", "p50 us", "p95 us",
              "max us", "total us", "max/run us", "wall ms");
  for (int n : sizes) {
    const int row_runs = n >= kBigTarget ? std::min(runs, kBigTargetRuns) : runs;
    pid_t target = StartTarget(n);
    int total_threads = n + 1;
    int frames = 0;
    int symbolized = 0;
    std::string failure;
    MethodResult capture = Measure(row_runs, [&] {
      const ephemera::procfs::RealProcFs proc("/proc", ephemera::stacks::kMaxMapsBytes);
      ephemera::stacks::StackCaptureOptions options;
      options.stack_bytes = kStackBytes;
      options.deadline = Clock::now() + std::chrono::seconds(10);
      ephemera::StatusOr<ephemera::stacks::ProcessStacks> stacks =
          ephemera::stacks::CaptureStacks(target, proc, options);
      std::vector<Micros> out;
      if (!stacks.ok()) {
        failure = stacks.status().ToString();
        return out;
      }
      frames = 0;
      symbolized = 0;
      for (const auto& t : stacks->threads) {
        out.push_back(t.freeze);
        frames += static_cast<int>(t.frames.size());
        for (const auto& f : t.frames) symbolized += f.symbol.empty() ? 0 : 1;
      }
      return out;
    });
    if (!failure.empty()) {
      std::fprintf(stderr, "capture failed: %s\n", failure.c_str());
      StopTarget(target);
      return 1;
    }
    MethodResult bare = Measure(row_runs, [&] { return BareStop(target); });
    MethodResult world = Measure(row_runs, [&] { return StopTheWorld(target); });
    Print(total_threads, "capture", capture);
    Print(total_threads, "bare-stop", bare);
    Print(total_threads, "stop-the-world", world);
    std::printf(
        "%7d  last capture: %d frames, %d symbolized; stop-the-world / capture: max freeze per "
        "thread %.1fx, per-thread p50 %.1fx\n",
        total_threads, frames, symbolized,
        capture.max_median > 0 ? world.max_median / capture.max_median : 0.0,
        capture.per_thread.p50 > 0 ? world.per_thread.p50 / capture.per_thread.p50 : 0.0);
    StopTarget(target);
  }
  return 0;
}
