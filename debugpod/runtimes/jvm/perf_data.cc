#include "debugpod/runtimes/jvm/perf_data.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

namespace ephemera::runtimes::jvm {
namespace {

constexpr size_t kHeaderBytes = 32;
constexpr size_t kEntryHeaderBytes = 20;

class Bytes {
 public:
  Bytes(std::string_view file, bool little_endian) : file_(file), little_(little_endian) {}
  // The int32 at `offset`, or nullopt past the end.
  std::optional<int32_t> Int32(size_t offset) const {
    if (offset > file_.size() || file_.size() - offset < 4) return std::nullopt;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const auto b = static_cast<uint8_t>(file_[offset + static_cast<size_t>(little_ ? 3 - i : i)]);
      v = (v << 8) | b;
    }
    return static_cast<int32_t>(v);
  }

 private:
  std::string_view file_;
  bool little_;
};

}  // namespace

StatusOr<std::string> FindPerfDataString(std::string_view file, std::string_view name) {
  if (file.size() < kHeaderBytes || static_cast<uint8_t>(file[0]) != 0xca ||
      static_cast<uint8_t>(file[1]) != 0xfe || static_cast<uint8_t>(file[2]) != 0xc0 ||
      static_cast<uint8_t>(file[3]) != 0xc0) {
    return InvalidArgumentError("jvm: not a HotSpot perf-data file");
  }
  const Bytes bytes(file, file[4] == 1);
  const std::optional<int32_t> first = bytes.Int32(24);
  const std::optional<int32_t> count = bytes.Int32(28);
  if (!first || !count || *first < 0 || *count < 0) {
    return DataLossError("jvm: perf-data header is truncated");
  }
  size_t offset = static_cast<size_t>(*first);
  const size_t entries = std::min(static_cast<size_t>(*count), kMaxPerfDataEntries);
  for (size_t i = 0; i < entries; ++i) {
    if (offset > file.size() || file.size() - offset < kEntryHeaderBytes) {
      return DataLossError("jvm: perf-data entry " + std::to_string(i) + " is past the file");
    }
    const int32_t length = *bytes.Int32(offset);
    const int32_t name_offset = *bytes.Int32(offset + 4);
    const int32_t vector_length = *bytes.Int32(offset + 8);
    const char type = file[offset + 12];
    const int32_t data_offset = *bytes.Int32(offset + 16);
    if (length < static_cast<int32_t>(kEntryHeaderBytes) ||
        static_cast<size_t>(length) > file.size() - offset || name_offset < 0 ||
        name_offset >= length || data_offset < 0 || data_offset > length || vector_length < 0) {
      return DataLossError("jvm: perf-data entry " + std::to_string(i) + " is malformed");
    }
    const std::string_view entry = file.substr(offset, static_cast<size_t>(length));
    std::string_view entry_name = entry.substr(static_cast<size_t>(name_offset));
    entry_name = entry_name.substr(0, entry_name.find('\0'));
    if (entry_name == name) {
      if (type != 'B' || vector_length == 0) {
        return FailedPreconditionError("jvm: perf-data counter " + std::string(name) +
                                       " is not a string");
      }
      std::string_view data = entry.substr(static_cast<size_t>(data_offset));
      data = data.substr(0, std::min(static_cast<size_t>(vector_length), kMaxPerfDataString));
      return std::string(data.substr(0, data.find('\0')));
    }
    offset += static_cast<size_t>(length);
  }
  return NotFoundError("jvm: perf-data has no counter " + std::string(name));
}

}  // namespace ephemera::runtimes::jvm
