// Tests of the redactor's PII mode (RedactionPolicy::pii): for each rule, values
// written the ways logs write them and look-alikes it must leave alone; the modes (none leaves
// everything, standard leaves IP addresses); precedence of secrets over PII; the report's counts;
// the failure path; linear time; the planted PII corpus (detection rate) and the benign /proc
// corpus (false-positive rate) with PII on.
//
// Card numbers and IBANs are generated with check digits computed by the corpus's own Luhn and
// mod-97 helpers (planted_pii_corpus.h), written from the specifications, not by the redactor.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "redact/redactor.h"
#include "tests/redact/planted_pii_corpus.h"

namespace ephemera::redact {
namespace {

using corpus::IbanCheckDigits;
using corpus::LuhnCheckDigit;
using corpus::PiiRandom;

Redactor MakeRedactor(PiiMode mode) {
  RedactionPolicy policy;
  policy.pii = mode;
  StatusOr<Redactor> redactor = Redactor::Create(std::move(policy));
  EXPECT_TRUE(redactor.ok()) << redactor.status().ToString();
  return std::move(redactor).value();
}

std::string Redact(const Redactor& redactor, std::string_view text,
                   RedactionReport* report = nullptr) {
  RedactionReport local;
  StatusOr<std::string> out = redactor.RedactText(text, report != nullptr ? *report : local);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::string("<error>");
}

std::string Standard(std::string_view text) {
  return Redact(MakeRedactor(PiiMode::kStandard), text);
}
std::string Strict(std::string_view text) { return Redact(MakeRedactor(PiiMode::kStrict), text); }

// `text` with `value` replaced by "[REDACTED:<rule>]": what the redactor must produce.
std::string Masked(std::string_view text, std::string_view value, std::string_view rule) {
  std::string out(text);
  const size_t at = out.find(value);
  EXPECT_NE(at, std::string::npos) << value << " not in " << text;
  if (at != std::string::npos) {
    out.replace(at, value.size(), "[REDACTED:" + std::string(rule) + "]");
  }
  return out;
}

// A card number of the networks' ranges with a correct Luhn digit (corpus helper).
std::string Card(std::string_view prefix, size_t length, PiiRandom& random) {
  std::string number(prefix);
  number += random.Digits(length - 1 - number.size());
  return number + LuhnCheckDigit(number);
}

// The same number with its check digit changed: Luhn-invalid.
std::string WithWrongCheckDigit(std::string number) {
  number.back() = static_cast<char>('0' + (number.back() - '0' + 1) % 10);
  return number;
}

// --- modes ---------------------------------------------------------------------------------------

TEST(RedactorPiiTest, ModesParseAndName) {
  for (PiiMode mode : {PiiMode::kNone, PiiMode::kStandard, PiiMode::kStrict}) {
    StatusOr<PiiMode> parsed = ParsePiiMode(PiiModeName(mode));
    ASSERT_TRUE(parsed.ok()) << PiiModeName(mode);
    EXPECT_EQ(*parsed, mode);
  }
  EXPECT_EQ(PiiModeName(PiiMode::kNone), "none");
  EXPECT_EQ(PiiModeName(PiiMode::kStandard), "standard");
  EXPECT_EQ(PiiModeName(PiiMode::kStrict), "strict");
  for (std::string_view bad : {"", "Strict", "all", "standard ", "false"}) {
    StatusOr<PiiMode> parsed = ParsePiiMode(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    for (std::string_view allowed : {"none", "standard", "strict"}) {
      EXPECT_NE(parsed.status().message().find(allowed), std::string::npos)
          << parsed.status().message();
    }
  }
}

// --- email ---------------------------------------------------------------------------------------

TEST(RedactorPiiTest, EmailAddressesAreMaskedWhole) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"INFO 2026-12-06 sent receipt to jane.doe@example.com (order 42)", "jane.doe@example.com"},
      {R"({"user":{"email":"bob.smith+billing@mail.example.co.uk","id":7}})",
       "bob.smith+billing@mail.example.co.uk"},
      {"From: Alice Martin <alice_m@eu-west.corp.example.org>", "alice_m@eu-west.corp.example.org"},
      {"email=J.Random-Hacker99@example.io&next=/home", "J.Random-Hacker99@example.io"},
      {"<a href=\"mailto:press@example.net?subject=Hi\">", "press@example.net"},
      {"notify: ops-team@status.example.dev.", "ops-team@status.example.dev"},
      {"'x.y@sub.sub2.example.com'", "x.y@sub.sub2.example.com"},
      {"user=max%mustermann@example.de", "max%mustermann@example.de"},
  };
  for (const auto& [text, address] : cases) {
    RedactionReport report;
    EXPECT_EQ(Redact(MakeRedactor(PiiMode::kStandard), text, &report),
              Masked(text, address, "email"))
        << text;
    EXPECT_EQ(report.patterns_matched["email"], 1) << text;
  }
}

TEST(RedactorPiiTest, EmailLookAlikesAreLeftAlone) {
  for (const char* text : {
           "image: ghcr.io/acme/api@sha256:0f3c5e9a1b2d4c6e8f00112233445566778899aabbccddeeff0011",
           "npm install @types/node @babel/core@7.23.5 @scope/pkg@1.2.3",
           "go get github.com/acme/lib@v1.4.2",
           "ssh deploy@10.0.0.1",              // an IP literal, not a mail domain (ipv4 in strict)
           "ssh root@localhost",               // one label
           "assets/icon@2x.png logo@3x.webp",  // a file's density suffix
           "0::/user.slice/user-1000.slice/user@1000.service/app.slice",
           "systemd[1]: Started getty@tty1.service", "java.lang.Object@6d06d69c",
           "trailing.@example.com",  // a dot-atom does not end with '.'
           "a@b.c",                  // the TLD has 2+ letters
           "x@-bad.example.com",     // a label does not start with '-'
           "@example.com alone",     // no local part
       }) {
    EXPECT_EQ(Strict(text).find("[REDACTED:email]"), std::string::npos) << text;
  }
  // One address inside the text is still found where the look-alikes are not.
  EXPECT_EQ(Standard("icon@2x.png by dev@example.com"), "icon@2x.png by [REDACTED:email]");
}

// --- card-number ---------------------------------------------------------------------------------

struct CardCase {
  std::string_view network;
  std::string_view prefix;
  size_t length;
};

// One prefix and length per network's documented range (ISO/IEC 7812 IINs as the networks publish
// them), including the ends of ranges.
constexpr CardCase kCardCases[] = {
    {"visa", "4", 16},          {"visa", "4", 13},        {"visa", "4", 19},
    {"mastercard", "51", 16},   {"mastercard", "55", 16}, {"mastercard", "2221", 16},
    {"mastercard", "2720", 16}, {"amex", "34", 15},       {"amex", "37", 15},
    {"discover", "6011", 16},   {"discover", "644", 16},  {"discover", "649", 16},
    {"discover", "65", 19},     {"jcb", "3528", 16},      {"jcb", "3589", 19},
    {"diners", "300", 14},      {"diners", "305", 14},    {"diners", "36", 14},
    {"diners", "38", 16},       {"unionpay", "62", 16},   {"unionpay", "62", 19},
    {"maestro", "50", 16},      {"maestro", "56", 16},    {"maestro", "6759", 19},
};

TEST(RedactorPiiTest, CardNumbersOfEveryNetworkAreMasked) {
  PiiRandom random(101);
  const Redactor redactor = MakeRedactor(PiiMode::kStandard);
  for (const CardCase& c : kCardCases) {
    const std::string digits = Card(c.prefix, c.length, random);
    std::vector<std::string> writings = {digits};
    for (char separator : {' ', '-'}) {
      switch (c.length) {
        case 14:
          writings.push_back(corpus::Grouped(digits, {4, 6, 4}, separator));
          break;
        case 15:
          writings.push_back(corpus::Grouped(digits, {4, 6, 5}, separator));
          break;
        case 16:
          writings.push_back(corpus::Grouped(digits, {4, 4, 4, 4}, separator));
          break;
        case 19:
          writings.push_back(corpus::Grouped(digits, {4, 4, 4, 4, 3}, separator));
          break;
        default:
          break;
      }
    }
    for (const std::string& written : writings) {
      for (const std::string& text :
           {"charge card=" + written + " amount=12.50", R"({"pan":")" + written + R"("})",
            "paid with " + written + ".", written}) {
        RedactionReport report;
        EXPECT_EQ(Redact(redactor, text, &report), Masked(text, written, "card-number"))
            << c.network << ": " << text;
        EXPECT_EQ(report.patterns_matched["card-number"], 1) << text;
      }
    }
  }
}

TEST(RedactorPiiTest, CardLookAlikesAreLeftAlone) {
  PiiRandom random(102);
  const Redactor redactor = MakeRedactor(PiiMode::kStrict);
  std::vector<std::string> texts;
  for (const CardCase& c : kCardCases) {
    const std::string valid = Card(c.prefix, c.length, random);
    texts.push_back("card " + WithWrongCheckDigit(valid));              // Luhn-invalid
    texts.push_back("id " + valid + random.Digits(20 - c.length + 1));  // a run of 21+ digits
    texts.push_back("order_" + valid);                                  // inside a word
    texts.push_back("ratio 0." + valid);                                // a decimal
    texts.push_back("pod api-7d9f" + valid);                            // inside a name
  }
  // Luhn-valid numbers whose prefix is no network's (1, 7, 8, 9), and wrong lengths.
  for (std::string_view prefix : {"1", "7", "8", "9", "2220", "2721", "306", "3527"}) {
    texts.push_back("n=" + Card(prefix, 16, random));
  }
  texts.push_back("amex of 16 " + Card("37", 16, random));
  texts.push_back("mastercard of 19 " + Card("51", 19, random));
  // Timestamps (s, ms, ns), inode numbers and sizes as /proc and logs print them.
  for (const char* text : {"ts=1733500000 ts_ms=1733500000123 t_ns=1733500000123456789",
                           "7f1c0eecb0ab-7fa9abfef34d r-xp 00000000 08:01 4194560123 /lib/x.so",
                           "rss_bytes=5368709120 read=98765432101",
                           "4111 11 1111 1111 1111 (bad grouping)", "4111  1111  1111  1111"}) {
    texts.push_back(text);
  }
  for (const std::string& text : texts) {
    RedactionReport report;
    Redact(redactor, text, &report);
    EXPECT_EQ(report.patterns_matched.count("card-number"), 0U) << text;
  }
}

// --- iban ----------------------------------------------------------------------------------------

TEST(RedactorPiiTest, IbansOfSeveralCountriesAreMasked) {
  PiiRandom random(103);
  const Redactor redactor = MakeRedactor(PiiMode::kStandard);
  for (const corpus::IbanCountry& country : corpus::kIbanCountries) {
    const std::string iban = corpus::Iban(random, country);
    std::string grouped;
    for (size_t at = 0; at < iban.size(); at += 4) {
      grouped += (at > 0 ? " " : "") + iban.substr(at, 4);
    }
    for (const std::string& written : {iban, grouped}) {
      for (const std::string& text :
           {"IBAN: " + written + " BIC: DEUTDEFF", R"({"iban":")" + written + R"(","amount":10})",
            "refund to " + written + "."}) {
        RedactionReport report;
        EXPECT_EQ(Redact(redactor, text, &report), Masked(text, written, "iban")) << text;
        EXPECT_EQ(report.patterns_matched["iban"], 1) << text;
      }
    }
  }
}

TEST(RedactorPiiTest, IbanLookAlikesAreLeftAlone) {
  PiiRandom random(104);
  const Redactor redactor = MakeRedactor(PiiMode::kStandard);
  std::vector<std::string> texts;
  for (const corpus::IbanCountry& country : corpus::kIbanCountries) {
    const std::string iban = corpus::Iban(random, country);
    std::string wrong_check = iban;
    wrong_check[3] = static_cast<char>('0' + (wrong_check[3] - '0' + 1) % 10);
    texts.push_back("IBAN " + wrong_check);
    std::string lower = iban;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    texts.push_back("iban " + lower);                            // printed upper case
    texts.push_back("IBAN " + iban + "0");                       // longer than the country's length
    texts.push_back("IBAN " + iban.substr(0, iban.size() - 1));  // shorter
    texts.push_back("ref X" + iban);                             // inside a word
  }
  // A country with no IBAN, with check digits that would be valid for it.
  const std::string bban = random.Digits(18);
  texts.push_back("US" + IbanCheckDigits("US", bban) + bban);
  for (const std::string& text : texts) {
    RedactionReport report;
    Redact(redactor, text, &report);
    EXPECT_EQ(report.patterns_matched.count("iban"), 0U) << text;
  }
}

// --- phone-number --------------------------------------------------------------------------------

TEST(RedactorPiiTest, PhoneNumbersAreMasked) {
  const Redactor redactor = MakeRedactor(PiiMode::kStandard);
  PiiRandom random(105);
  for (int round = 0; round < 200; ++round) {
    const std::string number = corpus::PhoneNumber(random);
    const std::string text = "callback requested: " + number + ", agent=42";
    EXPECT_EQ(Redact(redactor, text), Masked(text, number, "phone-number")) << text;
  }
  for (const auto& [text, number] : std::vector<std::pair<std::string, std::string>>{
           {"tel:+1-201-555-0123;ext=7", "+1-201-555-0123"},
           {"<a href=\"tel:+442079460958\">", "+442079460958"},
           {"phone=+33 1 42 68 53 00", "+33 1 42 68 53 00"},
           {"{\"phone\":\"+49 (0)30 901820\"}", "+49 (0)30 901820"},
           {"Mobile: +86 138 0013 8000", "+86 138 0013 8000"},
           {"call 1 (800) 555-0199 now", "1 (800) 555-0199"},
           {"fax (212)555.0147", "(212)555.0147"},
       }) {
    EXPECT_EQ(Redact(redactor, text), Masked(text, number, "phone-number")) << text;
  }
}

// National numbers have no shape of their own ("0176 12345678" is also an ID); after a key that
// names a phone number, in any assignment syntax, they are one.
TEST(RedactorPiiTest, NationalNumbersAfterAPhoneKeyAreMasked) {
  PiiRandom random(1207);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"phone=", "020 7946 " + random.Digits(4)},
      {R"({"phone": ")", "(020) 7946 " + random.Digits(4)},
      {"Mobile: ", "0176 " + random.Digits(8)},
      {R"("phoneNumber":")", "0176/" + random.Digits(7)},
      {"cell_no = '", "07700 " + random.Digits(6)},
      {"<tel>", "030 " + random.Digits(7)},
      {"FAX: ", "555-" + random.Digits(4)},
      {"home-phone=", "06 " + random.Digits(2) + " " + random.Digits(2) + " " + random.Digits(2) +
                          " " + random.Digits(2)},
      {"contactNumber: ", random.Digits(10)},
      {"msisdn=", "49" + random.Digits(10)},
  };
  for (const auto& [key, number] : cases) {
    std::string text = "user ";
    text.append(key).append(number).append(" saved");
    EXPECT_EQ(Standard(text), Masked(text, number, "phone-number")) << text;
  }
  EXPECT_EQ(Standard("phone: +49 176 12345678 ok"), "phone: [REDACTED:phone-number] ok");
}

TEST(RedactorPiiTest, NumbersAfterKeysThatAreNotPhonesAreLeftAlone) {
  for (const std::string text : {"hotel: 2026 1234 5678", "intel=5 6 7 8 9 1", "phone: 12",
                                 "phone_code: 49", "phone_count=12345678", "timeout: 30 phone=1",
                                 "telemetry: 1234567", "phones 1234567 sent", "phone 12345678"}) {
    EXPECT_EQ(Standard(text), text);
  }
  EXPECT_EQ(Redact(MakeRedactor(PiiMode::kNone), "phone=020 7946 0958"), "phone=020 7946 0958");
}

TEST(RedactorPiiTest, PhoneLookAlikesAreLeftAlone) {
  for (const char* text : {
           "request 4155552671 took 12ms",          // a bare run of digits
           "id=14155552671",                        // no '+'
           "date 2026-12-06 and +2026-12-06",       // dates
           "at 12:34:56.789 +05:30 UTC+0100",       // times and offsets
           "version 1.2.3.4 v2.345.6789 go1.22.4",  // versions
           "peer +192.168.100.200 and 192.168.100.200",
           "x=1e+10 c++17 +1234567",                 // exponent, language, too few digits
           "(911) 555-1234 411-555-1234",            // N11 service codes
           "123-456-7890 (123) 456-7890",            // area code starting with 1
           "415-555-26710 4155-555-2671",            // groups of the wrong size
           "ports 30000-32767 range 200-300-4000x",  // ranges
           "+12345678901234567",                     // more than 15 digits
       }) {
    RedactionReport report;
    Redact(MakeRedactor(PiiMode::kStandard), text, &report);
    EXPECT_EQ(report.patterns_matched.count("phone-number"), 0U) << text;
  }
}

// --- ipv4 and ipv6 (strict) ----------------------------------------------------------------------

TEST(RedactorPiiTest, StrictMasksIpAddressesButNotTheirPorts) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"tcp 10.148.208.189:44048 -> svc:443", "tcp [REDACTED:ipv4]:44048 -> svc:443"},
      {"client=203.0.113.7 method=GET", "client=[REDACTED:ipv4] method=GET"},
      {"allow 192.168.0.0/16", "allow [REDACTED:ipv4]/16"},
      {"range 10.0.0.1-10.0.0.9.", "range [REDACTED:ipv4]-[REDACTED:ipv4]."},
      {"GET [2001:db8:85a3::8a2e:370:7334]:443", "GET [[REDACTED:ipv6]]:443"},
      {"inet6 fe80::1c2d:3eff:fe4f:5a6b/64 scope link", "inet6 [REDACTED:ipv6]/64 scope link"},
      {"via fe80::1%eth0 dev eth0", "via [REDACTED:ipv6] dev eth0"},
      {"peer ::ffff:10.1.2.3 port 80", "peer [REDACTED:ipv6] port 80"},
      {"src:2001:db8::5 dst:2001:db8:0:0:0:0:0:6", "src:[REDACTED:ipv6] dst:[REDACTED:ipv6]"},
      {"addr 2001:0db8:0000:0000:0000:ff00:0042:8329.", "addr [REDACTED:ipv6]."},
      {"::1234:5678 and 1::", "[REDACTED:ipv6] and [REDACTED:ipv6]"},
  };
  for (const auto& [text, want] : cases) {
    EXPECT_EQ(Strict(text), want) << text;
    EXPECT_EQ(Standard(text), text) << "standard leaves IP addresses: " << text;
  }
}

TEST(RedactorPiiTest, IpLookAlikesAndExemptAddressesAreLeftAlone) {
  for (const char* text : {
           "listen 0.0.0.0:8080 127.0.0.1:9090 127.1.2.3 [::]:443 [::1]:443 0:0:0:0:0:0:0:1",
           "version 1.2.3.4.5 oid 1.3.6.1.4.1.311 v1.2.3.4",      // longer dotted runs
           "bad 256.1.1.1 01.2.3.4 1.2.3",                        // not dotted quads
           "link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff",  // MAC
           "eui64 00:11:22:33:44:55:66:77",
           "at 12:34:56 and 2026-12-06T12:34:56.123Z",     // times
           "main.go:42 server.go:123:7 Foo.java:99",       // locations
           "std::string a::b dead::beef Foo::Bar ::",      // code
           "1:2:3:4:5:6:7:8:9 fe80:::1 1::2::3 12345::1",  // not addresses
       }) {
    RedactionReport report;
    const std::string out = Redact(MakeRedactor(PiiMode::kStrict), text, &report);
    EXPECT_EQ(report.patterns_matched.count("ipv4"), 0U) << text << " -> " << out;
    EXPECT_EQ(report.patterns_matched.count("ipv6"), 0U) << text << " -> " << out;
  }
}

// --- the modes together --------------------------------------------------------------------------

// One line with every kind of PII in it.
std::string EveryKindOfPii(PiiRandom& random, std::vector<std::string>* values) {
  const std::string email = corpus::EmailAddress(random);
  const std::string card = Card("4", 16, random);
  const std::string iban = corpus::Iban(random, corpus::kIbanCountries[0]);
  const std::string phone = "+44 20 7946 0958";
  const std::string ipv4 = "198.51.100.23";
  const std::string ipv6 = "2001:db8::42";
  *values = {email, card, iban, phone, ipv4, ipv6};
  return "user " + email + " paid " + card + " from " + iban + " phone " + phone + " ip " + ipv4 +
         " ip6 " + ipv6;
}

TEST(RedactorPiiTest, NoneLeavesEveryKindAndStandardLeavesIps) {
  PiiRandom random(106);
  std::vector<std::string> values;
  const std::string text = EveryKindOfPii(random, &values);
  RedactionReport none;
  EXPECT_EQ(Redact(MakeRedactor(PiiMode::kNone), text, &none), text);
  EXPECT_TRUE(none.patterns_matched.empty());
  // The default policy is none.
  EXPECT_EQ(Redact(Redactor::Create({}).value(), text), text);

  RedactionReport standard;
  const std::string standard_out = Redact(MakeRedactor(PiiMode::kStandard), text, &standard);
  for (size_t k = 0; k < 4; ++k) EXPECT_EQ(standard_out.find(values[k]), std::string::npos);
  EXPECT_NE(standard_out.find(values[4]), std::string::npos);
  EXPECT_NE(standard_out.find(values[5]), std::string::npos);

  RedactionReport strict;
  const std::string strict_out = Redact(MakeRedactor(PiiMode::kStrict), text, &strict);
  for (const std::string& value : values) EXPECT_EQ(strict_out.find(value), std::string::npos);
  const std::map<std::string, int> want = {{"email", 1},        {"card-number", 1}, {"iban", 1},
                                           {"phone-number", 1}, {"ipv4", 1},        {"ipv6", 1}};
  EXPECT_EQ(strict.patterns_matched, want);
}

TEST(RedactorPiiTest, CountsPerRuleAreReported) {
  PiiRandom random(107);
  RedactionReport report;
  Redact(MakeRedactor(PiiMode::kStandard),
         "a@example.com b@example.org +1 415 555 2671 " + Card("4", 16, random) + " c@example.net",
         &report);
  EXPECT_EQ(report.patterns_matched["email"], 3);
  EXPECT_EQ(report.patterns_matched["phone-number"], 1);
  EXPECT_EQ(report.patterns_matched["card-number"], 1);
}

TEST(RedactorPiiTest, ASecretWinsOverPiiWhereTheyOverlap) {
  RedactionReport report;
  const std::string out = Redact(MakeRedactor(PiiMode::kStrict),
                                 "DB_PASSWORD=alice@example.com x=1 "
                                 "https://admin:bob@example.com@10.1.2.3/ "
                                 "token=4111111111111111",
                                 &report);
  EXPECT_EQ(out.find("alice"), std::string::npos) << out;
  EXPECT_EQ(out.find("4111"), std::string::npos) << out;
  EXPECT_EQ(report.patterns_matched["secret-key-value"], 2) << out;
  EXPECT_EQ(report.patterns_matched.count("card-number"), 0U) << out;
  EXPECT_EQ(report.patterns_matched["url-password"], 1) << out;
}

TEST(RedactorPiiTest, APiiMatchNeverTurnsAFailureIntoAPassThrough) {
  std::string huge = "mail a@example.com ";
  huge.resize(kMaxTextBytes + 1, 'x');
  for (PiiMode mode : {PiiMode::kStandard, PiiMode::kStrict}) {
    RedactionReport report;
    StatusOr<std::string> out = MakeRedactor(mode).RedactText(huge, report);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
    EXPECT_TRUE(report.patterns_matched.empty());
  }
}

TEST(RedactorPiiTest, OutputStaysValidUtf8AroundPii) {
  const std::string text =
      "caf\xc3\xa9 \xff"
      "bob@example.com\xfe +44 20 7946 0958\xc3 \xe2\x82\xac 10.1.2.3\x80";
  RedactionReport report;
  const std::string out = Redact(MakeRedactor(PiiMode::kStrict), text, &report);
  EXPECT_EQ(
      out,
      "caf\xc3\xa9 \xef\xbf\xbd[REDACTED:email]\xef\xbf\xbd [REDACTED:phone-number]\xef\xbf\xbd"
      " \xe2\x82\xac [REDACTED:ipv4]\xef\xbf\xbd");
}

// Each unit repeated to 1 MiB exercises a PII scanner at every position (the e-mail look-back
// and domain scan, card groups, phone groups, IBAN groups, IPv6 runs); the run time shows the
// scan is linear, the assertions that it finishes with the text in place.
TEST(RedactorPiiTest, PiiScannersStayLinearOnPathologicalInput) {
  const size_t kMiB = 1 << 20;
  const Redactor redactor = MakeRedactor(PiiMode::kStrict);
  for (std::string_view unit : {"a@", "a.a@a.", "@a.a", "4111 ", "4111-1", "+1 ", "+1(2)", "(212) ",
                                "DE89 ", "1.1.", "::", "1:", "a:", "tel:1", "1-"}) {
    std::string text;
    while (text.size() < kMiB) text += unit;
    RedactionReport report;
    StatusOr<std::string> out = redactor.RedactText(text, report);
    ASSERT_TRUE(out.ok()) << unit;
    EXPECT_GE(out->size(), kMiB / 8) << unit;
  }
}

// --- planted corpus: detection rate --------------------------------------------------------------

// Values generated from the formats' rules, each planted alone in a log-like context. At least 99 %
// must not appear in the output with pii = strict, and at least 99 % of each rule's.
TEST(RedactorPiiTest, PlantedPiiCorpusDetectionRateIsAtLeast99Percent) {
  const Redactor redactor = MakeRedactor(PiiMode::kStrict);
  const std::vector<corpus::PlantedPii> cases = corpus::PlantedPiiCases(15, 200);
  std::map<std::string, std::pair<int, int>> by_rule;  // rule -> (leaked, planted)
  int leaked = 0;
  std::string examples;
  for (const corpus::PlantedPii& c : cases) {
    const std::string out = Redact(redactor, c.text);
    auto& [rule_leaked, rule_planted] = by_rule[c.rule];
    ++rule_planted;
    if (out.find(c.value) != std::string::npos) {
      ++leaked;
      ++rule_leaked;
      if (examples.size() < 2000) examples += c.rule + ": " + c.text + "\n";
    }
  }
  const double rate = 1.0 - static_cast<double>(leaked) / static_cast<double>(cases.size());
  EXPECT_GE(rate, 0.99) << leaked << " of " << cases.size() << " leaked:\n" << examples;
  EXPECT_EQ(by_rule.size(), 6U);
  for (const auto& [rule, counts] : by_rule) {
    EXPECT_GE(1.0 - static_cast<double>(counts.first) / counts.second, 0.99)
        << rule << ": " << counts.first << " of " << counts.second << " leaked";
  }
  std::printf("planted PII: %zu cases, %.2f %% masked\n", cases.size(), rate * 100);
}

// Standard (no IPs) masks the planted values of its rules too, and strict's IPs stay in standard.
TEST(RedactorPiiTest, PlantedIpsAreStrictOnly) {
  const Redactor redactor = MakeRedactor(PiiMode::kStandard);
  int ips = 0;
  int kept = 0;
  for (const corpus::PlantedPii& c : corpus::PlantedPiiCases(16, 50)) {
    if (c.rule != "ipv4" && c.rule != "ipv6") continue;
    ++ips;
    if (Redact(redactor, c.text).find(c.value) != std::string::npos) ++kept;
  }
  EXPECT_EQ(kept, ips);
}

// --- benign corpus: false-positive rate ----------------------------------------------------------

struct BenignFigures {
  size_t tokens = 0;
  size_t redacted = 0;
  std::map<std::string, int> by_rule;
  std::string examples;
};

BenignFigures MeasureBenign(PiiMode mode) {
  std::ifstream in(std::string(EPHEMERA_TESTDATA_DIR) + "/redact/benign_proc.txt");
  EXPECT_TRUE(in.good());
  const Redactor redactor = MakeRedactor(mode);
  BenignFigures figures;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    for (std::string w; words >> w;) ++figures.tokens;
    RedactionReport report;
    const std::string out = Redact(redactor, line, &report);
    for (const auto& [rule, count] : report.patterns_matched) {
      figures.by_rule[rule] += count;
      figures.redacted += static_cast<size_t>(count);
    }
    if (!report.patterns_matched.empty() && figures.examples.size() < 4000) {
      figures.examples += out + "\n";
    }
  }
  return figures;
}

TEST(RedactorPiiTest, BenignProcCorpusWithStandardPiiHasAtMostHalfAPercentRedacted) {
  const BenignFigures figures = MeasureBenign(PiiMode::kStandard);
  ASSERT_GT(figures.tokens, 1000U) << "the benign corpus is too small to measure a rate";
  const double rate = static_cast<double>(figures.redacted) / static_cast<double>(figures.tokens);
  EXPECT_LE(rate, 0.005) << figures.redacted << " of " << figures.tokens << " tokens redacted:\n"
                         << figures.examples;
  std::printf("benign /proc corpus, pii=standard: %zu of %zu tokens redacted (%.3f %%)\n",
              figures.redacted, figures.tokens, rate * 100);
}

// Strict masks the corpus's IP addresses by design; beyond standard's matches only ipv4 and ipv6
// may fire.
TEST(RedactorPiiTest, BenignProcCorpusWithStrictPiiAddsOnlyIpMatches) {
  const BenignFigures standard = MeasureBenign(PiiMode::kStandard);
  const BenignFigures strict = MeasureBenign(PiiMode::kStrict);
  std::map<std::string, int> strict_without_ips = strict.by_rule;
  strict_without_ips.erase("ipv4");
  strict_without_ips.erase("ipv6");
  EXPECT_EQ(strict_without_ips, standard.by_rule);
  EXPECT_GT(strict.by_rule.count("ipv4"), 0U) << "the corpus holds IPv4 addresses";
  std::printf(
      "benign /proc corpus, pii=strict: %zu of %zu tokens redacted (%.3f %%; ipv4 %d, "
      "ipv6 %d)\n",
      strict.redacted, strict.tokens,
      100.0 * static_cast<double>(strict.redacted) / static_cast<double>(strict.tokens),
      strict.by_rule.count("ipv4") ? strict.by_rule.at("ipv4") : 0,
      strict.by_rule.count("ipv6") ? strict.by_rule.at("ipv6") : 0);
}

}  // namespace
}  // namespace ephemera::redact
