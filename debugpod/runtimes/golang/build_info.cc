#include "debugpod/runtimes/golang/build_info.h"

#include <algorithm>
#include <optional>

#include "debugpod/runtimes/uvarint.h"

namespace ephemera::runtimes::golang {
namespace {

constexpr size_t kHeaderBytes = 32;
constexpr uint8_t kFlagBigEndian = 1;
constexpr uint8_t kFlagInlineStrings = 2;

StatusOr<std::string> ReadString(std::span<const uint8_t> bytes, size_t& pos, size_t max_string,
                                 std::string_view what) {
  std::optional<uint64_t> length = ReadUvarint(bytes, pos);
  if (!length) return DataLossError("buildinfo: truncated length of the " + std::string(what));
  if (*length > max_string) {
    return DataLossError("buildinfo: " + std::string(what) + " of " + std::to_string(*length) +
                         " bytes is longer than " + std::to_string(max_string));
  }
  if (*length > bytes.size() - pos) {
    return DataLossError("buildinfo: truncated " + std::string(what));
  }
  std::string text(reinterpret_cast<const char*>(bytes.data() + pos), *length);
  pos += *length;
  return text;
}

}  // namespace

StatusOr<GoBuildInfo> ParseBuildInfo(std::span<const uint8_t> section, size_t max_string) {
  if (section.size() < kHeaderBytes ||
      std::string_view(reinterpret_cast<const char*>(section.data()), kBuildInfoMagic.size()) !=
          kBuildInfoMagic) {
    return InvalidArgumentError("no Go buildinfo magic");
  }
  uint8_t pointer_size = section[14];
  uint8_t flags = section[15];
  if ((flags & kFlagInlineStrings) == 0) {
    return FailedPreconditionError("buildinfo in the pre-Go 1.18 pointer format");
  }
  if ((flags & kFlagBigEndian) != 0 || pointer_size != 8) {
    return FailedPreconditionError("buildinfo of a big-endian or 32-bit binary");
  }
  size_t pos = kHeaderBytes;
  GoBuildInfo info;
  StatusOr<std::string> version = ReadString(section, pos, max_string, "version");
  if (!version.ok()) return version.status();
  if (version->empty()) return DataLossError("buildinfo: empty version");
  info.version = std::move(*version);
  // The module info is optional for what the reader needs; keep only its "path" line. It starts
  // after a 16-byte sentinel.
  constexpr size_t kModinfoSentinel = 16;
  StatusOr<std::string> modinfo = ReadString(section, pos, max_string, "module info");
  if (modinfo.ok() && modinfo->size() > kModinfoSentinel) {
    std::string_view text = std::string_view(*modinfo).substr(kModinfoSentinel);
    while (!text.empty()) {
      std::string_view line = text.substr(0, text.find('\n'));
      if (line.starts_with("path\t")) {
        info.main_module = std::string(line.substr(5));
        break;
      }
      text.remove_prefix(std::min(text.size(), line.size() + 1));
    }
  }
  return info;
}

}  // namespace ephemera::runtimes::golang
