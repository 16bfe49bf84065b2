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

}  // namespace
}  // namespace ephemera::snapshot
