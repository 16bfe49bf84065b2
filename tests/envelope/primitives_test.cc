// Known-answer tests for the age building blocks: BIP 173 (Bech32), the age spec's X25519 key
// example, RFC 5869 (HKDF), RFC 4231 (HMAC), RFC 7748 (X25519), plus strict base64.
#include "envelope/primitives.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/envelope/test_hex.h"

namespace ephemera::envelope {
namespace {

TEST(Bech32Test, AcceptsBip173ValidStrings) {
  for (const char* valid : {
           "A12UEL5L",
           "a12uel5l",
           "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5"
           "tgs",
           "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
           "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc82"
           "47j",
           "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
           "?1ezyfcl",
       }) {
    StatusOr<Bech32Data> decoded = Bech32DecodeGroups(valid);
    ASSERT_TRUE(decoded.ok()) << valid << ": " << decoded.status().ToString();
    // Re-encoding reproduces the (lower-cased) input.
    StatusOr<std::string> encoded = Bech32EncodeGroups(decoded->hrp, decoded->data);
    ASSERT_TRUE(encoded.ok());
    std::string lower(valid);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(*encoded, lower);
  }
}

TEST(Bech32Test, RejectsBip173InvalidStrings) {
  for (const char* invalid : {
           "pzry9x0s0muk",  // no separator
           "x1b4n0q5v",     // invalid data character
           "li1dgmt3",      // checksum too short
           "A1G7SGD8",      // checksum computed over the upper-case HRP
           "a12UEL5L",      // mixed case
           "de1lg7wt\xff",  // invalid character
       }) {
    EXPECT_FALSE(Bech32DecodeGroups(invalid).ok()) << invalid;
  }
}

TEST(Bech32Test, DecodesAgeSpecIdentityToItsRecipient) {
  // The example key pair of the age specification (c2sp.org/age, "The X25519 recipient type").
  StatusOr<Bech32Data> identity =
      Bech32Decode("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX");
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_EQ(identity->hrp, "age-secret-key-");
  ASSERT_EQ(identity->data.size(), 32u);
  StatusOr<std::string> public_key = X25519PublicKey(identity->data);
  ASSERT_TRUE(public_key.ok());
  StatusOr<std::string> recipient = Bech32Encode("age", *public_key);
  ASSERT_TRUE(recipient.ok());
  EXPECT_EQ(*recipient, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj");
}

TEST(Bech32Test, EncodesUpperCaseOnRequest) {
  StatusOr<std::string> upper = Bech32Encode("age-secret-key-", std::string(32, '\x42'), true);
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX");
}

TEST(Bech32Test, RejectsNonZeroPaddingBits) {
  // 32 bytes take 52 groups with 4 padding bits; set one of them.
  StatusOr<Bech32Data> good =
      Bech32DecodeGroups("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj");
  ASSERT_TRUE(good.ok());
  std::string groups = good->data;
  groups.back() = static_cast<char>(groups.back() | 1);
  StatusOr<std::string> bad = Bech32EncodeGroups("age", groups);
  ASSERT_TRUE(bad.ok());
  StatusOr<Bech32Data> decoded = Bech32Decode(*bad);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("padding"), std::string::npos);
}

TEST(Bech32Test, RejectsOverlongInput) {
  std::string text = "age1" + std::string(kMaxBech32Length, 'q');
  EXPECT_FALSE(Bech32Decode(text).ok());
}

TEST(Base64Test, RoundTripsAllLengths) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    StatusOr<std::string> raw = Base64RawDecode(Base64RawEncode(bytes));
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(*raw, bytes);
    StatusOr<std::string> padded = Base64PaddedDecode(Base64PaddedEncode(bytes));
    ASSERT_TRUE(padded.ok());
    EXPECT_EQ(*padded, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 11));
  }
}

TEST(Base64Test, EncodesRfc4648Examples) {
  EXPECT_EQ(Base64PaddedEncode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64PaddedEncode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64RawEncode("foob"), "Zm9vYg");
}

TEST(Base64Test, RawDecodingIsStrict) {
  EXPECT_FALSE(Base64RawDecode("Zm9vYg==").ok());  // padding
  EXPECT_FALSE(Base64RawDecode("Zm9vYh").ok());    // non-canonical trailing bits
  EXPECT_FALSE(Base64RawDecode("Zm9vY").ok());     // impossible length
  EXPECT_FALSE(Base64RawDecode("Zm9v-g").ok());    // URL alphabet
  EXPECT_FALSE(Base64RawDecode("Zm9v\nYg").ok());  // whitespace
}

TEST(Base64Test, PaddedDecodingIsStrict) {
  EXPECT_FALSE(Base64PaddedDecode("Zm9vYg").ok());    // missing padding
  EXPECT_FALSE(Base64PaddedDecode("Zm9vYh==").ok());  // non-canonical
  EXPECT_FALSE(Base64PaddedDecode("Zm=vYg==").ok());  // padding inside
  EXPECT_FALSE(Base64PaddedDecode("Zg===").ok());
}

TEST(HkdfTest, MatchesRfc5869TestCase1) {
  StatusOr<SecretBytes> okm =
      HkdfSha256(std::string(22, '\x0b'), FromHex("000102030405060708090a0b0c"),
                 FromHex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(ToHex(okm->View()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfTest, MatchesRfc5869TestCase3WithEmptySaltAndInfo) {
  StatusOr<SecretBytes> okm = HkdfSha256(std::string(22, '\x0b'), "", "", 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(ToHex(okm->View()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HmacTest, MatchesRfc4231TestCase1) {
  StatusOr<std::string> mac = HmacSha256(std::string(20, '\x0b'), "Hi There");
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(ToHex(*mac), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(X25519Test, MatchesRfc7748Section6_1) {
  const std::string alice =
      FromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const std::string bob =
      FromHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  StatusOr<std::string> alice_public = X25519PublicKey(alice);
  StatusOr<std::string> bob_public = X25519PublicKey(bob);
  ASSERT_TRUE(alice_public.ok() && bob_public.ok());
  EXPECT_EQ(ToHex(*alice_public),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(ToHex(*bob_public), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  StatusOr<SecretBytes> shared = X25519SharedSecret(alice, *bob_public);
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(ToHex(shared->View()),
            "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

TEST(X25519Test, RefusesLowOrderPeer) {
  // The all-zero point has order 1: the shared secret is all zeros, which age must refuse.
  StatusOr<SecretBytes> shared = X25519SharedSecret(std::string(32, '\x01'), std::string(32, '\0'));
  EXPECT_FALSE(shared.ok());
}

TEST(ChaChaPolyTest, MatchesIndependentImplementationAndDetectsTampering) {
  // Expected value computed with Python's `cryptography` package (key 00..1f, zero nonce).
  std::string key;
  for (int i = 0; i < 32; ++i) key.push_back(static_cast<char>(i));
  const std::string nonce(12, '\0');
  StatusOr<std::string> sealed = ChaChaPolySeal(key, nonce, "hello");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(ToHex(*sealed), "70dd2e5dc20b4c4d4898a053334e265cbd1a1b62f7");
  StatusOr<std::string> opened = ChaChaPolyOpen(key, nonce, *sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "hello");
  std::string tampered = *sealed;
  tampered[0] ^= 1;
  StatusOr<std::string> rejected = ChaChaPolyOpen(key, nonce, tampered);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), StatusCode::kDataLoss);
}

TEST(SecretBytesTest, MovedFromIsEmpty) {
  SecretBytes a(std::string_view("secret"));
  SecretBytes b(std::move(a));
  EXPECT_EQ(b.View(), "secret");
  EXPECT_TRUE(a.IsEmpty());  // NOLINT(bugprone-use-after-move): the contract under test
}

}  // namespace
}  // namespace ephemera::envelope
