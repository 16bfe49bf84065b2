// ephemera-bench-freeze: how long a target's threads are frozen by a stack dump, seen from the
// target: CaptureStacks (the library call ephemera-snapshot makes) vs `eu-stack -p` vs
// `gdb -batch -p PID -ex 'thread apply all bt'`, on targets with 10, 100 and 1000 threads, and the
// whole `ephemera-snapshot --pid N --format json` (every section) on the same targets.
//
// Method, the same for every tool: a target process with N worker threads that never sleep (each
// loops "spin ~20 µs, sched_yield"). The time a worker spends neither running nor runnable,
// from /proc/<pid>/task/<tid>/schedstat read before and after the tool (wall time minus time on a
// CPU minus time waiting on a run queue), is time it was stopped by the tracer, at microsecond
// resolution. "noise" is the same figure over a window without any tool.
// Per tool and target: p50, p90 and max over threads and the total (sum over threads), medians
// over runs, and the wall time of the whole tool run (for CaptureStacks, the library call);
// CaptureStacks' own timing of each thread's freeze ("own": from the last moment it knew the thread
// was not stopped to the detach, an upper bound) and of its copy ("held", a lower bound); and for
// ephemera-snapshot its CPU time and peak RSS, from wait4 (the rusage of that child alone). Ratios
// against eu-stack and gdb: per-thread p50 and p90, total freeze and wall time. When the machine
// has two or more CPUs the target runs on the last one and the bench and the tools on the first.
//
// Every tool run has a time limit (kToolTimeout, longer for 1000 threads); a tool that exceeds it
// is killed and its row says so (its freeze figures are then lower bounds). Run as root (or with
// CAP_SYS_PTRACE).
//
//   ephemera-bench-freeze [--runs R] [--threads N,M,...] [--depth D] [--json FILE]
// --json FILE also writes each row (tool medians, ms) for bench/plot_bars.py.
// --depth: each worker spins D calls deep (default 1). Server threads typically sit 20-60 frames
// deep; a tool that unwinds while the thread is stopped (eu-stack, gdb) freezes it longer the
// deeper it is, while CaptureStacks copies a fixed slice of stack and unwinds after the thread runs
// again.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/stacks/stack_capture.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxThreads = 1024;
constexpr int64_t kSpinNanos = 20'000;
constexpr int kMaxDepth = 200;
constexpr auto kQuietWindow = std::chrono::milliseconds(300);
constexpr auto kSettle = std::chrono::milliseconds(50);
constexpr auto kRowBudget = std::chrono::seconds(5);
// How long the target's workers may take to start: 1000 of them on one CPU of a loaded machine
// need more than a few seconds.
constexpr auto kWorkerStart = std::chrono::seconds(30);
// Per tool run; the 1000-thread target gets the long one.
constexpr auto kToolTimeout = std::chrono::seconds(60);
constexpr auto kLongToolTimeout = std::chrono::seconds(90);
constexpr int kLongTimeoutThreads = 500;
constexpr double kGoalPerThreadMs = 0.1;
constexpr double kGoalRatioVsEuStack = 10.0;
// The whole capture of 1000 busy threads should fit well within a 20 s deadline.
constexpr auto kGoalCaptureWall = std::chrono::seconds(20);
constexpr long kGoalRssKib = long{16} * 1024;

// The decimal number `text` holds entirely, or `fallback`.
int ParseInt(std::string_view text, int fallback) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size() ? value : fallback;
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// ---- shared memory between the bench and the target ----

struct alignas(64) WorkerSlot {
  std::atomic<int64_t> last_nanos{0};     // timestamp of the latest iteration
  std::atomic<int64_t> max_gap_nanos{0};  // largest gap since epoch_seen began
  std::atomic<uint32_t> epoch_seen{0};
  std::atomic<int> tid{0};
};

struct SharedState {
  std::atomic<uint32_t> epoch{0};  // bumped by the monitor to start a new window
  WorkerSlot slots[kMaxThreads];
};

static_assert(std::atomic<int64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);

void PinToCpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

// A worker: spins ~20 µs, yields, and records when it last ran (for the gap monitor).
[[noreturn]] void Work(SharedState* shared, WorkerSlot* slot) {
  slot->tid.store(static_cast<int>(gettid()), std::memory_order_relaxed);
  uint32_t epoch = 0;
  int64_t last = NowNanos();
  int64_t max_gap = 0;
  for (;;) {
    uint32_t current = shared->epoch.load(std::memory_order_acquire);
    int64_t now = NowNanos();
    if (current != epoch) {
      epoch = current;
      max_gap = 0;
      slot->max_gap_nanos.store(0, std::memory_order_relaxed);
      slot->epoch_seen.store(current, std::memory_order_release);
    } else if (now - last > max_gap) {
      max_gap = now - last;
      slot->max_gap_nanos.store(max_gap, std::memory_order_relaxed);
    }
    slot->last_nanos.store(now, std::memory_order_relaxed);
    last = now;
    while (NowNanos() - now < kSpinNanos) {
    }
    sched_yield();
  }
}

// Calls `body` `levels` calls deep, each level a real frame with a few locals (no tail call), so a
// worker's stack is as deep as a server thread's: a tool that unwinds while the thread is stopped
// pays for every frame.
[[gnu::noinline]] void Descend(int levels, const std::function<void()>& body) {
  volatile char locals[48] = {};
  locals[levels % sizeof locals] = static_cast<char>(levels);
  if (levels <= 1) {
    body();
  } else {
    Descend(levels - 1, body);
  }
  asm volatile("" : : "r"(&locals[0]) : "memory");
}

[[noreturn]] void RunTarget(SharedState* shared, int threads, int depth, int cpu) {
  if (cpu >= 0) PinToCpu(cpu);
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([shared, depth, slot = &shared->slots[i]] {
      Descend(depth, [shared, slot] { Work(shared, slot); });
    });
  }
  for (;;) pause();
}

// A forked target process; killed and reaped on destruction.
class Target {
 public:
  Target(int threads, int depth, int cpu) : threads_(threads) {
    void* memory = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
      std::perror("mmap");
      std::exit(1);
    }
    shared_ = new (memory) SharedState();
    pid_ = fork();
    if (pid_ == 0) RunTarget(shared_, threads, depth, cpu);
  }
  ~Target() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    shared_->~SharedState();
    munmap(shared_, sizeof(SharedState));
  }
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;

  int Pid() const { return pid_; }

  // Starts a new window: every worker has reset its maximum when this returns true.
  bool StartWindow() {
    uint32_t epoch = shared_->epoch.fetch_add(1, std::memory_order_acq_rel) + 1;
    auto give_up = Clock::now() + kWorkerStart;
    for (int i = 0; i < threads_; ++i) {
      while (shared_->slots[i].epoch_seen.load(std::memory_order_acquire) != epoch) {
        if (Clock::now() > give_up) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    return true;
  }

  // Per-worker scheduler accounting: time on a CPU and time waiting on a run queue, from
  // /proc/<pid>/task/<tid>/schedstat, with the time of the read.
  struct SchedSample {
    int64_t wall_nanos = 0;
    int64_t on_cpu_nanos = 0;
    int64_t runnable_nanos = 0;
  };
  std::vector<SchedSample> SampleSchedstat() const {
    std::vector<SchedSample> samples;
    samples.reserve(static_cast<size_t>(threads_));
    for (int i = 0; i < threads_; ++i) {
      std::string path = "/proc/" + std::to_string(pid_) + "/task/" +
                         std::to_string(shared_->slots[i].tid.load()) + "/schedstat";
      SchedSample sample;
      if (FILE* file = std::fopen(path.c_str(), "r")) {
        char line[128] = {};
        if (std::fgets(line, sizeof line, file) != nullptr) {
          // "<ns on a CPU> <ns waiting on a run queue> <timeslices>"
          const char* end = line + std::strlen(line);
          auto on_cpu = std::from_chars(line, end, sample.on_cpu_nanos);
          if (on_cpu.ec == std::errc() && on_cpu.ptr < end) {
            std::from_chars(on_cpu.ptr + 1, end, sample.runnable_nanos);
          }
        }
        std::fclose(file);
      }
      sample.wall_nanos = NowNanos();
      samples.push_back(sample);
    }
    return samples;
  }

  // Per worker, the time (ms) between two samples it spent neither running nor runnable: the
  // workers never sleep, so that is time stopped by a tracer.
  static std::vector<double> StoppedMs(const std::vector<SchedSample>& before,
                                       const std::vector<SchedSample>& after) {
    std::vector<double> stopped;
    for (size_t i = 0; i < before.size() && i < after.size(); ++i) {
      int64_t idle = (after[i].wall_nanos - before[i].wall_nanos) -
                     (after[i].on_cpu_nanos - before[i].on_cpu_nanos) -
                     (after[i].runnable_nanos - before[i].runnable_nanos);
      stopped.push_back(static_cast<double>(std::max<int64_t>(0, idle)) / 1e6);
    }
    return stopped;
  }

 private:
  int threads_;
  int pid_ = -1;
  SharedState* shared_ = nullptr;
};

// ---- the tools ----

struct ChildRun {
  bool ok = false;
  bool timed_out = false;
  double wall_ms = 0;
  double cpu_ms = 0;
  long max_rss_kib = 0;
};

// Runs argv in its own process group with stdout and stderr to /dev/null, killing the group after
// `timeout`; the rusage is this child's own (wait4).
ChildRun RunCommand(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  ChildRun run;
  if (pid < 0) return run;
  setpgid(pid, pid);  // also here: no race with the kill below
  int status = 0;
  rusage usage{};
  pid_t waited = 0;
  while ((waited = wait4(pid, &status, WNOHANG, &usage)) == 0) {
    if (Clock::now() - start > timeout) {
      run.timed_out = true;
      kill(-pid, SIGKILL);
      waited = wait4(pid, &status, 0, &usage);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (waited != pid) return run;
  run.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  run.ok = !run.timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  auto to_ms = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
  };
  run.cpu_ms = to_ms(usage.ru_utime) + to_ms(usage.ru_stime);
  run.max_rss_kib = usage.ru_maxrss;
  return run;
}

bool OnPath(const std::string& name) {
  return RunCommand({"sh", "-c", "command -v " + name}, std::chrono::seconds(10)).ok;
}

enum class Tool { kCapture, kSnapshot, kEuStack, kGdb };

const char* ToolName(Tool tool) {
  switch (tool) {
    case Tool::kCapture:
      return "CaptureStacks";
    case Tool::kSnapshot:
      return "ephemera-snapshot";
    case Tool::kEuStack:
      return "eu-stack";
    case Tool::kGdb:
      return "gdb -batch";
  }
  return "?";
}

struct RunResult {
  bool ok = false;
  bool timed_out = false;
  std::string error;
  double wall_ms = 0;
  std::vector<double> stopped_ms;  // per worker, from schedstat
  double noise_ms = 0;             // p50 over workers of the stopped time without a tool
  std::vector<double> own_ms;      // CaptureStacks' own interrupt-to-detach timing, per thread
  std::vector<double> held_ms;     // CaptureStacks' stop-seen-to-detach timing, per thread
  size_t captured = 0;             // CaptureStacks: threads captured without an error
  size_t listed = 0;               // CaptureStacks: threads in the result
  ChildRun child;                  // ephemera-snapshot's rusage
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto index = static_cast<size_t>(std::lround(p * static_cast<double>(values.size() - 1)));
  return values[std::min(index, values.size() - 1)];
}

double Sum(const std::vector<double>& values) {
  double sum = 0;
  for (double value : values) sum += value;
  return sum;
}

std::chrono::milliseconds TimeoutFor(int threads) {
  return threads >= kLongTimeoutThreads ? kLongToolTimeout : kToolTimeout;
}

RunResult RunOnce(Tool tool, int threads, int depth, int target_cpu) {
  RunResult result;
  Target target(threads, depth, target_cpu);
  if (!target.StartWindow()) {
    result.error = "target workers did not start";
    return result;
  }
  auto quiet_before = target.SampleSchedstat();
  std::this_thread::sleep_for(kQuietWindow);
  result.noise_ms = Percentile(Target::StoppedMs(quiet_before, target.SampleSchedstat()), 0.5);

  const std::string pid = std::to_string(target.Pid());
  const std::chrono::milliseconds timeout = TimeoutFor(threads);
  auto sched_before = target.SampleSchedstat();
  auto start = Clock::now();
  switch (tool) {
    case Tool::kCapture: {
      ephemera::stacks::StackCaptureOptions options;
      options.deadline = Clock::now() + timeout;
      const ephemera::procfs::RealProcFs proc("/proc", ephemera::stacks::kMaxMapsBytes);
      auto stacks = ephemera::stacks::CaptureStacks(target.Pid(), proc, options);
      if (!stacks.ok()) {
        result.error = stacks.status().message();
        return result;
      }
      result.listed = stacks->threads.size();
      for (const auto& thread : stacks->threads) {
        if (thread.error.starts_with("deadline")) result.timed_out = true;
        if (thread.error.empty()) ++result.captured;
        result.own_ms.push_back(static_cast<double>(thread.freeze.count()) / 1e3);
        if (thread.error.empty()) {
          result.held_ms.push_back(static_cast<double>(thread.held.count()) / 1e3);
        }
      }
      result.ok = true;
      break;
    }
#ifdef EPHEMERA_SNAPSHOT_PATH
    case Tool::kSnapshot:
      // Its own deadline a little before the kill, so it writes what it has.
      result.child = RunCommand(
          // The bench runs in the node's PID namespace, where the tool captures nothing without
          // --host-namespaces allow (docs/policy.md).
          {EPHEMERA_SNAPSHOT_PATH, "--pid", pid, "--format", "json", "--host-namespaces", "allow",
           "--deadline",
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count() - 5) +
               "s"},
          timeout);
      result.ok = result.child.ok;
      result.timed_out = result.child.timed_out;
      break;
#else
    case Tool::kSnapshot:
      break;
#endif
    case Tool::kEuStack: {
      ChildRun run = RunCommand({"eu-stack", "-p", pid}, timeout);
      result.ok = run.ok;
      result.timed_out = run.timed_out;
      break;
    }
    case Tool::kGdb: {
      ChildRun run =
          RunCommand({"gdb", "-nx", "-batch", "-p", pid, "-ex", "thread apply all bt"}, timeout);
      result.ok = run.ok;
      result.timed_out = run.timed_out;
      break;
    }
  }
  result.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (result.timed_out) result.ok = true;  // figures so far are lower bounds; the row says so
  if (!result.ok && result.error.empty()) result.error = "tool failed";
  std::this_thread::sleep_for(kSettle);
  result.stopped_ms = Target::StoppedMs(sched_before, target.SampleSchedstat());
  return result;
}

struct Summary {
  bool ok = false;
  bool timed_out = false;
  std::string error;
  size_t runs = 0;
  double p50 = 0, p90 = 0, max = 0, total = 0, wall = 0, noise = 0;
  double own_p50 = 0, own_p90 = 0, held_p50 = 0, held_p90 = 0;
  double cpu_ms = 0, wall_ms = 0;
  long rss_kib = 0;
  size_t captured = 0, listed = 0;  // CaptureStacks, the run that captured fewest
};

// Medians over runs of the per-run figures (max: the worst run, rss: the largest).
Summary Summarize(const std::vector<RunResult>& runs) {
  Summary summary;
  std::vector<double> p50, p90, total, wall, noise, own_p50, own_p90, held_p50, held_p90, cpu;
  for (const RunResult& run : runs) {
    if (!run.ok) {
      summary.error = run.error;
      continue;
    }
    summary.timed_out |= run.timed_out;
    if (summary.listed == 0 || run.captured < summary.captured) {
      summary.captured = run.captured;
      summary.listed = run.listed;
    }
    p50.push_back(Percentile(run.stopped_ms, 0.5));
    p90.push_back(Percentile(run.stopped_ms, 0.9));
    summary.max = std::max(summary.max, Percentile(run.stopped_ms, 1.0));
    total.push_back(Sum(run.stopped_ms));
    wall.push_back(run.wall_ms);
    noise.push_back(run.noise_ms);
    own_p50.push_back(Percentile(run.own_ms, 0.5));
    own_p90.push_back(Percentile(run.own_ms, 0.9));
    held_p50.push_back(Percentile(run.held_ms, 0.5));
    held_p90.push_back(Percentile(run.held_ms, 0.9));
    cpu.push_back(run.child.cpu_ms);
    summary.rss_kib = std::max(summary.rss_kib, run.child.max_rss_kib);
  }
  summary.runs = p50.size();
  summary.ok = !p50.empty();
  summary.p50 = Percentile(p50, 0.5);
  summary.p90 = Percentile(p90, 0.5);
  summary.total = Percentile(total, 0.5);
  summary.wall = Percentile(wall, 0.5);
  summary.noise = Percentile(noise, 0.5);
  summary.own_p50 = Percentile(own_p50, 0.5);
  summary.own_p90 = Percentile(own_p90, 0.5);
  summary.held_p50 = Percentile(held_p50, 0.5);
  summary.held_p90 = Percentile(held_p90, 0.5);
  summary.cpu_ms = Percentile(cpu, 0.5);
  return summary;
}

std::string Ratio(double numerator, double denominator) {
  char buf[64];
  if (denominator <= 0) return "n/a (ours is 0)";
  std::snprintf(buf, sizeof buf, "%.1fx", numerator / denominator);
  return buf;
}

// The 1-minute load average, -1 if unreadable.
double LoadAverage() {
  double load = -1;
  if (FILE* file = std::fopen("/proc/loadavg", "r")) {
    char line[128] = {};
    if (std::fgets(line, sizeof line, file) != nullptr) {
      char* end = nullptr;
      const double value = std::strtod(line, &end);
      if (end != line) load = value;
    }
    std::fclose(file);
  }
  return load;
}

// One row of the --json file (bench/plot_bars.py draws them): the tool's medians in milliseconds.
std::string JsonRow(int threads, const char* tool, const Summary& s) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"threads\": %d, \"method\": \"%s\", \"runs\": %zu, \"p50_ms\": %.4f, "
                "\"p90_ms\": %.4f, \"max_ms\": %.4f, \"total_ms\": %.4f, \"wall_ms\": %.1f, "
                "\"timed_out\": %s}",
                threads, tool, s.runs, s.p50, s.p90, s.max, s.total, s.wall,
                s.timed_out ? "true" : "false");
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows appear as they are measured
  int runs = 5;
  std::vector<int> thread_counts = {10, 100, 1000};
  int depth = 1;
  std::string json_path;
  std::vector<std::string> json_rows;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--json") json_path = argv[i + 1];
    if (flag == "--runs") runs = std::max(1, ParseInt(argv[i + 1], runs));
    if (flag == "--depth") depth = std::clamp(ParseInt(argv[i + 1], depth), 1, kMaxDepth);
    if (flag == "--threads") {
      thread_counts.clear();
      std::string_view list = argv[i + 1];
      while (!list.empty()) {
        size_t comma = std::min(list.find(','), list.size());
        int n = ParseInt(list.substr(0, comma), 0);
        if (n > 0 && n <= kMaxThreads) thread_counts.push_back(n);
        list.remove_prefix(std::min(comma + 1, list.size()));
      }
    }
  }
  signal(SIGPIPE, SIG_IGN);

  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  int target_cpu = cpus >= 2 ? cpus - 1 : -1;
  if (target_cpu >= 0) PinToCpu(0);

  std::vector<Tool> tools = {Tool::kCapture};
#ifdef EPHEMERA_SNAPSHOT_PATH
  tools.push_back(Tool::kSnapshot);
#else
  std::printf("MISSING ephemera-snapshot (built without EPHEMERA_SNAPSHOT_PATH): row skipped\n");
#endif
  if (OnPath("eu-stack")) {
    tools.push_back(Tool::kEuStack);
  } else {
    std::printf("MISSING eu-stack (apt-get install elfutils, or hack/deps.sh): row skipped\n");
  }
  if (OnPath("gdb")) {
    tools.push_back(Tool::kGdb);
  } else {
    std::printf("MISSING gdb (apt-get install gdb, or hack/deps.sh): row skipped\n");
  }
  std::printf(
      "freeze per thread = time a target thread was neither running nor runnable while the tool "
      "ran (schedstat), ms;\nmedian over up to %d runs (fewer for slow tools), max = worst run; "
      "noise = the same without a tool;\nown = CaptureStacks' own timing: from the last moment it "
      "knew the thread was not stopped to the detach (an upper bound); held = from seeing the "
      "stop to the detach (the copy itself, a lower bound);\ntool wall = the whole tool run, ms; "
      "%d "
      "CPUs, target on CPU %d; each worker spins %d call%s deep; load average %.1f at start\n",
      runs, cpus, target_cpu, depth, depth == 1 ? "" : "s", LoadAverage());

  for (int threads : thread_counts) {
    std::vector<Summary> summaries;
    for (Tool tool : tools) {
      std::vector<RunResult> results;
      auto row_start = Clock::now();
      // Slow tools and big targets get fewer runs so the bench stays within a few minutes.
      for (int run = 0; run < runs && (run == 0 || Clock::now() - row_start < kRowBudget); ++run) {
        results.push_back(RunOnce(tool, threads, depth, target_cpu));
        if (results.back().timed_out) break;
      }
      summaries.push_back(Summarize(results));
    }
    std::printf("\n%d threads (load average %.1f)\n", threads, LoadAverage());
    std::printf("%-18s %4s %9s %9s %9s %11s %10s %8s   %s\n", "tool", "runs", "p50", "p90", "max",
                "total", "tool wall", "noise", "notes");
    for (size_t t = 0; t < tools.size(); ++t) {
      const Summary& s = summaries[t];
      if (!s.ok) {
        std::printf("%-18s failed: %s\n", ToolName(tools[t]), s.error.c_str());
        continue;
      }
      json_rows.push_back(JsonRow(threads, ToolName(tools[t]), s));
      std::printf("%-18s %4zu %9.3f %9.3f %9.3f %11.3f %10.1f %8.3f  ", ToolName(tools[t]), s.runs,
                  s.p50, s.p90, s.max, s.total, s.wall, s.noise);
      if (s.timed_out) {
        std::printf(
            " TIMED OUT after %lld s (killed; figures are lower bounds)",
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::seconds>(TimeoutFor(threads)).count()));
      }
      if (tools[t] == Tool::kCapture) {
        std::printf(" own p50 %.3f p90 %.3f; held p50 %.3f p90 %.3f; captured %zu of %zu",
                    s.own_p50, s.own_p90, s.held_p50, s.held_p90, s.captured, s.listed);
      }
      if (tools[t] == Tool::kSnapshot) {
        std::printf(" every section: CPU %.1f ms, peak RSS %.1f MiB (goal <= %.0f: %s)", s.cpu_ms,
                    static_cast<double>(s.rss_kib) / 1024, static_cast<double>(kGoalRssKib) / 1024,
                    s.rss_kib <= kGoalRssKib ? "met" : "NOT met");
      }
      std::printf("\n");
    }
    const Summary& ours = summaries[0];
    if (!ours.ok) continue;
    for (size_t t = 1; t < tools.size(); ++t) {
      if (tools[t] == Tool::kSnapshot || !summaries[t].ok) continue;
      std::printf("%s / ours: p50 %s, p90 %s, total %s, wall %s%s\n", ToolName(tools[t]),
                  Ratio(summaries[t].p50, ours.p50).c_str(),
                  Ratio(summaries[t].p90, ours.p90).c_str(),
                  Ratio(summaries[t].total, ours.total).c_str(),
                  Ratio(summaries[t].wall, ours.wall).c_str(),
                  summaries[t].timed_out ? " (theirs timed out: at least this)" : "");
    }
    std::printf("goal <= %.1f ms per thread (p50): %s (%.3f)\n", kGoalPerThreadMs,
                ours.p50 <= kGoalPerThreadMs ? "met" : "NOT met", ours.p50);
    const double goal_wall_ms = std::chrono::duration<double, std::milli>(kGoalCaptureWall).count();
    std::printf("goal: CaptureStacks of %d busy threads within %.0f s: %s (%.1f s%s)\n", threads,
                goal_wall_ms / 1e3,
                !ours.timed_out && ours.wall <= goal_wall_ms ? "met" : "NOT met", ours.wall / 1e3,
                ours.timed_out ? ", cut off" : "");
    for (size_t t = 1; t < tools.size(); ++t) {
      if (tools[t] != Tool::kEuStack || !summaries[t].ok) continue;
      const bool met = summaries[t].total >= kGoalRatioVsEuStack * ours.total;
      std::printf("goal >= %.0fx less total freeze than eu-stack: %s\n", kGoalRatioVsEuStack,
                  met ? "met" : "NOT met");
    }
  }
  if (!json_path.empty()) {
    FILE* out = std::fopen(json_path.c_str(), "w");
    if (out == nullptr) {
      std::fprintf(stderr, "freeze bench: cannot write %s: %s\n", json_path.c_str(),
                   std::strerror(errno));
      return 1;
    }
    std::fprintf(out, "[\n");
    for (size_t i = 0; i < json_rows.size(); ++i) {
      std::fprintf(out, "  %s%s\n", json_rows[i].c_str(), i + 1 < json_rows.size() ? "," : "");
    }
    std::fprintf(out, "]\n");
    std::fclose(out);
  }
  return 0;
}
