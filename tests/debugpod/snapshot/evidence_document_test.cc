#include "debugpod/snapshot/evidence_document.h"

#include <gtest/gtest.h>

#include <string>

#include "debugpod/procfs/cgroup.h"
#include "debugpod/procfs/real_proc_fs.h"

namespace ephemera::snapshot {
namespace {

// The evidence fixture tree of the procfs tests: pid 7000 in tests/testdata/procfs/evidence.
std::string EvidenceRoot() { return std::string(EPHEMERA_TESTDATA_DIR) + "/procfs/evidence"; }

std::vector<procfs::CgroupMembership> Memberships(const std::string& cgroup_file) {
  StatusOr<std::vector<procfs::CgroupMembership>> parsed = procfs::ParseCgroup(cgroup_file);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : std::vector<procfs::CgroupMembership>{};
}

TEST(EvidenceDocumentTest, WritesTheNetworkCountersListenersAndSomaxconn) {
  procfs::RealProcFs proc(EvidenceRoot() + "/proc");
  Json network = NetworkEvidenceDocument(procfs::ReadNetworkEvidence(proc, 7000));

  const Json& counters = network["counters"];
  EXPECT_EQ(counters["listenOverflows"], 4211);
  EXPECT_EQ(counters["listenDrops"], 4215);
  EXPECT_EQ(counters["retransmittedSegments"], 122);
  EXPECT_EQ(counters["retransmissionTimeouts"], 37);
  EXPECT_EQ(counters["establishedResets"], 1913);
  EXPECT_EQ(counters["currentEstablished"], 152);
  EXPECT_EQ(counters.size(), api::kNetworkCounters.size());
  ASSERT_EQ(network["listeners"].size(), 2u);
  EXPECT_EQ(network["listeners"][0]["protocol"], "tcp");
  EXPECT_EQ(network["listeners"][0]["local"], "0.0.0.0:8080");
  EXPECT_EQ(network["listeners"][0]["acceptQueue"], 128);
  EXPECT_EQ(network["listeners"][1]["protocol"], "tcp6");
  EXPECT_EQ(network["listeners"][1]["acceptQueue"], 3);
  EXPECT_EQ(network["somaxconn"], 4096);
  EXPECT_EQ(network["listenersTruncated"], false);
  EXPECT_EQ(network["errors"], Json::array());
}

TEST(EvidenceDocumentTest, LeavesOutWhatTheReaderDidNotGet) {
  procfs::NetworkEvidence network;
  network.counters.emplace();
  network.counters->listen_drops = 3;
  network.errors = {"net/netstat: ENOENT"};
  Json out = NetworkEvidenceDocument(network);
  EXPECT_EQ(out["counters"], Json({{"listenDrops", 3}}));
  EXPECT_FALSE(out.contains("somaxconn"));
  EXPECT_EQ(out["errors"], Json::array({"net/netstat: ENOENT"}));

  Json none = NetworkEvidenceDocument(procfs::NetworkEvidence{});
  EXPECT_FALSE(none.contains("counters"));

  Json memory = MemoryEvidenceDocument(procfs::MemoryEvidence{});
  EXPECT_FALSE(memory.contains("cgroupVersion"));
  EXPECT_FALSE(memory.contains("events"));
  EXPECT_FALSE(memory.contains("failcnt"));
}

TEST(EvidenceDocumentTest, WritesCgroupV2PressureAndMemoryEvents) {
  procfs::RealProcFs proc(EvidenceRoot() + "/proc");
  procfs::RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v2");
  auto memberships = Memberships("0::/kubepods/pod7\n");

  Json pressure =
      PressureEvidenceDocument(procfs::ReadPressureEvidence(proc, cgroups, memberships));
  EXPECT_EQ(pressure["source"], "cgroup");
  EXPECT_DOUBLE_EQ(pressure["cpu"]["some"]["avg10"].get<double>(), 63.10);
  EXPECT_DOUBLE_EQ(pressure["cpu"]["some"]["avg300"].get<double>(), 12.5);
  EXPECT_EQ(pressure["cpu"]["some"]["total"], 912345);
  EXPECT_EQ(pressure["memory"]["full"]["total"], 10);
  EXPECT_TRUE(pressure.contains("io"));

  Json memory = MemoryEvidenceDocument(procfs::ReadMemoryEvidence(cgroups, memberships));
  EXPECT_EQ(memory["cgroupVersion"], 2);
  EXPECT_EQ(memory["cgroupPath"], "/kubepods/pod7");
  EXPECT_EQ(memory["events"], Json({{"low", 0},
                                    {"high", 12},
                                    {"max", 40},
                                    {"oom", 2},
                                    {"oomKill", 2},
                                    {"oomGroupKill", 0}}));
  EXPECT_FALSE(memory.contains("oomControl"));
  EXPECT_EQ(memory["errors"], Json::array());
}

TEST(EvidenceDocumentTest, WritesCgroupV1OomControlFailcntAndTheMachinesPressure) {
  procfs::RealProcFs proc(EvidenceRoot() + "/proc");
  procfs::RealCgroupFs cgroups(EvidenceRoot() + "/cgroup-v1");
  auto memberships = Memberships("4:memory:/kubepods/pod7\n");

  Json pressure =
      PressureEvidenceDocument(procfs::ReadPressureEvidence(proc, cgroups, memberships));
  EXPECT_EQ(pressure["source"], "system");
  EXPECT_DOUBLE_EQ(pressure["cpu"]["some"]["avg10"].get<double>(), 97.77);

  Json memory = MemoryEvidenceDocument(procfs::ReadMemoryEvidence(cgroups, memberships));
  EXPECT_EQ(memory["cgroupVersion"], 1);
  EXPECT_FALSE(memory.contains("events"));
  EXPECT_EQ(memory["oomControl"],
            Json({{"oomKillDisable", false}, {"underOom", true}, {"oomKill", 3}}));
  EXPECT_EQ(memory["failcnt"], 17);
}

TEST(EvidenceDocumentTest, BlockedThreadsAndDegradedReasons) {
  EXPECT_EQ(BlockedThreadDocument({7001, "disk writer", "io_schedule"}),
            Json({{"tid", 7001}, {"name", "disk writer"}, {"wchan", "io_schedule"}}));
  EXPECT_EQ(EvidenceDegradedReason("memory", {}), "");
  EXPECT_EQ(EvidenceDegradedReason("network", {"a", "b"}), "evidence.network: a; b");
}

}  // namespace
}  // namespace ephemera::snapshot
