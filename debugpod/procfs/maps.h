// Pure summary of /proc/<pid>/maps: how much address space of which kind, per mapped file, and the
// largest mappings. Reads only maps (never smaps, which makes the kernel walk page tables).
// Thread safety: pure.
#ifndef EPHEMERA_DEBUGPOD_PROCFS_MAPS_H_
#define EPHEMERA_DEBUGPOD_PROCFS_MAPS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::procfs {

// Kinds of mapping, as named in summaries.
inline constexpr std::string_view kMappingFile = "file";    // backed by a path ("/usr/lib/...")
inline constexpr std::string_view kMappingAnon = "anon";    // no path, or "[anon:name]"
inline constexpr std::string_view kMappingHeap = "heap";    // "[heap]"
inline constexpr std::string_view kMappingStack = "stack";  // "[stack]", "[stack:tid]"
inline constexpr std::string_view kMappingVdso = "vdso";    // "[vdso]", "[vvar*]", "[vsyscall]"
inline constexpr std::string_view kMappingOther = "other";  // any other "[...]"

struct MappingTotals {
  uint64_t count = 0;
  uint64_t bytes = 0;
};

struct Mapping {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string perms;  // "r-xp"
  std::string kind;   // one of the kinds above
  std::string path;   // empty for anonymous mappings; may end in " (deleted)"
  uint64_t Bytes() const { return end - start; }
};

struct MapsSummary {
  MappingTotals total;
  std::map<std::string, MappingTotals> by_kind;  // only kinds that occur
  std::map<std::string, MappingTotals> by_file;  // file-backed mappings per path
  std::vector<Mapping> largest;                  // at most top_n, largest first
};

// Fails with InvalidArgument on a line that is not a maps line (the line number is given).
StatusOr<MapsSummary> ParseMapsSummary(std::string_view text, size_t top_n);

}  // namespace ephemera::procfs

#endif  // EPHEMERA_DEBUGPOD_PROCFS_MAPS_H_
