#include "debugpod/redact/redactor.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <deque>
#include <string>
#include <utility>

namespace ephemera::redact {
namespace {

// --- Rules ---------------------------------------------------------------------------------------

// In order of precedence: when matches overlap, the merged match is named after the earliest here.
enum class Rule {
  kPemPrivateKey,
  kAgeSecretKey,
  kJwt,
  kAwsAccessKey,
  kGithubToken,
  kGitlabToken,
  kSlackToken,
  kGcpApiKey,
  kExtra,
  kUrlPassword,
  kBearerToken,
  kSecretKeyValue,
  kHighEntropy,
};
constexpr size_t kRuleCount = static_cast<size_t>(Rule::kHighEntropy) + 1;

std::string_view RuleName(Rule rule) {
  switch (rule) {
    case Rule::kPemPrivateKey:
      return "pem-private-key";
    case Rule::kAgeSecretKey:
      return "age-secret-key";
    case Rule::kJwt:
      return "jwt";
    case Rule::kAwsAccessKey:
      return "aws-access-key";
    case Rule::kGithubToken:
      return "github-token";
    case Rule::kGitlabToken:
      return "gitlab-token";
    case Rule::kSlackToken:
      return "slack-token";
    case Rule::kGcpApiKey:
      return "gcp-api-key";
    case Rule::kExtra:
      return "extra";
    case Rule::kUrlPassword:
      return "url-password";
    case Rule::kBearerToken:
      return "bearer-token";
    case Rule::kSecretKeyValue:
      return "secret-key-value";
    case Rule::kHighEntropy:
      return "high-entropy";
  }
  return "unknown";
}

struct Span {
  size_t begin;
  size_t end;
  Rule rule;
};

using Spans = std::vector<Span>;

void AddSpan(Spans& spans, size_t begin, size_t end, Rule rule) {
  if (end > begin) spans.push_back({begin, end, rule});
}

// --- Character classes ---------------------------------------------------------------------------

// One 256-entry table answers every class question with a load and a mask, and lets the scanners
// skip bytes that cannot start a match without branching per class.
enum CharClass : uint32_t {
  kDigit = 1 << 0,
  kUpper = 1 << 1,
  kLower = 1 << 2,
  kSpace = 1 << 3,         // NUL included: it separates the arguments of a raw /proc/<pid>/cmdline
  kQuote = 1 << 4,         // " and '
  kKeyChar = 1 << 5,       // a character of a key in key=value: alnum, '_', '-', '.'
  kBase64Url = 1 << 6,     // alnum, '_', '-'
  kHex = 1 << 7,           // 0-9, a-f, A-F
  kTokenFirst = 1 << 8,    // the first character of a token format: A, a, e, g, x
  kKeyValueStop = 1 << 9,  // '=', ':' or whitespace: where a key=value scan looks back for a key
  kBearerFirst = 1 << 10,  // b, B: "Bearer" and "Basic"
  kEntropyChar = 1 << 11,  // a character of a high-entropy candidate: alnum, '+', '/', '_', '-'
  kCredentialChar = 1 << 12,  // a character of a bearer credential: alnum and ._~+/-=
  kLetter = 1 << 13,          // A-Z, a-z
  kNameSeparator = 1 << 14,   // '-', '_', '/': what joins the parts of a lower-case name
  kNameChar = 1 << 15,        // a-z, 0-9 and the name separators
  kHexOrDash = 1 << 16,       // what hex IDs and UUIDs are made of
};

constexpr std::array<uint32_t, 256> MakeCharClasses() {
  std::array<uint32_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    uint32_t bits = 0;
    const bool digit = c >= '0' && c <= '9';
    const bool upper = c >= 'A' && c <= 'Z';
    const bool lower = c >= 'a' && c <= 'z';
    const bool alnum = digit || upper || lower;
    const bool space =
        c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '\0';
    if (digit) bits |= kDigit;
    if (upper) bits |= kUpper;
    if (lower) bits |= kLower;
    if (space) bits |= kSpace | kKeyValueStop;
    if (c == '"' || c == '\'') bits |= kQuote;
    if (alnum || c == '_' || c == '-' || c == '.') bits |= kKeyChar;
    if (alnum || c == '_' || c == '-') bits |= kBase64Url;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) bits |= kHex;
    if (c == 'A' || c == 'a' || c == 'e' || c == 'g' || c == 'x') bits |= kTokenFirst;
    if (c == '=' || c == ':') bits |= kKeyValueStop;
    if (c == 'b' || c == 'B') bits |= kBearerFirst;
    if (upper || lower) bits |= kLetter;
    if (c == '-' || c == '_' || c == '/') bits |= kNameSeparator | kNameChar;
    if (lower || digit) bits |= kNameChar;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-') bits |= kHexOrDash;
    if (alnum || c == '+' || c == '/' || c == '_' || c == '-') bits |= kEntropyChar;
    if (alnum || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '-' || c == '=') {
      bits |= kCredentialChar;
    }
    table[static_cast<size_t>(c)] = bits;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCharClasses = MakeCharClasses();

bool HasClass(char c, uint32_t classes) {
  return (kCharClasses[static_cast<uint8_t>(c)] & classes) != 0;
}
bool IsDigit(char c) { return HasClass(c, kDigit); }
bool IsUpper(char c) { return HasClass(c, kUpper); }
bool IsLower(char c) { return HasClass(c, kLower); }
bool IsAlpha(char c) { return HasClass(c, kUpper | kLower); }
bool IsAlnum(char c) { return HasClass(c, kDigit | kUpper | kLower); }
bool IsBase64Url(char c) { return HasClass(c, kBase64Url); }
bool IsSpace(char c) { return HasClass(c, kSpace); }
bool IsQuote(char c) { return HasClass(c, kQuote); }
bool IsKeyChar(char c) { return HasClass(c, kKeyChar); }
char Lower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWith(std::string_view text, size_t pos, std::string_view prefix) {
  return text.size() - pos >= prefix.size() && text.compare(pos, prefix.size(), prefix) == 0;
}

bool StartsWithIgnoreCase(std::string_view text, size_t pos, std::string_view lower_prefix) {
  if (text.size() - pos < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    if (Lower(text[pos + i]) != lower_prefix[i]) return false;
  }
  return true;
}

// Position of `needle` in `text` at or after `pos`, or npos. memmem searches in one call where
// string_view::find restarts at every occurrence of the needle's first byte (and '-' is common).
size_t Find(std::string_view text, std::string_view needle, size_t pos) {
  if (pos > text.size()) return std::string_view::npos;
  const void* found = memmem(text.data() + pos, text.size() - pos, needle.data(), needle.size());
  return found == nullptr ? std::string_view::npos
                          : static_cast<size_t>(static_cast<const char*>(found) - text.data());
}

// End of the run of characters satisfying `pred` starting at `pos`.
template <typename Pred>
size_t RunEnd(std::string_view text, size_t pos, Pred pred) {
  while (pos < text.size() && pred(text[pos])) ++pos;
  return pos;
}

// --- UTF-8 ---------------------------------------------------------------------------------------

// Length of the valid UTF-8 sequence at `pos`, or 0 if the byte there does not start one.
size_t Utf8SequenceLength(std::string_view s, size_t pos) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[pos + i]); };
  const size_t left = s.size() - pos;
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  auto cont = [&](size_t i) { return i < left && (b(i) & 0xc0) == 0x80; };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xe0 && b(1) < 0xa0) return 0;  // overlong
    if (c == 0xed && b(1) > 0x9f) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xf0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xf4 && b(1) > 0x8f) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t len = Utf8SequenceLength(text, i);
    if (len == 0) {
      out.append("\xef\xbf\xbd");
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

// Most captured text is ASCII: 8 bytes at a time until a byte with the high bit set.
size_t AsciiPrefixLength(std::string_view text) {
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, sizeof word);
    if ((word & kHighBits) != 0) break;
  }
  while (i < text.size() && static_cast<uint8_t>(text[i]) < 0x80) ++i;
  return i;
}

bool IsValidUtf8(std::string_view text) {
  for (size_t i = AsciiPrefixLength(text); i < text.size();) {
    const size_t len = Utf8SequenceLength(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// --- pem-private-key -----------------------------------------------------------------------------

constexpr size_t kMaxPemLabel = 64;

void DetectPemPrivateKeys(std::string_view text, Spans& spans) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  constexpr std::string_view kEnd = "-----END ";
  size_t pos = 0;
  while ((pos = Find(text, kBegin, pos)) != std::string_view::npos) {
    const size_t label_begin = pos + kBegin.size();
    const size_t label_end =
        text.substr(0, label_begin + kMaxPemLabel + 5).find("-----", label_begin);
    if (label_end == std::string_view::npos) {
      pos = label_begin;
      continue;
    }
    std::string_view label = text.substr(label_begin, label_end - label_begin);
    if (label.find("PRIVATE KEY") == std::string_view::npos) {
      pos = label_end;
      continue;
    }
    const size_t end_line = Find(text, kEnd, label_end + 5);
    if (end_line == std::string_view::npos) {  // unterminated: everything after is key material
      AddSpan(spans, pos, text.size(), Rule::kPemPrivateKey);
      return;
    }
    const size_t end_dashes = text.substr(0, end_line + kEnd.size() + kMaxPemLabel + 5)
                                  .find("-----", end_line + kEnd.size());
    const size_t end =
        end_dashes == std::string_view::npos ? end_line + kEnd.size() : end_dashes + 5;
    AddSpan(spans, pos, end, Rule::kPemPrivateKey);
    pos = end;
  }
}

// --- Token formats (fixed prefixes) --------------------------------------------------------------

// Tries every token format that can start at `i`; returns the end of a match or 0.
size_t MatchTokenAt(std::string_view text, size_t i, Rule* rule) {
  const char prev = i > 0 ? text[i - 1] : ' ';
  const char c = text[i];
  if (c == 'A') {
    // aws-access-key: AKIA/ASIA + exactly 16 [A-Z0-9].
    if (!IsAlnum(prev) && (StartsWith(text, i, "AKIA") || StartsWith(text, i, "ASIA"))) {
      const size_t end = RunEnd(text, i + 4, [](char x) { return IsUpper(x) || IsDigit(x); });
      if (end - i == 20 && (end == text.size() || !IsAlnum(text[end]))) {
        *rule = Rule::kAwsAccessKey;
        return end;
      }
    }
    // gcp-api-key: AIza + exactly 35 [A-Za-z0-9_-].
    if (!IsBase64Url(prev) && StartsWith(text, i, "AIza")) {
      const size_t end = RunEnd(text, i + 4, IsBase64Url);
      if (end - i == 39) {
        *rule = Rule::kGcpApiKey;
        return end;
      }
    }
  }
  if ((c == 'A' || c == 'a') && !IsAlnum(prev) && prev != '-' &&
      StartsWithIgnoreCase(text, i, "age-secret-key-")) {
    size_t j = i + 15;
    if (StartsWithIgnoreCase(text, j, "pq-")) j += 3;
    if (j < text.size() && text[j] == '1') {
      const size_t end = RunEnd(text, j + 1, IsAlnum);
      if (end - j > 20) {
        *rule = Rule::kAgeSecretKey;
        return end;
      }
    }
  }
  if (c == 'g') {
    // github-token: classic prefixes + alphanumerics; fine-grained github_pat_ + [A-Za-z0-9_].
    const bool boundary = !IsAlnum(prev) && prev != '_';
    if (boundary && text.size() - i > 4 && text[i + 1] == 'h' && text[i + 3] == '_' &&
        std::string_view("pousr").find(text[i + 2]) != std::string_view::npos) {
      const size_t end = RunEnd(text, i + 4, IsAlnum);
      if (end - i >= 24) {
        *rule = Rule::kGithubToken;
        return end;
      }
    }
    if (boundary && StartsWith(text, i, "github_pat_")) {
      const size_t end = RunEnd(text, i + 11, [](char x) { return IsAlnum(x) || x == '_'; });
      if (end - i >= 31) {
        *rule = Rule::kGithubToken;
        return end;
      }
    }
    // gitlab-token: glpat- + [A-Za-z0-9_.-], a trailing '.' being punctuation.
    const auto gitlab_char = [](char x) { return IsBase64Url(x) || x == '.'; };
    if (!gitlab_char(prev) && StartsWith(text, i, "glpat-")) {
      size_t end = RunEnd(text, i + 6, gitlab_char);
      while (end > i + 6 && text[end - 1] == '.') --end;
      if (end - i >= 26) {
        *rule = Rule::kGitlabToken;
        return end;
      }
    }
  }
  // slack-token: xox[abprs]- + [A-Za-z0-9-].
  if (c == 'x' && StartsWith(text, i, "xox") && text.size() - i > 4 &&
      std::string_view("abprs").find(text[i + 3]) != std::string_view::npos && text[i + 4] == '-') {
    const auto slack_char = [](char x) { return IsAlnum(x) || x == '-'; };
    if (!slack_char(prev)) {
      const size_t end = RunEnd(text, i + 5, slack_char);
      if (end - i >= 15) {
        *rule = Rule::kSlackToken;
        return end;
      }
    }
  }
  // jwt: eyJ… '.' … '.' … (a JWS), optionally two more segments (a JWE).
  if (c == 'e' && !IsBase64Url(prev) && StartsWith(text, i, "eyJ")) {
    const size_t seg1 = RunEnd(text, i, IsBase64Url);
    if (seg1 - i >= 10 && seg1 < text.size() && text[seg1] == '.') {
      const size_t seg2 = RunEnd(text, seg1 + 1, IsBase64Url);
      if (seg2 - seg1 - 1 >= 2 && seg2 < text.size() && text[seg2] == '.') {
        size_t end = RunEnd(text, seg2 + 1, IsBase64Url);
        for (int extra = 0; extra < 2 && end > seg2 + 1 && end < text.size() && text[end] == '.' &&
                            end + 1 < text.size() && IsBase64Url(text[end + 1]);
             ++extra) {
          end = RunEnd(text, end + 1, IsBase64Url);
        }
        *rule = Rule::kJwt;
        return end;
      }
    }
  }
  return 0;
}

// --- url-password --------------------------------------------------------------------------------

void DetectUrlPasswords(std::string_view text, Spans& spans) {
  size_t pos = 0;
  while ((pos = Find(text, "://", pos)) != std::string_view::npos) {
    const size_t separator = pos;
    size_t scheme = separator;
    while (scheme > 0 && (IsAlnum(text[scheme - 1]) || text[scheme - 1] == '+' ||
                          text[scheme - 1] == '.' || text[scheme - 1] == '-')) {
      --scheme;
    }
    const size_t authority = separator + 3;
    // The userinfo ends at the last '@' before the URL ends, so that a password with an unescaped
    // '/', '@' or '#' still lies entirely before it (over-redacting the odd path is acceptable).
    const size_t url_end = RunEnd(
        text, authority, [](char x) { return !IsSpace(x) && !IsQuote(x) && x != '<' && x != '>'; });
    pos = std::max(url_end, authority);
    if (scheme == separator || !IsAlpha(text[scheme])) continue;
    std::string_view url = text.substr(authority, url_end - authority);
    const size_t at = url.rfind('@');
    if (at == std::string_view::npos) continue;
    const size_t colon = url.substr(0, at).find(':');
    if (colon == std::string_view::npos) continue;
    AddSpan(spans, authority + colon + 1, authority + at, Rule::kUrlPassword);
  }
}

// --- secret-key-value and Authorization headers --------------------------------------------------

constexpr size_t kMaxKeyScan = 128;

struct SecretKeyword {
  std::string_view word;
  bool
      plural;  // "passwords" is as secret as "password"; "tokens" and "sessions" are usually counts
};

// Keywords that make a key secret when they form a component of it (see IsSecretKey).
constexpr std::array<SecretKeyword, 15> kSecretKeywords = {{
    {"password", true},
    {"passwd", false},
    {"secret", true},
    {"token", false},
    {"apikey", true},
    {"api_key", true},
    {"api-key", true},
    {"access_key", true},
    {"accesskey", true},
    {"private_key", true},
    {"privatekey", true},
    {"credential", true},
    {"auth", false},
    {"session", false},
    {"cookie", true},
}};
// What may follow a keyword inside the same component: "sessionid", "secretkey", "passwords".
constexpr std::array<std::string_view, 6> kKeywordSuffixes = {"", "s", "id", "ids", "key", "keys"};

// True if `key` contains a keyword that ends a component: followed by the end, a non-letter, or a
// camelCase step ("authToken"). Any prefix is allowed ("DB_PASSWORD", "dbpassword", "jsessionid");
// "tokenizer", "author", "secretary" and "tokens_per_second" do not count.
// For each byte, the keywords (bit i = kSecretKeywords[i]) whose letter at `index` it is, either
// case. A keyword can start at key[j] only if key[j] and key[j + 1] both fit.
constexpr std::array<uint16_t, 256> MakeKeywordsByByteAt(size_t index) {
  std::array<uint16_t, 256> table{};
  for (size_t i = 0; i < kSecretKeywords.size(); ++i) {
    const char c = kSecretKeywords[i].word[index];
    table[static_cast<uint8_t>(c)] |= static_cast<uint16_t>(1U << i);
    if (c >= 'a' && c <= 'z') {
      table[static_cast<uint8_t>(c - 'a' + 'A')] |= static_cast<uint16_t>(1U << i);
    }
  }
  return table;
}

static_assert(kSecretKeywords.size() <= 16, "keyword sets are 16-bit masks");
constexpr std::array<uint16_t, 256> kKeywordsByFirstByte = MakeKeywordsByByteAt(0);
constexpr std::array<uint16_t, 256> kKeywordsBySecondByte = MakeKeywordsByByteAt(1);
constexpr size_t kShortestKeyword = 4;  // "auth"
static_assert(std::all_of(kSecretKeywords.begin(), kSecretKeywords.end(),
                          [](const SecretKeyword& k) {
                            return k.word.size() >= kShortestKeyword;
                          }));

bool IsSecretKey(std::string_view key) {
  for (size_t j = 0; j + kShortestKeyword <= key.size(); ++j) {
    for (uint16_t candidates = kKeywordsByFirstByte[static_cast<uint8_t>(key[j])] &
                               kKeywordsBySecondByte[static_cast<uint8_t>(key[j + 1])];
         candidates != 0; candidates &= static_cast<uint16_t>(candidates - 1)) {
      const SecretKeyword& keyword = kSecretKeywords[std::countr_zero(candidates)];
      if (!StartsWithIgnoreCase(key, j, keyword.word)) continue;
      for (std::string_view suffix : kKeywordSuffixes) {
        if (suffix == "s" && !keyword.plural) continue;
        const size_t end = j + keyword.word.size() + suffix.size();
        if (!suffix.empty() && !StartsWithIgnoreCase(key, j + keyword.word.size(), suffix)) {
          continue;
        }
        if (end == key.size() || !IsAlpha(key[end]) ||
            (IsUpper(key[end]) && IsLower(key[end - 1]))) {
          return true;
        }
      }
    }
  }
  return false;
}

bool EndsWithIgnoreCase(std::string_view s, std::string_view lower_suffix) {
  return s.size() >= lower_suffix.size() &&
         StartsWithIgnoreCase(s, s.size() - lower_suffix.size(), lower_suffix);
}

bool IsCookieKey(std::string_view key) {
  return EndsWithIgnoreCase(key, "cookie") || EndsWithIgnoreCase(key, "cookies");
}

// The end of a value starting at `begin`: a quoted value ends at its closing quote (or the end of
// the line when unclosed); a bare value at whitespace, a quote or '&' (query strings). Returns the
// redaction range through `value_begin`/`value_end`.
void ValueRange(std::string_view text, size_t begin, size_t* value_begin, size_t* value_end) {
  if (begin < text.size() && IsQuote(text[begin])) {
    const char quote = text[begin];
    const size_t end = RunEnd(text, begin + 1, [quote](char x) { return x != quote && x != '\n'; });
    *value_begin = begin + 1;
    *value_end = end;
    return;
  }
  *value_begin = begin;
  *value_end = RunEnd(text, begin, [](char x) { return !IsSpace(x) && !IsQuote(x) && x != '&'; });
}

size_t SkipBlanks(std::string_view text, size_t pos) {
  return RunEnd(text, pos, [](char x) { return x == ' ' || x == '\t'; });
}

// Authorization header values: "<scheme> <credential>". Returns the end of what was redacted.
size_t RedactAuthorizationValue(std::string_view text, size_t begin, Spans& spans) {
  const size_t scheme_end = RunEnd(text, begin, IsAlpha);
  const size_t cred = SkipBlanks(text, scheme_end);
  std::string_view scheme = text.substr(begin, scheme_end - begin);
  const bool known_scheme =
      scheme.size() >= 4 &&
      (EndsWithIgnoreCase(scheme, "bearer") || EndsWithIgnoreCase(scheme, "basic") ||
       EndsWithIgnoreCase(scheme, "token") || EndsWithIgnoreCase(scheme, "digest") ||
       EndsWithIgnoreCase(scheme, "negotiate"));
  size_t value_begin;
  size_t value_end;
  if (known_scheme && cred > scheme_end && cred < text.size()) {
    if (EndsWithIgnoreCase(scheme, "digest")) {
      // Digest parameters (username=…, response=…) run to the end of the line.
      value_begin = cred;
      value_end = RunEnd(text, cred, [](char x) { return x != '\n' && x != '\r'; });
    } else {
      ValueRange(text, cred, &value_begin, &value_end);
    }
    AddSpan(spans, value_begin, value_end, Rule::kBearerToken);
    return value_end;
  }
  ValueRange(text, begin, &value_begin, &value_end);
  AddSpan(spans, value_begin, value_end, Rule::kSecretKeyValue);
  return value_end;
}

// Looks for a secret key=value or "--flag value" ending at the separator or blank at `i`; `floor`
// is the end of the last value redacted (keys never extend into it). Returns the first position
// worth looking at next.
size_t ScanKeyValueAt(std::string_view text, size_t i, size_t& floor, Spans& spans) {
  const char c = text[i];
  if (c == '=' || c == ':') {
    size_t key_end = i;
    // "key = value" with a few blanks around the separator, as in INI and shell configs.
    for (int blanks = 0;
         blanks < 8 && key_end > floor && (text[key_end - 1] == ' ' || text[key_end - 1] == '\t');
         ++blanks) {
      --key_end;
    }
    const bool quoted = key_end > floor && IsQuote(text[key_end - 1]);
    if (quoted) --key_end;
    size_t key_begin = key_end;
    while (key_begin > floor && key_end - key_begin < kMaxKeyScan &&
           IsKeyChar(text[key_begin - 1])) {
      --key_begin;
    }
    if (key_begin == key_end) return i + 1;
    if (c == ':' && StartsWith(text, i + 1, "//")) return i + 1;  // a URL scheme
    std::string_view key = text.substr(key_begin, key_end - key_begin);
    // "password_policy.go:42" is a file and line, not a key; dotted keys need '=' or quotes.
    if (c == ':' && !quoted && key.find('.') != std::string_view::npos) return i + 1;
    const bool authorization = EndsWithIgnoreCase(key, "authorization");
    if (!authorization && !IsSecretKey(key)) return i + 1;
    size_t begin = SkipBlanks(text, i + 1);
    if (begin < text.size() && IsQuote(text[begin]) && authorization) ++begin;
    size_t end;
    if (authorization) {
      end = RedactAuthorizationValue(text, begin, spans);
    } else if (IsCookieKey(key) && c == ':') {
      // A Cookie header carries many name=value pairs: all of them, to the end of the line.
      end = RunEnd(text, begin, [](char x) { return x != '\n' && x != '\r'; });
      AddSpan(spans, begin, end, Rule::kSecretKeyValue);
    } else {
      size_t value_begin;
      ValueRange(text, begin, &value_begin, &end);
      AddSpan(spans, value_begin, end, Rule::kSecretKeyValue);
    }
    floor = std::max(floor, end);
    return std::max(i + 1, end);
  }
  if (i <= floor || !IsKeyChar(text[i - 1])) return i + 1;
  // "--key value": a flag naming a secret, then a value that is not itself a flag.
  size_t key_begin = i;
  while (key_begin > floor && i - key_begin < kMaxKeyScan && IsKeyChar(text[key_begin - 1])) {
    --key_begin;
  }
  if (text[key_begin] != '-') return i + 1;
  if (key_begin > 0 && !IsSpace(text[key_begin - 1]) && !IsQuote(text[key_begin - 1])) {
    return i + 1;
  }
  std::string_view flag = text.substr(key_begin, i - key_begin);
  const size_t dashes = flag.size() > 1 && flag[1] == '-' ? 2 : 1;
  std::string_view name = flag.substr(dashes);
  if (name.empty() || !IsAlpha(name[0]) || !IsSecretKey(name)) return i + 1;
  if (c != ' ' && c != '\t' && c != '\0') return i + 1;  // the value must be on the same line
  const size_t begin = SkipBlanks(text, i + 1);
  if (begin >= text.size() || text[begin] == '-' || IsSpace(text[begin])) return i + 1;
  size_t value_begin;
  size_t end;
  ValueRange(text, begin, &value_begin, &end);
  AddSpan(spans, value_begin, end, Rule::kSecretKeyValue);
  floor = std::max(floor, end);
  return std::max(i + 1, end);
}

// --- bearer-token outside an Authorization header ------------------------------------------------

// True if `token` looks like a credential rather than a word: long enough, and letters mixed with
// digits or symbols.
bool LooksLikeCredential(std::string_view token, size_t min_length) {
  if (token.size() < min_length) return false;
  bool letter = false;
  bool other = false;
  for (char c : token) {
    if (IsAlpha(c)) {
      letter = true;
    } else {
      other = true;
    }
  }
  return letter && other;
}

// Looks for "Bearer <credential>" or "Basic <credential>" at `i`, the start of a word beginning
// with 'b' or 'B'. Returns the first position worth looking at next.
size_t ScanBearerAt(std::string_view text, size_t i, Spans& spans) {
  size_t min_length;
  size_t word_end;
  if (StartsWithIgnoreCase(text, i, "bearer")) {
    word_end = i + 6;
    min_length = 16;
  } else if (StartsWithIgnoreCase(text, i, "basic")) {
    word_end = i + 5;
    min_length = 12;
  } else {
    return i + 1;
  }
  const size_t begin = SkipBlanks(text, word_end);
  if (begin == word_end) return i + 1;
  const size_t end = RunEnd(text, begin, [](char x) { return HasClass(x, kCredentialChar); });
  if (LooksLikeCredential(text.substr(begin, end - begin), min_length)) {
    AddSpan(spans, begin, end, Rule::kBearerToken);
  }
  return std::max(i + 1, end);
}

// --- One pass over trigger bytes -----------------------------------------------------------------

// What the trigger pass saw that other detectors need: they search for a fixed string, which is
// cheaper to rule out in the pass than with a search of its own over every field.
struct TriggerSightings {
  bool scheme_separator = false;  // "://" (url-password)
  bool pem_begin = false;         // "-----BEGIN " (pem-private-key)
};

// Token formats, bearer credentials and key=value pairs all start at a few kinds of byte: a
// letter starting a word, a separator ('=', ':') or a blank. One pass over the text looks up
// each byte's class once and hands trigger positions to the three scanners. Each scanner keeps
// its own resume position, so a match of one never hides a match of another.
TriggerSightings DetectAtTriggers(std::string_view text, Spans& spans) {
  constexpr uint32_t kTrigger = kTokenFirst | kBearerFirst | kKeyValueStop;
  constexpr uint32_t kAlnum = kDigit | kLetter;
  TriggerSightings seen;
  size_t token_next = 0;
  size_t bearer_next = 0;
  size_t key_value_next = 0;
  size_t floor = 0;
  uint32_t previous = 0;  // class of text[i - 1]; the start of the text counts as a blank
  for (size_t i = 0; i < text.size(); ++i) {
    const uint32_t cls = kCharClasses[static_cast<uint8_t>(text[i])];
    const uint32_t before = previous;
    previous = cls;
    if ((cls & kTrigger) == 0) continue;
    if ((cls & kKeyValueStop) != 0) {
      if (text[i] == ':' && StartsWith(text, i + 1, "//")) seen.scheme_separator = true;
      if (i >= key_value_next) key_value_next = ScanKeyValueAt(text, i, floor, spans);
      continue;
    }
    if ((before & kAlnum) != 0) continue;  // not the start of a word
    if ((cls & kTokenFirst) != 0) {
      if (i < token_next) continue;
      Rule rule;
      const size_t end = MatchTokenAt(text, i, &rule);
      if (end > i) {
        AddSpan(spans, i, end, rule);
        token_next = end;
      }
      continue;
    }
    // 'B' of "-----BEGIN " starts a word too.
    if (text[i] == 'B' && i >= 5 && StartsWith(text, i - 5, "-----BEGIN ")) seen.pem_begin = true;
    if (i >= bearer_next) bearer_next = ScanBearerAt(text, i, spans);
  }
  return seen;
}

// --- high-entropy --------------------------------------------------------------------------------

// Thresholds, measured on 5000 random strings per alphabet (base64, base36) and length:
//  - Shannon entropy >= 3.5 bits/char: a uniformly random 24-char string over 36+ symbols is above
//    it in more than 99% of draws (its empirical entropy is bounded by log2(24) = 4.58).
//  - >= 2 letter/digit boundaries: random base64 of 24 chars has them in 97% of draws (99% at 32),
//    while identifiers like "ThisIsAVeryLongIdentifier2024" (1 boundary) and camelCase names
//    without digits do not; natural names have entropy 3.6-4.3, so entropy alone cannot tell.
// Together: recall >= 96.6% on 24-char base64 secrets, >= 99% from 32 chars.
constexpr size_t kMinEntropyTokenLength = 24;
constexpr double kMinEntropyBitsPerChar = 3.5;
constexpr int kMinLetterDigitBoundaries = 2;

// What one pass over a token tells: the classes all of its characters share, the classes any of
// them has, and how often letters and digits alternate.
struct TokenShape {
  uint32_t all = ~uint32_t{0};
  uint32_t any = 0;
  int boundaries = 0;
};

TokenShape ShapeOf(std::string_view token) {
  TokenShape shape;
  uint32_t previous = 0;
  for (char c : token) {
    const uint32_t cls = kCharClasses[static_cast<uint8_t>(c)];
    shape.all &= cls;
    shape.any |= cls;
    const uint32_t kind = cls & (kDigit | kLetter);
    shape.boundaries += static_cast<int>((kind ^ previous) == (kDigit | kLetter));
    previous = kind;
  }
  return shape;
}

// `token` has no trailing '=' and is at least kMinEntropyTokenLength long; `shape` is its shape.
bool IsHighEntropy(std::string_view token, const TokenShape& shape) {
  // The cheap tests first: most long tokens are hex IDs or names, rejected before counting.
  if ((shape.all & kHexOrDash) != 0 || (shape.any & kLetter) == 0 || (shape.any & kDigit) == 0 ||
      shape.boundaries < kMinLetterDigitBoundaries) {
    return false;
  }
  std::array<uint32_t, 256> counts{};
  for (char c : token) ++counts[static_cast<uint8_t>(c)];
  double entropy = 0;
  const double n = static_cast<double>(token.size());
  for (uint32_t count : counts) {
    if (count == 0) continue;
    const double p = count / n;
    entropy -= p * std::log2(p);
  }
  return entropy >= kMinEntropyBitsPerChar;
}

// Calls `segment(begin, end)` for each non-empty run of `token` between bytes `is_separator` picks.
template <typename IsSeparator, typename Segment>
void ForEachSegment(std::string_view token, IsSeparator is_separator, Segment segment) {
  size_t start = 0;
  for (size_t i = 0; i <= token.size(); ++i) {
    if (i == token.size() || is_separator(token[i])) {
      if (i > start) segment(start, i);
      start = i + 1;
    }
  }
}

// Checks `token` (at `offset` in the text) or, for paths and lower-case names (a-z, 0-9 and at
// least one '-', '_' or '/'), each segment.
void CheckEntropyToken(std::string_view token, size_t offset, Spans& spans, int depth) {
  // Neither the token nor any of its segments can be long enough.
  if (token.size() < kMinEntropyTokenLength) return;
  const auto check_segments = [&](auto is_separator) {
    ForEachSegment(token, is_separator, [&](size_t begin, size_t end) {
      CheckEntropyToken(token.substr(begin, end - begin), offset + begin, spans, depth + 1);
    });
  };
  if (depth < 2 && token[0] == '/') {
    check_segments([](char x) { return x == '/'; });
    return;
  }
  std::string_view unpadded = token;
  while (!unpadded.empty() && unpadded.back() == '=') unpadded.remove_suffix(1);
  const TokenShape shape = ShapeOf(unpadded);
  const bool lower_name = unpadded.size() == token.size() && (shape.all & kNameChar) != 0 &&
                          (shape.any & kNameSeparator) != 0;
  if (depth < 2 && lower_name) {
    check_segments([](char x) { return HasClass(x, kNameSeparator); });
  } else if (unpadded.size() >= kMinEntropyTokenLength && IsHighEntropy(unpadded, shape)) {
    AddSpan(spans, offset, offset + token.size(), Rule::kHighEntropy);
  }
}

void DetectHighEntropy(std::string_view text, Spans& spans) {
  const auto token_char = [](char x) { return HasClass(x, kEntropyChar); };
  for (size_t i = 0; i < text.size();) {
    if (!token_char(text[i])) {
      ++i;
      continue;
    }
    const size_t run_end = RunEnd(text, i, token_char);
    size_t end = RunEnd(text, run_end, [](char x) { return x == '='; });
    // '=' inside a token separates key=value; only trailing padding belongs to a base64 token.
    if (end < text.size() && token_char(text[end])) end = run_end;
    if (end - i >= kMinEntropyTokenLength) CheckEntropyToken(text.substr(i, end - i), i, spans, 0);
    i = end;
  }
}

// --- env allowlist -------------------------------------------------------------------------------

constexpr std::array<std::string_view, 14> kSafeEnvNames = {
    "PATH", "HOME",   "LANG",  "LANGUAGE", "TZ",      "HOSTNAME", "TERM",
    "PWD",  "OLDPWD", "SHLVL", "USER",     "LOGNAME", "SHELL",    "KUBERNETES_PORT",
};
constexpr std::array<std::string_view, 3> kSafeEnvPrefixes = {"LC_", "KUBERNETES_SERVICE_",
                                                              "KUBERNETES_PORT_"};

bool MatchesEnvEntry(std::string_view entry, std::string_view name) {
  if (!entry.empty() && entry.back() == '*') {
    entry.remove_suffix(1);
    return name.substr(0, entry.size()) == entry;
  }
  return entry == name;
}

Status ValidateEnvNames(const std::vector<std::string>& names, std::string_view field) {
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    const std::string where = std::string(field) + "[" + std::to_string(i) + "]";
    if (name.empty() || name == "*") return InvalidArgumentError(where + ": empty env name");
    if (name.size() > kMaxEnvNameBytes) return InvalidArgumentError(where + ": env name too long");
    if (name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
      return InvalidArgumentError(where + ": env name contains '=' or NUL");
    }
  }
  return OkStatus();
}

}  // namespace

// --- RedactionReport -----------------------------------------------------------------------------

void RedactionReport::Merge(const RedactionReport& other) {
  env_redacted += other.env_redacted;
  for (const auto& [rule, count] : other.patterns_matched) patterns_matched[rule] += count;
  dropped_fields.insert(dropped_fields.end(), other.dropped_fields.begin(),
                        other.dropped_fields.end());
}

// --- Redactor ------------------------------------------------------------------------------------

Redactor::Redactor(RedactionPolicy policy)
    : policy_(std::move(policy)), extra_(BuildExtraMatcher(policy_.extra_patterns)) {}

StatusOr<Redactor> Redactor::Create(RedactionPolicy policy) {
  if (policy.extra_patterns.size() > kMaxExtraPatterns) {
    return InvalidArgumentError("extra_patterns: at most " + std::to_string(kMaxExtraPatterns) +
                                " patterns");
  }
  for (size_t i = 0; i < policy.extra_patterns.size(); ++i) {
    const std::string& p = policy.extra_patterns[i];
    const std::string where = "extra_patterns[" + std::to_string(i) + "]";
    if (p.empty()) return InvalidArgumentError(where + ": empty pattern");
    if (p.size() < kMinExtraPatternBytes) {
      return InvalidArgumentError(where + ": too short (at least " +
                                  std::to_string(kMinExtraPatternBytes) + " characters)");
    }
    if (p.size() > kMaxExtraPatternBytes) {
      return InvalidArgumentError(where + ": too long (at most " +
                                  std::to_string(kMaxExtraPatternBytes) + " characters)");
    }
    for (char c : p) {
      if (c < 0x21 || c > 0x7e) {
        return InvalidArgumentError(where + ": only printable ASCII without spaces is allowed");
      }
    }
  }
  EPHEMERA_RETURN_IF_ERROR(ValidateEnvNames(policy.allow_env, "allow_env"));
  EPHEMERA_RETURN_IF_ERROR(ValidateEnvNames(policy.secret_env, "secret_env"));
  return Redactor(std::move(policy));
}

Redactor::ExtraMatcher Redactor::BuildExtraMatcher(const std::vector<std::string>& patterns) {
  ExtraMatcher m;
  m.byte_class.assign(256, 0);
  for (const std::string& p : patterns) {
    for (char c : p) {
      uint8_t& cls = m.byte_class[static_cast<uint8_t>(c)];
      if (cls == 0) cls = static_cast<uint8_t>(m.classes++);
    }
  }
  // Trie with -1 for missing edges.
  std::vector<int32_t> trie(m.classes, -1);
  std::vector<int32_t> own_length(1, 0);
  for (const std::string& p : patterns) {
    int32_t state = 0;
    for (char c : p) {
      const size_t cls = m.byte_class[static_cast<uint8_t>(c)];
      int32_t& edge = trie[state * m.classes + cls];
      if (edge < 0) {
        edge = static_cast<int32_t>(own_length.size());
        own_length.push_back(0);
        trie.resize(trie.size() + m.classes, -1);
      }
      state = trie[state * m.classes + cls];
    }
    own_length[state] = static_cast<int32_t>(p.size());
  }
  // Breadth-first: fail links, the complete transition table, and dictionary links.
  const size_t states = own_length.size();
  m.next.assign(states * m.classes, 0);
  m.own_length = own_length;
  m.dict_link.assign(states, -1);
  std::vector<int32_t> fail(states, 0);
  std::deque<int32_t> queue;
  for (size_t cls = 0; cls < m.classes; ++cls) {
    const int32_t child = trie[cls];
    if (child > 0) {
      m.next[cls] = child;
      queue.push_back(child);
    }
  }
  while (!queue.empty()) {
    const int32_t state = queue.front();
    queue.pop_front();
    const int32_t f = fail[state];
    m.dict_link[state] = own_length[f] > 0 ? f : m.dict_link[f];
    for (size_t cls = 0; cls < m.classes; ++cls) {
      const int32_t child = trie[state * m.classes + cls];
      if (child > 0) {
        fail[child] = m.next[f * m.classes + cls];
        m.next[state * m.classes + cls] = child;
        queue.push_back(child);
      } else {
        m.next[state * m.classes + cls] = m.next[f * m.classes + cls];
      }
    }
  }
  return m;
}

bool Redactor::IsEnvShown(std::string_view name) const {
  for (const std::string& secret : policy_.secret_env) {
    if (secret == name) return false;
  }
  for (std::string_view safe : kSafeEnvNames) {
    if (safe == name) return true;
  }
  for (std::string_view prefix : kSafeEnvPrefixes) {
    if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix) return true;
  }
  for (const std::string& allowed : policy_.allow_env) {
    if (MatchesEnvEntry(allowed, name)) return true;
  }
  return false;
}

StatusOr<std::string> Redactor::RedactText(std::string_view input, RedactionReport& report) const {
  if (input.size() > kMaxTextBytes) {
    return ResourceExhaustedError("text of " + std::to_string(input.size()) +
                                  " bytes is larger than the redaction limit of " +
                                  std::to_string(kMaxTextBytes));
  }
  std::string sanitized;
  std::string_view text = input;
  if (!IsValidUtf8(input)) {
    sanitized = SanitizeUtf8(input);
    text = sanitized;
  }

  Spans spans;
  const TriggerSightings seen = DetectAtTriggers(text, spans);
  if (seen.pem_begin) DetectPemPrivateKeys(text, spans);
  if (seen.scheme_separator) DetectUrlPasswords(text, spans);
  DetectHighEntropy(text, spans);
  if (extra_.next.size() > extra_.classes) {  // at least one pattern
    size_t covered = 0;
    int32_t state = 0;
    const auto token_char = [](char x) {
      return IsAlnum(x) || x == '_' || x == '-' || x == '+' || x == '/' || x == '=' || x == '.';
    };
    for (size_t i = 0; i < text.size(); ++i) {
      state =
          extra_.next[state * extra_.classes + extra_.byte_class[static_cast<uint8_t>(text[i])]];
      for (int32_t s = extra_.own_length[state] > 0 ? state : extra_.dict_link[state]; s > 0;
           s = extra_.dict_link[s]) {
        const size_t begin = i + 1 - static_cast<size_t>(extra_.own_length[s]);
        if (begin < covered || (begin > 0 && IsAlnum(text[begin - 1]))) continue;
        size_t end = RunEnd(text, i + 1, token_char);
        while (end > i + 1 && text[end - 1] == '.') --end;
        if (end == i + 1) continue;  // the bare prefix is not a secret
        AddSpan(spans, begin, end, Rule::kExtra);
        covered = end;
        break;
      }
    }
  }

  // Merge overlapping matches; each merged match counts once, under its most specific rule.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.rule < b.rule;
  });
  std::array<int, kRuleCount> counts{};
  std::string out;
  out.reserve(text.size());
  size_t copied = 0;
  for (size_t i = 0; i < spans.size();) {
    Span merged = spans[i];
    size_t j = i + 1;
    for (; j < spans.size() && spans[j].begin < merged.end; ++j) {
      merged.end = std::max(merged.end, spans[j].end);
      merged.rule = std::min(merged.rule, spans[j].rule);
    }
    out.append(text.substr(copied, merged.begin - copied));
    out.append("[REDACTED:");
    out.append(RuleName(merged.rule));
    out.push_back(']');
    ++counts[static_cast<size_t>(merged.rule)];
    copied = merged.end;
    i = j;
  }
  out.append(text.substr(copied));
  for (size_t rule = 0; rule < kRuleCount && !spans.empty(); ++rule) {
    if (counts[rule] > 0) {
      report.patterns_matched[std::string(RuleName(static_cast<Rule>(rule)))] += counts[rule];
    }
  }
  return out;
}

StatusOr<std::string> Redactor::RedactEnv(std::string_view name, std::string_view value,
                                          RedactionReport& report) const {
  if (!IsEnvShown(name)) {
    ++report.env_redacted;
    return std::string("[REDACTED]");
  }
  return RedactText(value, report);
}

}  // namespace ephemera::redact
