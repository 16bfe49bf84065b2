// /proc/<pid>/maps: its entries (for the stack capture, which finds the module and the stack of an
// address) and a summary (for the snapshot's maps section: how much address space of which kind,
// per mapped file, and the largest mappings). Both come from one line parser. Only maps is read
// (never smaps, which makes the kernel walk page tables). Thread safety: pure.
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

// One line of maps: "start-end perms offset dev inode [path]".
struct MapEntry {
  uint64_t start = 0;
  uint64_t end = 0;     // exclusive, >= start
  std::string perms;    // four characters, "r-xp"
  uint64_t offset = 0;  // into the mapped file
  uint64_t inode = 0;   // of the mapped file, 0 for anonymous mappings
  std::string path;     // a file path (may end in " (deleted)"), "[stack]", "[vdso]", ... or empty

  bool Readable() const { return perms.size() == 4 && perms[0] == 'r'; }
  bool Executable() const { return perms.size() == 4 && perms[2] == 'x'; }
};

// The entries of maps `text`, sorted by start address. InvalidArgument naming the line on a line
// that is not a maps line; empty lines are skipped.
StatusOr<std::vector<MapEntry>> ParseMaps(std::string_view text);

// The entry of `maps` (sorted by start) that contains `address`, or nullptr.
const MapEntry* FindMapping(const std::vector<MapEntry>& maps, uint64_t address);

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

// Summarizes without keeping every entry. Fails like ParseMaps.
StatusOr<MapsSummary> ParseMapsSummary(std::string_view text, size_t top_n);

}  // namespace ephemera::procfs

#endif  // EPHEMERA_DEBUGPOD_PROCFS_MAPS_H_
