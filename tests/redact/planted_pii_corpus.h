// A planted corpus of personal data for the redactor's PII mode, generated from the formats' own
// rules with random values (never a list of known answers), written in the contexts logs use (JSON
// fields, key=value, free sentences, angle brackets). Shared by the PII tests
// (tests/redact/redactor_pii_test.cc) and the benchmark, which report the share of planted
// values that leak.
//
// The formats are written here from their specifications, independently of redactor.cc: the card
// networks' IIN ranges and lengths, the Luhn check digit, SWIFT's IBAN registry lengths and the ISO
// 13616 check digits, E.164 and the North American Numbering Plan, RFC 5322 addresses, and RFC
// 4291 IPv6 text forms. A wrong rule in the redactor fails here instead of agreeing with itself.
#ifndef EPHEMERA_TESTS_REDACT_PLANTED_PII_CORPUS_H_
#define EPHEMERA_TESTS_REDACT_PLANTED_PII_CORPUS_H_

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ephemera::redact::corpus {

// One planted case: `text` holds `value` once; `rule` is the PII rule that should mask it.
struct PlantedPii {
  std::string text;
  std::string value;
  std::string rule;
};

class PiiRandom {
 public:
  explicit PiiRandom(uint32_t seed) : rng_(seed) {}
  size_t Uniform(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  // An integer in [low, high].
  uint32_t Between(uint32_t low, uint32_t high) {
    return std::uniform_int_distribution<uint32_t>(low, high)(rng_);
  }
  std::string Chars(std::string_view alphabet, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out.push_back(alphabet[Uniform(alphabet.size())]);
    return out;
  }
  std::string Digits(size_t n) { return Chars("0123456789", n); }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Uniform(N)];
  }

 private:
  std::mt19937 rng_;
};

// --- checksums (from the specifications) ---------------------------------------------------------

// The Luhn check digit for `payload` (all digits but the last): from the right, every second
// digit starting with the payload's last is doubled (minus 9 above 9); the check digit makes the
// sum a multiple of 10.
inline char LuhnCheckDigit(std::string_view payload) {
  int sum = 0;
  bool doubled = true;
  for (size_t k = payload.size(); k > 0; --k) {
    int d = payload[k - 1] - '0';
    if (doubled) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    doubled = !doubled;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

// ISO 13616 / ISO 7064 MOD 97-10 check digits for `country` and `bban`: 98 minus the remainder of
// BBAN + country + "00" (letters as 10..35) divided by 97, as two digits.
inline std::string IbanCheckDigits(std::string_view country, std::string_view bban) {
  const std::string rearranged = std::string(bban) + std::string(country) + "00";
  int remainder = 0;
  for (char c : rearranged) {
    if (c >= '0' && c <= '9') {
      remainder = (remainder * 10 + (c - '0')) % 97;
    } else {
      remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
    }
  }
  const int check = 98 - remainder;
  return std::string{static_cast<char>('0' + check / 10), static_cast<char>('0' + check % 10)};
}

// --- generators ----------------------------------------------------------------------------------

// A card network's documented IIN range and one of its card lengths.
struct CardNetwork {
  std::string_view name;
  uint32_t low;
  uint32_t high;
  size_t length;
};

// The networks' published ranges (Visa, Mastercard, American Express, Discover, JCB, Diners Club,
// UnionPay, Maestro) with the lengths their cards are issued in.
constexpr CardNetwork kCardNetworks[] = {
    {"visa", 4, 4, 16},
    {"visa", 4, 4, 13},
    {"visa", 4, 4, 19},
    {"mastercard", 51, 55, 16},
    {"mastercard", 2221, 2720, 16},
    {"amex", 34, 34, 15},
    {"amex", 37, 37, 15},
    {"discover", 6011, 6011, 16},
    {"discover", 644, 649, 16},
    {"discover", 65, 65, 16},
    {"jcb", 3528, 3589, 16},
    {"jcb", 3528, 3589, 19},
    {"diners", 300, 305, 14},
    {"diners", 36, 36, 14},
    {"diners", 38, 38, 16},
    {"unionpay", 62, 62, 16},
    {"unionpay", 62, 62, 19},
    {"maestro", 50, 50, 16},
    {"maestro", 56, 58, 16},
    {"maestro", 67, 67, 19},
};

// A card number of `network` with a random account number and its Luhn digit (digits only).
inline std::string CardNumber(PiiRandom& random, const CardNetwork& network) {
  std::string number = std::to_string(random.Between(network.low, network.high));
  number += random.Digits(network.length - 1 - number.size());
  return number + LuhnCheckDigit(number);
}

// `digits` written in groups of `sizes` joined by `separator`.
inline std::string Grouped(std::string_view digits, std::initializer_list<size_t> sizes,
                           char separator) {
  std::string out;
  size_t at = 0;
  for (size_t size : sizes) {
    if (at > 0) out.push_back(separator);
    out.append(digits.substr(at, size));
    at += size;
  }
  return out;
}

// A card number as people write it: contiguous, or in the usual groups for its length.
inline std::string WrittenCard(PiiRandom& random, const std::string& digits) {
  const char separator = random.Uniform(2) == 0 ? ' ' : '-';
  if (random.Uniform(3) == 0) return digits;
  switch (digits.size()) {
    case 14:
      return Grouped(digits, {4, 6, 4}, separator);
    case 15:
      return Grouped(digits, {4, 6, 5}, separator);
    case 16:
      return Grouped(digits, {4, 4, 4, 4}, separator);
    case 19:
      return Grouped(digits, {4, 4, 4, 4, 3}, separator);
    default:
      return digits;
  }
}

// A country of SWIFT's IBAN registry: its IBAN length and how many of its BBAN's first characters
// are letters (a bank code such as GB's "NWBK").
struct IbanCountry {
  std::string_view code;
  size_t length;
  size_t bban_letters;
};

constexpr IbanCountry kIbanCountries[] = {
    {"DE", 22, 0}, {"GB", 22, 4}, {"FR", 27, 0}, {"ES", 24, 0}, {"IT", 27, 0}, {"NL", 18, 4},
    {"BE", 16, 0}, {"CH", 21, 0}, {"AT", 20, 0}, {"PL", 28, 0}, {"NO", 15, 0}, {"IE", 22, 4},
    {"PT", 25, 0}, {"SE", 24, 0}, {"DK", 18, 0}, {"FI", 18, 0}, {"SA", 24, 0}, {"AE", 23, 0},
    {"TR", 26, 0}, {"BR", 29, 0}, {"MT", 31, 4}, {"LC", 32, 4}, {"RU", 33, 0}, {"UA", 29, 0},
};

// An IBAN of `country` (contiguous) with a random BBAN and its check digits.
inline std::string Iban(PiiRandom& random, const IbanCountry& country) {
  const std::string bban = random.Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ", country.bban_letters) +
                           random.Digits(country.length - 4 - country.bban_letters);
  return std::string(country.code) + IbanCheckDigits(country.code, bban) + bban;
}

// An IBAN as printed: contiguous or in groups of four separated by spaces.
inline std::string WrittenIban(PiiRandom& random, const std::string& iban) {
  if (random.Uniform(2) == 0) return iban;
  std::string out;
  for (size_t at = 0; at < iban.size(); at += 4) {
    if (at > 0) out.push_back(' ');
    out.append(iban.substr(at, 4));
  }
  return out;
}

// A North American NXX code: N in 2-9, not an N11 service code.
inline std::string Nxx(PiiRandom& random) {
  std::string code = std::to_string(random.Between(2, 9)) + random.Digits(2);
  if (code[1] == '1' && code[2] == '1') code[2] = '2';
  return code;
}

// A phone number as people write it: E.164 numbers of several countries in their national
// groupings, North American forms, and tel: URIs (the URI's number is the value).
inline std::string PhoneNumber(PiiRandom& random) {
  const std::string area = Nxx(random);
  const std::string exchange = Nxx(random);
  const std::string line = random.Digits(4);
  const char separator = " -."[random.Uniform(3)];
  const std::string s(1, separator);
  switch (random.Uniform(14)) {
    case 0:
      return "+1 " + area + s + exchange + s + line;
    case 1:
      return "+1 (" + area + ") " + exchange + "-" + line;
    case 2:
      return "+1" + area + exchange + line;  // E.164 as stored
    case 3:
      return "(" + area + ") " + exchange + "-" + line;
    case 4:
      return area + "-" + exchange + "-" + line;
    case 5:
      return area + "." + exchange + "." + line;
    case 6:
      return "1-" + area + "-" + exchange + "-" + line;
    case 7:  // United Kingdom, London and mobile
      return random.Uniform(2) == 0 ? "+44 20 " + random.Digits(4) + " " + random.Digits(4)
                                    : "+44 (0)7" + random.Digits(3) + " " + random.Digits(6);
    case 8:  // Germany
      return "+49 " + std::to_string(random.Between(30, 89)) + s +
             random.Digits(7 + random.Uniform(2));
    case 9:  // France
      return "+33 " + std::to_string(random.Between(1, 9)) + s + random.Digits(2) + s +
             random.Digits(2) + s + random.Digits(2) + s + random.Digits(2);
    case 10:  // Japan
      return "+81-" + std::to_string(random.Between(3, 9)) + "-" + random.Digits(4) + "-" +
             random.Digits(4);
    case 11:  // India
      return "+91 " + std::to_string(random.Between(6, 9)) + random.Digits(4) + " " +
             random.Digits(5);
    case 12:  // Brazil, mobile
      return "+55 " + std::to_string(random.Between(11, 99)) + " 9" + random.Digits(4) + "-" +
             random.Digits(4);
    default:  // Australia
      return "+61 " + std::to_string(random.Between(2, 8)) + " " + random.Digits(4) + " " +
             random.Digits(4);
  }
}

inline std::string EmailAddress(PiiRandom& random) {
  constexpr std::string_view kLower = "abcdefghijklmnopqrstuvwxyz";
  constexpr std::string_view kLowerDigits = "abcdefghijklmnopqrstuvwxyz0123456789";
  constexpr std::string_view kTlds[] = {"com", "org", "net", "io",   "de",     "co.uk",  "fr",
                                        "dev", "app", "ch",  "info", "com.au", "example"};
  const std::string first = random.Chars(kLower, 3 + random.Uniform(6));
  const std::string last = random.Chars(kLower, 3 + random.Uniform(8));
  std::string local;
  switch (random.Uniform(6)) {
    case 0:
      local = first + "." + last;
      break;
    case 1:
      local = first + "_" + last;
      break;
    case 2:
      local = first + "+" + random.Chars(kLowerDigits, 3 + random.Uniform(6));
      break;
    case 3:
      local = first.substr(0, 1) + last + random.Digits(2);
      break;
    case 4:
      local = first + "-" + last;
      break;
    default:
      local =
          std::string(1, static_cast<char>(first[0] - 'a' + 'A')) + first.substr(1) + "." + last;
      break;
  }
  std::string domain;
  if (random.Uniform(3) == 0) domain = random.Chars(kLower, 2 + random.Uniform(5)) + ".";
  domain += random.Chars(kLowerDigits, 1) + random.Chars(kLower, 3 + random.Uniform(8));
  if (random.Uniform(4) == 0) domain += "-" + random.Chars(kLower, 3 + random.Uniform(4));
  return local + "@" + domain + "." + std::string(kTlds[random.Uniform(std::size(kTlds))]);
}

// An IPv4 address that says something about someone: not 0.0.0.0, not loopback.
inline std::string Ipv4Address(PiiRandom& random) {
  uint32_t first = random.Between(1, 223);
  if (first == 127) first = 10;
  return std::to_string(first) + "." + std::to_string(random.Between(0, 255)) + "." +
         std::to_string(random.Between(0, 255)) + "." + std::to_string(random.Between(1, 254));
}

// An IPv6 address in one of RFC 4291's text forms (RFC 5952 spelling: lower case, no leading
// zeros, the longest run of zero groups compressed), link-local ones sometimes with a zone, and
// IPv4-mapped ones.
inline std::string Ipv6Address(PiiRandom& random) {
  const auto hex = [](uint32_t v) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "%x", v);
    return std::string(buffer);
  };
  switch (random.Uniform(4)) {
    case 0:
      return "::ffff:" + Ipv4Address(random);
    case 1: {
      std::string address = "fe80::";
      for (int k = 0; k < 4; ++k) address += (k > 0 ? ":" : "") + hex(random.Between(1, 0xffff));
      if (random.Uniform(2) == 0) address += "%eth" + std::to_string(random.Uniform(4));
      return address;
    }
    default: {
      // A global unicast address (2000::/3); a run of zero groups is compressed half the time.
      uint32_t groups[8];
      for (uint32_t& g : groups) g = random.Between(1, 0xffff);
      groups[0] = random.Between(0x2000, 0x3fff);
      const bool compress = random.Uniform(2) == 0;
      const size_t zero_from = 2 + random.Uniform(4);
      const size_t zero_count = 2 + random.Uniform(2);
      if (compress) {
        for (size_t k = zero_from; k < zero_from + zero_count && k < 8; ++k) groups[k] = 0;
      }
      std::string address;
      for (size_t k = 0; k < 8; ++k) {
        if (compress && k == zero_from) {
          address += "::";
          k = std::min<size_t>(zero_from + zero_count, 8) - 1;
          continue;
        }
        if (!address.empty() && address.back() != ':') address += ":";
        address += hex(groups[k]);
      }
      return address;
    }
  }
}

// Fills "%V" in `context` with `value` and "%K" with `key`.
inline std::string FillPii(std::string_view context, std::string_view key, std::string_view value) {
  std::string out;
  for (size_t i = 0; i < context.size(); ++i) {
    if (context[i] == '%' && i + 1 < context.size() &&
        (context[i + 1] == 'V' || context[i + 1] == 'K')) {
      out += context[i + 1] == 'V' ? value : key;
      ++i;
    } else {
      out.push_back(context[i]);
    }
  }
  return out;
}

// `rounds` rounds of: each rule's value in a random context of the ones logs use.
inline std::vector<PlantedPii> PlantedPiiCases(uint32_t seed, int rounds) {
  PiiRandom random(seed);
  constexpr std::string_view kContexts[] = {
      "{\"%K\": \"%V\", \"level\": \"info\"}",
      "{\"ts\":\"2026-12-06T10:11:12Z\",\"%K\":\"%V\"}",
      "%K=%V status=200 duration_ms=12",
      "level=info msg=\"updated profile\" %K=\"%V\"",
      "INFO 2026-12-06 10:11:12,345 [http-nio-8080-exec-3] sent receipt to %V",
      "Contact <%V> for details.",
      "user changed %K from %V to [unknown]",
      "%V",
      "  %K: %V",
      "<%K>%V</%K>",
      "W1206 10:11:12.345678   42 handler.go:87] rejected %K %V (retry later)",
  };
  struct Generator {
    std::string_view rule;
    std::string_view key;
  };
  constexpr Generator kGenerators[] = {
      {"email", "email"},        {"card-number", "card"}, {"iban", "iban"},
      {"phone-number", "phone"}, {"ipv4", "client_ip"},   {"ipv6", "remote_addr"},
  };
  std::vector<PlantedPii> cases;
  for (int round = 0; round < rounds; ++round) {
    for (const Generator& generator : kGenerators) {
      std::string value;
      if (generator.rule == "email") {
        value = EmailAddress(random);
      } else if (generator.rule == "card-number") {
        const CardNetwork& network = random.Pick(kCardNetworks);
        value = WrittenCard(random, CardNumber(random, network));
      } else if (generator.rule == "iban") {
        value = WrittenIban(random, Iban(random, random.Pick(kIbanCountries)));
      } else if (generator.rule == "phone-number") {
        value = PhoneNumber(random);
      } else if (generator.rule == "ipv4") {
        value = Ipv4Address(random);
        if (random.Uniform(3) == 0) value += ":" + std::to_string(random.Between(1024, 65535));
      } else {
        value = Ipv6Address(random);
      }
      std::string text = FillPii(random.Pick(kContexts), generator.key, value);
      // The port after an address stays: only the address is the value that must go.
      if (generator.rule == "ipv4") value = value.substr(0, value.find(':'));
      cases.push_back({std::move(text), std::move(value), std::string(generator.rule)});
    }
  }
  return cases;
}

}  // namespace ephemera::redact::corpus

#endif  // EPHEMERA_TESTS_REDACT_PLANTED_PII_CORPUS_H_
