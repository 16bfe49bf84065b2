// ephemera-bench-freeze: how long a target's threads are frozen by a stack dump, seen from the
// target: CaptureStacks (the library call ephemera-snapshot makes) vs `eu-stack -p` vs
// `gdb -batch -p PID -ex 'thread apply all bt'`, and the whole ephemera-snapshot tool.
//
// Method, the same for every tool: a target process with N worker threads; each worker loops
// "read steady_clock, record the gap since its previous iteration, publish the timestamp, spin
// ~20 µs, yield". Two measures per worker, both taken on the target's side:
//   gaps      the workers record their largest gap between iterations in shared memory (an
//             anonymous MAP_SHARED mapping made before fork); a monitor in the parent resets the
//             window (an epoch counter) and reads the maxima. freeze = max(0, during - normal),
//             normal being the largest gap over a quiet window. With more workers than cores,
//             or other load, the normal gap (the resolution) is milliseconds.
//   schedstat the time a worker spent neither running nor runnable, from
//             /proc/<pid>/task/<tid>/schedstat read before and after the tool (wall time minus
//             time on a CPU minus time waiting on a run queue). The workers never sleep, so
//             that is time stopped by the tracer, at microsecond resolution.
// Per tool: p50 and max over threads and the total (sum over threads), medians over runs, and
// CaptureStacks' own stop-to-detach timing ("own timing", an upper bound: a busy thread stops
// only once it is scheduled). When the machine has two or more CPUs the target runs on the last
// one and the bench and the tools on the first, so a tool's speed does not depend on N.
//
// Also prints the CPU time and peak RSS of one ephemera-snapshot run, from wait4: the rusage of
// that child alone (getrusage(RUSAGE_CHILDREN) would fold in gdb and eu-stack). Run as root (or
// with CAP_SYS_PTRACE).
//
//   ephemera-bench-freeze [--runs R] [--threads N,M,...]
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "debugpod/stacks/stack_capture.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxThreads = 256;
constexpr int64_t kSpinNanos = 20'000;
constexpr auto kQuietWindow = std::chrono::milliseconds(300);
constexpr auto kSettle = std::chrono::milliseconds(50);
constexpr auto kRowBudget = std::chrono::seconds(5);
constexpr double kGoalPerThreadMs = 0.1;
constexpr double kGoalRatioVsEuStack = 10.0;
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

[[noreturn]] void RunTarget(SharedState* shared, int threads, int cpu) {
  if (cpu >= 0) PinToCpu(cpu);
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([shared, slot = &shared->slots[i]] {
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
    });
  }
  for (;;) pause();
}

// A forked target process; killed and reaped on destruction.
class Target {
 public:
  Target(int threads, int cpu) : threads_(threads) {
    void* memory = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
      std::perror("mmap");
      std::exit(1);
    }
    shared_ = new (memory) SharedState();
    pid_ = fork();
    if (pid_ == 0) RunTarget(shared_, threads, cpu);
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
    auto give_up = Clock::now() + std::chrono::seconds(5);
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

  // Per-worker largest gap (ms) in the current window.
  std::vector<double> MaxGapsMs() const {
    std::vector<double> gaps;
    gaps.reserve(static_cast<size_t>(threads_));
    for (int i = 0; i < threads_; ++i) {
      gaps.push_back(
          static_cast<double>(shared_->slots[i].max_gap_nanos.load(std::memory_order_relaxed)) /
          1e6);
    }
    return gaps;
  }

 private:
  int threads_;
  int pid_ = -1;
  SharedState* shared_ = nullptr;
};

// ---- the tools ----

struct ChildRun {
  bool ok = false;
  double wall_ms = 0;
  double cpu_ms = 0;
  long max_rss_kib = 0;
};

// Runs argv with stdout and stderr to /dev/null; the rusage is this child's own (wait4).
ChildRun RunCommand(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  ChildRun run;
  int status = 0;
  rusage usage{};
  if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) return run;
  run.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  run.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  auto to_ms = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
  };
  run.cpu_ms = to_ms(usage.ru_utime) + to_ms(usage.ru_stime);
  run.max_rss_kib = usage.ru_maxrss;
  return run;
}

bool OnPath(const std::string& name) { return RunCommand({"sh", "-c", "command -v " + name}).ok; }

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
      return "gdb";
  }
  return "?";
}

struct RunResult {
  bool ok = false;
  std::string error;
  double wall_ms = 0;
  std::vector<double> freeze_ms;  // per worker, from the target's side
  double self_p50_ms = 0;         // CaptureStacks' own stop-to-detach timing, over threads
  double self_max_ms = 0;
  double self_total_ms = 0;
  double normal_ms = 0;            // median over workers of the quiet-window largest gap
  std::vector<double> stopped_ms;  // per worker, from schedstat
  double stopped_normal_ms = 0;    // median over workers of the quiet-window stopped time
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

RunResult RunOnce(Tool tool, int threads, int target_cpu) {
  RunResult result;
  Target target(threads, target_cpu);
  if (!target.StartWindow()) {
    result.error = "target workers did not start";
    return result;
  }
  auto quiet_before = target.SampleSchedstat();
  std::this_thread::sleep_for(kQuietWindow);
  std::vector<double> normal = target.MaxGapsMs();
  result.stopped_normal_ms =
      Percentile(Target::StoppedMs(quiet_before, target.SampleSchedstat()), 0.5);
  result.normal_ms = Percentile(normal, 0.5);
  if (!target.StartWindow()) {
    result.error = "target workers stalled";
    return result;
  }

  std::string pid = std::to_string(target.Pid());
  auto sched_before = target.SampleSchedstat();
  auto start = Clock::now();
  switch (tool) {
    case Tool::kCapture: {
      ephemera::stacks::StackCaptureOptions options;
      options.deadline = Clock::now() + std::chrono::seconds(20);
      auto stacks = ephemera::stacks::CaptureStacks(target.Pid(), options);
      if (!stacks.ok()) {
        result.error = stacks.status().message();
        return result;
      }
      std::vector<double> own;
      for (const auto& thread : stacks->threads) {
        own.push_back(static_cast<double>(thread.freeze.count()) / 1e3);
      }
      result.self_p50_ms = Percentile(own, 0.5);
      result.self_max_ms = static_cast<double>(stacks->max_thread_freeze.count()) / 1e3;
      result.self_total_ms = static_cast<double>(stacks->total_freeze.count()) / 1e3;
      result.ok = true;
      break;
    }
#ifdef EPHEMERA_SNAPSHOT_PATH
    case Tool::kSnapshot:
      result.ok = RunCommand({EPHEMERA_SNAPSHOT_PATH, "--pid", pid, "--format", "json", "--capture",
                              "stacks,threads"})
                      .ok;
      break;
#else
    case Tool::kSnapshot:
      break;
#endif
    case Tool::kEuStack:
      result.ok = RunCommand({"eu-stack", "-p", pid}).ok;
      break;
    case Tool::kGdb:
      result.ok = RunCommand({"gdb", "-nx", "-batch", "-p", pid, "-ex", "thread apply all bt"}).ok;
      break;
  }
  result.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (!result.ok && result.error.empty()) result.error = "tool failed";
  std::this_thread::sleep_for(kSettle);  // let the last released workers record their gap
  std::vector<double> during = target.MaxGapsMs();
  result.stopped_ms = Target::StoppedMs(sched_before, target.SampleSchedstat());
  for (size_t i = 0; i < during.size(); ++i) {
    result.freeze_ms.push_back(std::max(0.0, during[i] - normal[i]));
  }
  return result;
}

struct Summary {
  bool ok = false;
  std::string error;
  double p50 = 0, max = 0, total = 0, wall = 0, normal = 0, self_p50 = 0, self_max = 0,
         self_total = 0;
};

// Medians over runs of the per-run figures (max: the worst run).
// With `schedstat`, the figures are the stopped times from schedstat instead of the gaps.
Summary Summarize(const std::vector<RunResult>& runs, bool schedstat) {
  Summary summary;
  std::vector<double> p50, total, wall, normal, self_p50, self_max, self_total;
  for (const RunResult& run : runs) {
    if (!run.ok) {
      summary.error = run.error;
      continue;
    }
    const std::vector<double>& freeze = schedstat ? run.stopped_ms : run.freeze_ms;
    p50.push_back(Percentile(freeze, 0.5));
    summary.max = std::max(summary.max, Percentile(freeze, 1.0));
    total.push_back(Sum(freeze));
    wall.push_back(run.wall_ms);
    normal.push_back(schedstat ? run.stopped_normal_ms : run.normal_ms);
    self_p50.push_back(run.self_p50_ms);
    self_max.push_back(run.self_max_ms);
    self_total.push_back(run.self_total_ms);
  }
  summary.ok = !p50.empty();
  summary.p50 = Percentile(p50, 0.5);
  summary.total = Percentile(total, 0.5);
  summary.wall = Percentile(wall, 0.5);
  summary.normal = Percentile(normal, 0.5);
  summary.self_p50 = Percentile(self_p50, 0.5);
  summary.self_max = Percentile(self_max, 0.5);
  summary.self_total = Percentile(self_total, 0.5);
  return summary;
}

std::string Ratio(double numerator, double denominator) {
  char buf[64];
  if (denominator <= 0) return "n/a (ours is 0)";
  std::snprintf(buf, sizeof buf, "%.1fx", numerator / denominator);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::vector<int> thread_counts = {10, 100};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--runs") runs = std::max(1, ParseInt(argv[i + 1], runs));
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
  std::printf(
      "ephemera-snapshot path unknown (built without EPHEMERA_SNAPSHOT_PATH): row skipped\n");
#endif
  bool have_eu_stack = OnPath("eu-stack");
  bool have_gdb = OnPath("gdb");
  if (have_eu_stack) {
    tools.push_back(Tool::kEuStack);
  } else {
    std::printf("eu-stack not installed (apt-get install elfutils): row skipped\n");
  }
  if (have_gdb) {
    tools.push_back(Tool::kGdb);
  } else {
    std::printf("gdb not installed (apt-get install gdb): row skipped\n");
  }

  for (int threads : thread_counts) {
    std::vector<std::vector<RunResult>> results(tools.size());
    for (size_t t = 0; t < tools.size(); ++t) {
      // Slow tools get fewer runs so the bench stays within about a minute.
      auto row_start = Clock::now();
      for (int run = 0; run < runs && (run == 0 || Clock::now() - row_start < kRowBudget); ++run) {
        results[t].push_back(RunOnce(tools[t], threads, target_cpu));
      }
    }
    std::vector<Summary> by_gap, by_schedstat;
    for (const auto& tool_results : results) {
      by_gap.push_back(Summarize(tool_results, false));
      by_schedstat.push_back(Summarize(tool_results, true));
    }
    for (bool schedstat : {false, true}) {
      const std::vector<Summary>& summaries = schedstat ? by_schedstat : by_gap;
      std::printf(
          "\n%d threads: freeze per thread (ms) %s; median of up to %d runs, max = worst "
          "run;\nnormal = %s\n",
          threads,
          schedstat ? "= time neither running nor runnable, from schedstat"
                    : "= largest update gap minus the normal one",
          runs,
          schedstat ? "the same without a tool (the noise floor)"
                    : "the workers' largest gap without a tool (the resolution)");
      std::printf("%-18s %4s %9s %9s %10s %10s %9s  %s\n", "tool", "runs", "p50", "max", "total",
                  "tool wall", "normal", schedstat ? "" : "own timing (p50 / max / total)");
      for (size_t t = 0; t < tools.size(); ++t) {
        const Summary& summary = summaries[t];
        if (!summary.ok) {
          std::printf("%-18s failed: %s\n", ToolName(tools[t]), summary.error.c_str());
          continue;
        }
        std::printf("%-18s %4zu %9.3f %9.3f %10.3f %10.1f %9.3f", ToolName(tools[t]),
                    results[t].size(), summary.p50, summary.max, summary.total, summary.wall,
                    summary.normal);
        if (!schedstat && tools[t] == Tool::kCapture) {
          std::printf("  %.3f / %.3f / %.3f", summary.self_p50, summary.self_max,
                      summary.self_total);
        }
        std::printf("\n");
      }
    }
    const Summary& ours = by_schedstat[0];
    if (!ours.ok) continue;
    for (size_t t = 1; t < tools.size(); ++t) {
      if (tools[t] == Tool::kSnapshot || !by_schedstat[t].ok) continue;
      std::printf("%s/ours (schedstat): total %s, p50 %s, max %s; (gaps): total %s\n",
                  ToolName(tools[t]), Ratio(by_schedstat[t].total, ours.total).c_str(),
                  Ratio(by_schedstat[t].p50, ours.p50).c_str(),
                  Ratio(by_schedstat[t].max, ours.max).c_str(),
                  Ratio(by_gap[t].total, by_gap[0].total).c_str());
    }
    std::printf(
        "goal <= %.1f ms per thread: %s (schedstat p50 %.3f, max %.3f; own timing p50 %.3f, "
        "an upper bound that includes waiting for a busy thread to be scheduled)\n",
        kGoalPerThreadMs, ours.p50 <= kGoalPerThreadMs ? "met" : "NOT met", ours.p50, ours.max,
        by_gap[0].self_p50);
    for (size_t t = 1; t < tools.size(); ++t) {
      if (tools[t] != Tool::kEuStack || !by_schedstat[t].ok) continue;
      bool met = by_schedstat[t].total >= kGoalRatioVsEuStack * ours.total;
      std::printf("goal >= %.0fx less total freeze than eu-stack: %s (schedstat)\n",
                  kGoalRatioVsEuStack, met ? "met" : "NOT met");
    }
  }

#ifdef EPHEMERA_SNAPSHOT_PATH
  {
    Target target(10, target_cpu);
    ChildRun run = RunCommand({EPHEMERA_SNAPSHOT_PATH, "--pid", std::to_string(target.Pid()),
                               "--format", "json", "--capture", "stacks,threads"});
    if (run.ok) {
      std::printf(
          "\nephemera-snapshot --capture stacks,threads on 10 threads: wall %.1f ms, CPU "
          "%.1f ms, peak RSS %.1f MiB (goal <= %.0f MiB: %s)\n",
          run.wall_ms, run.cpu_ms, static_cast<double>(run.max_rss_kib) / 1024,
          static_cast<double>(kGoalRssKib) / 1024,
          run.max_rss_kib <= kGoalRssKib ? "met" : "NOT met");
    } else {
      std::printf("\nephemera-snapshot run failed (%s)\n", EPHEMERA_SNAPSHOT_PATH);
    }
  }
#endif
  return 0;
}
