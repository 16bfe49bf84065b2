// gzip (RFC 1952) compression with zlib, and decompression with a hard cap on the output size so
// that a small hostile input (a "zip bomb") cannot exhaust memory.
//
// Output is deterministic for a given input (no file name, mtime 0). Decompression accepts exactly
// one gzip member and rejects trailing bytes. Errors: DataLoss for corrupt or truncated input,
// ResourceExhausted when the output would exceed the cap, Internal if zlib fails to initialise.
// Thread safety: pure functions.
#ifndef EPHEMERA_ENVELOPE_GZIP_H_
#define EPHEMERA_ENVELOPE_GZIP_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::envelope {

StatusOr<std::string> GzipCompress(std::string_view data);

// Decompresses one gzip member; the result is at most `max_output_bytes` long.
StatusOr<std::string> GzipDecompress(std::string_view gzip, size_t max_output_bytes);

}  // namespace ephemera::envelope

#endif  // EPHEMERA_ENVELOPE_GZIP_H_
