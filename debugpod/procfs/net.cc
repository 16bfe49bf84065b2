#include "debugpod/procfs/net.h"

#include <arpa/inet.h>

#include <cstring>

#include "debugpod/procfs/process_files.h"

namespace ephemera::procfs {
namespace {

// "0100007F:1F90" → "127.0.0.1:8080". The address is printed by the kernel as 32-bit words in host
// byte order, so copying each word's native bytes restores network order.
std::optional<std::string> DecodeEndpoint(std::string_view text, bool v6) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view hex = text.substr(0, colon);
  std::optional<uint64_t> port = ParseUnsigned(text.substr(colon + 1), 16);
  size_t words = v6 ? 4 : 1;
  if (!port || *port > 0xFFFF || hex.size() != words * 8) return std::nullopt;
  unsigned char bytes[16];
  for (size_t i = 0; i < words; ++i) {
    std::optional<uint64_t> word = ParseUnsigned(hex.substr(i * 8, 8), 16);
    if (!word) return std::nullopt;
    uint32_t w = static_cast<uint32_t>(*word);
    std::memcpy(bytes + i * 4, &w, 4);
  }
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, buf, sizeof buf) == nullptr) return std::nullopt;
  std::string port_text = std::to_string(*port);
  return v6 ? "[" + std::string(buf) + "]:" + port_text : std::string(buf) + ":" + port_text;
}

StatusOr<NetSocket> ParseInetRow(std::string_view line, std::string_view protocol) {
  // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
  std::vector<std::string_view> f = SplitFields(line);
  bool v6 = protocol.ends_with('6');
  std::optional<std::string> local, remote;
  std::optional<uint64_t> state, uid, inode, tx_queue, rx_queue;
  if (f.size() >= 10) {
    local = DecodeEndpoint(f[1], v6);
    remote = DecodeEndpoint(f[2], v6);
    state = ParseUnsigned(f[3], 16);
    size_t colon = f[4].find(':');
    if (colon != std::string_view::npos) {
      tx_queue = ParseUnsigned(f[4].substr(0, colon), 16);
      rx_queue = ParseUnsigned(f[4].substr(colon + 1), 16);
    }
    uid = ParseUnsigned(f[7]);
    inode = ParseUnsigned(f[9]);
  }
  if (!local || !remote || !state || !uid || !inode || !tx_queue || !rx_queue) {
    return InvalidArgumentError("bad row");
  }
  NetSocket socket;
  socket.protocol = std::string(protocol);
  socket.inode = *inode;
  socket.local = std::move(*local);
  socket.remote = std::move(*remote);
  socket.state = std::string(TcpStateName(static_cast<unsigned>(*state)));
  socket.uid = static_cast<uint32_t>(*uid);
  constexpr unsigned kTcpListen = 0x0A;
  if (protocol.starts_with("tcp") && *state == kTcpListen) {
    socket.accept_queue = *rx_queue;
  } else {
    socket.send_queue_bytes = *tx_queue;
    socket.receive_queue_bytes = *rx_queue;
  }
  return socket;
}

StatusOr<NetSocket> ParseUnixRow(std::string_view line) {
  // Num: RefCount Protocol Flags Type St Inode [Path]
  std::vector<std::string_view> f = SplitFields(line);
  std::optional<uint64_t> flags, type, state, inode;
  if (f.size() >= 7) {
    flags = ParseUnsigned(f[3], 16);
    type = ParseUnsigned(f[4], 16);
    state = ParseUnsigned(f[5], 16);
    inode = ParseUnsigned(f[6]);
  }
  if (!flags || !type || !state || !inode) return InvalidArgumentError("bad row");
  NetSocket socket;
  socket.protocol = "unix";
  socket.inode = *inode;
  switch (*type) {
    case 1:
      socket.type = "stream";
      break;
    case 2:
      socket.type = "dgram";
      break;
    case 5:
      socket.type = "seqpacket";
      break;
    default:
      socket.type = "unknown";
      break;
  }
  constexpr uint64_t kAcceptCon = 0x10000;  // __SO_ACCEPTCON: listening
  if ((*flags & kAcceptCon) != 0) {
    socket.state = "LISTEN";
  } else {
    switch (*state) {
      case 1:
        socket.state = "UNCONNECTED";
        break;
      case 2:
        socket.state = "CONNECTING";
        break;
      case 3:
        socket.state = "CONNECTED";
        break;
      case 4:
        socket.state = "DISCONNECTING";
        break;
      default:
        socket.state = "UNKNOWN";
        break;
    }
  }
  if (f.size() >= 8) {
    // The path is the rest of the line after the inode; it may contain spaces.
    size_t at = static_cast<size_t>(f[7].data() - line.data());
    socket.path = std::string(line.substr(at));
    while (!socket.path.empty() && socket.path.back() == ' ') socket.path.pop_back();
  }
  return socket;
}

}  // namespace

std::string_view TcpStateName(unsigned state) {
  switch (state) {
    case 0x01:
      return "ESTABLISHED";
    case 0x02:
      return "SYN_SENT";
    case 0x03:
      return "SYN_RECV";
    case 0x04:
      return "FIN_WAIT1";
    case 0x05:
      return "FIN_WAIT2";
    case 0x06:
      return "TIME_WAIT";
    case 0x07:
      return "CLOSE";
    case 0x08:
      return "CLOSE_WAIT";
    case 0x09:
      return "LAST_ACK";
    case 0x0A:
      return "LISTEN";
    case 0x0B:
      return "CLOSING";
    case 0x0C:
      return "NEW_SYN_RECV";
    default:
      return "UNKNOWN";
  }
}

StatusOr<std::vector<NetSocket>> ParseNetSockets(std::string_view text, std::string_view protocol) {
  bool unix_table = protocol == "unix";
  if (!unix_table && protocol != "tcp" && protocol != "tcp6" && protocol != "udp" &&
      protocol != "udp6") {
    return InvalidArgumentError("unsupported socket table \"" + std::string(protocol) + "\"");
  }
  std::vector<NetSocket> sockets;
  std::vector<std::string_view> lines = SplitLines(text);
  for (size_t i = 1; i < lines.size(); ++i) {  // line 0 is the header
    if (SplitFields(lines[i]).empty()) continue;
    StatusOr<NetSocket> socket =
        unix_table ? ParseUnixRow(lines[i]) : ParseInetRow(lines[i], protocol);
    if (!socket.ok()) {
      return InvalidArgumentError("malformed net/" + std::string(protocol) + ": line " +
                                  std::to_string(i + 1));
    }
    sockets.push_back(std::move(socket).value());
  }
  return sockets;
}

std::optional<uint64_t> ParseSocketInode(std::string_view link_target) {
  constexpr std::string_view kPrefix = "socket:[";
  if (!link_target.starts_with(kPrefix) || !link_target.ends_with(']')) return std::nullopt;
  return ParseUnsigned(link_target.substr(kPrefix.size(), link_target.size() - kPrefix.size() - 1));
}

}  // namespace ephemera::procfs
