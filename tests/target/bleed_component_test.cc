// Runs ephemera-target as a real process on this host and reads what it left in the kernel with
// the snapshot tool's own evidence reader (debugpod/procfs): --bleed overflows its accept queue,
// holds 95 % of its fd limit and piles threads on one futex, and logs what the redaction tests
// look for; --exit-after ends it with the asked code, 137 as a real SIGKILL. --http (the traffic
// benchmark's web service) answers keep-alive requests, refuses what it does not serve and stops
// on SIGTERM while a client holds a connection.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "debugpod/procfs/cgroup.h"
#include "debugpod/procfs/incident_evidence.h"
#include "debugpod/procfs/real_proc_fs.h"
#include "tests/target/target_process.h"

namespace ephemera::target {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr const char* kDbPassword = "pw-bleed-component-7c41e0";
// ephemera_target.cc's kBleedBearerToken.
constexpr const char* kBearerToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJjaGVja291dC1ibGVlZCIsInNjb3BlIjoib3JkZXJzOndyaXRlIiwiaWF0IjoxNzY1MDAwMDAwfQ."
    "I4CAAH2G-PIKOc2k6NBMrlTj02tCO93Vp_p55pSBymU";

procfs::IncidentEvidence ReadEvidence(const procfs::RealProcFs& fs, int pid) {
  StatusOr<std::string> cgroup_text = fs.ReadFile(pid, "cgroup");
  std::vector<procfs::CgroupMembership> memberships;
  if (cgroup_text.ok()) {
    StatusOr<std::vector<procfs::CgroupMembership>> parsed = procfs::ParseCgroup(*cgroup_text);
    if (parsed.ok()) memberships = *parsed;
  }
  return procfs::ReadIncidentEvidence(fs, procfs::RealCgroupFs(), pid, memberships);
}

std::optional<uint64_t> AcceptQueueOf(const procfs::IncidentEvidence& e, int port) {
  const std::string local = "127.0.0.1:" + std::to_string(port);
  for (const procfs::ListenerQueue& l : e.network.listeners) {
    if (l.local == local) return l.accept_queue;
  }
  return std::nullopt;
}

TEST(BleedComponentTest, OverflowsItsAcceptQueueFillsItsFdsAndPilesThreadsOnOneFutex) {
  procfs::RealProcFs fs;
  const procfs::IncidentEvidence before = ReadEvidence(fs, getpid());
  ASSERT_TRUE(before.network.counters && before.network.counters->listen_overflows)
      << testing::PrintToString(before.network.errors);
  const int64_t overflows_before = *before.network.counters->listen_overflows;

  TargetProcess target({"--bleed"}, {std::string("EPHEMERA_TARGET_DB_PASSWORD=") + kDbPassword});
  ASSERT_GT(target.Pid(), 0);
  const std::optional<int> serving = target.WaitForPort(seconds(10));
  ASSERT_TRUE(serving.has_value()) << target.Output();
  const int port = *serving;
  ASSERT_TRUE(target.WaitForLine("ephemera-target: bleeding:", seconds(10))) << target.Output();

  // The load client's first SYNs beyond the queue are refused at once; poll briefly for the
  // counter and the full queue rather than assume when the kernel got to them.
  procfs::IncidentEvidence e;
  const auto deadline = steady_clock::now() + seconds(10);
  do {
    e = ReadEvidence(fs, target.Pid());
    const bool overflowed = e.network.counters && e.network.counters->listen_overflows &&
                            *e.network.counters->listen_overflows > overflows_before;
    if (overflowed && AcceptQueueOf(e, port).value_or(0) >= 4) break;
    std::this_thread::sleep_for(milliseconds(100));
  } while (steady_clock::now() < deadline);

  ASSERT_TRUE(e.network.counters && e.network.counters->listen_overflows)
      << testing::PrintToString(e.network.errors);
  EXPECT_GT(*e.network.counters->listen_overflows, overflows_before)
      << "ListenOverflows did not rise";
  ASSERT_TRUE(e.network.counters->listen_drops.has_value());
  EXPECT_GT(*e.network.counters->listen_drops, 0);
  // A listen(fd, 4) queue holds up to 5 (the kernel refuses only when it is over the backlog).
  EXPECT_THAT(AcceptQueueOf(e, port), testing::Optional(testing::Ge(4u)))
      << "the listener on port " << port << " has no full accept queue";

  ASSERT_TRUE(e.fds.open && e.fds.soft_limit) << testing::PrintToString(e.fds.errors);
  EXPECT_LE(*e.fds.soft_limit, 256u);
  EXPECT_GE(*e.fds.open * 100, *e.fds.soft_limit * 90)
      << *e.fds.open << " of " << *e.fds.soft_limit << " fds open";
  EXPECT_LT(*e.fds.open, *e.fds.soft_limit) << "no headroom left";

  // The pool waiters all sleep in the same kernel function (the futex wait); the reader's
  // sanitizer keeps the wchan as the snapshot would show it.
  StatusOr<std::vector<int>> tasks = fs.ListTasks(target.Pid());
  ASSERT_TRUE(tasks.ok());
  std::map<std::string, int> waiters_by_wchan;
  for (int tid : *tasks) {
    StatusOr<std::string> comm = fs.ReadTaskFile(target.Pid(), tid, "comm");
    StatusOr<std::string> wchan = fs.ReadTaskFile(target.Pid(), tid, "wchan");
    if (!comm.ok() || comm->rfind("db-pool-wait-", 0) != 0 || !wchan.ok()) continue;
    ++waiters_by_wchan[procfs::SanitizeWchan(*wchan)];
  }
  ASSERT_EQ(waiters_by_wchan.size(), 1u) << testing::PrintToString(waiters_by_wchan);
  EXPECT_FALSE(waiters_by_wchan.begin()->first.empty()) << "the kernel hid the wchan";
  EXPECT_GE(waiters_by_wchan.begin()->second, 12);

  // Three seconds of log: the 503s, and both planted secrets in clear (so the cluster test's
  // "absent from the snapshot" means they were redacted, not never written).
  ASSERT_TRUE(target.WaitForLine(std::string("as checkout with ") + kDbPassword, seconds(5)))
      << target.Output();
  EXPECT_TRUE(target.WaitForLine("ERROR GET /checkout 503 upstream timeout", seconds(1)));
  EXPECT_TRUE(target.WaitForLine(std::string("Authorization: Bearer ") + kBearerToken, seconds(1)));
}

TEST(BleedComponentTest, StopsOnSigterm) {
  TargetProcess target({"--bleed"});
  ASSERT_GT(target.Pid(), 0);
  ASSERT_TRUE(target.WaitForLine("ephemera-target: bleeding:", seconds(10))) << target.Output();
  ASSERT_EQ(kill(target.Pid(), SIGTERM), 0);
  std::optional<int> status = target.WaitForExit(seconds(5));
  ASSERT_TRUE(status.has_value()) << "still running 5s after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

TEST(BleedComponentTest, ExitCode137IsARealSigkill) {
  TargetProcess target({"--exit-after", "1", "--exit-code", "137"});
  ASSERT_GT(target.Pid(), 0);
  std::optional<int> status = target.WaitForExit(seconds(10));
  ASSERT_TRUE(status.has_value()) << target.Output();
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << *status;
}

TEST(BleedComponentTest, ExitsWithTheAskedCode) {
  TargetProcess target({"--exit-after", "1", "--exit-code", "3"});
  ASSERT_GT(target.Pid(), 0);
  std::optional<int> status = target.WaitForExit(seconds(10));
  ASSERT_TRUE(status.has_value()) << target.Output();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 3) << *status;
}

TEST(BleedComponentTest, ExitOnceEndsOnlyTheFirstRun) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ephemera-exit-once-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string marker = (dir / "exited").string();
  const std::vector<std::string> args = {"--exit-after", "1",           "--exit-code",
                                         "137",          "--exit-once", marker};
  {
    TargetProcess first(args);
    ASSERT_GT(first.Pid(), 0);
    std::optional<int> status = first.WaitForExit(seconds(10));
    ASSERT_TRUE(status.has_value()) << first.Output();
    EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << *status;
  }
  TargetProcess second(args);
  ASSERT_GT(second.Pid(), 0);
  ASSERT_TRUE(second.WaitForLine("serving on", seconds(10))) << second.Output();
  EXPECT_FALSE(second.WaitForExit(milliseconds(2500)).has_value()) << "the second run exited too:\n"
                                                                   << second.Output();
  std::filesystem::remove_all(dir);
}

// One HTTP exchange over a fresh connection to 127.0.0.1:port: the bytes sent, then everything the
// target answers until it closes the connection or 2 s pass.
std::string Exchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    const auto deadline = steady_clock::now() + seconds(2);
    char buf[4096];
    while (steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return answer;
}

size_t CountOf(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

// --http: the traffic benchmark's web service (bench/traffic.py).
TEST(HttpTargetComponentTest, AnswersKeepAliveRequestsAndRefusesWhatItDoesNotServe) {
  TargetProcess target({"--http", "--threads", "2"});
  ASSERT_GT(target.Pid(), 0);
  ASSERT_TRUE(target.WaitForLine("ephemera-target: serving on 0.0.0.0:", seconds(10)))
      << target.Output();
  const std::optional<int> serving = target.WaitForPort(seconds(1));
  ASSERT_TRUE(serving.has_value()) << target.Output();
  const int port = *serving;
  // Two requests on one connection, then one that asks to close it: three answers, then EOF.
  const std::string get = "GET /checkout HTTP/1.1\r\nHost: t\r\n\r\n";
  const std::string answers =
      Exchange(port, get + get + "GET /checkout HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(CountOf(answers, "HTTP/1.1 200 OK\r\n"), 3u) << answers;
  EXPECT_EQ(CountOf(answers, "{\"total\":"), 3u) << answers;
  EXPECT_EQ(CountOf(answers, "Connection: close\r\n"), 1u) << answers;
  // A method it does not serve, and a header that never ends within 8 KiB: 400, then closed.
  const std::string post = Exchange(port, "POST /checkout HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 400 Bad Request\r\n")) << post;
  const std::string endless = Exchange(port, "GET /" + std::string(9000, 'a'));
  EXPECT_TRUE(endless.starts_with("HTTP/1.1 400 Bad Request\r\n")) << endless;
  // A header that does end, but past 8 KiB, is refused all the same.
  const std::string long_header =
      Exchange(port, "GET / HTTP/1.1\r\nX-Pad: " + std::string(9000, 'a') + "\r\n\r\n");
  EXPECT_TRUE(long_header.starts_with("HTTP/1.1 400 Bad Request\r\n")) << long_header;
  // HTTP/1.0, and "connection: close" in any case, close after the answer and say so.
  EXPECT_EQ(CountOf(Exchange(port, "GET / HTTP/1.0\r\n\r\n"), "Connection: close\r\n"), 1u);
  EXPECT_EQ(CountOf(Exchange(port, "GET / HTTP/1.1\r\nconnection: Close\r\n\r\n"),
                    "Connection: close\r\n"),
            1u);
  // Still serving after all of them.
  EXPECT_EQ(CountOf(Exchange(port, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), "200 OK"), 1u);
}

TEST(HttpTargetComponentTest, StopsOnSigtermWhileAClientHoldsAConnection) {
  TargetProcess target({"--http", "--threads", "2"});
  ASSERT_GT(target.Pid(), 0);
  const std::optional<int> serving = target.WaitForPort(seconds(10));
  ASSERT_TRUE(serving.has_value()) << target.Output();
  const int port = *serving;
  int idle = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  // One answered request first: a worker holds the connection, blocked on its next request.
  const std::string get = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_EQ(send(idle, get.data(), get.size(), MSG_NOSIGNAL), static_cast<ssize_t>(get.size()));
  char answer[256];
  pollfd p{idle, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1);
  ASSERT_GT(read(idle, answer, sizeof answer), 0);
  ASSERT_EQ(kill(target.Pid(), SIGTERM), 0);
  std::optional<int> status = target.WaitForExit(seconds(5));
  close(idle);
  ASSERT_TRUE(status.has_value()) << "still running 5s after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

}  // namespace
}  // namespace ephemera::target
