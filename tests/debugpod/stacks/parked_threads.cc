// parked-threads: the process stack-capture tests stop and unwind. It starts threads parked in
// distinct out-of-line functions, prints "ready <pid>" once all of them are in place, then serves
// commands on stdin, one per line:
//   p   prints "pong <n>", n being how often the ticker thread has run (it keeps counting)
//   q   wakes and joins every thread, then exits 0 (a thread left stopped would hang here)
// Usage: parked-threads [--idle N]   (N extra threads parked in ParkedInIdle, for benchmarks)
// Threads are named alpha, beta, gamma, ticker and idle-<i> (see /proc/<pid>/task/<tid>/comm).
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
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

}  // namespace parked

int main(int argc, char** argv) {
  using namespace parked;
  int idle = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--idle") == 0 && i + 1 < argc) {
      idle = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
    } else {
      std::fprintf(stderr, "usage: parked-threads [--idle N]\n");
      return 2;
    }
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
  for (int i = 0; i < idle; ++i) {
    threads.emplace_back([i] {
      Name(("idle-" + std::to_string(i)).c_str());
      ParkedInIdle();
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
  for (std::thread& t : threads) t.join();
  std::printf("bye\n");
  return 0;
}
