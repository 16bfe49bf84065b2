// Building blocks of the age v1 format: Bech32, base64, HKDF-SHA-256, HMAC-SHA-256,
// ChaCha20-Poly1305 and X25519, the last four over OpenSSL 3 EVP.
//
// These are exposed (rather than hidden in envelope.cc) so that known-answer tests can pin each one
// to its published test vectors; callers outside this folder use envelope.h instead.
//
// Contract: every function is pure (values in, values out; RandomBytes reads the OS CSPRNG), never
// throws, and reports bad input as InvalidArgument and an OpenSSL failure as Internal. Functions
// that handle key material take and return SecretBytes, which wipes its buffer (OPENSSL_cleanse)
// when it is destroyed or overwritten. Thread safety: no shared state; safe to call from any
// thread.
#ifndef EPHEMERA_ENVELOPE_PRIMITIVES_H_
#define EPHEMERA_ENVELOPE_PRIMITIVES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/status.h"

namespace ephemera::envelope {

using base::SecretBytes;
using base::WipeString;

// --- Bech32 (BIP 173 checksum, without BIP 173's 90-character limit, as age requires) ---

inline constexpr size_t kMaxBech32Length = 1024;

struct Bech32Data {
  std::string hrp;   // human-readable part, lower-cased
  std::string data;  // the payload as 8-bit bytes (5-to-8-bit regrouped, padding checked)
};

// Encodes `data` (8-bit bytes) under `hrp`. Output is lower case; `upper` returns it upper-cased
// (age identities are written upper case). InvalidArgument if the HRP is empty or not printable
// ASCII, or the result would exceed kMaxBech32Length.
StatusOr<std::string> Bech32Encode(std::string_view hrp, std::string_view data, bool upper = false);

// Decodes a Bech32 string: rejects mixed case, characters outside the charset, a bad checksum,
// non-zero or over-long padding bits, and inputs over kMaxBech32Length. The message says which.
StatusOr<Bech32Data> Bech32Decode(std::string_view text);

// Lower-level BIP 173 helpers, for test vectors whose data part is not a whole number of bytes.
// Bech32EncodeGroups takes 5-bit values (each < 32).
StatusOr<std::string> Bech32EncodeGroups(std::string_view hrp, std::string_view groups);
// Verifies the checksum and returns {hrp lower-cased, 5-bit groups without the checksum}.
StatusOr<Bech32Data> Bech32DecodeGroups(std::string_view text);

// --- Base64 (RFC 4648 standard alphabet) ---

// Unpadded ("raw") encoding, as used inside the age header.
std::string Base64RawEncode(std::string_view bytes);
// Strict unpadded decoding: rejects '=', characters outside the alphabet, impossible lengths and
// non-canonical encodings (non-zero unused bits).
StatusOr<std::string> Base64RawDecode(std::string_view text);
// Padded encoding, as used by the ASCII armor.
std::string Base64PaddedEncode(std::string_view bytes);
// Strict padded decoding: length a multiple of 4, '=' only as final padding, canonical bits.
StatusOr<std::string> Base64PaddedDecode(std::string_view text);

// --- Keyed primitives ---

inline constexpr size_t kX25519KeySize = 32;
inline constexpr size_t kChaChaKeySize = 32;
inline constexpr size_t kChaChaNonceSize = 12;
inline constexpr size_t kPoly1305TagSize = 16;
inline constexpr size_t kSha256Size = 32;

// Fills `size` bytes from the OS CSPRNG (RAND_priv_bytes). Internal if it fails.
StatusOr<SecretBytes> RandomBytes(size_t size);

// HKDF-SHA-256 (RFC 5869): Extract with `salt` (empty = no salt) then Expand with `info`.
StatusOr<SecretBytes> HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                                 size_t length = 32);

// HMAC-SHA-256 of `message` under `key` (32 bytes out).
StatusOr<std::string> HmacSha256(std::string_view key, std::string_view message);

// ChaCha20-Poly1305 (RFC 8439) with empty associated data. Seal returns ciphertext || 16-byte tag.
// Open returns DataLoss if the tag does not verify, InvalidArgument on wrong key/nonce sizes.
StatusOr<std::string> ChaChaPolySeal(std::string_view key, std::string_view nonce,
                                     std::string_view plaintext);
StatusOr<std::string> ChaChaPolyOpen(std::string_view key, std::string_view nonce,
                                     std::string_view sealed);

// X25519 (RFC 7748): the public key of a 32-byte private scalar.
StatusOr<std::string> X25519PublicKey(std::string_view private_key);
// X25519 shared secret. InvalidArgument if the result is all zero (a low-order peer point), which
// age requires implementations to refuse.
StatusOr<SecretBytes> X25519SharedSecret(std::string_view private_key,
                                         std::string_view peer_public);

}  // namespace ephemera::envelope

#endif  // EPHEMERA_ENVELOPE_PRIMITIVES_H_
