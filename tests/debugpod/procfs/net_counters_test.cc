#include "debugpod/procfs/net_counters.h"

#include <gtest/gtest.h>

#include <string>

#include "debugpod/procfs/real_proc_fs.h"

namespace ephemera::procfs {
namespace {

using namespace std::string_literals;

std::string FixtureNetFile(std::string_view name) {
  RealProcFs fs(std::string(EPHEMERA_TESTDATA_DIR) + "/procfs/evidence/proc");
  StatusOr<std::string> text = fs.ReadNetFile(7000, name);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : "";
}

TEST(ParseNetCountersTest, MergesNetstatAndSnmpWithSignedValues) {
  NetCounters counters;
  ASSERT_TRUE(ParseNetCounters(FixtureNetFile("netstat"), "netstat", counters).ok());
  ASSERT_TRUE(ParseNetCounters(FixtureNetFile("snmp"), "snmp", counters).ok());
  EXPECT_EQ(counters.size(), 5u);  // TcpExt, IpExt, Ip, Tcp, Udp
  EXPECT_EQ(FindNetCounter(counters, "TcpExt", "ListenOverflows"), 4211);
  EXPECT_EQ(FindNetCounter(counters, "IpExt", "InOctets"), 723695410);
  EXPECT_EQ(FindNetCounter(counters, "Tcp", "MaxConn"), -1);
  EXPECT_EQ(FindNetCounter(counters, "Tcp", "NoSuchCounter"), std::nullopt);
  EXPECT_EQ(FindNetCounter(counters, "Sctp", "MaxConn"), std::nullopt);
}

TEST(ParseNetCountersTest, SummarizesTheCountersOfDroppedRequests) {
  NetCounters counters;
  ASSERT_TRUE(ParseNetCounters(FixtureNetFile("netstat"), "netstat", counters).ok());
  ASSERT_TRUE(ParseNetCounters(FixtureNetFile("snmp"), "snmp", counters).ok());
  DroppedRequestCounters s = SummarizeDroppedRequests(counters);
  EXPECT_EQ(s.listen_overflows, 4211);
  EXPECT_EQ(s.listen_drops, 4215);
  EXPECT_EQ(s.syn_queue_full_drops, 0);
  EXPECT_EQ(s.backlog_drops, 0);
  EXPECT_EQ(s.retransmitted_segments, 122);
  EXPECT_EQ(s.retransmission_timeouts, 37);
  EXPECT_EQ(s.syn_retransmits, 9);
  EXPECT_EQ(s.attempt_fails, 161);
  EXPECT_EQ(s.established_resets, 1913);
  EXPECT_EQ(s.resets_sent, 1746);
  EXPECT_EQ(s.aborts_on_data, 12);
  EXPECT_EQ(s.aborts_on_close, 3);
  EXPECT_EQ(s.aborts_on_memory, 0);
  EXPECT_EQ(s.aborts_on_timeout, 1);
  EXPECT_EQ(s.current_established, 152);
  EXPECT_EQ(s.udp_receive_buffer_errors, 5);
}

TEST(ParseNetCountersTest, CountersTheKernelDoesNotPrintAreAbsentNotZero) {
  NetCounters counters;
  ASSERT_TRUE(ParseNetCounters("Tcp: RetransSegs\nTcp: 7\n", "snmp", counters).ok());
  DroppedRequestCounters s = SummarizeDroppedRequests(counters);
  EXPECT_EQ(s.retransmitted_segments, 7);
  EXPECT_FALSE(s.listen_overflows.has_value());
  EXPECT_FALSE(s.resets_sent.has_value());
  EXPECT_FALSE(s.udp_receive_buffer_errors.has_value());
  EXPECT_FALSE(SummarizeDroppedRequests(NetCounters{}).retransmitted_segments.has_value());
}

TEST(ParseNetCountersTest, EmptyTextIsNoGroups) {
  NetCounters counters;
  EXPECT_TRUE(ParseNetCounters("", "snmp", counters).ok());
  EXPECT_TRUE(ParseNetCounters("\n\n", "snmp", counters).ok());
  EXPECT_TRUE(counters.empty());
}

Status Parse(std::string_view text) {
  NetCounters counters;
  return ParseNetCounters(text, "netstat", counters);
}

TEST(ParseNetCountersTest, RefusesMismatchedHeaderAndValues) {
  Status more_names = Parse("TcpExt: A B C\nTcpExt: 1 2\n");
  EXPECT_EQ(more_names.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(more_names.message(), "malformed net/netstat: line 2: 3 names but 2 values");
  EXPECT_EQ(Parse("TcpExt: A\nTcpExt: 1 2\n").code(), StatusCode::kInvalidArgument);
  Status other_group = Parse("TcpExt: A\nIpExt: 1\n");
  EXPECT_EQ(other_group.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(other_group.message().find("IpExt follows the header of TcpExt"), std::string::npos);
  Status no_values = Parse("TcpExt: A\nTcpExt: 1\nIpExt: B\n");
  EXPECT_EQ(no_values.message(), "malformed net/netstat: line 3: header without a value line");
}

TEST(ParseNetCountersTest, RefusesHostileValuesAndNames) {
  // One past INT64_MAX, and far past it.
  EXPECT_FALSE(Parse("Tcp: A\nTcp: 9223372036854775808\n").ok());
  EXPECT_FALSE(Parse("Tcp: A\nTcp: 99999999999999999999999999999999\n").ok());
  EXPECT_TRUE(Parse("Tcp: A B\nTcp: 9223372036854775807 -9223372036854775808\n").ok());
  EXPECT_FALSE(Parse("Tcp: A\nTcp: 1x\n").ok());
  EXPECT_FALSE(Parse("Tcp: A\nTcp: +1\n").ok());
  EXPECT_FALSE(Parse("Tcp: A\nTcp: 0x10\n").ok());
  EXPECT_FALSE(Parse("Tcp: A\nTcp: 1\0\n"s).ok());
  EXPECT_FALSE(Parse("Tcp: A\0B\nTcp: 1\n"s).ok());
  EXPECT_FALSE(Parse("Tcp: A-B\nTcp: 1\n").ok());
  EXPECT_FALSE(Parse("Tcp A\nTcp 1\n").ok());                    // no "Group:"
  EXPECT_FALSE(Parse(": A\n: 1\n").ok());                        // empty group name
  EXPECT_FALSE(Parse("Tcp: A A\nTcp: 1 2\n").ok());              // a counter twice
  EXPECT_FALSE(Parse("Tcp: A\nTcp: 1\nTcp: B\nTcp: 2\n").ok());  // a group twice
  EXPECT_FALSE(Parse("Tcp: A\nTcp:").ok());                      // truncated value line
}

TEST(ParseNetCountersTest, RefusesAGroupAlreadyMergedAndLeavesTheMapUnchanged) {
  NetCounters counters;
  ASSERT_TRUE(ParseNetCounters("Tcp: A\nTcp: 1\n", "snmp", counters).ok());
  Status again = ParseNetCounters("Udp: B\nUdp: 2\nTcp: A\nTcp: 3\n", "snmp", counters);
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(counters.size(), 1u);
  EXPECT_EQ(FindNetCounter(counters, "Tcp", "A"), 1);
  EXPECT_EQ(FindNetCounter(counters, "Udp", "B"), std::nullopt);
}

TEST(ParseNetCountersTest, RefusesMoreGroupsOrCountersThanTheBounds) {
  std::string many_groups;
  for (size_t i = 0; i <= kMaxNetCounterGroups; ++i) {
    many_groups += "G" + std::to_string(i) + ": A\nG" + std::to_string(i) + ": 1\n";
  }
  EXPECT_EQ(Parse(many_groups).code(), StatusCode::kInvalidArgument);
  std::string names = "Tcp:";
  std::string values = "Tcp:";
  for (size_t i = 0; i <= kMaxCountersPerGroup; ++i) {
    names += " C" + std::to_string(i);
    values += " 1";
  }
  EXPECT_EQ(Parse(names + "\n" + values + "\n").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ephemera::procfs
