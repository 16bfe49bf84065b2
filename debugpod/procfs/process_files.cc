#include "debugpod/procfs/process_files.h"

#include <charconv>
#include <string>

namespace ephemera::procfs {
namespace {

std::string_view Trim(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

std::optional<int64_t> ParseSigned(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "VmRSS:	    1732 kB" value part → 1732.
std::optional<uint64_t> ParseKib(std::string_view value) {
  std::vector<std::string_view> fields = SplitFields(value);
  if (fields.empty()) return std::nullopt;
  return ParseUnsigned(fields[0]);
}

bool ParseIdQuad(std::string_view value, std::array<uint32_t, 4>& out) {
  std::vector<std::string_view> fields = SplitFields(value);
  if (fields.size() < 4) return false;
  for (size_t i = 0; i < 4; ++i) {
    std::optional<uint64_t> id = ParseUnsigned(fields[i]);
    if (!id || *id > UINT32_MAX) return false;
    out[i] = static_cast<uint32_t>(*id);
  }
  return true;
}

std::vector<std::string> SplitNul(std::string_view text, bool keep_empty) {
  std::vector<std::string> parts;
  if (!text.empty() && text.back() == '\0') text.remove_suffix(1);
  if (text.empty()) return parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find('\0', start);
    std::string_view part =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (keep_empty || !part.empty()) parts.emplace_back(part);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::optional<uint64_t> ParseLimitValue(std::string_view text) {
  if (text == "unlimited") return std::nullopt;
  return ParseUnsigned(text);
}

}  // namespace

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t begin = text.find_first_not_of(" \t", pos);
    if (begin == std::string_view::npos) break;
    size_t end = text.find_first_of(" \t", begin);
    if (end == std::string_view::npos) end = text.size();
    fields.push_back(text.substr(begin, end - begin));
    pos = end;
  }
  return fields;
}

std::optional<uint64_t> ParseUnsigned(std::string_view text, int base) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

StatusOr<ProcStatus> ParseProcStatus(std::string_view text) {
  ProcStatus status;
  bool have_name = false;
  bool have_state = false;
  for (std::string_view line : SplitLines(text)) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    // Name keeps inner spaces, so only strip the separating tab.
    if (key == "Name") {
      if (!value.empty() && value.front() == '\t') value.remove_prefix(1);
      status.name = std::string(value);
      have_name = true;
      continue;
    }
    value = Trim(value);
    if (key == "State") {
      std::vector<std::string_view> fields = SplitFields(value);
      if (fields.empty()) return InvalidArgumentError("malformed status: empty State line");
      status.state = std::string(fields[0]);
      size_t open = value.find('(');
      size_t close = value.rfind(')');
      if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
        status.state_name = std::string(value.substr(open + 1, close - open - 1));
      }
      have_state = true;
    } else if (key == "Tgid" || key == "Pid" || key == "PPid" || key == "Threads") {
      std::optional<int64_t> v = ParseSigned(value);
      if (!v) return InvalidArgumentError("malformed status: bad " + std::string(key) + " line");
      int n = static_cast<int>(*v);
      if (key == "Tgid") status.tgid = n;
      if (key == "Pid") status.pid = n;
      if (key == "PPid") status.ppid = n;
      if (key == "Threads") status.threads = n;
    } else if (key == "Uid") {
      if (!ParseIdQuad(value, status.uids)) return InvalidArgumentError("malformed status: Uid");
    } else if (key == "Gid") {
      if (!ParseIdQuad(value, status.gids)) return InvalidArgumentError("malformed status: Gid");
    } else if (key == "VmSize") {
      status.vm_size_kib = ParseKib(value);
    } else if (key == "VmRSS") {
      status.vm_rss_kib = ParseKib(value);
    } else if (key == "VmHWM") {
      status.vm_hwm_kib = ParseKib(value);
    } else if (key == "voluntary_ctxt_switches") {
      status.voluntary_ctxt_switches = ParseUnsigned(value).value_or(0);
    } else if (key == "nonvoluntary_ctxt_switches") {
      status.nonvoluntary_ctxt_switches = ParseUnsigned(value).value_or(0);
    } else if (key == "CapInh") {
      status.cap_inh = ParseUnsigned(value, 16).value_or(0);
    } else if (key == "CapPrm") {
      status.cap_prm = ParseUnsigned(value, 16).value_or(0);
    } else if (key == "CapEff") {
      status.cap_eff = ParseUnsigned(value, 16).value_or(0);
    } else if (key == "CapBnd") {
      status.cap_bnd = ParseUnsigned(value, 16).value_or(0);
    } else if (key == "CapAmb") {
      status.cap_amb = ParseUnsigned(value, 16).value_or(0);
    } else if (key == "NSpid") {
      for (std::string_view field : SplitFields(value)) {
        std::optional<int64_t> v = ParseSigned(field);
        if (v) status.nspid.push_back(static_cast<int>(*v));
      }
    }
  }
  if (!have_name || !have_state) {
    return InvalidArgumentError("malformed status: missing Name or State line");
  }
  return status;
}

StatusOr<ProcStat> ParseProcStat(std::string_view text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return InvalidArgumentError("malformed stat: no (comm)");
  }
  ProcStat stat;
  std::optional<int64_t> pid = ParseSigned(Trim(text.substr(0, open)));
  if (!pid) return InvalidArgumentError("malformed stat: bad pid");
  stat.pid = static_cast<int>(*pid);
  stat.comm = std::string(text.substr(open + 1, close - open - 1));
  std::vector<std::string_view> f = SplitFields(Trim(text.substr(close + 1)));
  // f[0] is field 3 (state); field N is f[N - 3].
  constexpr size_t kProcessorIndex = 39 - 3;
  if (f.size() <= kProcessorIndex) {
    return InvalidArgumentError("malformed stat: " + std::to_string(f.size() + 2) +
                                " fields, want at least 39");
  }
  if (f[0].size() != 1) return InvalidArgumentError("malformed stat: bad state");
  stat.state = f[0][0];
  std::optional<int64_t> ppid = ParseSigned(f[4 - 3]);
  std::optional<uint64_t> flags = ParseUnsigned(f[9 - 3]);
  std::optional<uint64_t> utime = ParseUnsigned(f[14 - 3]);
  std::optional<uint64_t> stime = ParseUnsigned(f[15 - 3]);
  std::optional<int64_t> num_threads = ParseSigned(f[20 - 3]);
  std::optional<uint64_t> start_time = ParseUnsigned(f[22 - 3]);
  std::optional<int64_t> processor = ParseSigned(f[kProcessorIndex]);
  if (!ppid || !flags || !utime || !stime || !num_threads || !start_time || !processor) {
    return InvalidArgumentError("malformed stat: non-numeric field");
  }
  stat.ppid = static_cast<int>(*ppid);
  stat.flags = *flags;
  stat.utime_ticks = *utime;
  stat.stime_ticks = *stime;
  stat.num_threads = *num_threads;
  stat.start_time_ticks = *start_time;
  stat.processor = static_cast<int>(*processor);
  return stat;
}

std::vector<std::string> ParseCmdline(std::string_view text) { return SplitNul(text, true); }

std::vector<EnvVar> ParseEnviron(std::string_view text) {
  std::vector<EnvVar> vars;
  for (std::string& entry : SplitNul(text, false)) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos) {
      vars.push_back({std::move(entry), ""});
    } else {
      vars.push_back({entry.substr(0, eq), entry.substr(eq + 1)});
    }
  }
  return vars;
}

StatusOr<std::vector<Limit>> ParseLimits(std::string_view text) {
  std::vector<std::string_view> lines = SplitLines(text);
  if (lines.empty() || !lines[0].starts_with("Limit ")) {
    return InvalidArgumentError("malformed limits: missing header line");
  }
  std::vector<Limit> limits;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (Trim(line).empty()) continue;
    // Names hold single spaces and are padded to 25 columns; values never hold spaces.
    size_t gap = line.find("  ");
    if (gap > 25) gap = std::min<size_t>(25, line.size());  // npos too
    Limit limit;
    limit.name = std::string(Trim(line.substr(0, gap)));
    std::vector<std::string_view> f = SplitFields(line.substr(gap));
    if (limit.name.empty() || f.size() < 2 || f.size() > 3) {
      return InvalidArgumentError("malformed limits: line " + std::to_string(i + 1));
    }
    limit.soft = ParseLimitValue(f[0]);
    limit.hard = ParseLimitValue(f[1]);
    if ((!limit.soft && f[0] != "unlimited") || (!limit.hard && f[1] != "unlimited")) {
      return InvalidArgumentError("malformed limits: bad value on line " + std::to_string(i + 1));
    }
    if (f.size() == 3) limit.units = std::string(f[2]);
    limits.push_back(std::move(limit));
  }
  return limits;
}

StatusOr<ProcIo> ParseIo(std::string_view text) {
  ProcIo io;
  bool have_rchar = false;
  bool have_wchar = false;
  for (std::string_view line : SplitLines(text)) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::optional<uint64_t> value = ParseUnsigned(Trim(line.substr(colon + 1)));
    if (!value) return InvalidArgumentError("malformed io: bad " + std::string(key) + " line");
    if (key == "rchar") {
      io.rchar = *value;
      have_rchar = true;
    } else if (key == "wchar") {
      io.wchar = *value;
      have_wchar = true;
    } else if (key == "syscr") {
      io.syscr = *value;
    } else if (key == "syscw") {
      io.syscw = *value;
    } else if (key == "read_bytes") {
      io.read_bytes = *value;
    } else if (key == "write_bytes") {
      io.write_bytes = *value;
    } else if (key == "cancelled_write_bytes") {
      io.cancelled_write_bytes = *value;
    }
  }
  if (!have_rchar || !have_wchar) return InvalidArgumentError("malformed io: missing rchar/wchar");
  return io;
}

}  // namespace ephemera::procfs
