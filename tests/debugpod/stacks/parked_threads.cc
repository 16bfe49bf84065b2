// parked-threads: the process stack-capture tests stop and unwind. It starts threads parked in
// distinct out-of-line functions, prints "ready <pid>" once all of them are in place, then serves
// commands on stdin, one per line:
//   p   prints "pong <n>", n being how often the ticker thread has run (it keeps counting)
//   q   wakes and joins every thread, then exits 0 (a thread left stopped would hang here)
// Usage: parked-threads [--idle N] [--busy N] [--churn N] [--vfork] [--cpu C]
//   --idle N   N extra threads parked in ParkedInIdle, for benchmarks
//   --busy N   N threads that never block (SpinInBusy), so each reaches a ptrace stop only when
//              the scheduler next runs it
//   --churn N  N threads that each keep starting a short-lived spinning thread and joining it, so
//              threads exit (and new ones appear) while a capture runs
//   --vfork    a thread blocked in vfork() until "q": uninterruptible, it never reaches a ptrace
//   stop
//   --cpu C    run every thread on CPU C only
// Threads are named alpha, beta, gamma, ticker, idle-<i>, busy-<i>, churn-<i> (their short-lived
// threads: short-<i>) and vforker (see /proc/<pid>/task/<tid>/comm).
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parked {

std::atomic<bool> stopping{false};
std::atomic<int> started{0};
std::atomic<unsigned long> ticks{0};
std::mutex mu;
std::condition_variable cv;

void Name(const char* name) { pthread_setname_np(pthread_self(), name); }

// Each parked function blocks in a different way and does work after the blocking call, so the
// compiler cannot turn the call into a tail call and drop the frame.
[[gnu::noinline, gnu::noclone]] void ParkedInAlpha(int fd) {
  started.fetch_add(1);
  char c = 0;
  while (read(fd, &c, 1) < 0 && errno == EINTR) {
  }
  asm volatile("" ::: "memory");
}

[[gnu::noinline, gnu::noclone]] void ParkedInBeta() {
  std::unique_lock<std::mutex> lock(mu);
  started.fetch_add(1);
  cv.wait(lock, [] { return stopping.load(); });
  asm volatile("" ::: "memory");
}

[[gnu::noinline, gnu::noclone]] void ParkedInGamma() {
  started.fetch_add(1);
  while (!stopping.load()) {
    timespec ts{0, 5'000'000};
    nanosleep(&ts, nullptr);
  }
  asm volatile("" ::: "memory");
}

// Alternates a short spin in user code with a short sleep, counting rounds.
[[gnu::noinline, gnu::noclone]] void TickInDelta() {
  started.fetch_add(1);
  while (!stopping.load()) {
    for (int i = 0; i < 20000; ++i) asm volatile("" ::: "memory");
    ticks.fetch_add(1);
    timespec ts{0, 1'000'000};
    nanosleep(&ts, nullptr);
  }
  asm volatile("" ::: "memory");
}

[[gnu::noinline, gnu::noclone]] void ParkedInIdle() {
  std::unique_lock<std::mutex> lock(mu);
  started.fetch_add(1);
  cv.wait(lock, [] { return stopping.load(); });
  asm volatile("" ::: "memory");
}

// Never blocks: spins until the process stops.
[[gnu::noinline, gnu::noclone]] void SpinInBusy() {
  started.fetch_add(1);
  while (!stopping.load(std::memory_order_relaxed)) {
    for (int i = 0; i < 1000; ++i) asm volatile("" ::: "memory");
  }
  asm volatile("" ::: "memory");
}

// Starts a thread that spins ~200 us and exits, joins it, and again, until the process stops.
[[gnu::noinline, gnu::noclone]] void ChurnThreads(int i) {
  started.fetch_add(1);
  while (!stopping.load()) {
    std::thread short_lived([i] {
      Name(("short-" + std::to_string(i)).c_str());
      auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
      while (std::chrono::steady_clock::now() < until) asm volatile("" ::: "memory");
    });
    short_lived.join();
  }
  asm volatile("" ::: "memory");
}

// The vfork child: shares the process's memory, runs on its own stack, and waits on the pipe.
int WaitInVforkChild(void* fd) {
  char c = 0;
  while (read(*static_cast<int*>(fd), &c, 1) < 0 && errno == EINTR) {
  }
  _exit(0);
}

// Blocks in vfork(), i.e. in an uninterruptible wait for the child, until the child exits.
[[gnu::noinline, gnu::noclone]] void BlockedInVfork(int fd) {
  static std::vector<char> child_stack(std::size_t{64} * 1024);
  started.fetch_add(1);
  int child = clone(WaitInVforkChild, child_stack.data() + child_stack.size(),
                    CLONE_VM | CLONE_VFORK | SIGCHLD, &fd);
  if (child > 0) waitpid(child, nullptr, 0);
  asm volatile("" ::: "memory");
}

}  // namespace parked

int main(int argc, char** argv) {
  using namespace parked;
  int idle = 0;
  int busy = 0;
  int churn = 0;
  bool vfork = false;
  int cpu = -1;
  for (int i = 1; i < argc; ++i) {
    auto count = [&] { return static_cast<int>(std::strtol(argv[++i], nullptr, 10)); };
    if (std::strcmp(argv[i], "--idle") == 0 && i + 1 < argc) {
      idle = count();
    } else if (std::strcmp(argv[i], "--busy") == 0 && i + 1 < argc) {
      busy = count();
    } else if (std::strcmp(argv[i], "--churn") == 0 && i + 1 < argc) {
      churn = count();
    } else if (std::strcmp(argv[i], "--cpu") == 0 && i + 1 < argc) {
      cpu = count();
    } else if (std::strcmp(argv[i], "--vfork") == 0) {
      vfork = true;
    } else {
      std::fprintf(stderr,
                   "usage: parked-threads [--idle N] [--busy N] [--churn N] [--vfork] [--cpu C]\n");
      return 2;
    }
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) return 1;  // threads inherit it
  }
  int alpha_pipe[2];
  if (pipe(alpha_pipe) != 0) return 1;
  std::vector<std::thread> threads;
  threads.emplace_back([fd = alpha_pipe[0]] {
    Name("alpha");
    ParkedInAlpha(fd);
  });
  threads.emplace_back([] {
    Name("beta");
    ParkedInBeta();
  });
  threads.emplace_back([] {
    Name("gamma");
    ParkedInGamma();
  });
  threads.emplace_back([] {
    Name("ticker");
    TickInDelta();
  });
  // Before the idle threads, so that they are captured while the capture still waits for it.
  int vfork_pipe[2] = {-1, -1};
  if (vfork) {
    if (pipe(vfork_pipe) != 0) return 1;
    threads.emplace_back([fd = vfork_pipe[0]] {
      Name("vforker");
      BlockedInVfork(fd);
    });
  }
  for (int i = 0; i < idle; ++i) {
    threads.emplace_back([i] {
      Name(("idle-" + std::to_string(i)).c_str());
      ParkedInIdle();
    });
  }
  for (int i = 0; i < busy; ++i) {
    threads.emplace_back([i] {
      Name(("busy-" + std::to_string(i)).c_str());
      SpinInBusy();
    });
  }
  for (int i = 0; i < churn; ++i) {
    threads.emplace_back([i] {
      Name(("churn-" + std::to_string(i)).c_str());
      ChurnThreads(i);
    });
  }
  while (started.load() < static_cast<int>(threads.size())) std::this_thread::yield();
  // Parked threads increment `started` just before blocking; give them a moment to block.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::printf("ready %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);

  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "p") {
      std::printf("pong %lu\n", ticks.load());
      std::fflush(stdout);
    } else if (line == "q") {
      break;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stopping.store(true);
  }
  cv.notify_all();
  if (write(alpha_pipe[1], "x", 1) != 1) return 1;
  if (vfork && write(vfork_pipe[1], "x", 1) != 1) return 1;
  for (std::thread& t : threads) t.join();
  std::printf("bye\n");
  return 0;
}
