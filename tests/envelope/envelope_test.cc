// Unit tests of the age envelope: a test-kit known answer, round trips, and every way a file can be
// wrong (wrong key, truncated, tampered, malformed keys, armor edge cases, the plaintext cap).
#include "envelope/envelope.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "envelope/age_header.h"

namespace ephemera::envelope {
namespace {

constexpr char kTestkitIdentity[] =
    "AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6";

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(EPHEMERA_TESTDATA_DIR) + "/envelope/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

X25519Identity NewIdentity() {
  StatusOr<X25519Identity> id = GenerateIdentity();
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.ok() ? *id : X25519Identity{};
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

std::string MustEncrypt(std::string_view plaintext, const std::vector<std::string>& recipients) {
  StatusOr<std::string> out = Encrypt(plaintext, recipients);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::string();
}

TEST(EnvelopeTest, DecryptsTestkitArmorVector) {
  StatusOr<std::string> plaintext = Decrypt(ReadFixture("testkit_armor.age"), {kTestkitIdentity});
  ASSERT_TRUE(plaintext.ok()) << plaintext.status().ToString();
  EXPECT_EQ(*plaintext, "age");
}

TEST(EnvelopeTest, DecryptsTestkitVectorWithCrlfLineEndings) {
  std::string armored = ReadFixture("testkit_armor.age");
  std::string crlf;
  for (char c : armored) {
    if (c == '\n') crlf.push_back('\r');
    crlf.push_back(c);
  }
  StatusOr<std::string> plaintext = Decrypt(crlf, {kTestkitIdentity});
  ASSERT_TRUE(plaintext.ok()) << plaintext.status().ToString();
  EXPECT_EQ(*plaintext, "age");
}

TEST(EnvelopeTest, DecryptsTestkitVectorInBinaryForm) {
  StatusOr<std::string> binary = Dearmor(ReadFixture("testkit_armor.age"));
  ASSERT_TRUE(binary.ok());
  EXPECT_EQ(binary->substr(0, 22), "age-encryption.org/v1\n");
  StatusOr<std::string> plaintext = Decrypt(*binary, {kTestkitIdentity});
  ASSERT_TRUE(plaintext.ok()) << plaintext.status().ToString();
  EXPECT_EQ(*plaintext, "age");
}

TEST(EnvelopeTest, RecipientOfTestkitIdentity) {
  // Checked against `age-keygen -y`.
  StatusOr<std::string> recipient = RecipientOf(kTestkitIdentity);
  ASSERT_TRUE(recipient.ok());
  EXPECT_EQ(*recipient, "age1w3tyke4gev25vaxxsvcgqu4484rf6ejpmavs57p6yz6lhy2sfs5swrvwyn");
}

TEST(EnvelopeTest, GeneratedIdentityIsConsistent) {
  X25519Identity id = NewIdentity();
  EXPECT_EQ(id.identity.substr(0, 16), "AGE-SECRET-KEY-1");
  EXPECT_EQ(id.identity.size(), 74u);
  EXPECT_EQ(id.recipient.substr(0, 4), "age1");
  StatusOr<std::string> recipient = RecipientOf(id.identity);
  ASSERT_TRUE(recipient.ok());
  EXPECT_EQ(*recipient, id.recipient);
  EXPECT_NE(NewIdentity().identity, id.identity);
}

TEST(EnvelopeTest, RoundTripsAtChunkBoundaries) {
  X25519Identity id = NewIdentity();
  for (size_t size : {size_t{0}, size_t{1}, kPayloadChunkBytes - 1, kPayloadChunkBytes,
                      kPayloadChunkBytes + 1, 3 * kPayloadChunkBytes, 3 * kPayloadChunkBytes + 5}) {
    const std::string plaintext = Pattern(size);
    const std::string file = MustEncrypt(plaintext, {id.recipient});
    const size_t chunks = size == 0 ? 1 : (size + kPayloadChunkBytes - 1) / kPayloadChunkBytes;
    StatusOr<Header> header = ParseHeader(file);
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(file.size() - header->payload_offset, 16 + size + 16 * chunks) << size;
    StatusOr<std::string> decrypted = Decrypt(file, {id.identity});
    ASSERT_TRUE(decrypted.ok()) << size << ": " << decrypted.status().ToString();
    EXPECT_EQ(*decrypted, plaintext) << size;
  }
}

TEST(EnvelopeTest, EachOfSeveralRecipientsCanDecrypt) {
  X25519Identity a = NewIdentity();
  X25519Identity b = NewIdentity();
  X25519Identity c = NewIdentity();
  const std::string file = MustEncrypt("for three", {a.recipient, b.recipient, c.recipient});
  StatusOr<Header> header = ParseHeader(file);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->stanzas.size(), 3u);
  for (const X25519Identity* id : {&a, &b, &c}) {
    StatusOr<std::string> plaintext = Decrypt(file, {id->identity});
    ASSERT_TRUE(plaintext.ok()) << plaintext.status().ToString();
    EXPECT_EQ(*plaintext, "for three");
  }
  // Any identity in the list may be the one that matches.
  X25519Identity stranger = NewIdentity();
  StatusOr<std::string> plaintext = Decrypt(file, {stranger.identity, c.identity});
  ASSERT_TRUE(plaintext.ok());
  EXPECT_EQ(*plaintext, "for three");
}

TEST(EnvelopeTest, WrongIdentityIsPermissionDenied) {
  X25519Identity owner = NewIdentity();
  X25519Identity other = NewIdentity();
  StatusOr<std::string> plaintext = Decrypt(MustEncrypt("x", {owner.recipient}), {other.identity});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(plaintext.status().message().find("no identity matched"), std::string::npos);
  EXPECT_EQ(plaintext.status().message().find(other.identity), std::string::npos);
}

TEST(EnvelopeTest, TruncationAnywhereIsDataLoss) {
  X25519Identity id = NewIdentity();
  const std::string file = MustEncrypt(Pattern(2 * kPayloadChunkBytes), {id.recipient});
  StatusOr<Header> header = ParseHeader(file);
  ASSERT_TRUE(header.ok());
  const size_t payload = header->payload_offset;
  // In the header, in the nonce, mid-chunk, exactly at the chunk boundary, one byte short.
  for (size_t cut : {payload - 10, payload, payload + 8, payload + 16, payload + 16 + 1000,
                     payload + 16 + kPayloadChunkBytes + 16, file.size() - 1}) {
    StatusOr<std::string> plaintext = Decrypt(file.substr(0, cut), {id.identity});
    ASSERT_FALSE(plaintext.ok()) << cut;
    EXPECT_EQ(plaintext.status().code(), StatusCode::kDataLoss)
        << cut << ": " << plaintext.status().ToString();
  }
}

TEST(EnvelopeTest, AppendedBytesAreDataLoss) {
  X25519Identity id = NewIdentity();
  StatusOr<std::string> plaintext =
      Decrypt(MustEncrypt("hello", {id.recipient}) + "x", {id.identity});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.status().code(), StatusCode::kDataLoss);
}

TEST(EnvelopeTest, TamperedChunkIsDataLoss) {
  X25519Identity id = NewIdentity();
  std::string file = MustEncrypt(Pattern(3 * kPayloadChunkBytes), {id.recipient});
  StatusOr<Header> header = ParseHeader(file);
  ASSERT_TRUE(header.ok());
  file[header->payload_offset + 16 + kPayloadChunkBytes + 100] ^= 0x01;  // inside chunk 1
  StatusOr<std::string> plaintext = Decrypt(file, {id.identity});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(plaintext.status().message().find("chunk 1"), std::string::npos);
}

TEST(EnvelopeTest, TamperedHeaderMacIsDataLoss) {
  X25519Identity id = NewIdentity();
  std::string file = MustEncrypt("hello", {id.recipient});
  const size_t mac = file.find("\n--- ") + 5;
  file[mac] = file[mac] == 'A' ? 'B' : 'A';
  StatusOr<std::string> plaintext = Decrypt(file, {id.identity});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(plaintext.status().message().find("MAC"), std::string::npos);
}

TEST(EnvelopeTest, AddedStanzaBreaksTheMac) {
  X25519Identity id = NewIdentity();
  std::string file = MustEncrypt("hello", {id.recipient});
  file.insert(file.find("\n--- ") + 1, "-> grease extra\n\n");
  StatusOr<std::string> plaintext = Decrypt(file, {id.identity});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.status().code(), StatusCode::kDataLoss);
}

TEST(EnvelopeTest, TamperedStanzaMeansNoIdentityMatches) {
  X25519Identity id = NewIdentity();
  std::string file = MustEncrypt("hello", {id.recipient});
  const size_t body = file.find('\n', file.find("-> X25519 ")) + 1;
  file[body] = file[body] == 'A' ? 'B' : 'A';
  StatusOr<std::string> plaintext = Decrypt(file, {id.identity});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.status().code(), StatusCode::kPermissionDenied);
}

TEST(EnvelopeTest, MalformedX25519StanzaIsDataLoss) {
  X25519Identity id = NewIdentity();
  std::string file = MustEncrypt("hello", {id.recipient});
  const size_t arg = file.find("-> X25519 ") + 10;
  file.insert(arg, "AAAA");  // the share no longer decodes to 32 bytes
  StatusOr<std::string> plaintext = Decrypt(file, {id.identity});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.status().code(), StatusCode::kDataLoss);
}

TEST(EnvelopeTest, NotAnAgeFileIsInvalidArgument) {
  X25519Identity id = NewIdentity();
  StatusOr<std::string> plaintext = Decrypt("hello world", {id.identity});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.status().code(), StatusCode::kInvalidArgument);
}

TEST(EnvelopeTest, ScryptFilesAreReportedAsUnsupported) {
  X25519Identity id = NewIdentity();
  StatusOr<std::string> plaintext = Decrypt(
      "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 10\n"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n--- "
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
      {id.identity});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(plaintext.status().message().find("scrypt"), std::string::npos);
}

TEST(EnvelopeTest, MalformedRecipientSaysWhichAndWhy) {
  X25519Identity id = NewIdentity();
  std::string bad_checksum = id.recipient;
  bad_checksum.back() = bad_checksum.back() == 'q' ? 'p' : 'q';
  StatusOr<std::string> out = Encrypt("x", {id.recipient, bad_checksum});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("recipient 2"), std::string::npos);
  EXPECT_NE(out.status().message().find("checksum"), std::string::npos);

  out = Encrypt("x", {"ssh-ed25519 AAAAC3Nza"});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("recipient 1"), std::string::npos);

  out = Encrypt("x", {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
}

TEST(EnvelopeTest, IdentityGivenAsRecipientIsNotEchoed) {
  X25519Identity id = NewIdentity();
  StatusOr<std::string> out = Encrypt("x", {id.identity});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message().find(id.identity), std::string::npos);
  EXPECT_EQ(out.status().message().find(id.identity.substr(16, 20)), std::string::npos);
  EXPECT_NE(out.status().message().find("not an X25519 recipient"), std::string::npos);
}

TEST(EnvelopeTest, MalformedIdentityIsRejectedWithoutEchoingIt) {
  X25519Identity id = NewIdentity();
  std::string broken = id.identity;
  broken[30] = broken[30] == 'Q' ? 'P' : 'Q';
  StatusOr<std::string> plaintext = Decrypt(MustEncrypt("x", {id.recipient}), {broken});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(plaintext.status().message().find("identity 1"), std::string::npos);
  EXPECT_EQ(plaintext.status().message().find(broken.substr(16, 20)), std::string::npos);
  EXPECT_FALSE(RecipientOf("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj").ok());
}

TEST(EnvelopeTest, ParsesAgeKeygenIdentityFile) {
  X25519Identity a = NewIdentity();
  X25519Identity b = NewIdentity();
  const std::string file = "# created: 2026-01-01T00:00:00Z\n# public key: " + a.recipient + "\n" +
                           a.identity + "\n\n" + b.identity + "\r\n";
  StatusOr<std::vector<std::string>> ids = ParseIdentities(file);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(*ids, (std::vector<std::string>{a.identity, b.identity}));
  StatusOr<std::vector<std::string>> bad = ParseIdentities("# c\nnot-a-key\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseIdentities("# only comments\n").ok());
}

TEST(ArmorTest, WrapsAt64ColumnsAndRoundTrips) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{47}, size_t{48}, size_t{49}, size_t{1000}}) {
    const std::string binary = Pattern(size);
    const std::string armored = Armor(binary);
    EXPECT_EQ(armored.substr(0, kArmorBegin.size()), kArmorBegin);
    EXPECT_EQ(armored.substr(armored.size() - kArmorEnd.size() - 1), std::string(kArmorEnd) + "\n");
    std::istringstream lines(armored);
    std::string line;
    while (std::getline(lines, line)) EXPECT_LE(line.size(), 64u);
    StatusOr<std::string> back = Dearmor(armored);
    ASSERT_TRUE(back.ok()) << size << ": " << back.status().ToString();
    EXPECT_EQ(*back, binary);
  }
}

TEST(ArmorTest, AllowsWhitespaceAroundTheBlock) {
  const std::string armored = Armor("some bytes");
  StatusOr<std::string> back = Dearmor("\n\n  \t" + armored + "\n \n");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, "some bytes");
}

TEST(ArmorTest, RejectsNonCanonicalArmor) {
  const std::string good = ReadFixture("testkit_armor.age");
  ASSERT_TRUE(Dearmor(good).ok());
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage after END", good + "garbage\n"},
      {"garbage before BEGIN", "garbage\n" + good},
      {"missing END", good.substr(0, good.find("-----END"))},
      {"lower-case label", replace("BEGIN AGE ENCRYPTED FILE", "BEGIN age ENCRYPTED FILE")},
      {"short line in the middle",
       replace("YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBURWlGMHlwcXIrYnB2Y3FY\n",
               "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+\nIFgyNTUxOSBURWlGMHlwcXIrYnB2Y3FY\n")},
      {"line longer than 64", replace("Y3FY\nTnlD", "Y3FYTnlD\n")},
      {"space inside base64", replace("YWdlLWVu", "YWdl LWVu")},
      {"blank line inside", replace("Y3FY\n", "Y3FY\n\n")},
      {"non-canonical final bits", replace("+2Y=", "+2Z=")},
      {"missing padding", replace("+2Y=", "+2Y")},
      {"header line with trailing space", replace("FILE-----\nYWdl", "FILE----- \nYWdl")},
  };
  for (const auto& [name, armored] : cases) {
    StatusOr<std::string> binary = Dearmor(armored);
    EXPECT_FALSE(binary.ok()) << name;
    StatusOr<std::string> plaintext = Decrypt(armored, {kTestkitIdentity});
    EXPECT_FALSE(plaintext.ok()) << name;
  }
}

// A log with a line printed after the armor must say so, not blame the base64.
TEST(ArmorTest, SaysWhenTextFollowsTheEndLine) {
  StatusOr<std::string> binary = Dearmor(Armor("some bytes") + "warning: late line\n");
  ASSERT_FALSE(binary.ok());
  EXPECT_EQ(binary.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(binary.status().message().find("text after the END line"), std::string::npos)
      << binary.status().message();
}

TEST(SealTest, RoundTripsThroughGzipAndArmor) {
  X25519Identity id = NewIdentity();
  const std::string plaintext = std::string(200000, 'z') + Pattern(1000);
  StatusOr<std::string> sealed = Seal(plaintext, {id.recipient});
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(sealed->substr(0, kArmorBegin.size()), kArmorBegin);
  EXPECT_LT(sealed->size(), plaintext.size() / 10);  // it was compressed before encryption
  StatusOr<std::string> opened = Open(*sealed, {id.identity}, plaintext.size());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, plaintext);
}

TEST(SealTest, OpenEnforcesThePlaintextCap) {
  X25519Identity id = NewIdentity();
  const std::string plaintext(1 << 20, 'a');  // compresses about 1000:1
  StatusOr<std::string> sealed = Seal(plaintext, {id.recipient});
  ASSERT_TRUE(sealed.ok());
  StatusOr<std::string> opened = Open(*sealed, {id.identity}, plaintext.size() - 1);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kResourceExhausted);
  StatusOr<std::string> exact = Open(*sealed, {id.identity}, plaintext.size());
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->size(), plaintext.size());
}

TEST(SealTest, OpenAcceptsBinaryInput) {
  X25519Identity id = NewIdentity();
  StatusOr<std::string> sealed = Seal("binary too", {id.recipient});
  ASSERT_TRUE(sealed.ok());
  StatusOr<std::string> binary = Dearmor(*sealed);
  ASSERT_TRUE(binary.ok());
  StatusOr<std::string> opened = Open(*binary, {id.identity}, 100);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "binary too");
}

TEST(SealTest, OpenOfNonGzipPlaintextIsDataLoss) {
  X25519Identity id = NewIdentity();
  StatusOr<std::string> opened =
      Open(Armor(MustEncrypt("not gzip", {id.recipient})), {id.identity}, 100);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ephemera::envelope
