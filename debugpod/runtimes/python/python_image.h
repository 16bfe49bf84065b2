// Which mapped file of a process holds CPython (a libpython3.X shared library, or an executable
// that has the interpreter linked in), what its file name says about the version, and where the
// file's ELF addresses landed in the process (the load bias). Pure: values in, values out.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_IMAGE_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_IMAGE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "debugpod/procfs/maps.h"
#include "debugpod/stacks/elf_module.h"

namespace ephemera::runtimes::python {

struct NameVersion {
  int major = 0;
  int minor = 0;
};

// The version a file name states: "libpython3.11.so.1.0", "libpython3.13t.so", "python3.11",
// "python2.7" (any directory is ignored). nullopt for names without one ("python3", "app").
std::optional<NameVersion> VersionFromFileName(std::string_view path);

// Whether the file name is a CPython executable's ("python", "python3", "python3.11", …).
bool IsPythonExecutableName(std::string_view path);

struct PythonImage {
  std::string path;  // as maps shows it, without a " (deleted)" suffix
  uint64_t inode = 0;
  bool is_library = false;  // libpython3.X.so; false: the executable itself
  std::optional<NameVersion> name_version;
};

// The first mapping of a libpython3.X shared library in `maps`, if any.
std::optional<PythonImage> FindLibpython(const std::vector<procfs::MapEntry>& maps);

// The mapping of `path` (the executable /proc/<pid>/exe names), if it is mapped.
std::optional<PythonImage> FindExecutable(const std::vector<procfs::MapEntry>& maps,
                                          std::string_view path);

// The load bias of the file `image` (runtime address = ELF virtual address + bias), from the
// first of its mappings that a PT_LOAD segment covers. nullopt if none does.
std::optional<uint64_t> LoadBias(const std::vector<procfs::MapEntry>& maps,
                                 const PythonImage& image,
                                 std::span<const stacks::LoadSegment> segments);

}  // namespace ephemera::runtimes::python

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_IMAGE_H_
