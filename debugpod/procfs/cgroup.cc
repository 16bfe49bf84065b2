#include "debugpod/procfs/cgroup.h"

#include <algorithm>

#include "debugpod/procfs/process_files.h"

namespace ephemera::procfs {
namespace {

// v1 reports "unlimited" as PAGE_COUNTER_MAX pages; anything this large means no limit.
constexpr uint64_t kUnlimitedMemoryFloor = uint64_t{1} << 62;

class UsageReader {
 public:
  UsageReader(const CgroupFs& fs, CgroupUsage& usage) : fs_(fs), usage_(usage) {}

  std::optional<std::string> Read(const std::string& relative) {
    StatusOr<std::string> text = fs_.ReadFile(relative);
    if (!text.ok()) {
      usage_.errors.push_back(text.status().message());
      return std::nullopt;
    }
    ++files_read_;
    return std::move(text).value();
  }

  std::optional<uint64_t> ReadNumber(const std::string& relative) {
    std::optional<std::string> text = Read(relative);
    if (!text) return std::nullopt;
    std::optional<uint64_t> value = ParseUnsigned(TrimTrailingSpace(*text));
    if (!value) usage_.errors.push_back("malformed " + relative);
    return value;
  }

  int FilesRead() const { return files_read_; }

 private:
  const CgroupFs& fs_;
  CgroupUsage& usage_;
  int files_read_ = 0;
};

const CgroupMembership* FindController(const std::vector<CgroupMembership>& memberships,
                                       std::string_view controller) {
  for (const CgroupMembership& m : memberships) {
    if (std::find(m.controllers.begin(), m.controllers.end(), controller) != m.controllers.end()) {
      return &m;
    }
  }
  return nullptr;
}

std::string JoinControllers(const std::vector<std::string>& controllers) {
  std::string joined;
  for (const std::string& c : controllers) joined += (joined.empty() ? "" : ",") + c;
  return joined;
}

// The mount directory of `controller` that has `file` for this membership, or nullopt (with the
// read error recorded) if neither "<controller>" nor the joined "<a,b>" directory has it.
std::optional<std::string> ReadV1File(UsageReader& reader, CgroupUsage& usage,
                                      const CgroupMembership& m, std::string_view controller,
                                      std::string_view file, std::string& path_out) {
  std::optional<std::string> rel = NormalizeCgroupPath(m.path);
  if (!rel) {
    usage.errors.push_back("cgroup path " + m.path + " escapes the mounted hierarchy");
    return std::nullopt;
  }
  path_out = m.path;
  std::optional<std::string> text = reader.Read(CgroupFilePath(controller, *rel, file));
  if (!text && m.controllers.size() > 1) {
    usage.errors.pop_back();
    text = reader.Read(CgroupFilePath(JoinControllers(m.controllers), *rel, file));
  }
  return text;
}

void ReadV1(UsageReader& reader, CgroupUsage& usage,
            const std::vector<CgroupMembership>& memberships) {
  usage.version = 1;
  std::string path;
  if (const CgroupMembership* m = FindController(memberships, "cpuacct")) {
    if (auto text = ReadV1File(reader, usage, *m, "cpuacct", "cpuacct.usage", path)) {
      usage.cpu_usage_nanos = ParseUnsigned(TrimTrailingSpace(*text));
      usage.cpu_path = path;
    }
  }
  if (const CgroupMembership* m = FindController(memberships, "cpu")) {
    if (auto text = ReadV1File(reader, usage, *m, "cpu", "cpu.stat", path)) {
      usage.nr_periods = FindFlatKey(*text, "nr_periods");
      usage.nr_throttled = FindFlatKey(*text, "nr_throttled");
      usage.throttled_nanos = FindFlatKey(*text, "throttled_time");
      usage.cpu_path = path;
    }
    if (auto text = ReadV1File(reader, usage, *m, "cpu", "cpu.cfs_quota_us", path)) {
      std::string_view q = TrimTrailingSpace(*text);
      if (q == "-1") {
        usage.cpu_quota_micros = -1;
      } else if (auto v = ParseUnsigned(q)) {
        usage.cpu_quota_micros = static_cast<int64_t>(*v);
      }
    }
    if (auto text = ReadV1File(reader, usage, *m, "cpu", "cpu.cfs_period_us", path)) {
      usage.cpu_period_micros = ParseUnsigned(TrimTrailingSpace(*text));
    }
  }
  if (const CgroupMembership* m = FindController(memberships, "memory")) {
    if (auto text = ReadV1File(reader, usage, *m, "memory", "memory.usage_in_bytes", path)) {
      usage.memory_usage_bytes = ParseUnsigned(TrimTrailingSpace(*text));
      usage.memory_path = path;
    }
    if (auto text = ReadV1File(reader, usage, *m, "memory", "memory.limit_in_bytes", path)) {
      std::optional<uint64_t> limit = ParseUnsigned(TrimTrailingSpace(*text));
      if (limit && *limit >= kUnlimitedMemoryFloor) {
        usage.memory_unlimited = true;
      } else {
        usage.memory_limit_bytes = limit;
      }
    }
  }
}

void ReadV2(UsageReader& reader, CgroupUsage& usage, const CgroupMembership& m) {
  usage.version = 2;
  std::optional<std::string> rel = NormalizeCgroupPath(m.path);
  if (!rel) {
    usage.errors.push_back("cgroup path " + m.path + " escapes the mounted hierarchy");
    return;
  }
  usage.cpu_path = m.path;
  usage.memory_path = m.path;
  if (auto text = reader.Read(CgroupFilePath("", *rel, "cpu.stat"))) {
    if (auto usec = FindFlatKey(*text, "usage_usec")) usage.cpu_usage_nanos = *usec * 1000;
    usage.nr_periods = FindFlatKey(*text, "nr_periods");
    usage.nr_throttled = FindFlatKey(*text, "nr_throttled");
    if (auto usec = FindFlatKey(*text, "throttled_usec")) usage.throttled_nanos = *usec * 1000;
  }
  if (auto text = reader.Read(CgroupFilePath("", *rel, "cpu.max"))) {
    std::vector<std::string_view> f = SplitFields(TrimTrailingSpace(*text));
    if (f.size() == 2) {
      if (f[0] == "max") {
        usage.cpu_quota_micros = -1;
      } else if (auto v = ParseUnsigned(f[0])) {
        usage.cpu_quota_micros = static_cast<int64_t>(*v);
      }
      usage.cpu_period_micros = ParseUnsigned(f[1]);
    }
  }
  usage.memory_usage_bytes = reader.ReadNumber(CgroupFilePath("", *rel, "memory.current"));
  if (auto text = reader.Read(CgroupFilePath("", *rel, "memory.max"))) {
    std::string_view max = TrimTrailingSpace(*text);
    if (max == "max") {
      usage.memory_unlimited = true;
    } else {
      usage.memory_limit_bytes = ParseUnsigned(max);
    }
  }
}

}  // namespace

StatusOr<std::vector<CgroupMembership>> ParseCgroup(std::string_view text) {
  std::vector<CgroupMembership> memberships;
  size_t line_number = 0;
  for (std::string_view line : SplitLines(text)) {
    ++line_number;
    if (line.empty()) continue;
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    std::optional<uint64_t> id;
    if (second != std::string_view::npos) id = ParseUnsigned(line.substr(0, first));
    if (!id) return InvalidArgumentError("malformed cgroup: line " + std::to_string(line_number));
    CgroupMembership m;
    m.hierarchy_id = static_cast<int>(*id);
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    size_t start = 0;
    while (start < controllers.size()) {
      size_t comma = controllers.find(',', start);
      if (comma == std::string_view::npos) comma = controllers.size();
      if (comma > start) m.controllers.emplace_back(controllers.substr(start, comma - start));
      start = comma + 1;
    }
    m.path = std::string(line.substr(second + 1));
    memberships.push_back(std::move(m));
  }
  return memberships;
}

std::optional<uint64_t> FindFlatKey(std::string_view text, std::string_view key) {
  for (std::string_view line : SplitLines(text)) {
    std::vector<std::string_view> f = SplitFields(line);
    if (f.size() == 2 && f[0] == key) return ParseUnsigned(f[1]);
  }
  return std::nullopt;
}

std::optional<std::string> NormalizeCgroupPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string normalized;
  for (std::string_view part : parts) {
    if (!normalized.empty()) normalized += '/';
    normalized += part;
  }
  return normalized;
}

StatusOr<CgroupUsage> ReadCgroupUsage(const CgroupFs& fs,
                                      const std::vector<CgroupMembership>& memberships) {
  CgroupUsage usage;
  UsageReader reader(fs, usage);
  const CgroupMembership* unified = nullptr;
  for (const CgroupMembership& m : memberships) {
    if (m.hierarchy_id == 0 && m.controllers.empty()) unified = &m;
  }
  bool v2 = false;
  if (unified != nullptr) {
    v2 = fs.ReadFile("cgroup.controllers").ok();
  }
  if (v2) {
    ReadV2(reader, usage, *unified);
  } else {
    ReadV1(reader, usage, memberships);
  }
  if (reader.FilesRead() == 0) {
    std::string reason =
        usage.errors.empty() ? "no cpu, cpuacct or memory cgroup membership" : usage.errors.front();
    return NotFoundError("no cgroup accounting readable: " + reason);
  }
  return usage;
}

std::string_view TrimTrailingSpace(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return text;
}

std::string CgroupFilePath(std::string_view dir, std::string_view cgroup, std::string_view file) {
  std::string path;
  for (std::string_view part : {dir, cgroup, file}) {
    if (part.empty()) continue;
    if (!path.empty()) path += '/';
    path += part;
  }
  return path;
}

}  // namespace ephemera::procfs
