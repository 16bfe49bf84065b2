// Benchmark: what PythonRuntimeReader costs the snapshot tool on parked.py (25 threads), against
// the baseline the process itself can give: faulthandler.dump_traceback(all_threads=True), timed
// inside the target (SIGUSR1, see parked.py) in the same run. Prints figures, asserts nothing.
//
//   python_stacks_bench [python] [reads]     (defaults: /usr/bin/python3, 200)
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>

#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/runtimes/python/python_runtime_reader.h"
#include "tests/debugpod/stacks/target_process.h"

namespace {

double CpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return 1e6 * static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

long MaxRssKib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  namespace python = ephemera::runtimes::python;
  const std::string interpreter = argc > 1 ? argv[1] : "/usr/bin/python3";
  const int reads = argc > 2 ? std::stoi(argv[2]) : 200;
  const long rss_before = MaxRssKib();

  auto target = ephemera::stacks::TargetProcess::Start({interpreter, PYTHON_PARKED_PY});
  if (!target.ok()) {
    std::fprintf(stderr, "cannot start %s: %s\n", interpreter.c_str(),
                 target.status().message().c_str());
    return 1;
  }
  const int pid = (*target)->Pid();
  ephemera::procfs::RealProcFs proc("/proc");
  python::PythonRuntimeReader reader("/proc", proc);

  auto first = reader.Read(pid, {});
  if (!first.ok() || !first->has_value()) {
    std::fprintf(stderr, "read failed: %s\n",
                 first.ok() ? "not python" : first.status().message().c_str());
    return 1;
  }
  const auto& stacks = **first;
  std::printf("python %s: %zu threads\n", stacks.version.c_str(), stacks.stacks.size());
  for (const auto& stack : stacks.stacks) {
    std::printf("thread %s tid %d %s\n", stack.id.c_str(), stack.tid.value_or(-1),
                stack.state.c_str());
    for (const auto& frame : stack.frames) {
      std::printf("    %s (%s:%d)\n", frame.function.c_str(), frame.file.c_str(), frame.line);
    }
  }
  for (const auto& problem : stacks.problems) std::printf("problem: %s\n", problem.c_str());

  const double cpu_start = CpuMicros();
  const auto wall_start = std::chrono::steady_clock::now();
  for (int i = 0; i < reads; ++i) {
    auto again = reader.Read(pid, {});
    if (!again.ok() || !again->has_value()) return 1;
  }
  const double cpu_per_read = (CpuMicros() - cpu_start) / reads;
  const double wall_per_read =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall_start)
          .count() /
      reads;

  // The baseline: parked.py times 100 faulthandler dumps of all threads and prints the CPU.
  kill(pid, SIGUSR1);
  auto line = (*target)->ReadLine(std::chrono::seconds(20));
  double faulthandler_us = -1;
  if (line.ok()) {
    std::istringstream fields(*line);
    std::string word;
    double runs = 0;
    double ns = 0;
    if (fields >> word >> runs >> ns && word == "faulthandler" && runs > 0) {
      faulthandler_us = ns / 1000.0 / runs;
    }
  }
  std::printf("reader: %.1f us CPU, %.1f us wall per read (%d reads)\n", cpu_per_read,
              wall_per_read, reads);
  std::printf("reader process max RSS: %ld KiB (%ld KiB before starting the target)\n", MaxRssKib(),
              rss_before);
  std::printf("baseline faulthandler.dump_traceback(all_threads=True) in the target: %.1f us CPU\n",
              faulthandler_us);
  if (faulthandler_us > 0) {
    std::printf("ratio reader / faulthandler: %.2f\n", cpu_per_read / faulthandler_us);
  }
  return 0;
}
