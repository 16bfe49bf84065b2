// Hex and SHA-256, the digests Ephemera names things by and checks things with (audit chains,
// snapshot digests, deterministic object names, cache keys).
#ifndef EPHEMERA_BASE_HASH_H_
#define EPHEMERA_BASE_HASH_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace ephemera::base {

// Lower-case hex of `bytes`, two digits a byte.
std::string HexEncode(std::string_view bytes);

// Lower-case hex SHA-256 of `data` (kSha256HexLength digits).
inline constexpr std::size_t kSha256HexLength = 64;
std::string Sha256Hex(std::string_view data);

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_HASH_H_
