// ephemera-target: a small multi-threaded service used as the thing being debugged in tests and
// demos.
//
// It keeps recognisable state for a snapshot to find: named worker threads parked in distinct,
// named call stacks (sleeping, waiting on a condition variable, blocked in accept, reading a pipe),
// an open file, a listening TCP socket with a connected peer, and a secret in its environment that
// must never appear in a snapshot unredacted.
//
//   ephemera-target [--threads N] [--port P] [--say TEXT] [--bleed | --http]
//                   [--exit-after SECONDS [--exit-code N] [--exit-once FILE]]
//                   [--leak MIB_PER_SECOND] [--spin N]
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
// --http makes it a small web service for the traffic benchmark (bench/traffic.py): the --threads
// workers ("http-N") each take a connection from the listener on --port (all addresses, so that a
// Service can reach it) and answer its HTTP/1.1 requests, keep-alive, until the client closes it.
// Every request costs a little CPU in a recognisable call chain (HandleRequest -> PriceCart), so
// that a stack capture during traffic finds workers running, blocked in read and parked in accept.
// A request whose header is over 8 KiB or malformed is answered 400 and its connection closed.
//
// --leak MIB_PER_SECOND makes a thread "cache-filler" allocate and touch that much memory every
// second and never free it, so that a container with a memory limit is OOM-killed (the error
// conditions test, tests/e2e/conditions_e2e_test.sh). --spin N adds N threads "spin-N" that burn
// CPU in a loop, so that a CPU limit throttles the container.
//
// --port 0 lets the kernel choose a free port; the "serving on ADDRESS:PORT" line names it, so
// tests on a busy host (whose ephemeral ports any outgoing connection may hold) never collide.
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
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
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
  bool http = false;
  int leak_mib_per_second = 0;
  int spin = 0;
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

// --http: the figures its header comment describes.
constexpr int kHttpBacklog = 1024;
constexpr size_t kHttpMaxHeaderBytes = size_t{8} * 1024;
// How soon a worker blocked on a quiet connection sees SIGTERM.
constexpr milliseconds kHttpPoll{200};
constexpr int kPriceCartRounds = 2000;

// The request's "business logic": a few microseconds of arithmetic over its bytes, kept out of line
// so that a stack taken while it runs names it.
[[gnu::noinline]] uint64_t PriceCart(std::string_view request) {
  uint64_t h = 1469598103934665603ULL;
  for (int round = 0; round < kPriceCartRounds; ++round) {
    for (size_t i = 0; i < request.size(); i += 64) {
      h = (h ^ static_cast<uint8_t>(request[i])) * 1099511628211ULL;
    }
    h ^= static_cast<uint64_t>(round);
  }
  return h;
}

bool SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Answers one request whose header is `head` (up to and without the blank line). False: the
// connection is to be closed.
[[gnu::noinline]] bool HandleRequest(int fd, std::string_view head) {
  const bool valid = head.starts_with("GET ") || head.starts_with("HEAD ");
  if (!valid) {
    SendAll(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return false;
  }
  char body[64];
  const int body_len = std::snprintf(body, sizeof body, "{\"total\":%llu}\n",
                                     static_cast<unsigned long long>(PriceCart(head) % 100000));
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const size_t line_end = lower.find("\r\n");
  const bool http10 = lower.substr(0, line_end).ends_with(" http/1.0");
  const bool close_after = http10 || lower.find("\r\nconnection: close") != std::string::npos;
  std::string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(body_len) + "\r\n";
  if (close_after) response += "Connection: close\r\n";
  response += "\r\n";
  if (!head.starts_with("HEAD ")) response.append(body, static_cast<size_t>(body_len));
  return SendAll(fd, response) && !close_after;
}

// Serves one keep-alive connection until the client closes it, it misbehaves, or SIGTERM.
[[gnu::noinline]] void ServeConnection(int fd) {
  std::string buffer;
  char chunk[4096];
  while (!stopping.load()) {
    size_t end = buffer.find("\r\n\r\n");
    if (end <= kHttpMaxHeaderBytes) {  // npos is above it
      const bool keep = HandleRequest(fd, std::string_view(buffer).substr(0, end));
      // Requests carry no body (GET, HEAD); anything else was refused and the connection closes.
      buffer.erase(0, end + 4);
      if (!keep) break;
      continue;
    }
    if (end != std::string::npos || buffer.size() > kHttpMaxHeaderBytes) {
      SendAll(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      break;
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(kHttpPoll.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
}

[[gnu::noinline]] void ServeHttp(int listener) {
  while (!stopping.load()) {
    const int conn = accept(listener, nullptr, nullptr);
    if (conn < 0) {
      if (stopping.load()) return;  // the listener was shut down
      // Out of fds or buffers, or a connection reset before it was taken: try again shortly
      // rather than lose a worker.
      if (errno != EINTR && errno != ECONNABORTED) std::this_thread::sleep_for(milliseconds(10));
      continue;
    }
    ServeConnection(conn);
  }
}

// --leak: memory that is allocated, touched and kept, a tenth of the rate every 100 ms.
[[gnu::noinline]] void FillCacheForever(int mib_per_second) {
  std::vector<std::unique_ptr<char[]>> kept;
  const size_t chunk = static_cast<size_t>(mib_per_second) * 1024 * 1024 / 10;
  while (!stopping.load()) {
    auto block = std::make_unique<char[]>(chunk);
    std::memset(block.get(), 0x5a, chunk);
    kept.push_back(std::move(block));
    std::this_thread::sleep_for(milliseconds(100));
  }
}

// --spin: CPU burnt in a loop the compiler cannot drop.
[[gnu::noinline]] void SpinForever() {
  volatile uint64_t sink = 0;
  while (!stopping.load()) {
    for (int i = 0; i < 100000; ++i) sink = sink + static_cast<uint64_t>(i);
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

// On loopback, or with every_address on all of the host's (or pod's) addresses.
int Listen(int port, int backlog, bool every_address = false) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = LoopbackAddress(port);
  if (every_address) addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(fd, backlog) < 0) {
    std::perror("ephemera-target: listen");
    std::exit(1);
  }
  return fd;
}

// The port `listener` is bound to: the kernel's choice when --port was 0.
int BoundPort(int listener) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    std::perror("ephemera-target: getsockname");
    std::exit(1);
  }
  return ntohs(addr.sin_port);
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
  int listener = options.http
                     ? Listen(options.port, kHttpBacklog, true)
                     : Listen(options.port, options.bleed ? kBleedBacklog : kServiceBacklog);
  const int port = BoundPort(listener);
  // --http: the workers take every connection, this one too; the benchmark makes its own.
  int peer = options.http ? -1 : ConnectTo(port);
  int pipe_fds[2];
  if (pipe(pipe_fds) < 0) return 1;
  std::ofstream journal("/tmp/ephemera-target.journal", std::ios::app);

  const int pool_waiters = options.bleed ? kBleedPoolWaiters : 0;
  // --bleed adds db-pool-holder, the pool waiters, load-client and access-log.
  const int bleed_threads = options.bleed ? pool_waiters + 3 : 0;
  const int extra_threads = (options.leak_mib_per_second > 0 ? 1 : 0) + options.spin;
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads + bleed_threads + extra_threads) + 2);
  // "serving" is printed once every thread has its name: tests that wait for it then see them all.
  std::latch named(threads + bleed_threads + extra_threads + 2);
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
  workers.emplace_back([listener, bleed = options.bleed, http = options.http, &named] {
    NameThisThread("acceptor");
    named.count_down();
    if (bleed) {
      AcceptBehindPoolLock(listener);
    } else if (!http) {
      AcceptConnections(listener);
    }
  });
  workers.emplace_back([fd = pipe_fds[0], &named] {
    NameThisThread("pipe-reader");
    named.count_down();
    ReadFromPipe(fd);
  });
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([i, listener, http = options.http, &named] {
      if (http) {
        NameThisThread("http-" + std::to_string(i));
        named.count_down();
        ServeHttp(listener);
      } else if (i % 2 == 0) {
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
  if (options.leak_mib_per_second > 0) {
    workers.emplace_back([rate = options.leak_mib_per_second, &named] {
      NameThisThread("cache-filler");
      named.count_down();
      FillCacheForever(rate);
    });
  }
  for (int i = 0; i < options.spin; ++i) {
    workers.emplace_back([i, &named] {
      NameThisThread("spin-" + std::to_string(i));
      named.count_down();
      SpinForever();
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
  std::printf("ephemera-target: serving on %s:%d with %zu threads\n",
              options.http ? "0.0.0.0" : "127.0.0.1", port, workers.size() + 1);
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
  if (peer >= 0) close(peer);
  for (auto& w : workers) w.join();
  return 0;
}

constexpr const char* kUsage =
    "usage: ephemera-target [--threads N] [--port P] [--say TEXT] [--bleed | --http]\n"
    "                       [--exit-after SECONDS [--exit-code N] [--exit-once FILE]]\n"
    "                       [--leak MIB_PER_SECOND] [--spin N] | ps\n";

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
    } else if (arg == "--http") {
      options.http = true;
    } else if (arg == "--leak" && i + 1 < argc) {
      options.leak_mib_per_second = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
    } else if (arg == "--spin" && i + 1 < argc) {
      options.spin = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
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
  if (options.port < 0 || options.port > 65535) {
    std::fprintf(stderr, "ephemera-target: --port must be between 0 and 65535\n");
    return 2;
  }
  if (options.threads < 0 || options.threads > 10000) {
    std::fprintf(stderr, "ephemera-target: --threads must be between 0 and 10000\n");
    return 2;
  }
  if (options.leak_mib_per_second < 0 || options.leak_mib_per_second > 1024) {
    std::fprintf(stderr, "ephemera-target: --leak must be between 0 and 1024 MiB per second\n");
    return 2;
  }
  if (options.spin < 0 || options.spin > 64) {
    std::fprintf(stderr, "ephemera-target: --spin must be between 0 and 64\n");
    return 2;
  }
  if (options.bleed && options.http) {
    std::fprintf(stderr, "ephemera-target: --bleed and --http cannot be combined\n");
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
