// Envelope: how a snapshot travels. The snapshot tool seals the snapshot document to the session
// key; the controller opens it and seals it again to the requester's recipients; the CLI opens it.
//
// The format is age v1 (https://age-encryption.org/v1) with X25519 recipients, so any age
// implementation (`age -d -i key.txt`) can decrypt what we write and we can decrypt what `age -r`
// writes, binary or ASCII-armored. Seal/Open add gzip inside the encryption: a sealed envelope is
// armor(age(gzip(plaintext))), and `age -d | gunzip` recovers the plaintext.
//
// Keys are strings in age's encoding: identities "AGE-SECRET-KEY-1…" (secret), recipients "age1…".
//
// Errors (status.h codes):
//   InvalidArgument   a malformed recipient or identity (the message says which one, by position,
//                     and why; an identity's text is never echoed), input that is not an age file
//   PermissionDenied  "no identity matched": none of the identities can open any X25519 stanza
//   DataLoss          truncated or tampered input: bad header MAC, failed chunk authentication,
//                     missing final chunk, malformed header, armor or gzip stream
//   ResourceExhausted a parsing limit was hit (see age_header.h) or Open's plaintext cap
// All parsing of untrusted input is bounded; secret key material (identities, file keys, derived
// keys) is wiped with OPENSSL_cleanse once used. Decrypt verifies the header MAC before returning
// any plaintext and authenticates every payload chunk before returning; it never returns partial
// plaintext.
//
// Thread safety: free functions without shared state; safe to call concurrently.
#ifndef EPHEMERA_ENVELOPE_ENVELOPE_H_
#define EPHEMERA_ENVELOPE_ENVELOPE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::envelope {

inline constexpr size_t kPayloadChunkBytes = size_t{64} * 1024;
inline constexpr std::string_view kArmorBegin = "-----BEGIN AGE ENCRYPTED FILE-----";
inline constexpr std::string_view kArmorEnd = "-----END AGE ENCRYPTED FILE-----";

struct X25519Identity {
  std::string identity;   // AGE-SECRET-KEY-1... (secret; the caller owns and should wipe it)
  std::string recipient;  // age1...
};

// A fresh X25519 key pair from the OS CSPRNG.
StatusOr<X25519Identity> GenerateIdentity();

// The recipient ("age1…") of an identity ("AGE-SECRET-KEY-1…"). Surrounding whitespace is ignored.
StatusOr<std::string> RecipientOf(std::string_view identity);

// OK when `recipient` is an X25519 recipient ("age1…") that Seal and Encrypt accept; else
// InvalidArgument saying what is wrong with it (encoding, checksum, prefix or length).
Status ValidateRecipient(std::string_view recipient);

// Parses an identity file as written by age-keygen: one identity per line; blank lines and lines
// starting with '#' are ignored. InvalidArgument (with the line number) on any other line.
StatusOr<std::vector<std::string>> ParseIdentities(std::string_view text);

// Encrypts `plaintext` to every recipient (at least one, at most kMaxStanzas). Binary age output.
StatusOr<std::string> Encrypt(std::string_view plaintext,
                              const std::vector<std::string>& recipients);

// Decrypts a binary or ASCII-armored age file (detected from the first non-blank bytes) with the
// first identity that opens a stanza. Only X25519 stanzas are understood; others are ignored.
StatusOr<std::string> Decrypt(std::string_view age_file,
                              const std::vector<std::string>& identities);

// ASCII armor (strict PEM, label "AGE ENCRYPTED FILE", padded base64 in 64-column lines, LF).
std::string Armor(std::string_view binary);
// Strict inverse of Armor: only whitespace is allowed around the block, lines may end in LF or
// CRLF, every base64 line but the last is exactly 64 columns, base64 must be canonical.
StatusOr<std::string> Dearmor(std::string_view armored);

// Seal = gzip + Encrypt + Armor. Open = Dearmor (if armored) + Decrypt + gunzip, failing with
// ResourceExhausted rather than producing more than `max_plaintext_bytes`.
StatusOr<std::string> Seal(std::string_view plaintext, const std::vector<std::string>& recipients);
StatusOr<std::string> Open(std::string_view sealed, const std::vector<std::string>& identities,
                           size_t max_plaintext_bytes);

}  // namespace ephemera::envelope

#endif  // EPHEMERA_ENVELOPE_ENVELOPE_H_
