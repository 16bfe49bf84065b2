#include "debugpod/procfs/incident_evidence.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <utility>

#include "debugpod/procfs/real_proc_fs.h"

namespace ephemera::procfs {
namespace {

constexpr int kPid = 7000;

std::string EvidenceRoot() { return std::string(EPHEMERA_TESTDATA_DIR) + "/procfs/evidence"; }

// The fixture tree under tests/testdata/procfs/evidence/proc, except for what a test replaces:
// a file's result by its path ("net/netstat", "pressure/cpu", "task/7001/stat"), or the task list.
class ScriptedProcFs final : public ProcFs {
 public:
  ScriptedProcFs() : real_(EvidenceRoot() + "/proc") {}

  void Set(const std::string& path, StatusOr<std::string> result) {
    files_.insert_or_assign(path, std::move(result));
  }
  void SetTasks(std::vector<int> tids) { tasks_ = std::move(tids); }
  // Answers every task file read with `fn(tid, relative)`.
  void SetTaskFiles(std::function<StatusOr<std::string>(int, std::string_view)> fn) {
    task_files_ = std::move(fn);
  }

  StatusOr<std::string> ReadFile(int pid, std::string_view relative) const override {
    return Lookup(std::string(relative), [&] { return real_.ReadFile(pid, relative); });
  }
  StatusOr<std::string> ReadTaskFile(int pid, int tid, std::string_view relative) const override {
    if (task_files_) return task_files_(tid, relative);
    return Lookup("task/" + std::to_string(tid) + "/" + std::string(relative),
                  [&] { return real_.ReadTaskFile(pid, tid, relative); });
  }
  StatusOr<std::string> ReadLink(int pid, std::string_view relative) const override {
    return real_.ReadLink(pid, relative);
  }
  StatusOr<std::string> ReadNetFile(int pid, std::string_view name) const override {
    return Lookup("net/" + std::string(name), [&] { return real_.ReadNetFile(pid, name); });
  }
  StatusOr<std::string> ReadSystemFile(std::string_view relative) const override {
    return Lookup(std::string(relative), [&] { return real_.ReadSystemFile(relative); });
  }
  StatusOr<std::vector<int>> ListPids() const override { return real_.ListPids(); }
  StatusOr<std::vector<int>> ListTasks(int pid) const override {
    if (tasks_) return *tasks_;
    return real_.ListTasks(pid);
  }
  StatusOr<std::vector<int>> ListFds(int pid) const override { return real_.ListFds(pid); }

 private:
  StatusOr<std::string> Lookup(const std::string& path,
                               const std::function<StatusOr<std::string>()>& real) const {
    auto it = files_.find(path);
    return it == files_.end() ? real() : it->second;
  }

  RealProcFs real_;
  std::map<std::string, StatusOr<std::string>> files_;
  std::optional<std::vector<int>> tasks_;
  std::function<StatusOr<std::string>(int, std::string_view)> task_files_;
};

std::vector<CgroupMembership> Memberships(std::string_view cgroup_file) {
  StatusOr<std::vector<CgroupMembership>> m = ParseCgroup(cgroup_file);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : std::vector<CgroupMembership>{};
}

const std::vector<CgroupMembership> kV1 =
    Memberships("4:memory:/kubepods/pod7\n2:cpu,cpuacct:/kubepods/pod7\n0::/\n");
const std::vector<CgroupMembership> kV2 = Memberships("0::/kubepods/pod7\n");

std::string Joined(const std::vector<std::string>& errors) {
  std::string all;
  for (const std::string& e : errors) all += e + "\n";
  return all;
}

TEST(ReadIncidentEvidenceTest, ReadsEverySectionOnCgroupV1) {
  ScriptedProcFs proc;
  RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v1");
  IncidentEvidence e = ReadIncidentEvidence(proc, cgroups, kPid, kV1);

  EXPECT_TRUE(e.network.errors.empty()) << Joined(e.network.errors);
  ASSERT_TRUE(e.network.counters.has_value());
  EXPECT_EQ(e.network.counters->listen_overflows, 4211);
  EXPECT_EQ(e.network.counters->retransmitted_segments, 122);
  ASSERT_EQ(e.network.listeners.size(), 2u);
  EXPECT_EQ(e.network.listeners[0].protocol, "tcp");
  EXPECT_EQ(e.network.listeners[0].local, "0.0.0.0:8080");
  EXPECT_EQ(e.network.listeners[0].inode, 7101u);
  EXPECT_EQ(e.network.listeners[0].accept_queue, 128u);
  EXPECT_EQ(e.network.listeners[1].local, "[::]:8081");
  EXPECT_EQ(e.network.listeners[1].accept_queue, 3u);
  EXPECT_FALSE(e.network.listeners_truncated);
  EXPECT_EQ(e.network.somaxconn, 4096u);

  EXPECT_TRUE(e.pressure.errors.empty()) << Joined(e.pressure.errors);
  EXPECT_EQ(e.pressure.source, "system");  // v1 has no per-cgroup PSI
  ASSERT_TRUE(e.pressure.cpu.has_value());
  EXPECT_DOUBLE_EQ(e.pressure.cpu->some.avg10_percent, 97.77);
  ASSERT_TRUE(e.pressure.memory.has_value());
  EXPECT_EQ(e.pressure.memory->full->total_micros, 2517492u);
  EXPECT_TRUE(e.pressure.io.has_value());

  EXPECT_TRUE(e.memory.errors.empty()) << Joined(e.memory.errors);
  EXPECT_EQ(e.memory.cgroup_version, 1);
  EXPECT_EQ(e.memory.cgroup_path, "/kubepods/pod7");
  ASSERT_TRUE(e.memory.oom_control.has_value());
  EXPECT_TRUE(e.memory.oom_control->under_oom);
  EXPECT_EQ(e.memory.oom_control->oom_kill, 3u);
  EXPECT_EQ(e.memory.failcnt, 17u);
  EXPECT_FALSE(e.memory.events.has_value());

  EXPECT_TRUE(e.fds.errors.empty()) << Joined(e.fds.errors);
  EXPECT_EQ(e.fds.open, 4u);
  EXPECT_EQ(e.fds.soft_limit, 1024u);
  EXPECT_FALSE(e.fds.unlimited);

  EXPECT_TRUE(e.blocked_threads.errors.empty()) << Joined(e.blocked_threads.errors);
  EXPECT_EQ(e.blocked_threads.threads_scanned, 3u);
  EXPECT_FALSE(e.blocked_threads.truncated);
  ASSERT_EQ(e.blocked_threads.threads.size(), 2u);
  EXPECT_EQ(e.blocked_threads.threads[0].tid, 7001);
  EXPECT_EQ(e.blocked_threads.threads[0].name, "disk writer");
  EXPECT_EQ(e.blocked_threads.threads[0].wchan, "io_schedule");
  EXPECT_EQ(e.blocked_threads.threads[1].tid, 7002);
  EXPECT_EQ(e.blocked_threads.threads[1].wchan, "");  // the kernel printed "0"
}

TEST(ReadIncidentEvidenceTest, ReadsTheTargetsCgroupPressureAndMemoryEventsOnCgroupV2) {
  ScriptedProcFs proc;
  RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v2");
  IncidentEvidence e = ReadIncidentEvidence(proc, cgroups, kPid, kV2);

  EXPECT_TRUE(e.pressure.errors.empty()) << Joined(e.pressure.errors);
  EXPECT_EQ(e.pressure.source, "cgroup");
  ASSERT_TRUE(e.pressure.cpu.has_value());
  EXPECT_DOUBLE_EQ(e.pressure.cpu->some.avg10_percent, 63.10);
  EXPECT_DOUBLE_EQ(e.pressure.cpu->some.avg300_percent, 12.5);
  EXPECT_DOUBLE_EQ(e.pressure.cpu->full->avg10_percent, 50);
  EXPECT_EQ(e.pressure.memory->full->total_micros, 10u);

  EXPECT_TRUE(e.memory.errors.empty()) << Joined(e.memory.errors);
  EXPECT_EQ(e.memory.cgroup_version, 2);
  ASSERT_TRUE(e.memory.events.has_value());
  EXPECT_EQ(e.memory.events->high, 12u);
  EXPECT_EQ(e.memory.events->oom_kill, 2u);
  EXPECT_EQ(e.memory.events->oom_group_kill, 0u);
  EXPECT_FALSE(e.memory.oom_control.has_value());
  EXPECT_FALSE(e.memory.failcnt.has_value());
}

TEST(ReadIncidentEvidenceTest, AV2CgroupWithoutPressureFilesFallsBackToTheSystemWithAReason) {
  ScriptedProcFs proc;
  RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v2");
  IncidentEvidence e = ReadIncidentEvidence(proc, cgroups, kPid, Memberships("0::/kubepods\n"));
  EXPECT_EQ(e.pressure.source, "system");
  ASSERT_EQ(e.pressure.errors.size(), 1u);
  EXPECT_NE(e.pressure.errors[0].find("/kubepods has no *.pressure files"), std::string::npos);
  EXPECT_TRUE(e.pressure.cpu.has_value());
  ASSERT_EQ(e.memory.errors.size(), 1u);
  EXPECT_TRUE(e.memory.errors[0].starts_with("ENOENT")) << e.memory.errors[0];
}

TEST(ReadIncidentEvidenceTest, AKernelWithoutPsiIsAReasonNotAnError) {
  ScriptedProcFs proc;
  for (std::string r : {"cpu", "memory", "io"}) {
    proc.Set("pressure/" + r, NotFoundError("ENOENT: open /proc/pressure/" + r));
  }
  RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v1");
  IncidentEvidence e = ReadIncidentEvidence(proc, cgroups, kPid, kV1);
  EXPECT_EQ(e.pressure.source, "");
  EXPECT_FALSE(e.pressure.cpu.has_value());
  EXPECT_FALSE(e.pressure.memory.has_value());
  EXPECT_FALSE(e.pressure.io.has_value());
  ASSERT_EQ(e.pressure.errors.size(), 3u);
  EXPECT_EQ(e.pressure.errors[0], "ENOENT: open /proc/pressure/cpu");
  EXPECT_TRUE(e.memory.errors.empty());  // the other sections are unaffected
}

TEST(ReadIncidentEvidenceTest, AGoneProcessLeavesEverySectionWithReasons) {
  ScriptedProcFs proc;
  RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v1");
  IncidentEvidence e = ReadIncidentEvidence(proc, cgroups, 999999, {});
  EXPECT_FALSE(e.network.counters.has_value());
  EXPECT_TRUE(e.network.listeners.empty());
  EXPECT_EQ(e.network.errors.size(), 4u) << Joined(e.network.errors);  // netstat snmp tcp tcp6
  EXPECT_EQ(e.network.somaxconn, 4096u);                               // not the process's
  EXPECT_EQ(e.memory.cgroup_version, 0);
  EXPECT_EQ(Joined(e.memory.errors), "no memory cgroup membership\n");
  EXPECT_FALSE(e.fds.open.has_value());
  EXPECT_FALSE(e.fds.soft_limit.has_value());
  EXPECT_EQ(e.fds.errors.size(), 2u);
  EXPECT_TRUE(e.blocked_threads.threads.empty());
  ASSERT_EQ(e.blocked_threads.errors.size(), 1u);
  EXPECT_TRUE(e.blocked_threads.errors[0].starts_with("ENOENT")) << e.blocked_threads.errors[0];
}

TEST(ReadIncidentEvidenceTest, AMalformedNetstatKeepsTheSnmpCounters) {
  ScriptedProcFs proc;
  proc.Set("net/netstat", std::string("TcpExt: ListenOverflows ListenDrops\nTcpExt: 1\n"));
  RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v1");
  IncidentEvidence e = ReadIncidentEvidence(proc, cgroups, kPid, kV1);
  ASSERT_TRUE(e.network.counters.has_value());
  EXPECT_FALSE(e.network.counters->listen_overflows.has_value());
  EXPECT_EQ(e.network.counters->resets_sent, 1746);
  ASSERT_EQ(e.network.errors.size(), 1u);
  EXPECT_EQ(e.network.errors[0], "malformed net/netstat: line 2: 2 names but 1 values");
}

TEST(ReadIncidentEvidenceTest, UnlimitedOpenFilesAndAMissingRowAreReported) {
  RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v1");
  const std::string header =
      "Limit                     Soft Limit           Hard Limit           Units     \n";
  ScriptedProcFs unlimited;
  unlimited.Set("limits", header +
                              "Max open files            unlimited            unlimited"
                              "            files     \n");
  IncidentEvidence e = ReadIncidentEvidence(unlimited, cgroups, kPid, kV1);
  EXPECT_TRUE(e.fds.unlimited);
  EXPECT_FALSE(e.fds.soft_limit.has_value());
  EXPECT_TRUE(e.fds.errors.empty());

  ScriptedProcFs no_row;
  no_row.Set("limits", header);
  e = ReadIncidentEvidence(no_row, cgroups, kPid, kV1);
  EXPECT_FALSE(e.fds.unlimited);
  EXPECT_EQ(Joined(e.fds.errors), "limits has no \"Max open files\" row\n");
}

std::string TaskStat(int tid, char state) {
  return std::to_string(tid) + " (worker) " + state +
         " 1 1 1 0 -1 4194368 0 0 0 0 10 3 0 0 20 0 1 0 54678 128045056 346 1 1 1 1 0 0 0 0 4 "
         "16386 1 0 0 -1 1 0 0 0 0 0 1 1 1 1 1 1 1 0";
}

TEST(ReadIncidentEvidenceTest, ThreadScanIsCappedAndSaysSo) {
  ScriptedProcFs proc;
  std::vector<int> tids;
  tids.reserve(5000);
  for (int i = 0; i < 5000; ++i) tids.push_back(10000 + i);
  proc.SetTasks(tids);
  size_t stats_read = 0;
  proc.SetTaskFiles([&](int tid, std::string_view relative) -> StatusOr<std::string> {
    if (relative == "wchan") return std::string("futex_wait_queue\n");
    ++stats_read;
    return TaskStat(tid, 'D');
  });
  RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v1");
  IncidentEvidence e = ReadIncidentEvidence(proc, cgroups, kPid, kV1);
  EXPECT_EQ(stats_read, kMaxThreadsScanned);
  EXPECT_EQ(e.blocked_threads.threads_scanned, kMaxThreadsScanned);
  EXPECT_EQ(e.blocked_threads.threads.size(), kMaxBlockedThreadsReported);
  EXPECT_TRUE(e.blocked_threads.truncated);
  EXPECT_EQ(e.blocked_threads.threads[0].wchan, "futex_wait_queue");
}

TEST(ReadIncidentEvidenceTest, ThreadsThatExitAreSkippedAndOtherErrorsAreBounded) {
  ScriptedProcFs proc;
  std::vector<int> tids;
  tids.reserve(100);
  for (int i = 0; i < 100; ++i) tids.push_back(20000 + i);
  proc.SetTasks(tids);
  proc.SetTaskFiles([](int tid, std::string_view) -> StatusOr<std::string> {
    if (tid % 2 == 0) return NotFoundError("ENOENT: open task");
    if (tid == 20001) return TaskStat(tid, 'S');
    return PermissionDeniedError("EACCES: open task");
  });
  RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v1");
  IncidentEvidence e = ReadIncidentEvidence(proc, cgroups, kPid, kV1);
  EXPECT_EQ(e.blocked_threads.threads_scanned, 1u);
  EXPECT_TRUE(e.blocked_threads.threads.empty());
  ASSERT_EQ(e.blocked_threads.errors.size(), kMaxErrorsPerSection + 1);
  EXPECT_EQ(e.blocked_threads.errors[0], "EACCES: open task");
  EXPECT_EQ(e.blocked_threads.errors.back(), "further errors omitted");
}

TEST(ReadIncidentEvidenceTest, ListenersAreCapped) {
  ScriptedProcFs proc;
  std::string tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when\n";
  for (int i = 0; i < 300; ++i) {
    char row[200];
    std::snprintf(row, sizeof row,
                  "%4d: 00000000:%04X 00000000:0000 0A 00000000:00000001 00:00000000 00000000"
                  "  1000        0 %d 1 0000000000000000 100 0 0 10 0\n",
                  i, 1000 + i, 30000 + i);
    tcp += row;
  }
  proc.Set("net/tcp", tcp);
  RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v1");
  IncidentEvidence e = ReadIncidentEvidence(proc, cgroups, kPid, kV1);
  EXPECT_EQ(e.network.listeners.size(), kMaxListenersReported);
  EXPECT_TRUE(e.network.listeners_truncated);
  EXPECT_TRUE(e.network.errors.empty()) << Joined(e.network.errors);
}

TEST(SanitizeWchanTest, KeepsOnlySymbolNames) {
  EXPECT_EQ(SanitizeWchan("do_sys_poll"), "do_sys_poll");
  EXPECT_EQ(SanitizeWchan("io_schedule\n"), "io_schedule");
  EXPECT_EQ(SanitizeWchan("0"), "");
  EXPECT_EQ(SanitizeWchan(""), "");
  EXPECT_EQ(SanitizeWchan("rpc_wait_bit_killable.cold"), "rpc_wait_bit_killable.cold");
  EXPECT_EQ(SanitizeWchan("evil\x1b[2J"), "");
  EXPECT_EQ(SanitizeWchan(std::string("a\0b", 3)), "");
  EXPECT_EQ(SanitizeWchan(std::string(65, 'a')), "");
}

}  // namespace
}  // namespace ephemera::procfs
