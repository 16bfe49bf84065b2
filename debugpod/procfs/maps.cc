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

}  // namespace

StatusOr<MapsSummary> ParseMapsSummary(std::string_view text, size_t top_n) {
  MapsSummary summary;
  size_t line_number = 0;
  for (std::string_view line : SplitLines(text)) {
    ++line_number;
    // address perms offset dev inode [path]; the path may contain spaces.
    size_t pos = 0;
    std::string_view fields[5];
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
    std::optional<uint64_t> start, end;
    if (dash != std::string_view::npos) {
      start = ParseUnsigned(fields[0].substr(0, dash), 16);
      end = ParseUnsigned(fields[0].substr(dash + 1), 16);
    }
    if (!start || !end || *end < *start || fields[1].size() != 4) {
      return InvalidArgumentError("malformed maps: line " + std::to_string(line_number));
    }
    std::string_view path;
    size_t path_begin = line.find_first_not_of(' ', pos);
    if (path_begin != std::string_view::npos) path = line.substr(path_begin);

    Mapping mapping{*start, *end, std::string(fields[1]), std::string(KindOf(path)),
                    std::string(path)};
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
