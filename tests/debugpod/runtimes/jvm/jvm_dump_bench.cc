// Benchmark: the jvm reader against the JDK's jstack on the same JVM (Parked.java) in the same
// run. For each, in a child of its own: wall time, CPU time (user + system) and peak RSS of that
// child, and the JVM's own safepoint time for the dump (its -Xlog:safepoint "PrintThreads" and
// "FindDeadlocks" totals). Each order is measured: the first client starts the attach listener
// (SIGQUIT), the second finds its socket. The reader's child is forked from this small program,
// so its RSS includes what this program had mapped (a few MiB).
//
//   runtimes-jvm-bench <java> <classes folder> <jstack> [rounds]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/runtimes/jvm/jvm_runtime_reader.h"
#include "jvm_process.h"

namespace ephemera::runtimes::jvm {
namespace {

struct Cost {
  double wall_ms = 0;
  double cpu_ms = 0;
  long max_rss_kib = 0;
  bool ok = false;
  double safepoint_ms = 0;
  int safepoints = 0;
  double freeze_ms = -1;  // the reader's own figure
};

double Ms(const timeval& t) {
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
}

Cost Measure(JvmProcess& jvm, const std::optional<std::string>& jstack) {
  int count_before = 0;
  const auto before_dump = SafepointTotal(jvm.SafepointLog(), "PrintThreads", &count_before);
  const auto before_dl = SafepointTotal(jvm.SafepointLog(), "FindDeadlocks", &count_before);
  int fds[2];
  if (pipe(fds) != 0) return {};
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    if (jstack) {
      if (!freopen("/dev/null", "w", stdout)) _exit(3);
      const std::string pid = std::to_string(jvm.Pid());
      execl(jstack->c_str(), jstack->c_str(), "-l", pid.c_str(), nullptr);
      _exit(4);
    }
    procfs::RealProcFs proc("/proc");
    JvmRuntimeReader reader("/proc", proc);
    auto read = reader.Read(jvm.Pid(), RuntimeLimits{});
    const long freeze_us = read.ok() && read->has_value() ? (**read).freeze.count() : -1;
    if (write(fds[1], &freeze_us, sizeof freeze_us) < 0) _exit(2);
    _exit(read.ok() && read->has_value() ? 0 : 1);
  }
  close(fds[1]);
  int status = 0;
  rusage usage{};
  wait4(child, &status, 0, &usage);
  Cost cost;
  cost.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  long freeze_us = -1;
  if (!jstack && read(fds[0], &freeze_us, sizeof freeze_us) == sizeof freeze_us) {
    cost.freeze_ms = static_cast<double>(freeze_us) / 1e3;
  }
  close(fds[0]);
  cost.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  cost.cpu_ms = Ms(usage.ru_utime) + Ms(usage.ru_stime);
  cost.max_rss_kib = usage.ru_maxrss;
  // The log is written by the JVM as the operations end; the client has its answer by then.
  int n_dump = 0;
  int n_dl = 0;
  const auto dump = SafepointTotal(jvm.SafepointLog(), "PrintThreads", &n_dump);
  const auto dl = SafepointTotal(jvm.SafepointLog(), "FindDeadlocks", &n_dl);
  cost.safepoint_ms = static_cast<double>((dump - before_dump + dl - before_dl).count()) / 1e3;
  return cost;
}

void Print(const char* what, const Cost& c) {
  std::printf("%-24s ok=%d wall=%7.1f ms cpu=%7.1f ms maxrss=%6ld KiB jvm_safepoints=%6.2f ms",
              what, c.ok ? 1 : 0, c.wall_ms, c.cpu_ms, c.max_rss_kib, c.safepoint_ms);
  if (c.freeze_ms >= 0) std::printf(" reported_freeze=%6.2f ms", c.freeze_ms);
  std::printf("\n");
}

}  // namespace
}  // namespace ephemera::runtimes::jvm

int main(int argc, char** argv) {
  using namespace ephemera::runtimes::jvm;  // NOLINT(google-build-using-namespace)
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <java> <classes folder> <jstack> [rounds]\n", argv[0]);
    return 2;
  }
  const int rounds = argc > 4 ? static_cast<int>(std::strtol(argv[4], nullptr, 10)) : 3;
  JvmOptions options;
  options.java = argv[1];
  options.classes = argv[2];
  const std::string jstack = argv[3];
  for (int round = 0; round < rounds; ++round) {
    for (bool reader_first : {true, false}) {
      auto jvm = JvmProcess::Start(options);
      if (!jvm.ok()) {
        std::fprintf(stderr, "%s\n", jvm.status().ToString().c_str());
        return 1;
      }
      std::printf("round %d, %s first:\n", round, reader_first ? "reader" : "jstack");
      if (reader_first) {
        Print("  reader (signals)", Measure(**jvm, std::nullopt));
        Print("  jstack (socket there)", Measure(**jvm, jstack));
      } else {
        Print("  jstack (signals)", Measure(**jvm, jstack));
        Print("  reader (socket there)", Measure(**jvm, std::nullopt));
      }
    }
  }
  return 0;
}
