#include "debugpod/procfs/maps.h"

#include <algorithm>

#include "debugpod/procfs/process_files.h"

namespace ephemera::procfs {
namespace {

std::string_view KindOf(std::string_view path) {
  if (path.empty() || path.starts_with("[anon:")) return kMappingAnon;
  if (path.front() != '[') return kMappingFile;
  if (path == "[heap]") return kMappingHeap;
  if (path.starts_with("[stack")) return kMappingStack;
  if (path == "[vdso]" || path.starts_with("[vvar") || path == "[vsyscall]") return kMappingVdso;
  return kMappingOther;
}

// Keeps `largest` as the top_n biggest mappings seen so far, largest first, without storing the
// rest (a min-heap on size: the smallest kept mapping is at the front).
void Offer(std::vector<Mapping>& largest, size_t top_n, Mapping mapping) {
  auto smaller = [](const Mapping& a, const Mapping& b) { return a.Bytes() > b.Bytes(); };
  if (top_n == 0) return;
  if (largest.size() < top_n) {
    largest.push_back(std::move(mapping));
    std::push_heap(largest.begin(), largest.end(), smaller);
  } else if (mapping.Bytes() > largest.front().Bytes()) {
    std::pop_heap(largest.begin(), largest.end(), smaller);
    largest.back() = std::move(mapping);
    std::push_heap(largest.begin(), largest.end(), smaller);
  }
}

// Parses one maps line; the path may contain spaces. Empty lines are not maps lines.
StatusOr<MapEntry> ParseMapsLine(std::string_view line, size_t line_number) {
  size_t pos = 0;
  std::string_view fields[5];  // address perms offset dev inode
  bool ok = true;
  for (std::string_view& field : fields) {
    size_t begin = line.find_first_not_of(' ', pos);
    if (begin == std::string_view::npos) {
      ok = false;
      break;
    }
    size_t end = line.find(' ', begin);
    if (end == std::string_view::npos) end = line.size();
    field = line.substr(begin, end - begin);
    pos = end;
  }
  size_t dash = ok ? fields[0].find('-') : std::string_view::npos;
  std::optional<uint64_t> start, end, offset, inode;
  if (dash != std::string_view::npos) {
    start = ParseUnsigned(fields[0].substr(0, dash), 16);
    end = ParseUnsigned(fields[0].substr(dash + 1), 16);
    offset = ParseUnsigned(fields[2], 16);
    inode = ParseUnsigned(fields[4], 10);
  }
  if (!start || !end || *end < *start || fields[1].size() != 4 || !offset || !inode) {
    return InvalidArgumentError("malformed maps: line " + std::to_string(line_number));
  }
  MapEntry entry{*start, *end, std::string(fields[1]), *offset, *inode, ""};
  size_t path_begin = line.find_first_not_of(' ', pos);
  if (path_begin != std::string_view::npos) entry.path = std::string(line.substr(path_begin));
  return entry;
}

}  // namespace

StatusOr<std::vector<MapEntry>> ParseMaps(std::string_view text) {
  std::vector<MapEntry> maps;
  size_t line_number = 0;
  for (std::string_view line : SplitLines(text)) {
    ++line_number;
    if (line.empty()) continue;
    StatusOr<MapEntry> entry = ParseMapsLine(line, line_number);
    if (!entry.ok()) return entry.status();
    maps.push_back(std::move(*entry));
  }
  std::sort(maps.begin(), maps.end(),
            [](const MapEntry& a, const MapEntry& b) { return a.start < b.start; });
  return maps;
}

const MapEntry* FindMapping(const std::vector<MapEntry>& maps, uint64_t address) {
  auto it = std::upper_bound(maps.begin(), maps.end(), address,
                             [](uint64_t a, const MapEntry& e) { return a < e.start; });
  if (it == maps.begin()) return nullptr;
  --it;
  return address < it->end ? &*it : nullptr;
}

StatusOr<MapsSummary> ParseMapsSummary(std::string_view text, size_t top_n) {
  MapsSummary summary;
  size_t line_number = 0;
  for (std::string_view line : SplitLines(text)) {
    ++line_number;
    if (line.empty()) continue;
    StatusOr<MapEntry> entry = ParseMapsLine(line, line_number);
    if (!entry.ok()) return entry.status();
    std::string kind_name(KindOf(entry->path));
    Mapping mapping{entry->start, entry->end, std::move(entry->perms), std::move(kind_name),
                    std::move(entry->path)};
    uint64_t bytes = mapping.Bytes();
    summary.total.count++;
    summary.total.bytes += bytes;
    MappingTotals& kind = summary.by_kind[mapping.kind];
    kind.count++;
    kind.bytes += bytes;
    if (mapping.kind == kMappingFile) {
      MappingTotals& file = summary.by_file[mapping.path];
      file.count++;
      file.bytes += bytes;
    }
    Offer(summary.largest, top_n, std::move(mapping));
  }
  std::sort(summary.largest.begin(), summary.largest.end(), [](const Mapping& a, const Mapping& b) {
    return a.Bytes() != b.Bytes() ? a.Bytes() > b.Bytes() : a.start < b.start;
  });
  return summary;
}

}  // namespace ephemera::procfs
