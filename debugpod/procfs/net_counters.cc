#include "debugpod/procfs/net_counters.h"

#include <charconv>
#include <utility>
#include <vector>

#include "debugpod/procfs/process_files.h"

namespace ephemera::procfs {
namespace {

bool IsCounterName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && c != '_') return false;
  }
  return true;
}

std::optional<int64_t> ParseSigned(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "TcpExt: a b c" → group "TcpExt" and the fields after the colon; nullopt without "Name:".
struct GroupLine {
  std::string_view group;
  std::vector<std::string_view> fields;
};

std::optional<GroupLine> SplitGroupLine(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  GroupLine parsed{line.substr(0, colon), SplitFields(line.substr(colon + 1))};
  if (!IsCounterName(parsed.group)) return std::nullopt;
  return parsed;
}

}  // namespace

Status ParseNetCounters(std::string_view text, std::string_view file_name, NetCounters& into) {
  auto malformed = [&](size_t line_number, std::string_view why) {
    return InvalidArgumentError("malformed net/" + std::string(file_name) + ": line " +
                                std::to_string(line_number) + ": " + std::string(why));
  };
  std::vector<std::string_view> lines;
  for (std::string_view line : SplitLines(text)) {
    if (!SplitFields(line).empty()) lines.push_back(line);
  }
  NetCounters parsed;
  for (size_t i = 0; i < lines.size(); i += 2) {
    size_t header_number = i + 1;
    if (i + 1 >= lines.size()) return malformed(header_number, "header without a value line");
    std::optional<GroupLine> header = SplitGroupLine(lines[i]);
    std::optional<GroupLine> values = SplitGroupLine(lines[i + 1]);
    if (!header) return malformed(header_number, "no \"Group:\" prefix");
    if (!values) return malformed(header_number + 1, "no \"Group:\" prefix");
    if (header->group != values->group) {
      return malformed(header_number + 1, "group " + std::string(values->group) +
                                              " follows the header of " +
                                              std::string(header->group));
    }
    if (header->fields.size() != values->fields.size()) {
      return malformed(header_number + 1, std::to_string(header->fields.size()) + " names but " +
                                              std::to_string(values->fields.size()) + " values");
    }
    if (header->fields.size() > kMaxCountersPerGroup) {
      return malformed(header_number, "more than " + std::to_string(kMaxCountersPerGroup) +
                                          " counters in one group");
    }
    if (parsed.contains(header->group) || into.contains(header->group)) {
      return malformed(header_number, "group " + std::string(header->group) + " appears twice");
    }
    if (parsed.size() + into.size() >= kMaxNetCounterGroups) {
      return malformed(header_number,
                       "more than " + std::to_string(kMaxNetCounterGroups) + " groups");
    }
    std::map<std::string, int64_t, std::less<>> group;
    for (size_t k = 0; k < header->fields.size(); ++k) {
      std::string_view name = header->fields[k];
      if (!IsCounterName(name)) return malformed(header_number, "counter name is not [A-Za-z0-9_]");
      std::optional<int64_t> value = ParseSigned(values->fields[k]);
      if (!value) {
        return malformed(header_number + 1,
                         "value of " + std::string(name) + " is not an integer that fits int64");
      }
      if (!group.emplace(name, *value).second) {
        return malformed(header_number, "counter " + std::string(name) + " appears twice");
      }
    }
    parsed.emplace(header->group, std::move(group));
  }
  into.merge(parsed);
  return OkStatus();
}

std::optional<int64_t> FindNetCounter(const NetCounters& counters, std::string_view group,
                                      std::string_view name) {
  auto g = counters.find(group);
  if (g == counters.end()) return std::nullopt;
  auto c = g->second.find(name);
  if (c == g->second.end()) return std::nullopt;
  return c->second;
}

DroppedRequestCounters SummarizeDroppedRequests(const NetCounters& counters) {
  auto tcp_ext = [&](std::string_view name) { return FindNetCounter(counters, "TcpExt", name); };
  auto tcp = [&](std::string_view name) { return FindNetCounter(counters, "Tcp", name); };
  DroppedRequestCounters summary;
  summary.listen_overflows = tcp_ext("ListenOverflows");
  summary.listen_drops = tcp_ext("ListenDrops");
  summary.syn_queue_full_drops = tcp_ext("TCPReqQFullDrop");
  summary.backlog_drops = tcp_ext("TCPBacklogDrop");
  summary.retransmitted_segments = tcp("RetransSegs");
  summary.retransmission_timeouts = tcp_ext("TCPTimeouts");
  summary.syn_retransmits = tcp_ext("TCPSynRetrans");
  summary.attempt_fails = tcp("AttemptFails");
  summary.established_resets = tcp("EstabResets");
  summary.resets_sent = tcp("OutRsts");
  summary.aborts_on_data = tcp_ext("TCPAbortOnData");
  summary.aborts_on_close = tcp_ext("TCPAbortOnClose");
  summary.aborts_on_memory = tcp_ext("TCPAbortOnMemory");
  summary.aborts_on_timeout = tcp_ext("TCPAbortOnTimeout");
  summary.current_established = tcp("CurrEstab");
  summary.udp_receive_buffer_errors = FindNetCounter(counters, "Udp", "RcvbufErrors");
  return summary;
}

}  // namespace ephemera::procfs
