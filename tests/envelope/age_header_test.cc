// Tests of the age header parser: canonical round trip, strict syntax, and the hard limits that
// keep hostile headers from costing memory.
#include "envelope/age_header.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ephemera::envelope {
namespace {

constexpr char kMacLine[] = "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";

std::string WithMac(const std::string& header_without_mac) {
  return header_without_mac + kMacLine + "payload";
}

TEST(AgeHeaderTest, MarshalAndParseRoundTrip) {
  const std::vector<Stanza> stanzas = {
      {{"X25519", "abc"}, std::string(32, '\x01')},
      {{"some.example/type", "a", "b"}, std::string(48, '\x02')},  // exactly one full line
      {{"empty"}, ""},
      {{"long"}, std::string(200, '\x03')},
  };
  StatusOr<std::string> text = MarshalHeaderWithoutMac(stanzas);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->substr(text->size() - 3), "---");
  StatusOr<Header> header = ParseHeader(*text + std::string(kMacLine).substr(3) + "payload");
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  ASSERT_EQ(header->stanzas.size(), stanzas.size());
  for (size_t i = 0; i < stanzas.size(); ++i) {
    EXPECT_EQ(header->stanzas[i].args, stanzas[i].args);
    EXPECT_EQ(header->stanzas[i].body, stanzas[i].body);
  }
  EXPECT_EQ(header->mac_input_size, text->size());
  EXPECT_EQ(header->mac, std::string(32, '\0'));
  EXPECT_EQ(header->payload_offset, text->size() + std::string(kMacLine).size() - 3);
}

TEST(AgeHeaderTest, FullBodyLineNeedsAFinalShortLine) {
  const std::string full(64, 'A');
  // A 64-column line followed directly by the MAC line: the body never ended.
  StatusOr<Header> header = ParseHeader("age-encryption.org/v1\n-> t\n" + full + "\n" + kMacLine);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(ParseHeader(WithMac("age-encryption.org/v1\n-> t\n" + full + "\n\n")).ok());
}

TEST(AgeHeaderTest, KeepsUnknownStanzas) {
  StatusOr<Header> header = ParseHeader(
      WithMac("age-encryption.org/v1\n-> some.example/type a b\nAAAA\n-> X25519 x\n\n"));
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  ASSERT_EQ(header->stanzas.size(), 2u);
  EXPECT_EQ(header->stanzas[0].args, (std::vector<std::string>{"some.example/type", "a", "b"}));
  EXPECT_EQ(header->stanzas[0].body, std::string(3, '\0'));
}

TEST(AgeHeaderTest, RejectsMalformedHeaders) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no stanza", "age-encryption.org/v1\n" + std::string(kMacLine)},
      {"double space", WithMac("age-encryption.org/v1\n->  X25519 a\n\n")},
      {"no argument", WithMac("age-encryption.org/v1\n-> \n\n")},
      {"trailing space", WithMac("age-encryption.org/v1\n-> X25519 \n\n")},
      {"body line too long",
       WithMac("age-encryption.org/v1\n-> t\n" + std::string(65, 'A') + "\n")},
      {"padded body", WithMac("age-encryption.org/v1\n-> t\nAA==\n")},
      {"non-canonical body", WithMac("age-encryption.org/v1\n-> t\nAB\n")},
      {"unknown line", WithMac("age-encryption.org/v1\n-> t\n\nhello\n")},
      {"short MAC", "age-encryption.org/v1\n-> t\n\n--- AAAA\n"},
      {"MAC without space",
       "age-encryption.org/v1\n-> t\n\n---AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"},
      {"truncated", "age-encryption.org/v1\n-> t\n"},
      {"truncated version", "age-encryption.org/v1"},
      {"CRLF", "age-encryption.org/v1\r\n-> t\r\n\r\n" + std::string(kMacLine)},
  };
  for (const auto& [name, text] : cases) {
    StatusOr<Header> header = ParseHeader(text);
    EXPECT_FALSE(header.ok()) << name;
  }
}

TEST(AgeHeaderTest, OtherFilesAndVersionsAreInvalidArgument) {
  StatusOr<Header> header = ParseHeader("PK\x03\x04 zip file");
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kInvalidArgument);
  header = ParseHeader("age-encryption.org/v2\n-> t\n\n" + std::string(kMacLine));
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kInvalidArgument);
}

TEST(AgeHeaderTest, LimitsStanzaCount) {
  std::string text = "age-encryption.org/v1\n";
  for (size_t i = 0; i <= kMaxStanzas; ++i) text += "-> t\n\n";
  StatusOr<Header> header = ParseHeader(WithMac(text));
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kResourceExhausted);
}

TEST(AgeHeaderTest, LimitsArgumentCountAndLineLength) {
  std::string many_args = "-> t";
  for (size_t i = 0; i < kMaxStanzaArgs; ++i) many_args += " a";
  StatusOr<Header> header = ParseHeader(WithMac("age-encryption.org/v1\n" + many_args + "\n\n"));
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kResourceExhausted);

  header = ParseHeader(
      WithMac("age-encryption.org/v1\n-> " + std::string(kMaxHeaderLineBytes + 1, 'a') + "\n\n"));
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kResourceExhausted);
}

TEST(AgeHeaderTest, LimitsBodyAndHeaderSize) {
  std::string body;
  for (size_t i = 0; i < kMaxStanzaBodyBytes / 48 + 2; ++i) body += std::string(64, 'A') + "\n";
  StatusOr<Header> header = ParseHeader(WithMac("age-encryption.org/v1\n-> t\n" + body + "\n"));
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kResourceExhausted);

  // Never-ending header made of small valid stanzas with large bodies: stops at kMaxHeaderBytes.
  std::string text = "age-encryption.org/v1\n";
  while (text.size() <= kMaxHeaderBytes) text += "-> t\n" + body.substr(0, size_t{65} * 100) + "\n";
  header = ParseHeader(text);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kResourceExhausted);
}

TEST(AgeHeaderTest, MarshalRejectsBadArguments) {
  EXPECT_FALSE(MarshalHeaderWithoutMac({{{}, ""}}).ok());
  EXPECT_FALSE(MarshalHeaderWithoutMac({{{"a b"}, ""}}).ok());
  EXPECT_FALSE(MarshalHeaderWithoutMac({{{""}, ""}}).ok());
}

}  // namespace
}  // namespace ephemera::envelope
