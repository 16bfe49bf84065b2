// HotSpot's performance-data file (hsperfdata_<user>/<pid>, what jps and jstat read): a header
// then a list of named counters. The jvm reader reads one of them, sun.rt.jvmCapabilities, whose
// first character says whether the JVM runs an attach mechanism ('1') or not ('0', with
// -XX:+DisableAttachMechanism).
//
// Layout (little- or big-endian as its header says): magic 0xcafec0c0 (bytes CA FE C0 C0), byte
// order (1 = little endian), major and minor version, accessible flag; then at offset 8 `used`
// (int32), `overflow` (int32), the modification time stamp (int64), the first entry's offset
// (int32 at 24) and the number of entries (int32 at 28). Each entry: its length (int32), the
// offset of its NUL-terminated name (int32), vector length (int32; 0 for a scalar), data type
// (one byte: 'B' byte, 'J' long), flags, units and variability (one byte each), and the offset
// of its data (int32); offsets are from the entry's start.
//
// The file is the target's and is hostile: every offset and length is checked against the
// bytes, at most kMaxPerfDataEntries entries are walked. Pure; thread-safe.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_JVM_PERF_DATA_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_JVM_PERF_DATA_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::runtimes::jvm {

inline constexpr size_t kMaxPerfDataEntries = 4096;
inline constexpr size_t kMaxPerfDataString = 4096;

// The value of the byte-vector counter `name` (a string counter), up to its first NUL and at most
// kMaxPerfDataString bytes. InvalidArgument if `file` is not a perf-data file, DataLoss for an
// entry that points outside the file, NotFound when no entry has that name, FailedPrecondition
// when the entry is not a byte vector.
StatusOr<std::string> FindPerfDataString(std::string_view file, std::string_view name);

}  // namespace ephemera::runtimes::jvm

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_JVM_PERF_DATA_H_
