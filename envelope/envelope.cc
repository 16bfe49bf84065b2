#include "envelope/envelope.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "envelope/age_header.h"
#include "envelope/gzip.h"
#include "envelope/primitives.h"

namespace ephemera::envelope {
namespace {

constexpr std::string_view kIdentityHrp = "age-secret-key-";
constexpr std::string_view kRecipientHrp = "age";
constexpr std::string_view kX25519StanzaType = "X25519";
constexpr std::string_view kX25519Info = "age-encryption.org/v1/X25519";
constexpr size_t kFileKeyBytes = 16;
constexpr size_t kPayloadNonceBytes = 16;
constexpr size_t kSealedChunkBytes = kPayloadChunkBytes + kPoly1305TagSize;
constexpr size_t kMaxEchoedRecipientChars = 80;

std::string_view TrimAsciiWhitespace(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// A recipient string made safe to quote in an error message: public, but possibly garbage, and
// possibly an identity pasted by mistake, which must not be echoed.
std::string Printable(std::string_view s) {
  constexpr std::string_view kIdentityPrefix = "AGE-SECRET-KEY-";
  std::string_view trimmed = TrimAsciiWhitespace(s);
  if (trimmed.size() >= kIdentityPrefix.size()) {
    bool is_identity = true;
    for (size_t i = 0; i < kIdentityPrefix.size(); ++i) {
      const char c = trimmed[i];
      is_identity &=
          (c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c) == kIdentityPrefix[i];
    }
    if (is_identity) return "AGE-SECRET-KEY-... (an identity, not shown)";
  }
  std::string out;
  for (char c : s.substr(0, kMaxEchoedRecipientChars)) {
    out.push_back(c >= 0x20 && c <= 0x7e ? c : '?');
  }
  if (s.size() > kMaxEchoedRecipientChars) out.append("...");
  return out;
}

// The 32-byte X25519 public key encoded by an "age1…" recipient.
StatusOr<std::string> ParseRecipient(std::string_view recipient) {
  StatusOr<Bech32Data> decoded = Bech32Decode(TrimAsciiWhitespace(recipient));
  if (!decoded.ok()) return decoded.status();
  if (decoded->hrp != kRecipientHrp) {
    return InvalidArgumentError("not an X25519 recipient (expected prefix \"age1\", got \"" +
                                Printable(decoded->hrp) + "1\")");
  }
  if (decoded->data.size() != kX25519KeySize) {
    return InvalidArgumentError("X25519 recipient must encode 32 bytes, got " +
                                std::to_string(decoded->data.size()));
  }
  return std::move(decoded->data);
}

// The 32-byte X25519 scalar encoded by an "AGE-SECRET-KEY-1…" identity. Error messages never
// include the identity's text.
StatusOr<SecretBytes> ParseIdentity(std::string_view identity) {
  StatusOr<Bech32Data> decoded = Bech32Decode(TrimAsciiWhitespace(identity));
  if (!decoded.ok()) return decoded.status();
  SecretBytes key(decoded->data);
  WipeString(decoded->data);
  if (decoded->hrp != kIdentityHrp) {
    return InvalidArgumentError("not an X25519 identity (expected prefix \"AGE-SECRET-KEY-1\")");
  }
  if (key.Size() != kX25519KeySize) {
    return InvalidArgumentError("X25519 identity must encode 32 bytes, got " +
                                std::to_string(key.Size()));
  }
  return key;
}

struct ParsedIdentity {
  SecretBytes secret;
  std::string public_key;
};

// The key that wraps the file key for one X25519 stanza.
StatusOr<SecretBytes> X25519WrapKey(const SecretBytes& shared, std::string_view ephemeral_share,
                                    std::string_view recipient_public) {
  std::string salt(ephemeral_share);
  salt.append(recipient_public);
  return HkdfSha256(shared.View(), salt, kX25519Info);
}

StatusOr<Stanza> WrapFileKey(const SecretBytes& file_key, std::string_view recipient_public) {
  StatusOr<SecretBytes> ephemeral = RandomBytes(kX25519KeySize);
  if (!ephemeral.ok()) return ephemeral.status();
  StatusOr<std::string> share = X25519PublicKey(ephemeral->View());
  if (!share.ok()) return share.status();
  StatusOr<SecretBytes> shared = X25519SharedSecret(ephemeral->View(), recipient_public);
  if (!shared.ok()) return shared.status();
  StatusOr<SecretBytes> wrap_key = X25519WrapKey(*shared, *share, recipient_public);
  if (!wrap_key.ok()) return wrap_key.status();
  const std::string zero_nonce(kChaChaNonceSize, '\0');
  StatusOr<std::string> body = ChaChaPolySeal(wrap_key->View(), zero_nonce, file_key.View());
  if (!body.ok()) return body.status();
  return Stanza{{std::string(kX25519StanzaType), Base64RawEncode(*share)}, std::move(*body)};
}

// The file key if `stanza` (an X25519 stanza) opens with `identity`; NotFound if it is addressed to
// someone else; DataLoss if the stanza is malformed.
StatusOr<SecretBytes> UnwrapFileKey(const Stanza& stanza, const ParsedIdentity& identity) {
  if (stanza.args.size() != 2) return DataLossError("X25519 stanza must have exactly 2 arguments");
  StatusOr<std::string> share = Base64RawDecode(stanza.args[1]);
  if (!share.ok() || share->size() != kX25519KeySize) {
    return DataLossError("X25519 stanza share is not canonical base64 of 32 bytes");
  }
  if (stanza.body.size() != kFileKeyBytes + kPoly1305TagSize) {
    return DataLossError("X25519 stanza body is not 32 bytes");
  }
  StatusOr<SecretBytes> shared = X25519SharedSecret(identity.secret.View(), *share);
  if (!shared.ok()) return DataLossError("X25519 stanza share is a low-order point");
  StatusOr<SecretBytes> wrap_key = X25519WrapKey(*shared, *share, identity.public_key);
  if (!wrap_key.ok()) return wrap_key.status();
  const std::string zero_nonce(kChaChaNonceSize, '\0');
  StatusOr<std::string> file_key = ChaChaPolyOpen(wrap_key->View(), zero_nonce, stanza.body);
  if (!file_key.ok()) return NotFoundError("stanza not addressed to this identity");
  SecretBytes key(*file_key);
  WipeString(*file_key);
  return key;
}

std::string ChunkNonce(uint64_t counter, bool last) {
  std::string nonce(kChaChaNonceSize, '\0');
  for (int i = 0; i < 8; ++i) nonce[10 - i] = static_cast<char>((counter >> (8 * i)) & 0xff);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

StatusOr<std::string> EncryptPayload(const SecretBytes& file_key, std::string_view plaintext) {
  StatusOr<SecretBytes> nonce = RandomBytes(kPayloadNonceBytes);
  if (!nonce.ok()) return nonce.status();
  StatusOr<SecretBytes> key = HkdfSha256(file_key.View(), nonce->View(), "payload");
  if (!key.ok()) return key.status();
  std::string out(nonce->View());
  const size_t chunks =
      plaintext.empty() ? 1 : (plaintext.size() + kPayloadChunkBytes - 1) / kPayloadChunkBytes;
  out.reserve(out.size() + plaintext.size() + chunks * kPoly1305TagSize);
  for (size_t i = 0; i < chunks; ++i) {
    std::string_view chunk =
        plaintext.substr(std::min(plaintext.size(), i * kPayloadChunkBytes), kPayloadChunkBytes);
    StatusOr<std::string> sealed =
        ChaChaPolySeal(key->View(), ChunkNonce(i, i + 1 == chunks), chunk);
    if (!sealed.ok()) return sealed.status();
    out.append(*sealed);
  }
  return out;
}

StatusOr<std::string> DecryptPayload(const SecretBytes& file_key, std::string_view payload) {
  if (payload.size() < kPayloadNonceBytes) return DataLossError("age payload truncated (no nonce)");
  StatusOr<SecretBytes> key =
      HkdfSha256(file_key.View(), payload.substr(0, kPayloadNonceBytes), "payload");
  if (!key.ok()) return key.status();
  std::string_view rest = payload.substr(kPayloadNonceBytes);
  if (rest.empty()) return DataLossError("age payload truncated (no final chunk)");
  std::string out;
  out.reserve(rest.size());
  for (uint64_t counter = 0; !rest.empty(); ++counter) {
    // A chunk is final exactly when nothing follows it: a file cut at a chunk boundary then fails
    // to authenticate its new last chunk, and bytes appended after the final chunk make it fail.
    const bool last = rest.size() <= kSealedChunkBytes;
    std::string_view sealed = rest.substr(0, kSealedChunkBytes);
    if (sealed.size() < kPoly1305TagSize) return DataLossError("age payload truncated mid-chunk");
    if (last && sealed.size() == kPoly1305TagSize && counter > 0) {
      return DataLossError("age payload has an empty final chunk");
    }
    StatusOr<std::string> chunk = ChaChaPolyOpen(key->View(), ChunkNonce(counter, last), sealed);
    if (!chunk.ok()) {
      if (chunk.status().code() != StatusCode::kDataLoss) return chunk.status();
      OPENSSL_cleanse(out.data(), out.size());
      return DataLossError("age payload chunk " + std::to_string(counter) +
                           " failed authentication (truncated or modified)");
    }
    out.append(*chunk);
    rest.remove_prefix(sealed.size());
  }
  return out;
}

bool LooksArmored(std::string_view file) {
  size_t i = 0;
  while (i < file.size() &&
         (file[i] == ' ' || file[i] == '\t' || file[i] == '\r' || file[i] == '\n')) {
    ++i;
  }
  return file.substr(i, 10) == "-----BEGIN";
}

}  // namespace

Status ValidateRecipient(std::string_view recipient) {
  StatusOr<std::string> key = ParseRecipient(recipient);
  if (!key.ok()) return key.status();
  return OkStatus();
}

StatusOr<X25519Identity> GenerateIdentity() {
  StatusOr<SecretBytes> secret = RandomBytes(kX25519KeySize);
  if (!secret.ok()) return secret.status();
  StatusOr<std::string> public_key = X25519PublicKey(secret->View());
  if (!public_key.ok()) return public_key.status();
  StatusOr<std::string> identity = Bech32Encode("AGE-SECRET-KEY-", secret->View(), /*upper=*/true);
  if (!identity.ok()) return identity.status();
  StatusOr<std::string> recipient = Bech32Encode(kRecipientHrp, *public_key);
  if (!recipient.ok()) return recipient.status();
  return X25519Identity{std::move(*identity), std::move(*recipient)};
}

StatusOr<std::string> RecipientOf(std::string_view identity) {
  StatusOr<SecretBytes> secret = ParseIdentity(identity);
  if (!secret.ok()) return secret.status().WithContext("identity");
  StatusOr<std::string> public_key = X25519PublicKey(secret->View());
  if (!public_key.ok()) return public_key.status();
  return Bech32Encode(kRecipientHrp, *public_key);
}

StatusOr<std::vector<std::string>> ParseIdentities(std::string_view text) {
  std::vector<std::string> identities;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t lf = text.find('\n');
    std::string_view line = TrimAsciiWhitespace(text.substr(0, lf));
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    if (line.empty() || line.front() == '#') continue;
    StatusOr<SecretBytes> secret = ParseIdentity(line);
    if (!secret.ok()) {
      for (std::string& id : identities) WipeString(id);
      return secret.status().WithContext("identity file line " + std::to_string(line_number));
    }
    identities.emplace_back(line);
  }
  if (identities.empty()) return InvalidArgumentError("identity file contains no identity");
  return identities;
}

StatusOr<std::string> Encrypt(std::string_view plaintext,
                              const std::vector<std::string>& recipients) {
  if (recipients.empty()) return InvalidArgumentError("no recipients given");
  if (recipients.size() > kMaxStanzas) {
    return InvalidArgumentError("too many recipients (at most " + std::to_string(kMaxStanzas) +
                                ")");
  }
  std::vector<std::string> public_keys;
  for (size_t i = 0; i < recipients.size(); ++i) {
    StatusOr<std::string> key = ParseRecipient(recipients[i]);
    if (!key.ok()) {
      return key.status().WithContext("recipient " + std::to_string(i + 1) + " (\"" +
                                      Printable(recipients[i]) + "\")");
    }
    public_keys.push_back(std::move(*key));
  }
  StatusOr<SecretBytes> file_key = RandomBytes(kFileKeyBytes);
  if (!file_key.ok()) return file_key.status();
  std::vector<Stanza> stanzas;
  for (size_t i = 0; i < public_keys.size(); ++i) {
    StatusOr<Stanza> stanza = WrapFileKey(*file_key, public_keys[i]);
    if (!stanza.ok()) {
      return stanza.status().WithContext("recipient " + std::to_string(i + 1) + " (\"" +
                                         Printable(recipients[i]) + "\")");
    }
    stanzas.push_back(std::move(*stanza));
  }
  StatusOr<std::string> header = MarshalHeaderWithoutMac(stanzas);
  if (!header.ok()) return header.status();
  StatusOr<SecretBytes> mac_key = HkdfSha256(file_key->View(), "", "header");
  if (!mac_key.ok()) return mac_key.status();
  StatusOr<std::string> mac = HmacSha256(mac_key->View(), *header);
  if (!mac.ok()) return mac.status();
  StatusOr<std::string> payload = EncryptPayload(*file_key, plaintext);
  if (!payload.ok()) return payload.status();
  std::string out = std::move(*header);
  out.push_back(' ');
  out.append(Base64RawEncode(*mac));
  out.push_back('\n');
  out.append(*payload);
  return out;
}

StatusOr<std::string> Decrypt(std::string_view age_file,
                              const std::vector<std::string>& identities) {
  std::string dearmored;
  if (LooksArmored(age_file)) {
    StatusOr<std::string> binary = Dearmor(age_file);
    if (!binary.ok()) return binary.status();
    dearmored = std::move(*binary);
    age_file = dearmored;
  }
  if (identities.empty()) return InvalidArgumentError("no identities given");
  std::vector<ParsedIdentity> parsed;
  for (size_t i = 0; i < identities.size(); ++i) {
    StatusOr<SecretBytes> secret = ParseIdentity(identities[i]);
    if (!secret.ok()) return secret.status().WithContext("identity " + std::to_string(i + 1));
    StatusOr<std::string> public_key = X25519PublicKey(secret->View());
    if (!public_key.ok()) return public_key.status();
    parsed.push_back({std::move(*secret), std::move(*public_key)});
  }
  StatusOr<Header> header = ParseHeader(age_file);
  if (!header.ok()) return header.status();

  size_t x25519_stanzas = 0;
  bool has_scrypt = false;
  for (const Stanza& stanza : header->stanzas) {
    if (stanza.args[0] == kX25519StanzaType) ++x25519_stanzas;
    if (stanza.args[0] == "scrypt") has_scrypt = true;
  }
  if (has_scrypt && header->stanzas.size() > 1) {
    return DataLossError("age header mixes an scrypt stanza with other stanzas");
  }
  std::optional<SecretBytes> file_key;
  for (const Stanza& stanza : header->stanzas) {
    if (stanza.args[0] != kX25519StanzaType) continue;
    for (const ParsedIdentity& identity : parsed) {
      StatusOr<SecretBytes> key = UnwrapFileKey(stanza, identity);
      if (key.ok()) {
        file_key = std::move(*key);
        break;
      }
      if (key.status().code() != StatusCode::kNotFound) return key.status();
    }
    if (file_key) break;
  }
  if (!file_key) {
    std::string why = has_scrypt
                          ? "the file is passphrase-encrypted (scrypt), which is not supported"
                          : "none of the " + std::to_string(parsed.size()) +
                                " identities opens any of the file's " +
                                std::to_string(x25519_stanzas) + " X25519 stanzas";
    return PermissionDeniedError("no identity matched: " + why);
  }

  StatusOr<SecretBytes> mac_key = HkdfSha256(file_key->View(), "", "header");
  if (!mac_key.ok()) return mac_key.status();
  StatusOr<std::string> mac =
      HmacSha256(mac_key->View(), age_file.substr(0, header->mac_input_size));
  if (!mac.ok()) return mac.status();
  if (header->mac.size() != mac->size() ||
      CRYPTO_memcmp(header->mac.data(), mac->data(), mac->size()) != 0) {
    return DataLossError("age header MAC mismatch: the header was modified");
  }
  return DecryptPayload(*file_key, age_file.substr(header->payload_offset));
}

StatusOr<std::string> Seal(std::string_view plaintext, const std::vector<std::string>& recipients) {
  StatusOr<std::string> compressed = GzipCompress(plaintext);
  if (!compressed.ok()) return compressed.status();
  StatusOr<std::string> encrypted = Encrypt(*compressed, recipients);
  if (!encrypted.ok()) return encrypted.status();
  return Armor(*encrypted);
}

StatusOr<std::string> Open(std::string_view sealed, const std::vector<std::string>& identities,
                           size_t max_plaintext_bytes) {
  StatusOr<std::string> compressed = Decrypt(sealed, identities);
  if (!compressed.ok()) return compressed.status();
  return GzipDecompress(*compressed, max_plaintext_bytes);
}

}  // namespace ephemera::envelope
