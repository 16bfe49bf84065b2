#include "debugpod/stacks/proc_maps.h"

#include <algorithm>
#include <charconv>

namespace ephemera::stacks {
namespace {

bool ParseHex(std::string_view s, uint64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Splits off the next space-delimited field.
std::string_view NextField(std::string_view& line) {
  size_t start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(start);
  size_t end = line.find(' ');
  std::string_view field = line.substr(0, end);
  line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  return field;
}

}  // namespace

StatusOr<std::vector<MapEntry>> ParseProcMaps(std::string_view text) {
  std::vector<MapEntry> maps;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    if (line.empty()) continue;
    std::string_view range = NextField(line);
    std::string_view perms = NextField(line);
    std::string_view offset = NextField(line);
    std::string_view device = NextField(line);
    std::string_view inode = NextField(line);
    MapEntry entry;
    size_t dash = range.find('-');
    bool ok = dash != std::string_view::npos && ParseHex(range.substr(0, dash), entry.start) &&
              ParseHex(range.substr(dash + 1), entry.end) && perms.size() >= 4 &&
              ParseHex(offset, entry.offset) && !device.empty();
    if (ok) {
      auto [ptr, ec] = std::from_chars(inode.data(), inode.data() + inode.size(), entry.inode);
      ok = ec == std::errc() && ptr == inode.data() + inode.size();
    }
    if (!ok) {
      return InvalidArgumentError("maps line " + std::to_string(line_number) + " is malformed");
    }
    entry.readable = perms[0] == 'r';
    entry.executable = perms[2] == 'x';
    size_t path_start = line.find_first_not_of(' ');
    if (path_start != std::string_view::npos) entry.path = std::string(line.substr(path_start));
    maps.push_back(std::move(entry));
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

}  // namespace ephemera::stacks
