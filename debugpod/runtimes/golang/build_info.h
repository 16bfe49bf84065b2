// ParseBuildInfo: the Go version a binary was built with, from its .go.buildinfo section (the
// same bytes `go version <binary>` reads). Format (cmd/go, debug/buildinfo): 16 bytes of header
// ("\xff Go buildinf:", pointer size, flags), padded to 32; with the flags' bit 1 set (Go 1.18+)
// the version and the module info follow as varint-length-prefixed strings. Older encodings
// (pointers to strings in .data) are refused: the reader supports Go 1.21 and newer only.
// Pure; thread-safe.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_BUILD_INFO_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_BUILD_INFO_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::runtimes::golang {

inline constexpr std::string_view kBuildInfoMagic = "\xff Go buildinf:";

struct GoBuildInfo {
  std::string version;      // "go1.22.12"
  std::string main_module;  // "ephemera.dev/tests/goparked" ("path" line of the module info)
};

// `section` is the start of .go.buildinfo (at least the first 32 + 2 × max_string bytes the
// caller chose to read). InvalidArgument without the magic; FailedPrecondition for the pre-1.18
// pointer encoding or a big-endian binary; DataLoss for a truncated or oversized string.
StatusOr<GoBuildInfo> ParseBuildInfo(std::span<const uint8_t> section, size_t max_string = 4096);

}  // namespace ephemera::runtimes::golang

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_BUILD_INFO_H_
