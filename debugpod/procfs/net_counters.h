// Pure parser for the network namespace's protocol counters, /proc/<pid>/net/netstat and
// /proc/<pid>/net/snmp, and the summary of the counters that explain dropped requests.
//
// Both files are pairs of lines per group: a header naming the counters and a line of values,
// each starting with the group name ("TcpExt: SyncookiesSent ListenOverflows ..." then
// "TcpExt: 0 4211 ..."). The counters are cumulative since the namespace was created (for the
// host namespace: since boot) and count the whole namespace, i.e. every container of the pod.
// Thread safety: pure.
#ifndef EPHEMERA_DEBUGPOD_PROCFS_NET_COUNTERS_H_
#define EPHEMERA_DEBUGPOD_PROCFS_NET_COUNTERS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::procfs {

// Group ("TcpExt", "Tcp", "Udp", ...) → counter name → value. Values are signed: the kernel prints
// Tcp MaxConn as -1 ("no limit").
using NetCounters = std::map<std::string, std::map<std::string, int64_t, std::less<>>, std::less<>>;

// Bounds on what one file may hold (the kernel's largest group has about 130 counters).
inline constexpr size_t kMaxNetCounterGroups = 64;
inline constexpr size_t kMaxCountersPerGroup = 1024;

// Parses netstat or snmp text into `into` (so both files of a namespace merge into one map).
// Fails with InvalidArgument, naming `file_name` and the line, and leaves `into` unchanged when:
// a header has no value line, the two lines name different groups, their counts differ, a name is
// not [A-Za-z0-9_]+, a value is not a decimal integer that fits int64, a group appears twice
// (in this text or already in `into`), or a bound above is exceeded.
Status ParseNetCounters(std::string_view text, std::string_view file_name, NetCounters& into);

// Value of group/name, or nullopt when the kernel does not print that counter.
std::optional<int64_t> FindNetCounter(const NetCounters& counters, std::string_view group,
                                      std::string_view name);

// The counters that explain a service dropping or failing requests. Each is absent when the
// kernel does not print it (older kernels, another protocol stack) — never zero by default.
// Meanings from the kernel's Documentation/networking/snmp_counter.rst and RFC 1213/4022:
struct DroppedRequestCounters {
  // TcpExt ListenOverflows: a connection was refused a place in a listener's accept queue
  // because the queue was full (the application does not accept() fast enough); the SYN or the
  // final ACK of the handshake is dropped and the client retries.
  std::optional<int64_t> listen_overflows;
  // TcpExt ListenDrops: every packet dropped by a LISTEN socket; includes each ListenOverflows
  // and other causes (memory allocation failures, no route for the SYN-ACK).
  std::optional<int64_t> listen_drops;
  // TcpExt TCPReqQFullDrop: a SYN dropped because the SYN (request) queue was full and
  // syncookies were off.
  std::optional<int64_t> syn_queue_full_drops;
  // TcpExt TCPBacklogDrop: a segment dropped because the socket's backlog (packets queued while
  // the application holds the socket lock) was over its receive buffer limit.
  std::optional<int64_t> backlog_drops;
  // Tcp RetransSegs: segments sent again (every kind of retransmission).
  std::optional<int64_t> retransmitted_segments;
  // TcpExt TCPTimeouts: retransmission timer (RTO) expirations — a peer that stopped
  // acknowledging, or a lossy path.
  std::optional<int64_t> retransmission_timeouts;
  // TcpExt TCPSynRetrans: SYN and SYN-ACK retransmissions (connection setup that went
  // unanswered).
  std::optional<int64_t> syn_retransmits;
  // Tcp AttemptFails: connections that went from SYN-SENT or SYN-RECV straight to CLOSED, plus
  // SYN-RECV back to LISTEN — failed connection attempts, in either direction.
  std::optional<int64_t> attempt_fails;
  // Tcp EstabResets: connections that went from ESTABLISHED or CLOSE-WAIT straight to CLOSED
  // (reset by either side).
  std::optional<int64_t> established_resets;
  // Tcp OutRsts: segments sent with the RST flag.
  std::optional<int64_t> resets_sent;
  // TcpExt TCPAbortOnData: connections reset because data arrived after the application closed
  // its end (or closed with SO_LINGER 0).
  std::optional<int64_t> aborts_on_data;
  // TcpExt TCPAbortOnClose: connections reset because the application closed them with unread
  // data in the receive queue.
  std::optional<int64_t> aborts_on_close;
  // TcpExt TCPAbortOnMemory: connections reset because of too many orphaned sockets or TCP
  // memory pressure.
  std::optional<int64_t> aborts_on_memory;
  // TcpExt TCPAbortOnTimeout: connections given up after a timer ran out of retries
  // (retransmission, keepalive, zero-window probe); no RST is sent.
  std::optional<int64_t> aborts_on_timeout;
  // Tcp CurrEstab: connections now in ESTABLISHED or CLOSE-WAIT (a gauge, not a counter).
  std::optional<int64_t> current_established;
  // Udp RcvbufErrors: datagrams dropped because a socket's receive buffer was full.
  std::optional<int64_t> udp_receive_buffer_errors;
};

DroppedRequestCounters SummarizeDroppedRequests(const NetCounters& counters);

}  // namespace ephemera::procfs

#endif  // EPHEMERA_DEBUGPOD_PROCFS_NET_COUNTERS_H_
