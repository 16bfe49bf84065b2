// Reads the real /proc of a running ephemera-target child process.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "debugpod/procfs/cgroup.h"
#include "debugpod/procfs/incident_evidence.h"
#include "debugpod/procfs/maps.h"
#include "debugpod/procfs/net.h"
#include "debugpod/procfs/process_files.h"
#include "debugpod/procfs/real_proc_fs.h"
#include "tests/target/target_process.h"

namespace ephemera::procfs {
namespace {

using ::testing::Contains;

// Polls /proc until the target has all its threads (it starts them right after exec).
bool WaitForThreads(const ProcFs& fs, int pid, size_t want) {
  for (int i = 0; i < 200; ++i) {
    StatusOr<std::vector<int>> tasks = fs.ListTasks(pid);
    if (tasks.ok() && tasks->size() >= want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(RealProcFsComponentTest, ReadsARunningMultiThreadedProcess) {
  target::TargetProcess target({"--threads", "4"});
  ASSERT_GT(target.Pid(), 0);
  const std::optional<int> port = target.WaitForPort(std::chrono::seconds(10));
  ASSERT_TRUE(port.has_value()) << target.Output();
  RealProcFs fs;
  ASSERT_TRUE(WaitForThreads(fs, target.Pid(), 7));  // main, acceptor, pipe-reader, 4 workers

  StatusOr<std::string> status_text = fs.ReadFile(target.Pid(), "status");
  ASSERT_TRUE(status_text.ok()) << status_text.status().ToString();
  StatusOr<ProcStatus> status = ParseProcStatus(*status_text);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->pid, target.Pid());
  EXPECT_EQ(status->ppid, getpid());
  EXPECT_GE(status->threads, 7);
  EXPECT_TRUE(status->vm_rss_kib.has_value());

  StatusOr<std::string> stat_text = fs.ReadFile(target.Pid(), "stat");
  ASSERT_TRUE(stat_text.ok());
  StatusOr<ProcStat> stat = ParseProcStat(*stat_text);
  ASSERT_TRUE(stat.ok()) << stat.status().ToString();
  EXPECT_EQ(stat->num_threads, status->threads);

  // A thread names itself once it runs, a moment after it exists: poll for the names too.
  std::vector<std::string> names;
  for (int i = 0; i < 200; ++i) {
    StatusOr<std::vector<int>> tasks = fs.ListTasks(target.Pid());
    ASSERT_TRUE(tasks.ok());
    names.clear();
    for (int tid : *tasks) {
      StatusOr<std::string> comm = fs.ReadTaskFile(target.Pid(), tid, "comm");
      if (comm.ok()) names.push_back(comm->substr(0, comm->find('\n')));
    }
    if (std::count(names.begin(), names.end(), "checkout-0") == 1 &&
        std::count(names.begin(), names.end(), "acceptor") == 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_THAT(names, Contains("acceptor"));
  EXPECT_THAT(names, Contains("checkout-0"));

  StatusOr<std::string> cmdline = fs.ReadFile(target.Pid(), "cmdline");
  ASSERT_TRUE(cmdline.ok());
  EXPECT_EQ(ParseCmdline(*cmdline).size(), 5u);

  StatusOr<std::string> limits = fs.ReadFile(target.Pid(), "limits");
  ASSERT_TRUE(limits.ok());
  EXPECT_TRUE(ParseLimits(*limits).ok());

  StatusOr<std::string> maps = fs.ReadFile(target.Pid(), "maps");
  ASSERT_TRUE(maps.ok());
  StatusOr<MapsSummary> summary = ParseMapsSummary(*maps, 5);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->by_file.count(EPHEMERA_TARGET_PATH), 1u);
  EXPECT_EQ(summary->by_kind.count("stack"), 1u);

  // The listening socket: find its inode among the fds, then in net/tcp.
  StatusOr<std::string> tcp_text = fs.ReadNetFile(target.Pid(), "tcp");
  ASSERT_TRUE(tcp_text.ok());
  StatusOr<std::vector<NetSocket>> tcp = ParseNetSockets(*tcp_text, "tcp");
  ASSERT_TRUE(tcp.ok()) << tcp.status().ToString();
  StatusOr<std::vector<int>> fds = fs.ListFds(target.Pid());
  ASSERT_TRUE(fds.ok());
  bool found_listener = false;
  for (int fd : *fds) {
    StatusOr<std::string> link = fs.ReadLink(target.Pid(), "fd/" + std::to_string(fd));
    if (!link.ok()) continue;
    std::optional<uint64_t> inode = ParseSocketInode(*link);
    if (!inode) continue;
    for (const NetSocket& s : *tcp) {
      if (s.inode == *inode && s.state == "LISTEN" &&
          s.local == "127.0.0.1:" + std::to_string(*port)) {
        found_listener = true;
      }
    }
  }
  EXPECT_TRUE(found_listener);

  StatusOr<std::string> cgroup_text = fs.ReadFile(target.Pid(), "cgroup");
  ASSERT_TRUE(cgroup_text.ok());
  StatusOr<std::vector<CgroupMembership>> memberships = ParseCgroup(*cgroup_text);
  ASSERT_TRUE(memberships.ok());
  StatusOr<CgroupUsage> usage = ReadCgroupUsage(RealCgroupFs(), *memberships);
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_TRUE(usage->memory_usage_bytes.has_value() || usage->cpu_usage_nanos.has_value());
}

// The evidence reader on this machine's kernel: asserts structure (what the kernel always prints,
// what it guarantees non-negative), not values.
TEST(RealProcFsComponentTest, ReadsIncidentEvidenceOfARunningProcess) {
  target::TargetProcess target({"--threads", "4"});
  ASSERT_GT(target.Pid(), 0);
  const std::optional<int> port = target.WaitForPort(std::chrono::seconds(10));
  ASSERT_TRUE(port.has_value()) << target.Output();
  RealProcFs fs;
  ASSERT_TRUE(WaitForThreads(fs, target.Pid(), 7));
  StatusOr<std::string> cgroup_text = fs.ReadFile(target.Pid(), "cgroup");
  ASSERT_TRUE(cgroup_text.ok());
  StatusOr<std::vector<CgroupMembership>> memberships = ParseCgroup(*cgroup_text);
  ASSERT_TRUE(memberships.ok());

  IncidentEvidence e = ReadIncidentEvidence(fs, RealCgroupFs(), target.Pid(), *memberships);

  ASSERT_TRUE(e.network.counters.has_value()) << testing::PrintToString(e.network.errors);
  const DroppedRequestCounters& c = *e.network.counters;
  for (const std::optional<int64_t>& counter :
       {c.listen_overflows, c.listen_drops, c.retransmitted_segments, c.attempt_fails,
        c.established_resets, c.resets_sent, c.current_established}) {
    ASSERT_TRUE(counter.has_value());
    EXPECT_GE(*counter, 0);
  }
  std::string local = "127.0.0.1:" + std::to_string(*port);
  EXPECT_TRUE(std::any_of(e.network.listeners.begin(), e.network.listeners.end(),
                          [&](const ListenerQueue& l) { return l.local == local; }))
      << "no listener " << local;
  ASSERT_TRUE(e.network.somaxconn.has_value());
  EXPECT_GT(*e.network.somaxconn, 0u);

  if (access("/proc/pressure/cpu", R_OK) == 0) {
    EXPECT_FALSE(e.pressure.source.empty()) << testing::PrintToString(e.pressure.errors);
    ASSERT_TRUE(e.pressure.cpu.has_value()) << testing::PrintToString(e.pressure.errors);
    EXPECT_GE(e.pressure.cpu->some.avg10_percent, 0);
    EXPECT_LE(e.pressure.cpu->some.avg10_percent, 100);
    EXPECT_TRUE(e.pressure.memory.has_value() && e.pressure.memory->full.has_value());
  } else {
    std::cout << "[ INFO ] no /proc/pressure on this kernel: PSI checks skipped\n";
    EXPECT_FALSE(e.pressure.errors.empty());
  }

  EXPECT_TRUE(e.memory.cgroup_version == 1 || e.memory.cgroup_version == 2);
  EXPECT_TRUE(e.memory.oom_control.has_value() || e.memory.events.has_value())
      << testing::PrintToString(e.memory.errors);

  EXPECT_TRUE(e.fds.errors.empty()) << testing::PrintToString(e.fds.errors);
  ASSERT_TRUE(e.fds.open.has_value());
  EXPECT_GE(*e.fds.open, 4u);  // stdin, stdout, stderr, the listener
  if (e.fds.soft_limit) {
    EXPECT_LE(*e.fds.open, *e.fds.soft_limit);
  }
  EXPECT_TRUE(e.fds.soft_limit.has_value() || e.fds.unlimited);

  EXPECT_TRUE(e.blocked_threads.errors.empty()) << testing::PrintToString(e.blocked_threads.errors);
  EXPECT_GE(e.blocked_threads.threads_scanned, 7u);
  EXPECT_FALSE(e.blocked_threads.truncated);
}

TEST(RealProcFsComponentTest, ExitedProcessIsNotFound) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  RealProcFs fs;
  StatusOr<std::string> status = fs.ReadFile(child, "status");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ephemera::procfs
