// ephemera-target: a small multi-threaded service used as the thing being debugged in tests and
// demos.
//
// It keeps recognisable state for a snapshot to find: named worker threads parked in distinct,
// named call stacks (sleeping, waiting on a condition variable, blocked in accept, reading a pipe),
// an open file, a listening TCP socket with a connected peer, and a secret in its environment that
// must never appear in a snapshot unredacted.
//
//   ephemera-target [--threads N] [--port P]   run the service until SIGTERM
//   ephemera-target ps                         list the processes visible in /proc (pid, name,
//   cmdline)
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ephemera::target {
namespace {

std::atomic<bool> stopping{false};
std::mutex mu;
std::condition_variable cv;

void NameThisThread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

// Kept out of line so each parked thread shows a distinct, recognisable stack.
[[gnu::noinline]] void SleepInCheckoutLoop() {
  while (!stopping.load()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

[[gnu::noinline]] void WaitForOrders() {
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [] { return stopping.load(); });
}

[[gnu::noinline]] void AcceptConnections(int listener) {
  while (!stopping.load()) {
    int conn = accept(listener, nullptr, nullptr);
    if (conn < 0) return;
    // Hold the connection open: a snapshot should see an established socket.
    std::thread([conn] {
      NameThisThread("conn-handler");
      char buf[64];
      while (read(conn, buf, sizeof buf) > 0) {
      }
      close(conn);
    }).detach();
  }
}

[[gnu::noinline]] void ReadFromPipe(int fd) {
  char buf[64];
  while (!stopping.load() && read(fd, buf, sizeof buf) > 0) {
  }
}

int Listen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(fd, 16) < 0) {
    std::perror("ephemera-target: listen");
    std::exit(1);
  }
  return fd;
}

int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    std::perror("ephemera-target: connect");
    std::exit(1);
  }
  return fd;
}

int ListProcesses() {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    std::perror("ephemera-target ps: /proc");
    return 1;
  }
  std::printf("%-8s %-16s %s\n", "PID", "NAME", "CMDLINE");
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    std::string dir = std::string("/proc/") + entry->d_name;
    std::string comm, cmdline;
    std::getline(std::ifstream(dir + "/comm"), comm);
    std::getline(std::ifstream(dir + "/cmdline"), cmdline);
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    std::printf("%-8s %-16s %s\n", entry->d_name, comm.c_str(), cmdline.c_str());
  }
  closedir(proc);
  return 0;
}

void OnTerminate(int) { stopping.store(true); }

int Serve(int threads, int port) {
  signal(SIGTERM, OnTerminate);
  signal(SIGINT, OnTerminate);
  int listener = Listen(port);
  int peer = ConnectTo(port);
  int pipe_fds[2];
  if (pipe(pipe_fds) < 0) return 1;
  std::ofstream journal("/tmp/ephemera-target.journal", std::ios::app);

  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads) + 2);
  // "serving" is printed once every thread has its name: tests that wait for it then see them all.
  std::latch named(threads + 2);
  workers.emplace_back([listener, &named] {
    NameThisThread("acceptor");
    named.count_down();
    AcceptConnections(listener);
  });
  workers.emplace_back([fd = pipe_fds[0], &named] {
    NameThisThread("pipe-reader");
    named.count_down();
    ReadFromPipe(fd);
  });
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([i, &named] {
      if (i % 2 == 0) {
        NameThisThread("checkout-" + std::to_string(i));
        named.count_down();
        SleepInCheckoutLoop();
      } else {
        NameThisThread("orders-" + std::to_string(i));
        named.count_down();
        WaitForOrders();
      }
    });
  }
  named.wait();
  std::printf("ephemera-target: serving on 127.0.0.1:%d with %zu threads\n", port,
              workers.size() + 1);
  std::fflush(stdout);
  while (!stopping.load()) {
    journal << "tick\n" << std::flush;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  cv.notify_all();
  shutdown(listener, SHUT_RDWR);
  close(pipe_fds[1]);
  close(peer);
  for (auto& w : workers) w.join();
  return 0;
}

}  // namespace
}  // namespace ephemera::target

int main(int argc, char** argv) {
  int threads = 4;
  int port = 8080;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "ps") return ephemera::target::ListProcesses();
    if (arg == "--threads" && i + 1 < argc) {
      threads = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
    } else if (arg == "--port" && i + 1 < argc) {
      port = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
    } else if (arg == "--say" && i + 1 < argc) {
      // A line for the log (and a value in argv): tests plant canary secrets this way.
      std::printf("ephemera-target: %s\n", argv[++i]);
    } else {
      std::fprintf(stderr, "usage: ephemera-target [--threads N] [--port P] [--say TEXT] | ps\n");
      return 2;
    }
  }
  if (threads < 0 || threads > 10000) {
    std::fprintf(stderr, "ephemera-target: --threads must be between 0 and 10000\n");
    return 2;
  }
  return ephemera::target::Serve(threads, port);
}
