#include "debugpod/snapshot/targets.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "debugpod/procfs/real_proc_fs.h"

namespace ephemera::snapshot {
namespace {

std::vector<int> Pids(const Targets& targets) {
  std::vector<int> pids;
  for (const ProcessNode& node : targets.processes) pids.push_back(node.pid);
  return pids;
}

procfs::RealProcFs SnapshotFixture() {
  return procfs::RealProcFs(std::string(EPHEMERA_TESTDATA_DIR) + "/snapshot/proc");
}

TEST(DiscoverTargetsTest, EveryProcessButTheToolMainIsLowestPid) {
  StatusOr<Targets> targets = DiscoverTargets(SnapshotFixture(), 20, std::nullopt);
  ASSERT_TRUE(targets.ok()) << targets.status().ToString();
  EXPECT_EQ(targets->main_pid, 1);
  EXPECT_EQ(Pids(*targets), std::vector<int>({1, 7}));
  EXPECT_EQ(targets->processes[1].ppid, 1);
  EXPECT_EQ(targets->processes[1].name, "worker");
}

TEST(DiscoverTargetsTest, ExcludesTheToolsAncestors) {
  // As if pid 7 were the tool: it and its parent 1 are left out.
  procfs::RealProcFs proc = SnapshotFixture();
  StatusOr<Targets> targets = DiscoverTargets(proc, 7, std::nullopt);
  ASSERT_TRUE(targets.ok()) << targets.status().ToString();
  EXPECT_EQ(Pids(*targets), std::vector<int>({20}));
  StatusOr<Targets> from_child = DiscoverTargets(proc, 999, std::nullopt);  // unknown self
  ASSERT_TRUE(from_child.ok());
  EXPECT_EQ(Pids(*from_child), std::vector<int>({1, 7, 20}));
}

TEST(DiscoverTargetsTest, ExplicitPidTakesItsDescendants) {
  StatusOr<Targets> targets = DiscoverTargets(SnapshotFixture(), 20, 1);
  ASSERT_TRUE(targets.ok());
  EXPECT_EQ(targets->main_pid, 1);
  EXPECT_EQ(Pids(*targets), std::vector<int>({1, 7}));
  StatusOr<Targets> worker = DiscoverTargets(SnapshotFixture(), 20, 7);
  ASSERT_TRUE(worker.ok());
  EXPECT_EQ(Pids(*worker), std::vector<int>({7}));
}

TEST(DiscoverTargetsTest, RejectsTheToolAndMissingPids) {
  EXPECT_EQ(DiscoverTargets(SnapshotFixture(), 20, 20).status().code(),
            StatusCode::kInvalidArgument);
  StatusOr<Targets> missing = DiscoverTargets(SnapshotFixture(), 20, 31337);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("31337"), std::string::npos);
}

TEST(DiscoverTargetsTest, KernelThreadsAreNeverTargets) {
  procfs::RealProcFs host_like(std::string(EPHEMERA_TESTDATA_DIR) + "/procfs/proc");
  StatusOr<Targets> targets = DiscoverTargets(host_like, 1, std::nullopt);
  ASSERT_TRUE(targets.ok()) << targets.status().ToString();
  EXPECT_EQ(Pids(*targets), std::vector<int>({4242, 4300}));
  StatusOr<Targets> kthread = DiscoverTargets(host_like, 1, 2);
  ASSERT_FALSE(kthread.ok());
  EXPECT_NE(kthread.status().message().find("kernel thread"), std::string::npos);
}

TEST(DiscoverTargetsTest, NothingButTheToolIsNotFound) {
  std::string pattern = (std::filesystem::temp_directory_path() / "targets-XXXXXX").string();
  std::string root = mkdtemp(pattern.data());
  std::filesystem::create_directories(root + "/20");
  std::ofstream(root + "/20/stat")
      << "20 (ephemera-snapsh) R 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 0 0 0 0 0 0 0 0 "
         "0 0 0 0 17 0 0 0 0 0 0\n";
  StatusOr<Targets> targets = DiscoverTargets(procfs::RealProcFs(root), 20, std::nullopt);
  std::filesystem::remove_all(root);
  ASSERT_FALSE(targets.ok());
  EXPECT_EQ(targets.status().code(), StatusCode::kNotFound);
}

// A fixture /proc for H2: a shared-PID pod seen from the snapshot container. PID 1 is the pause
// container, 10 and 11 the target container (11 in a child cgroup of it), 20 a sidecar whose argv
// would leak, 30 the tool. Cgroup v1 paths name the container ID (cgroupfs driver), 11 also a
// systemd-driver scope; `ns_pid` is the tool's PID namespace link.
std::string SharedPidPod(const std::string& ns_pid) {
  std::string pattern = (std::filesystem::temp_directory_path() / "shared-pid-XXXXXX").string();
  std::string root = mkdtemp(pattern.data());
  auto process = [&](int pid, int ppid, const std::string& comm, const std::string& cgroup) {
    std::string dir = root + "/" + std::to_string(pid);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/stat") << pid << " (" << comm << ") S " << ppid
                                 << " 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 0 0 0 0 0 0 "
                                    "0 0 0 0 0 0 17 0 0 0 0 0 0\n";
    std::ofstream(dir + "/cgroup") << cgroup;
  };
  const std::string pod = "/kubepods/besteffort/pod5f0e";
  process(1, 0, "pause",
          "4:memory:" + pod + "/aaaaaaaaaaaa1111\n3:pids:" + pod + "/aaaaaaaaaaaa1111\n");
  process(10, 0, "app",
          "4:memory:" + pod + "/0123456789abcdef\n3:pids:" + pod + "/0123456789abcdef\n");
  process(11, 10, "app-worker",
          "4:memory:" + pod +
              "/0123456789abcdef/worker\n1:name=systemd:/kubepods.slice/"
              "cri-containerd-0123456789abcdef.scope\n");
  process(20, 0, "sidecar", "4:memory:" + pod + "/0123456789abcdef99\n");  // a longer ID
  process(30, 0, "ephemera-snaps", "4:memory:" + pod + "/ffffffffffff0000\n");
  std::filesystem::create_directories(root + "/30/ns");
  std::filesystem::create_symlink(ns_pid, root + "/30/ns/pid");
  return root;
}

TEST(CgroupNamesContainerTest, MatchesTheIdAsAWholePathWordOnV1AndV2) {
  const std::string id = "0123456789abcdef";
  EXPECT_TRUE(CgroupNamesContainer("4:memory:/kubepods/pod1/0123456789abcdef\n", id));
  EXPECT_TRUE(CgroupNamesContainer("0::/../cri-containerd-0123456789abcdef.scope\n", id));
  EXPECT_TRUE(CgroupNamesContainer("1:name=systemd:/a/crio-0123456789abcdef.scope/x\n", id));
  EXPECT_FALSE(CgroupNamesContainer("4:memory:/kubepods/pod1/0123456789abcdef99\n", id));
  EXPECT_FALSE(CgroupNamesContainer("4:memory:/kubepods/pod1/990123456789abcdef\n", id));
  EXPECT_FALSE(CgroupNamesContainer("0::/\n", id));
  EXPECT_FALSE(CgroupNamesContainer("0123456789abcdef\n", id));  // not a cgroup line
  EXPECT_FALSE(CgroupNamesContainer("0::/abc\n", "abc"));        // too short to mean a container
}

TEST(DiscoverTargetsTest, AContainerIdKeepsOnlyThatContainersProcesses) {
  const std::string root = SharedPidPod("pid:[4026532500]");
  procfs::RealProcFs proc(root);
  StatusOr<Targets> all = DiscoverTargets(proc, 30, std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Pids(*all), std::vector<int>({1, 10, 11, 20}));  // without scope: the whole pod

  StatusOr<Targets> scoped = DiscoverTargets(proc, 30, std::nullopt, {"0123456789abcdef", false});
  ASSERT_TRUE(scoped.ok()) << scoped.status().ToString();
  EXPECT_EQ(scoped->main_pid, 10);
  EXPECT_EQ(Pids(*scoped), std::vector<int>({10, 11}));

  StatusOr<Targets> sidecar = DiscoverTargets(proc, 30, 20, {"0123456789abcdef", false});
  ASSERT_FALSE(sidecar.ok());
  EXPECT_EQ(sidecar.status().code(), StatusCode::kNotFound);
  EXPECT_NE(sidecar.status().message().find("not in container"), std::string::npos);

  StatusOr<Targets> none = DiscoverTargets(proc, 30, std::nullopt, {"fedcba9876543210", false});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(root);
}

TEST(DiscoverTargetsTest, TheNodesPidNamespaceNeedsAHostSession) {
  const std::string root = SharedPidPod("pid:[4026531836]");  // PROC_PID_INIT_INO
  procfs::RealProcFs proc(root);
  StatusOr<Targets> refused = DiscoverTargets(proc, 30, std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("node's PID namespace"), std::string::npos);
  EXPECT_FALSE(DiscoverTargets(proc, 30, 10, {"0123456789abcdef", false}).ok());

  StatusOr<Targets> host = DiscoverTargets(proc, 30, std::nullopt, {"0123456789abcdef", true});
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  EXPECT_EQ(Pids(*host), std::vector<int>({10, 11}));  // still only the container
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace ephemera::snapshot
