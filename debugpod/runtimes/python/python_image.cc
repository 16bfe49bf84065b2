#include "debugpod/runtimes/python/python_image.h"

#include <charconv>

namespace ephemera::runtimes::python {
namespace {

constexpr std::string_view kDeleted = " (deleted)";

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view WithoutDeleted(std::string_view path) {
  if (path.size() >= kDeleted.size() && path.substr(path.size() - kDeleted.size()) == kDeleted) {
    path.remove_suffix(kDeleted.size());
  }
  return path;
}

// Parses "<digits>.<digits>" at the start of `text`, followed by the end or a non-digit.
std::optional<NameVersion> ParseMajorMinor(std::string_view text) {
  NameVersion version;
  const char* end = text.data() + text.size();
  auto [after_major, e1] = std::from_chars(text.data(), end, version.major);
  if (e1 != std::errc() || after_major == end || *after_major != '.') return std::nullopt;
  auto [after_minor, e2] = std::from_chars(after_major + 1, end, version.minor);
  if (e2 != std::errc()) return std::nullopt;
  return version;
}

PythonImage ImageOf(const procfs::MapEntry& entry, bool is_library) {
  PythonImage image;
  image.path = std::string(WithoutDeleted(entry.path));
  image.inode = entry.inode;
  image.is_library = is_library;
  image.name_version = VersionFromFileName(image.path);
  return image;
}

}  // namespace

std::optional<NameVersion> VersionFromFileName(std::string_view path) {
  std::string_view name = BaseName(WithoutDeleted(path));
  for (std::string_view prefix : {std::string_view("libpython"), std::string_view("python")}) {
    if (name.substr(0, prefix.size()) == prefix) return ParseMajorMinor(name.substr(prefix.size()));
  }
  return std::nullopt;
}

bool IsPythonExecutableName(std::string_view path) {
  std::string_view name = BaseName(WithoutDeleted(path));
  return name.substr(0, 6) == "python";
}

std::optional<PythonImage> FindLibpython(const std::vector<procfs::MapEntry>& maps) {
  for (const procfs::MapEntry& entry : maps) {
    std::string_view name = BaseName(WithoutDeleted(entry.path));
    if (entry.inode != 0 && name.substr(0, 9) == "libpython" &&
        name.find(".so") != std::string_view::npos) {
      return ImageOf(entry, /*is_library=*/true);
    }
  }
  return std::nullopt;
}

std::optional<PythonImage> FindExecutable(const std::vector<procfs::MapEntry>& maps,
                                          std::string_view path) {
  path = WithoutDeleted(path);
  for (const procfs::MapEntry& entry : maps) {
    if (entry.inode != 0 && WithoutDeleted(entry.path) == path) {
      return ImageOf(entry, /*is_library=*/false);
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> LoadBias(const std::vector<procfs::MapEntry>& maps,
                                 const PythonImage& image,
                                 std::span<const stacks::LoadSegment> segments) {
  constexpr uint64_t kPageMask = ~uint64_t{0xfff};
  for (const procfs::MapEntry& entry : maps) {
    if (entry.inode != image.inode || WithoutDeleted(entry.path) != image.path) continue;
    for (const stacks::LoadSegment& segment : segments) {
      if (segment.file_size == 0 || entry.offset < (segment.offset & kPageMask) ||
          entry.offset >= segment.offset + segment.file_size) {
        continue;
      }
      // The file offset entry.offset has the ELF address segment.vaddr + (it - segment.offset).
      return entry.start - (segment.vaddr - segment.offset + entry.offset);
    }
  }
  return std::nullopt;
}

}  // namespace ephemera::runtimes::python
