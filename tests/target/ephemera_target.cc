// ephemera-target: a small multi-threaded service used as the thing being debugged in tests and
// demos.
//
// It keeps recognisable state for a snapshot to find: named worker threads parked in distinct,
// named call stacks (sleeping, waiting on a condition variable, blocked in accept, reading a pipe),
// an open file, a listening TCP socket with a connected peer, and a secret in its environment that
// must never appear in a snapshot unredacted.
//
//   ephemera-target [--threads N] [--port P] [--say TEXT] [--bleed]
//                   [--exit-after SECONDS [--exit-code N] [--exit-once FILE]]
//                                              run the service until SIGTERM
//   ephemera-target ps                         list the processes visible in /proc (pid, name,
//   cmdline)
//
// --bleed makes it look like a service that drops requests, with real kernel state only, for the
// incident evidence and log tests (tests/e2e/incident_e2e_test.sh):
// - Accept queue overflow. The listener on --port is made with backlog 4 and its acceptor thread
//   is stuck behind the pool lock below, so it never accepts. A thread "load-client" connects to
//   it (nonblocking) until the queue is full, then opens one more connection every 500 ms, closing
//   its oldest, at most 24 at a time: every SYN the full queue refuses adds to ListenOverflows and
//   ListenDrops in /proc/net/netstat, and the listener's rx_queue in /proc/net/tcp stays at the
//   queue's size (backlog + 1).
// - Open fds near the limit. The soft RLIMIT_NOFILE is lowered to 256 (or the hard limit, if
//   lower) and /dev/null is opened until 95 % of it is in use (243 of 256, the load client's
//   sockets included), leaving the rest as headroom.
// - Threads piling up on one futex. "db-pool-holder" takes the pool's std::mutex and keeps it
//   ("a slow query"); 14 threads "db-pool-wait-N" and the acceptor block on that same mutex.
// - Log lines an on-call person would see, on stdout, one every 500 ms, flushed line by line:
//   "GET /checkout 503 upstream timeout …", some with a planted secret for the redaction tests:
//   `Authorization: Bearer <kBleedBearerToken>` and, when EPHEMERA_TARGET_DB_PASSWORD is set, its
//   value printed bare ("db: reconnecting to … as checkout with <value>").
// Once all that is in place it prints "ephemera-target: bleeding: …" with the figures.
//
// --exit-after SECONDS ends the process that long after it starts serving, with --exit-code N
// (default 1); 137 is a real SIGKILL of itself, so the kubelet reports exit code 137. With
// --exit-once FILE only the first run does so: it creates FILE, and a run that finds FILE keeps
// serving (FILE on an emptyDir volume gives a pod whose previous instance was killed).
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <latch>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ephemera::target {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::atomic<bool> stopping{false};
std::mutex mu;
std::condition_variable cv;

// --bleed: the figures its header comment describes.
constexpr int kServiceBacklog = 16;
constexpr int kBleedBacklog = 4;
constexpr rlim_t kBleedOpenFilesLimit = 256;
constexpr rlim_t kBleedOpenFilesPercent = 95;
constexpr size_t kBleedMaxClientSockets = 24;
constexpr int kBleedPoolWaiters = 14;
constexpr milliseconds kBleedTick{500};
// A JWT-shaped token (HS256 header, {"sub":"checkout-bleed","scope":"orders:write",...}, a made-up
// signature) that the log lines carry after "Authorization: Bearer". Tests look for it verbatim.
constexpr const char* kBleedBearerToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJjaGVja291dC1ibGVlZCIsInNjb3BlIjoib3JkZXJzOndyaXRlIiwiaWF0IjoxNzY1MDAwMDAwfQ."
    "I4CAAH2G-PIKOc2k6NBMrlTj02tCO93Vp_p55pSBymU";

// The "database connection pool" lock: db-pool-holder keeps it while serving, so every thread that
// needs a connection (the acceptor, db-pool-wait-N) waits on this one futex.
std::mutex pool_mu;

struct Options {
  int threads = 4;
  int port = 8080;
  bool bleed = false;
  std::optional<seconds> exit_after;
  int exit_code = 1;
  std::string exit_once;  // marker file; "" when --exit-once is not given
};

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

// --bleed: holds the pool lock until SIGTERM, as a query that never returns would.
[[gnu::noinline]] void HoldPoolLockInSlowQuery(std::latch& held) {
  std::lock_guard<std::mutex> lock(pool_mu);
  held.count_down();
  while (!stopping.load()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

// --bleed: blocks on the pool lock (a futex wait) until db-pool-holder lets go at SIGTERM.
[[gnu::noinline]] void WaitForDbConnection() { std::lock_guard<std::mutex> lock(pool_mu); }

// --bleed: every connection needs a database connection before it is accepted, so the acceptor
// waits on the pool lock and the listener's accept queue fills up.
[[gnu::noinline]] void AcceptBehindPoolLock(int listener) {
  WaitForDbConnection();
  if (!stopping.load()) AcceptConnections(listener);
}

sockaddr_in LoopbackAddress(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

int Listen(int port, int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = LoopbackAddress(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(fd, backlog) < 0) {
    std::perror("ephemera-target: listen");
    std::exit(1);
  }
  return fd;
}

int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = LoopbackAddress(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    std::perror("ephemera-target: connect");
    std::exit(1);
  }
  return fd;
}

// --bleed: a client of the service's own listener that keeps its full accept queue hammered with
// SYNs. At most kBleedMaxClientSockets sockets, all nonblocking; Tick does a bounded amount of
// work and the caller sleeps between ticks. Owned and used by one thread.
class SelfConnectingClient {
 public:
  explicit SelfConnectingClient(int port) : address_(LoopbackAddress(port)) {}
  SelfConnectingClient(const SelfConnectingClient&) = delete;
  SelfConnectingClient& operator=(const SelfConnectingClient&) = delete;
  ~SelfConnectingClient() {
    for (int fd : sockets_) close(fd);
  }

  // Opens sockets until there are kBleedMaxClientSockets (or the fd limit stops it).
  void FillUp() {
    while (sockets_.size() < kBleedMaxClientSockets && OpenOne()) {
    }
  }

  // Closes the sockets whose connection failed (a SYN given up on), closes the oldest one when
  // all are open, and opens new ones up to the cap: at least one fresh SYN per tick.
  void Tick() {
    std::vector<pollfd> polled;
    polled.reserve(sockets_.size());
    for (int fd : sockets_) polled.push_back(pollfd{fd, POLLOUT, 0});
    if (poll(polled.data(), polled.size(), 0) > 0) {
      for (const pollfd& p : polled) {
        if ((p.revents & (POLLERR | POLLHUP)) == 0) continue;
        close(p.fd);
        sockets_.erase(std::find(sockets_.begin(), sockets_.end(), p.fd));
      }
    }
    if (sockets_.size() >= kBleedMaxClientSockets) {
      close(sockets_.front());
      sockets_.pop_front();
    }
    FillUp();
  }

  size_t OpenSockets() const { return sockets_.size(); }

 private:
  bool OpenOne() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) < 0 &&
        errno != EINPROGRESS) {
      close(fd);
      return false;
    }
    sockets_.push_back(fd);
    return true;
  }

  sockaddr_in address_;
  std::deque<int> sockets_;  // oldest first
};

// --bleed: lowers the soft RLIMIT_NOFILE to kBleedOpenFilesLimit (never raises it). Returns the
// soft limit in force.
rlim_t LowerOpenFilesLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  limit.rlim_cur = std::min({limit.rlim_cur, limit.rlim_max, kBleedOpenFilesLimit});
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) std::perror("ephemera-target: setrlimit");
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

size_t CountOpenFds(rlim_t soft_limit) {
  size_t open = 0;
  for (rlim_t fd = 0; fd < soft_limit; ++fd) {
    if (fcntl(static_cast<int>(fd), F_GETFD) != -1) ++open;
  }
  return open;
}

// --bleed: opens /dev/null until kBleedOpenFilesPercent of `soft_limit` fds are open. The files
// stay open until the process ends. Returns how many fds are open.
size_t FillFdsNearLimit(rlim_t soft_limit) {
  const size_t want = static_cast<size_t>(soft_limit * kBleedOpenFilesPercent / 100);
  size_t open = CountOpenFds(soft_limit);
  while (open < want && ::open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0) ++open;
  return open;
}

void PrintLine(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// --bleed: the service's log while it drops requests, one line per call, cycling through what an
// on-call person would see. `db_password` ("" when unset) is printed bare, as careless code does.
[[gnu::noinline]] void WriteAccessLogLine(uint64_t n, const std::string& db_password) {
  const std::string req = " req-" + std::to_string(n);
  switch (n % 7) {
    case 0:
      PrintLine("ERROR GET /checkout 503 upstream timeout after 5000ms" + req);
      break;
    case 1:
      PrintLine("ERROR POST /api/orders 503 upstream timeout after 5000ms" + req);
      break;
    case 2:
      PrintLine("WARN db pool exhausted: 0 of 8 connections free, " +
                std::to_string(kBleedPoolWaiters + 1) + " requests waiting");
      break;
    case 3:
      PrintLine("ERROR GET /checkout 503 upstream timeout after 5000ms" + req +
                " headers: Authorization: Bearer " + kBleedBearerToken);
      break;
    case 4:
      if (!db_password.empty()) {
        PrintLine("INFO db: reconnecting to db.shop.svc:5432 as checkout with " + db_password);
        break;
      }
      [[fallthrough]];
    case 5:
      // Personal data a log should not hand out: masked by the PII mode (standard and up).
      PrintLine("WARN payment declined for customer jane.roe+orders@example.org" + req);
      break;
    default:
      PrintLine("WARN GET /healthz 200 slow: 4900ms" + req);
      break;
  }
}

[[gnu::noinline]] void KeepConnectingToOwnListener(SelfConnectingClient& client) {
  while (!stopping.load()) {
    std::this_thread::sleep_for(kBleedTick);
    client.Tick();
  }
}

[[gnu::noinline]] void WriteAccessLog() {
  const char* password = std::getenv("EPHEMERA_TARGET_DB_PASSWORD");
  const std::string db_password = password == nullptr ? "" : password;
  for (uint64_t n = 0; !stopping.load(); ++n) {
    WriteAccessLogLine(n, db_password);
    std::this_thread::sleep_for(kBleedTick);
  }
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

// --exit-after: ends the process at once (threads parked on locks are not joined).
[[noreturn]] void ExitNow(const Options& options) {
  std::printf("ephemera-target: exiting with code %d after %llds (--exit-after)\n",
              options.exit_code, static_cast<long long>(options.exit_after->count()));
  std::fflush(stdout);
  // A real SIGKILL, so that the container runtime reports what it reports for an OOM kill or
  // `kill -9`: exit code 137, signal 9.
  if (options.exit_code == 137) raise(SIGKILL);
  std::_Exit(options.exit_code);
}

// --exit-once: whether this run is the first (it creates `marker`, which must not exist yet).
bool ClaimFirstRun(const std::string& marker) {
  int fd = open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    close(fd);
    return true;
  }
  if (errno != EEXIST) {
    std::perror(("ephemera-target: --exit-once " + marker).c_str());
    std::exit(2);
  }
  std::printf("ephemera-target: %s exists, an earlier run exited; this one keeps serving\n",
              marker.c_str());
  return false;
}

int Serve(Options options) {
  signal(SIGTERM, OnTerminate);
  signal(SIGINT, OnTerminate);
  if (!options.exit_once.empty() && options.exit_after && !ClaimFirstRun(options.exit_once)) {
    options.exit_after.reset();
  }
  const rlim_t open_files_limit = options.bleed ? LowerOpenFilesLimit() : 0;
  const int threads = options.threads;
  const int port = options.port;
  int listener = Listen(port, options.bleed ? kBleedBacklog : kServiceBacklog);
  int peer = ConnectTo(port);
  int pipe_fds[2];
  if (pipe(pipe_fds) < 0) return 1;
  std::ofstream journal("/tmp/ephemera-target.journal", std::ios::app);

  const int pool_waiters = options.bleed ? kBleedPoolWaiters : 0;
  // --bleed adds db-pool-holder, the pool waiters, load-client and access-log.
  const int bleed_threads = options.bleed ? pool_waiters + 3 : 0;
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads + bleed_threads) + 2);
  // "serving" is printed once every thread has its name: tests that wait for it then see them all.
  std::latch named(threads + bleed_threads + 2);
  // --bleed: the pool lock is taken before anyone else asks for it.
  std::latch held(1);
  if (options.bleed) {
    workers.emplace_back([&named, &held] {
      NameThisThread("db-pool-holder");
      named.count_down();
      HoldPoolLockInSlowQuery(held);
    });
    held.wait();
  }
  workers.emplace_back([listener, bleed = options.bleed, &named] {
    NameThisThread("acceptor");
    named.count_down();
    if (bleed) {
      AcceptBehindPoolLock(listener);
    } else {
      AcceptConnections(listener);
    }
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
  for (int i = 0; i < pool_waiters; ++i) {
    workers.emplace_back([i, &named] {
      NameThisThread("db-pool-wait-" + std::to_string(i));
      named.count_down();
      WaitForDbConnection();
    });
  }
  std::optional<SelfConnectingClient> client;
  size_t open_fds = 0;
  if (options.bleed) {
    // The client's sockets first, then the files: together they hold 95 % of the limit.
    client.emplace(port);
    client->FillUp();
    open_fds = FillFdsNearLimit(open_files_limit);
    workers.emplace_back([&client, &named] {
      NameThisThread("load-client");
      named.count_down();
      KeepConnectingToOwnListener(*client);
    });
    workers.emplace_back([&named] {
      NameThisThread("access-log");
      named.count_down();
      WriteAccessLog();
    });
  }
  named.wait();
  std::printf("ephemera-target: serving on 127.0.0.1:%d with %zu threads\n", port,
              workers.size() + 1);
  if (options.bleed) {
    std::printf(
        "ephemera-target: bleeding: listener backlog %d never accepted, %zu client sockets, %zu of "
        "%llu fds open, %d threads waiting on the db pool lock\n",
        kBleedBacklog, client->OpenSockets(), open_fds,
        static_cast<unsigned long long>(open_files_limit), pool_waiters + 1);
  }
  std::fflush(stdout);
  const auto started = std::chrono::steady_clock::now();
  while (!stopping.load()) {
    journal << "tick\n" << std::flush;
    milliseconds nap(1000);
    if (options.exit_after) {
      const auto left = started + *options.exit_after - std::chrono::steady_clock::now();
      if (left <= milliseconds(0)) ExitNow(options);
      nap = std::min(nap, std::chrono::ceil<milliseconds>(left));
    }
    std::this_thread::sleep_for(nap);
  }
  cv.notify_all();
  shutdown(listener, SHUT_RDWR);
  close(pipe_fds[1]);
  close(peer);
  for (auto& w : workers) w.join();
  return 0;
}

constexpr const char* kUsage =
    "usage: ephemera-target [--threads N] [--port P] [--say TEXT] [--bleed]\n"
    "                       [--exit-after SECONDS [--exit-code N] [--exit-once FILE]] | ps\n";

}  // namespace
}  // namespace ephemera::target

int main(int argc, char** argv) {
  using ephemera::target::kUsage;
  ephemera::target::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "ps") return ephemera::target::ListProcesses();
    if (arg == "--threads" && i + 1 < argc) {
      options.threads = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
    } else if (arg == "--port" && i + 1 < argc) {
      options.port = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
    } else if (arg == "--say" && i + 1 < argc) {
      // A line for the log (and a value in argv): tests plant canary secrets this way.
      std::printf("ephemera-target: %s\n", argv[++i]);
    } else if (arg == "--bleed") {
      options.bleed = true;
    } else if (arg == "--exit-after" && i + 1 < argc) {
      options.exit_after = std::chrono::seconds(std::strtol(argv[++i], nullptr, 10));
    } else if (arg == "--exit-code" && i + 1 < argc) {
      options.exit_code = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
    } else if (arg == "--exit-once" && i + 1 < argc) {
      options.exit_once = argv[++i];
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (options.threads < 0 || options.threads > 10000) {
    std::fprintf(stderr, "ephemera-target: --threads must be between 0 and 10000\n");
    return 2;
  }
  if (options.exit_after && options.exit_after->count() < 0) {
    std::fprintf(stderr, "ephemera-target: --exit-after must not be negative\n");
    return 2;
  }
  if (options.exit_code < 0 || options.exit_code > 255) {
    std::fprintf(stderr, "ephemera-target: --exit-code must be between 0 and 255\n");
    return 2;
  }
  if (!options.exit_once.empty() && !options.exit_after) {
    std::fprintf(stderr, "ephemera-target: --exit-once needs --exit-after\n");
    return 2;
  }
  return ephemera::target::Serve(options);
}
