#include "debugpod/procfs/net.h"

#include <gtest/gtest.h>

#include <string>

#include "debugpod/procfs/real_proc_fs.h"

namespace ephemera::procfs {
namespace {

std::vector<NetSocket> FixtureTable(std::string_view protocol) {
  RealProcFs fs(std::string(EPHEMERA_TESTDATA_DIR) + "/procfs/proc");
  StatusOr<std::string> text = fs.ReadNetFile(4242, protocol);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  if (!text.ok()) return {};
  StatusOr<std::vector<NetSocket>> sockets = ParseNetSockets(*text, protocol);
  EXPECT_TRUE(sockets.ok()) << sockets.status().ToString();
  return sockets.ok() ? *sockets : std::vector<NetSocket>{};
}

TEST(ParseNetSocketsTest, DecodesTcpEndpointsAndStates) {
  std::vector<NetSocket> tcp = FixtureTable("tcp");
  ASSERT_EQ(tcp.size(), 4u);
  EXPECT_EQ(tcp[0].protocol, "tcp");
  EXPECT_EQ(tcp[0].inode, 46418u);
  EXPECT_EQ(tcp[0].local, "127.0.0.1:8080");
  EXPECT_EQ(tcp[0].remote, "0.0.0.0:0");
  EXPECT_EQ(tcp[0].state, "LISTEN");
  EXPECT_EQ(tcp[0].uid, 1000u);
  EXPECT_EQ(tcp[1].local, "127.0.0.1:47284");
  EXPECT_EQ(tcp[1].remote, "127.0.0.1:8080");
  EXPECT_EQ(tcp[1].state, "ESTABLISHED");
  EXPECT_EQ(tcp[3].local, "1.0.0.10:50000");
  EXPECT_EQ(tcp[3].remote, "2.0.0.10:443");
  EXPECT_EQ(tcp[3].state, "TIME_WAIT");
}

TEST(ParseNetSocketsTest, DecodesTcp6Loopback) {
  std::vector<NetSocket> tcp6 = FixtureTable("tcp6");
  ASSERT_EQ(tcp6.size(), 1u);
  EXPECT_EQ(tcp6[0].local, "[::1]:8081");
  EXPECT_EQ(tcp6[0].remote, "[::]:0");
  EXPECT_EQ(tcp6[0].state, "LISTEN");
  EXPECT_EQ(tcp6[0].inode, 50002u);
}

TEST(ParseNetSocketsTest, DecodesUdpAndEmptyTables) {
  std::vector<NetSocket> udp = FixtureTable("udp");
  ASSERT_EQ(udp.size(), 1u);
  EXPECT_EQ(udp[0].local, "0.0.0.0:68");
  EXPECT_EQ(udp[0].state, "CLOSE");
  EXPECT_TRUE(FixtureTable("udp6").empty());
}

TEST(ParseNetSocketsTest, DecodesUnixPathsTypesAndStates) {
  std::vector<NetSocket> unix_sockets = FixtureTable("unix");
  ASSERT_EQ(unix_sockets.size(), 3u);
  EXPECT_EQ(unix_sockets[0].inode, 50001u);
  EXPECT_EQ(unix_sockets[0].path, "/run/app/admin api.sock");
  EXPECT_EQ(unix_sockets[0].state, "LISTEN");
  EXPECT_EQ(unix_sockets[0].type, "stream");
  EXPECT_EQ(unix_sockets[1].path, "");
  EXPECT_EQ(unix_sockets[1].state, "CONNECTED");
  EXPECT_EQ(unix_sockets[2].path, "@abstract-name");
  EXPECT_EQ(unix_sockets[2].type, "dgram");
  EXPECT_EQ(unix_sockets[2].state, "UNCONNECTED");
}

TEST(ParseNetSocketsTest, RejectsMalformedRowsAndUnknownTables) {
  EXPECT_FALSE(ParseNetSockets("header\n  0: zz:1 00000000:0000 0A\n", "tcp").ok());
  EXPECT_FALSE(ParseNetSockets("header\n", "sctp").ok());
}

TEST(ParseNetSocketsTest, ListenersCarryTheirAcceptQueueOthersTheirByteQueues) {
  constexpr std::string_view kTable =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
      "   0: 00000000:1F90 00000000:0000 0A 00000000:00000080 00:00000000 00000000  1000 0 7101\n"
      "   1: 0100007F:1F90 0100007F:9C40 01 000005A0:00000200 00:00000000 00000000  1000 0 7102\n";
  StatusOr<std::vector<NetSocket>> tcp = ParseNetSockets(kTable, "tcp");
  ASSERT_TRUE(tcp.ok()) << tcp.status().ToString();
  ASSERT_EQ(tcp->size(), 2u);
  EXPECT_EQ((*tcp)[0].state, "LISTEN");
  EXPECT_EQ((*tcp)[0].accept_queue, 128u);
  EXPECT_FALSE((*tcp)[0].send_queue_bytes.has_value());
  EXPECT_FALSE((*tcp)[0].receive_queue_bytes.has_value());
  EXPECT_FALSE((*tcp)[1].accept_queue.has_value());
  EXPECT_EQ((*tcp)[1].send_queue_bytes, 1440u);
  EXPECT_EQ((*tcp)[1].receive_queue_bytes, 512u);

  // UDP "CLOSE" (0x07) sockets are not listeners: their queues are buffer bytes.
  std::vector<NetSocket> udp = FixtureTable("udp");
  ASSERT_EQ(udp.size(), 1u);
  EXPECT_EQ(udp[0].receive_queue_bytes, 0u);
  EXPECT_FALSE(udp[0].accept_queue.has_value());
  EXPECT_FALSE(FixtureTable("unix")[0].receive_queue_bytes.has_value());
}

TEST(ParseNetSocketsTest, RejectsRowsWithMalformedQueues) {
  for (std::string_view queues : {"00000000", "zz:00000000", "00000000:", "1FFFFFFFFFFFFFFFF:0"}) {
    std::string table = "header\n   0: 00000000:1F90 00000000:0000 0A " + std::string(queues) +
                        " 00:00000000 00000000  1000 0 7101\n";
    EXPECT_EQ(ParseNetSockets(table, "tcp").status().code(), StatusCode::kInvalidArgument)
        << queues;
  }
}

TEST(ParseSocketInodeTest, ExtractsInodeOnlyFromSocketLinks) {
  EXPECT_EQ(ParseSocketInode("socket:[12345]"), 12345u);
  EXPECT_FALSE(ParseSocketInode("pipe:[12345]").has_value());
  EXPECT_FALSE(ParseSocketInode("/tmp/socket:[1]").has_value());
  EXPECT_FALSE(ParseSocketInode("socket:[]").has_value());
  EXPECT_FALSE(ParseSocketInode("socket:[12x]").has_value());
}

TEST(TcpStateNameTest, NamesKnownStates) {
  EXPECT_EQ(TcpStateName(0x0A), "LISTEN");
  EXPECT_EQ(TcpStateName(0x01), "ESTABLISHED");
  EXPECT_EQ(TcpStateName(0x42), "UNKNOWN");
}

}  // namespace
}  // namespace ephemera::procfs
