// The memory map of a process as /proc/<pid>/maps describes it. Pure parsing and lookup.
#ifndef EPHEMERA_DEBUGPOD_STACKS_PROC_MAPS_H_
#define EPHEMERA_DEBUGPOD_STACKS_PROC_MAPS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::stacks {

struct MapEntry {
  uint64_t start = 0;
  uint64_t end = 0;
  bool readable = false;
  bool executable = false;
  uint64_t offset = 0;
  uint64_t inode = 0;
  std::string path;  // as the kernel prints it: a file path, "[stack]", "[vdso]", or empty
};

// Parses the text of /proc/<pid>/maps. Lines it cannot parse yield InvalidArgument naming the line.
// The result is sorted by start address.
StatusOr<std::vector<MapEntry>> ParseProcMaps(std::string_view text);

// The entry containing `address`, or nullptr. `maps` must be sorted by start.
const MapEntry* FindMapping(const std::vector<MapEntry>& maps, uint64_t address);

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_PROC_MAPS_H_
