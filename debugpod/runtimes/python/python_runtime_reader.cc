#include "debugpod/runtimes/python/python_runtime_reader.h"

#include <array>
#include <cstring>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "debugpod/procfs/maps.h"
#include "debugpod/runtimes/elf_lookup.h"
#include "debugpod/runtimes/memory_reader.h"
#include "debugpod/runtimes/python/python_image.h"
#include "debugpod/runtimes/python/python_layout.h"
#include "debugpod/runtimes/python/python_stacks.h"
#include "debugpod/stacks/file_byte_source.h"

namespace ephemera::runtimes::python {
namespace {

using Result = StatusOr<std::optional<runtimes::RuntimeStacks>>;
Result NotPython() { return std::optional<runtimes::RuntimeStacks>(); }

Status WithContext(const Status& s, std::string_view context) {
  std::string message = "python: " + std::string(context) + ": " + s.message();
  if (s.code() == StatusCode::kPermissionDenied) {
    message += ": needs the ptrace profile (CAP_SYS_PTRACE) or the target's UID";
  }
  return {s.code(), message};
}

Status UnsupportedVersion(int major, int minor) {
  return FailedPreconditionError("python " + std::to_string(major) + "." + std::to_string(minor) +
                                 ": layout not known; supported 3.9–3.13");
}

// The image's file, opened in the target's mount namespace, and its ELF headers.
struct OpenedImage {
  std::unique_ptr<stacks::FileByteSource> file;
  std::optional<runtimes::ElfLookup> elf;
};

StatusOr<OpenedImage> OpenImage(const std::string& proc_root, int pid, const PythonImage& image) {
  OpenedImage opened;
  const std::string path = proc_root + "/" + std::to_string(pid) + "/root" + image.path;
  StatusOr<std::unique_ptr<stacks::FileByteSource>> file = stacks::FileByteSource::Open(path);
  if (!file.ok()) return file.status();
  opened.file = std::move(*file);
  if (opened.file->Inode() != image.inode) {
    return FailedPreconditionError(image.path + " is not the file the process mapped");
  }
  StatusOr<runtimes::ElfLookup> elf = runtimes::ElfLookup::Parse(*opened.file);
  if (!elf.ok()) return elf.status();
  opened.elf.emplace(std::move(*elf));
  return opened;
}

}  // namespace

StatusOr<std::optional<runtimes::RuntimeStacks>> PythonRuntimeReader::Read(
    int pid, const runtimes::RuntimeLimits& limits) {
  StatusOr<std::string> maps_text = proc_.ReadFile(pid, "maps");
  if (!maps_text.ok()) return maps_text.status();
  StatusOr<std::vector<procfs::MapEntry>> maps = procfs::ParseMaps(*maps_text);
  if (!maps.ok()) return maps.status();

  // Which file holds the interpreter; nullopt as soon as it is clear there is none.
  std::optional<PythonImage> image = FindLibpython(*maps);
  bool recognized = image.has_value();
  if (!image) {
    StatusOr<std::string> exe = proc_.ReadLink(pid, "exe");
    if (!exe.ok()) return NotPython();  // kernel threads, or the process is gone
    image = FindExecutable(*maps, *exe);
    if (!image) return NotPython();
    recognized = IsPythonExecutableName(image->path);
  }
  if (image->name_version) {
    const NameVersion& v = *image->name_version;
    if (v.major != 3) {
      if (!recognized) return NotPython();
      return UnsupportedVersion(v.major, v.minor);
    }
    if (v.minor < kFirstSupportedMinor) return UnsupportedVersion(v.major, v.minor);
  }
  StatusOr<OpenedImage> opened = OpenImage(proc_root_, pid, *image);
  if (!opened.ok()) {
    if (!recognized) return NotPython();
    return WithContext(opened.status(), "opening " + image->path);
  }
  const runtimes::ElfLookup& elf = *opened->elf;
  if (!recognized && elf.Section(".PyRuntime") == nullptr) return NotPython();

  constexpr std::array<std::string_view, 2> kNames = {"_PyRuntime", "Py_Version"};
  StatusOr<std::map<std::string, runtimes::ElfSymbol, std::less<>>> symbols =
      elf.FindSymbols(kNames);
  if (!symbols.ok()) return WithContext(symbols.status(), "symbols of " + image->path);
  auto runtime_symbol = symbols->find("_PyRuntime");
  if (runtime_symbol == symbols->end()) {
    if (!image->is_library && !image->name_version) return NotPython();
    return FailedPreconditionError("python: no _PyRuntime symbol in " + image->path);
  }

  // The version: Py_Version (3.11+, PY_VERSION_HEX in read-only data) over the file name.
  std::string version;
  std::optional<int> minor;
  if (auto it = symbols->find("Py_Version"); it != symbols->end()) {
    std::array<uint8_t, 4> bytes{};
    if (elf.ReadVirtual(it->second.value, bytes).ok()) {
      uint32_t hex = 0;
      std::memcpy(&hex, bytes.data(), sizeof(hex));
      if ((hex >> 24) != 3) return UnsupportedVersion(static_cast<int>(hex >> 24), 0);
      version = VersionFromHex(hex);
      minor = static_cast<int>((hex >> 16) & 0xff);
    }
  }
  if (!minor && image->name_version) {
    minor = image->name_version->minor;
    version = "3." + std::to_string(*minor);
  }
  if (!minor) return FailedPreconditionError("python: version unknown for " + image->path);
  if (*minor < kFirstSupportedMinor) return UnsupportedVersion(3, *minor);

  std::optional<uint64_t> bias = LoadBias(*maps, *image, elf.LoadSegments());
  if (!bias) return DataLossError("python: cannot place " + image->path + " in the process");

  runtimes::ProcMemMemoryReader memory(proc_root_, pid, limits.max_read_bytes);
  const uint64_t runtime_address = runtime_symbol->second.value + *bias;
  std::vector<std::string> problems;
  StatusOr<PythonLayout> layout = FailedPreconditionError("unset");
  if (*minor >= 13) {
    std::vector<uint8_t> head(kDebugOffsetsBytes);
    Status s = memory.Read(runtime_address, head);
    if (!s.ok()) return WithContext(s, "reading _PyRuntime");
    if (std::optional<DebugOffsetsHeader> header = ReadDebugOffsetsHeader(head)) {
      layout = ParseDebugOffsets(head);
      if (layout.ok()) version = VersionFromHex(header->version_hex);
    } else {
      layout = LayoutForMinor(*minor);
      if (layout.ok()) problems.push_back("no _Py_DebugOffsets in _PyRuntime: built-in table used");
    }
  } else {
    layout = LayoutForMinor(*minor);
  }
  if (!layout.ok()) return layout.status();

  PythonTarget target;
  target.runtime_address = runtime_address;
  if (StatusOr<std::vector<int>> tasks = proc_.ListTasks(pid); tasks.ok()) {
    target.tasks = std::move(*tasks);
  }
  StatusOr<runtimes::RuntimeStacks> stacks = ReadPythonStacks(memory, *layout, target, limits);
  if (!stacks.ok()) return stacks.status();
  stacks->version = version;
  stacks->problems.insert(stacks->problems.begin(), problems.begin(), problems.end());
  return std::optional<runtimes::RuntimeStacks>(std::move(*stacks));
}

}  // namespace ephemera::runtimes::python
