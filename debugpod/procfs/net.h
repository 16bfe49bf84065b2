// Pure parsers for the socket tables of /proc/<pid>/net (tcp, tcp6, udp, udp6, unix) and for the
// link targets of /proc/<pid>/fd entries. Sockets are matched to fds by inode. Thread safety: pure.
#ifndef EPHEMERA_DEBUGPOD_PROCFS_NET_H_
#define EPHEMERA_DEBUGPOD_PROCFS_NET_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::procfs {

// One socket of a /proc/net table.
struct NetSocket {
  std::string protocol;  // "tcp", "tcp6", "udp", "udp6", "unix"
  uint64_t inode = 0;
  std::string local;   // inet: "127.0.0.1:8080", "[::1]:8080"; empty for unix
  std::string remote;  // inet: "0.0.0.0:0" when unconnected; empty for unix
  // inet: the kernel's TCP state name ("LISTEN", "ESTABLISHED", ...; UDP uses "ESTABLISHED" and
  // "CLOSE"); unix: "UNCONNECTED", "CONNECTING", "CONNECTED", "DISCONNECTING", or "LISTEN" for a
  // listening stream socket.
  std::string state;
  std::string type;  // unix only: "stream", "dgram", "seqpacket"
  std::string path;  // unix only: bound path, "@name" for abstract, empty if unbound
  uint32_t uid = 0;  // inet only: owner uid
  // inet sockets other than TCP listeners: bytes queued. TCP: sent but not yet acknowledged
  // (send) and received but not yet read by the application (receive); UDP: bytes held in the
  // socket's send and receive buffers. Absent for unix sockets, which print no queues.
  std::optional<uint64_t> send_queue_bytes;
  std::optional<uint64_t> receive_queue_bytes;
  // TCP listeners: connections that finished the handshake and wait for accept() (the kernel
  // prints sk_ack_backlog as rx_queue). The queue's limit, min(listen() backlog, somaxconn), is
  // not in /proc/net/tcp (only sock_diag reports it), so it is not here either.
  std::optional<uint64_t> accept_queue;
};

// Protocols ParseNetSockets understands, i.e. the /proc/<pid>/net files worth reading.
inline constexpr std::string_view kSocketProtocols[] = {"tcp", "tcp6", "udp", "udp6", "unix"};

// Parses the table for `protocol` (one of kSocketProtocols). The header line is skipped; a row that
// does not parse fails with InvalidArgument naming the line.
StatusOr<std::vector<NetSocket>> ParseNetSockets(std::string_view text, std::string_view protocol);

// The inode of an fd link target "socket:[12345]"; nullopt for any other target.
std::optional<uint64_t> ParseSocketInode(std::string_view link_target);

// Name of a TCP state number as used in /proc/net/tcp ("0A" → "LISTEN"); "UNKNOWN" otherwise.
std::string_view TcpStateName(unsigned state);

}  // namespace ephemera::procfs

#endif  // EPHEMERA_DEBUGPOD_PROCFS_NET_H_
