// The textual header of an age v1 file (age-encryption.org/v1): recipient stanzas and the MAC line.
//
// ParseHeader reads a header from untrusted input with hard limits (kMax* below) on every
// dimension, so hostile input cannot make it allocate more than about kMaxHeaderBytes. It checks
// syntax only (version line, stanza argument and body lines, canonical base64, the MAC line); what
// the stanzas mean and whether the MAC verifies is up to the caller, which needs the file key for
// that. MarshalHeader writes the canonical form that ParseHeader accepts.
//
// Errors: InvalidArgument when the input is not an age file at all (no version line) or is of
// another version; DataLoss when it looks like age v1 but the header is truncated or malformed;
// ResourceExhausted when a limit is exceeded. Thread safety: pure functions.
#ifndef EPHEMERA_ENVELOPE_AGE_HEADER_H_
#define EPHEMERA_ENVELOPE_AGE_HEADER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::envelope {

inline constexpr std::string_view kAgeVersionLine = "age-encryption.org/v1\n";
inline constexpr size_t kMaxHeaderBytes = 1 << 20;  // whole header, version line to MAC line
inline constexpr size_t kMaxHeaderLineBytes =
    4096;  // one argument line (ML-KEM shares are ~1.5 KiB)
inline constexpr size_t kMaxStanzas = 256;
inline constexpr size_t kMaxStanzaArgs = 16;
inline constexpr size_t kMaxStanzaBodyBytes = size_t{64} * 1024;  // decoded

struct Stanza {
  std::vector<std::string> args;  // args[0] is the stanza type ("X25519"); never empty
  std::string body;               // decoded body bytes
};

struct Header {
  std::vector<Stanza> stanzas;  // at least one
  std::string mac;              // 32 bytes, decoded from the "---" line
  size_t mac_input_size = 0;    // bytes of the file the MAC covers: through "---", not the space
  size_t payload_offset = 0;    // where the binary payload starts
};

// Parses the header at the start of `file` (a binary age file).
StatusOr<Header> ParseHeader(std::string_view file);

// The canonical header text for `stanzas` up to and including "---" (the MAC input). The caller
// appends " " + base64(MAC) + "\n". InvalidArgument on an empty argument list or an argument that
// is empty or not printable ASCII.
StatusOr<std::string> MarshalHeaderWithoutMac(const std::vector<Stanza>& stanzas);

}  // namespace ephemera::envelope

#endif  // EPHEMERA_ENVELOPE_AGE_HEADER_H_
