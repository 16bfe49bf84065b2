#include "controller/metrics/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

namespace ephemera::metrics {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

template <typename Number>
bool ParseNumber(std::string_view text, Number& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

// The entries of a /proc/<pid>/fd folder, leaving out the descriptor this count reads it through
// (when the folder is this process's own).
double OpenFileDescriptors(const std::string& fd_dir) {
  DIR* dir = ::opendir(fd_dir.c_str());
  if (dir == nullptr) return 0;
  const std::string own = std::to_string(::dirfd(dir));
  const bool self = fd_dir.rfind("/proc/self/", 0) == 0 ||
                    fd_dir == "/proc/" + std::to_string(::getpid()) + "/fd";
  double count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.' || (self && own == entry->d_name)) continue;
    ++count;
  }
  ::closedir(dir);
  return count;
}

}  // namespace

std::optional<ProcessStat> ParseProcessStat(std::string_view text) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // Fields from 3 (state) on, split on single spaces.
  std::vector<std::string_view> fields;
  std::string_view rest = text.substr(close + 1);
  while (!rest.empty()) {
    const std::size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const std::size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  // Field n (1-based, as proc(5) numbers them) is fields[n - 3].
  constexpr std::size_t kUtime = 14, kStime = 15, kStarttime = 22, kVsize = 23, kRss = 24;
  if (fields.size() < kRss - 2) return std::nullopt;
  ProcessStat stat;
  if (!ParseNumber(fields[kUtime - 3], stat.user_ticks) ||
      !ParseNumber(fields[kStime - 3], stat.system_ticks) ||
      !ParseNumber(fields[kStarttime - 3], stat.start_ticks) ||
      !ParseNumber(fields[kVsize - 3], stat.virtual_bytes) ||
      !ParseNumber(fields[kRss - 3], stat.resident_pages)) {
    return std::nullopt;
  }
  return stat;
}

std::optional<long long> ParseBootTime(std::string_view proc_stat) {
  std::size_t at = 0;
  while (at < proc_stat.size()) {
    const std::size_t end = std::min(proc_stat.find('\n', at), proc_stat.size());
    std::string_view line = proc_stat.substr(at, end - at);
    if (line.substr(0, 6) == "btime ") {
      long long value = 0;
      if (ParseNumber(line.substr(6), value)) return value;
      return std::nullopt;
    }
    at = end + 1;
  }
  return std::nullopt;
}

void RegisterProcessMetrics(Registry& registry, const std::string& proc_self,
                            const std::string& proc_stat) {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const std::string stat_path = proc_self + "/stat";
  const auto stat = [stat_path] { return ParseProcessStat(ReadAll(stat_path)); };
  registry.AddUnprefixedCounterFunc(
      "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
      [stat, ticks] {
        const auto s = stat();
        return s ? static_cast<double>(s->user_ticks + s->system_ticks) / ticks : 0.0;
      });
  registry.AddUnprefixedGaugeFunc("process_resident_memory_bytes", "Resident memory size in bytes.",
                                  [stat, page] {
                                    const auto s = stat();
                                    return s ? static_cast<double>(s->resident_pages) * page : 0.0;
                                  });
  registry.AddUnprefixedGaugeFunc("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                                  [stat] {
                                    const auto s = stat();
                                    return s ? static_cast<double>(s->virtual_bytes) : 0.0;
                                  });
  // The start time never changes: read once.
  const auto boot = ParseBootTime(ReadAll(proc_stat));
  const auto started = stat();
  const double start_time = boot && started ? static_cast<double>(*boot) +
                                                  static_cast<double>(started->start_ticks) / ticks
                                            : 0.0;
  registry.AddUnprefixedGaugeFunc("process_start_time_seconds",
                                  "Start time of the process since unix epoch in seconds.",
                                  [start_time] { return start_time; });
  registry.AddUnprefixedGaugeFunc(
      "process_open_fds", "Number of open file descriptors.",
      [fd_dir = proc_self + "/fd"] { return OpenFileDescriptors(fd_dir); });
  registry.AddUnprefixedGaugeFunc("process_max_fds", "Maximum number of open file descriptors.",
                                  [] {
                                    rlimit limit{};
                                    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0.0;
                                    return static_cast<double>(limit.rlim_cur);
                                  });
}

}  // namespace ephemera::metrics
