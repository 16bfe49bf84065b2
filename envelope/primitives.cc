#include "envelope/primitives.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <array>
#include <memory>
#include <string>
#include <utility>

namespace ephemera::envelope {
namespace {

// --- OpenSSL ownership -------------------------------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct KdfFree {
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using KdfPtr = std::unique_ptr<EVP_KDF, KdfFree>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, KdfCtxFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// --- Bech32 ----------------------------------------------------------------------------------

constexpr std::string_view kBech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

uint32_t Bech32Polymod(std::string_view values) {
  constexpr std::array<uint32_t, 5> kGenerator = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
                                                  0x2a1462b3};
  uint32_t chk = 1;
  for (char c : values) {
    const uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ static_cast<uint8_t>(c);
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk ^= kGenerator[i];
    }
  }
  return chk;
}

// The HRP expansion of BIP 173 followed by `groups`.
std::string Bech32ChecksumInput(std::string_view hrp, std::string_view groups) {
  std::string values;
  values.reserve(hrp.size() * 2 + 1 + groups.size() + 6);
  for (char c : hrp) values.push_back(static_cast<char>(static_cast<uint8_t>(c) >> 5));
  values.push_back(0);
  for (char c : hrp) values.push_back(static_cast<char>(static_cast<uint8_t>(c) & 31));
  values.append(groups);
  return values;
}

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char ToUpperAscii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Regroups bits: 8->5 (pad = true) for encoding, 5->8 (pad = false, strict) for decoding.
StatusOr<std::string> ConvertBits(std::string_view in, int from, int to, bool pad) {
  uint32_t acc = 0;
  int bits = 0;
  const uint32_t maxv = (1u << to) - 1;
  std::string out;
  out.reserve(in.size() * from / to + 1);
  for (char c : in) {
    const uint32_t value = static_cast<uint8_t>(c);
    if ((value >> from) != 0) {
      OPENSSL_cleanse(out.data(), out.size());
      return InvalidArgumentError("bech32: value out of range");
    }
    acc = ((acc << from) | value) & 0xfff;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push_back(static_cast<char>((acc >> bits) & maxv));
    }
  }
  if (pad) {
    if (bits > 0) out.push_back(static_cast<char>((acc << (to - bits)) & maxv));
  } else if (bits >= from) {
    OPENSSL_cleanse(out.data(), out.size());
    return InvalidArgumentError("bech32: too many padding bits");
  } else if (((acc << (to - bits)) & maxv) != 0) {
    OPENSSL_cleanse(out.data(), out.size());
    return InvalidArgumentError("bech32: non-zero padding bits");
  }
  return out;
}

// --- Base64 ----------------------------------------------------------------------------------

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string Base64EncodeImpl(std::string_view bytes, bool padded) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    if (padded) out.append("==");
  } else if (rest == 2) {
    const uint32_t v =
        (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    if (padded) out.push_back('=');
  }
  return out;
}

}  // namespace

// --- Bech32 ----------------------------------------------------------------------------------

StatusOr<std::string> Bech32EncodeGroups(std::string_view hrp, std::string_view groups) {
  if (hrp.empty()) return InvalidArgumentError("bech32: empty human-readable part");
  std::string lower_hrp;
  for (char c : hrp) {
    if (c < 33 || c > 126) return InvalidArgumentError("bech32: human-readable part not printable");
    lower_hrp.push_back(ToLowerAscii(c));
  }
  if (lower_hrp.size() + 1 + groups.size() + 6 > kMaxBech32Length) {
    return InvalidArgumentError("bech32: encoding too long");
  }
  std::string values = Bech32ChecksumInput(lower_hrp, groups);
  values.append(6, '\0');
  const uint32_t mod = Bech32Polymod(values) ^ 1;
  WipeString(values);
  std::string out = lower_hrp + "1";
  for (char g : groups) {
    if (static_cast<uint8_t>(g) >= 32) return InvalidArgumentError("bech32: group out of range");
    out.push_back(kBech32Charset[static_cast<uint8_t>(g)]);
  }
  for (int i = 0; i < 6; ++i) out.push_back(kBech32Charset[(mod >> (5 * (5 - i))) & 31]);
  return out;
}

StatusOr<Bech32Data> Bech32DecodeGroups(std::string_view text) {
  if (text.size() > kMaxBech32Length) return InvalidArgumentError("bech32: string too long");
  bool has_lower = false;
  bool has_upper = false;
  for (char c : text) {
    if (c < 33 || c > 126) return InvalidArgumentError("bech32: character out of range");
    has_lower |= (c >= 'a' && c <= 'z');
    has_upper |= (c >= 'A' && c <= 'Z');
  }
  if (has_lower && has_upper) return InvalidArgumentError("bech32: mixed case");
  const size_t sep = text.rfind('1');
  if (sep == std::string_view::npos) return InvalidArgumentError("bech32: missing separator '1'");
  if (text.size() - sep - 1 < 6) return InvalidArgumentError("bech32: checksum too short");
  Bech32Data out;
  for (char c : text.substr(0, sep)) out.hrp.push_back(ToLowerAscii(c));
  std::string groups;
  for (char c : text.substr(sep + 1)) {
    const size_t v = kBech32Charset.find(ToLowerAscii(c));
    if (v == std::string_view::npos) {
      WipeString(groups);
      return InvalidArgumentError("bech32: invalid data character");
    }
    groups.push_back(static_cast<char>(v));
  }
  std::string values = Bech32ChecksumInput(out.hrp, groups);
  const bool valid = Bech32Polymod(values) == 1;
  WipeString(values);
  if (!valid) {
    WipeString(groups);
    return InvalidArgumentError("bech32: checksum mismatch");
  }
  groups.resize(groups.size() - 6);
  out.data = std::move(groups);
  return out;
}

StatusOr<std::string> Bech32Encode(std::string_view hrp, std::string_view data, bool upper) {
  StatusOr<std::string> groups = ConvertBits(data, 8, 5, /*pad=*/true);
  if (!groups.ok()) return groups.status();
  StatusOr<std::string> out = Bech32EncodeGroups(hrp, *groups);
  WipeString(*groups);
  if (out.ok() && upper) {
    for (char& c : *out) c = ToUpperAscii(c);
  }
  return out;
}

StatusOr<Bech32Data> Bech32Decode(std::string_view text) {
  StatusOr<Bech32Data> decoded = Bech32DecodeGroups(text);
  if (!decoded.ok()) return decoded.status();
  StatusOr<std::string> bytes = ConvertBits(decoded->data, 5, 8, /*pad=*/false);
  WipeString(decoded->data);
  if (!bytes.ok()) return bytes.status();
  decoded->data = std::move(*bytes);
  return decoded;
}

// --- Base64 ----------------------------------------------------------------------------------

std::string Base64RawEncode(std::string_view bytes) { return Base64EncodeImpl(bytes, false); }
std::string Base64PaddedEncode(std::string_view bytes) { return Base64EncodeImpl(bytes, true); }

StatusOr<std::string> Base64RawDecode(std::string_view text) {
  if (text.size() % 4 == 1) return InvalidArgumentError("base64: impossible length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = Base64Value(c);
    if (v < 0) {
      return InvalidArgumentError(c == '=' ? "base64: unexpected padding"
                                           : "base64: character outside the alphabet");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) {
    return InvalidArgumentError("base64: non-canonical encoding");
  }
  return out;
}

StatusOr<std::string> Base64PaddedDecode(std::string_view text) {
  if (text.size() % 4 != 0) return InvalidArgumentError("base64: length not a multiple of 4");
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  std::string_view body = text.substr(0, text.size() - pad);
  if (body.size() % 4 == 1) return InvalidArgumentError("base64: impossible length");
  return Base64RawDecode(body);
}

// --- Keyed primitives --------------------------------------------------------------------------

StatusOr<SecretBytes> RandomBytes(size_t size) {
  SecretBytes out(size);
  if (size > 0 && RAND_priv_bytes(out.Data(), static_cast<int>(size)) != 1) {
    return InternalError("CSPRNG failed (RAND_priv_bytes)");
  }
  return out;
}

StatusOr<SecretBytes> HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                                 size_t length) {
  KdfPtr kdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr));
  if (!kdf) return InternalError("HKDF unavailable in OpenSSL");
  KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return InternalError("HKDF context allocation failed");
  char digest[] = "SHA256";
  // OSSL_PARAM takes non-const pointers but does not write through them for inputs.
  std::array<OSSL_PARAM, 5> params;
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()),
                                                  ikm.size());
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                    const_cast<char*>(salt.data()), salt.size());
  }
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                  const_cast<char*>(info.data()), info.size());
  params[n] = OSSL_PARAM_construct_end();
  SecretBytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.Data(), length, params.data()) != 1) {
    return InternalError("HKDF-SHA-256 derivation failed");
  }
  return out;
}

StatusOr<std::string> HmacSha256(std::string_view key, std::string_view message) {
  std::string out(kSha256Size, '\0');
  size_t out_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), Bytes(message),
                message.size(), reinterpret_cast<unsigned char*>(out.data()), out.size(),
                &out_len) == nullptr ||
      out_len != kSha256Size) {
    return InternalError("HMAC-SHA-256 failed");
  }
  return out;
}

StatusOr<std::string> ChaChaPolySeal(std::string_view key, std::string_view nonce,
                                     std::string_view plaintext) {
  if (key.size() != kChaChaKeySize || nonce.size() != kChaChaNonceSize) {
    return InvalidArgumentError("ChaCha20-Poly1305: wrong key or nonce size");
  }
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return InternalError("cipher context allocation failed");
  std::string out(plaintext.size() + kPoly1305TagSize, '\0');
  int len = 0;
  int final_len = 0;
  auto* out_bytes = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_EncryptInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, Bytes(key), Bytes(nonce)) !=
          1 ||
      EVP_EncryptUpdate(ctx.get(), out_bytes, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out_bytes + len, &final_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kPoly1305TagSize,
                          out_bytes + plaintext.size()) != 1) {
    return InternalError("ChaCha20-Poly1305 encryption failed");
  }
  return out;
}

StatusOr<std::string> ChaChaPolyOpen(std::string_view key, std::string_view nonce,
                                     std::string_view sealed) {
  if (key.size() != kChaChaKeySize || nonce.size() != kChaChaNonceSize) {
    return InvalidArgumentError("ChaCha20-Poly1305: wrong key or nonce size");
  }
  if (sealed.size() < kPoly1305TagSize) return DataLossError("ciphertext shorter than its tag");
  const size_t body = sealed.size() - kPoly1305TagSize;
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return InternalError("cipher context allocation failed");
  std::string out(body, '\0');
  int len = 0;
  int final_len = 0;
  auto* out_bytes = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_DecryptInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, Bytes(key), Bytes(nonce)) !=
          1 ||
      EVP_DecryptUpdate(ctx.get(), out_bytes, &len, Bytes(sealed), static_cast<int>(body)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kPoly1305TagSize,
                          const_cast<char*>(sealed.data() + body)) != 1) {
    return InternalError("ChaCha20-Poly1305 decryption setup failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out_bytes + len, &final_len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return DataLossError("authentication tag mismatch");
  }
  return out;
}

StatusOr<std::string> X25519PublicKey(std::string_view private_key) {
  if (private_key.size() != kX25519KeySize) return InvalidArgumentError("X25519: key not 32 bytes");
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, Bytes(private_key),
                                           private_key.size()));
  if (!key) return InternalError("X25519: cannot load private key");
  std::string out(kX25519KeySize, '\0');
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(out.data()), &len) !=
          1 ||
      len != kX25519KeySize) {
    return InternalError("X25519: cannot compute public key");
  }
  return out;
}

StatusOr<SecretBytes> X25519SharedSecret(std::string_view private_key,
                                         std::string_view peer_public) {
  if (private_key.size() != kX25519KeySize || peer_public.size() != kX25519KeySize) {
    return InvalidArgumentError("X25519: key not 32 bytes");
  }
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, Bytes(private_key),
                                           private_key.size()));
  PkeyPtr peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, Bytes(peer_public),
                                           peer_public.size()));
  if (!key || !peer) return InternalError("X25519: cannot load keys");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) {
    return InternalError("X25519: cannot set up key agreement");
  }
  SecretBytes out(kX25519KeySize);
  size_t len = out.Size();
  // OpenSSL refuses an all-zero result itself; the check below covers any build that does not.
  if (EVP_PKEY_derive(ctx.get(), out.Data(), &len) != 1 || len != kX25519KeySize) {
    return InvalidArgumentError("X25519: key agreement failed (low-order point)");
  }
  static constexpr std::array<uint8_t, kX25519KeySize> kZero{};
  if (CRYPTO_memcmp(out.Data(), kZero.data(), kZero.size()) == 0) {
    return InvalidArgumentError("X25519: all-zero shared secret (low-order point)");
  }
  return out;
}

}  // namespace ephemera::envelope
