#include "redact/redactor.h"

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
// Every row of the token table (kTokenRules below) has the precedence of kTokenFormat and its own
// name.
enum class Rule : uint8_t {
  kPemPrivateKey,
  kAgeSecretKey,
  kJwt,
  kTokenFormat,
  kExtra,
  kSecretValue,
  kUrlPassword,
  kBearerToken,
  kSecretKeyValue,
  kEmail,
  kCardNumber,
  kIban,
  kPhoneNumber,
  kIpv4,
  kIpv6,
  kHighEntropy,
};

std::string_view RuleName(Rule rule) {
  switch (rule) {
    case Rule::kPemPrivateKey:
      return "pem-private-key";
    case Rule::kAgeSecretKey:
      return "age-secret-key";
    case Rule::kJwt:
      return "jwt";
    case Rule::kTokenFormat:
      return "token";
    case Rule::kExtra:
      return "extra";
    case Rule::kSecretValue:
      return "secret-value";
    case Rule::kUrlPassword:
      return "url-password";
    case Rule::kBearerToken:
      return "bearer-token";
    case Rule::kSecretKeyValue:
      return "secret-key-value";
    case Rule::kEmail:
      return "email";
    case Rule::kCardNumber:
      return "card-number";
    case Rule::kIban:
      return "iban";
    case Rule::kPhoneNumber:
      return "phone-number";
    case Rule::kIpv4:
      return "ipv4";
    case Rule::kIpv6:
      return "ipv6";
    case Rule::kHighEntropy:
      return "high-entropy";
  }
  return "unknown";
}

struct Span {
  size_t begin;
  size_t end;
  Rule rule;
  std::string_view name;  // the rule's name in the snapshot (static storage)
};

using Spans = std::vector<Span>;

void AddSpan(Spans& spans, size_t begin, size_t end, Rule rule) {
  if (end > begin) spans.push_back({begin, end, rule, RuleName(rule)});
}

void AddNamedSpan(Spans& spans, size_t begin, size_t end, Rule rule, std::string_view name) {
  if (end > begin) spans.push_back({begin, end, rule, name});
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
  kTokenFirst = 1 << 8,    // the first byte of a token format: a prefix in kTokenRules, A, a, e
  kKeyValueStop = 1 << 9,  // '=', ':', '>', ',' or whitespace: where a key=value scan looks back
  kBearerFirst = 1 << 10,  // b, B: "Bearer" and "Basic"
  kEntropyChar = 1 << 11,  // a character of a high-entropy candidate: alnum, '+', '/', '_', '-'
  kCredentialChar = 1 << 12,  // a character of a bearer credential: alnum and ._~+/-=
  kLetter = 1 << 13,          // A-Z, a-z
  kNameSeparator = 1 << 14,   // '-', '_', '/': what joins the parts of a lower-case name
  kNameChar = 1 << 15,        // a-z, 0-9 and the name separators
  kHexOrDash = 1 << 16,       // what hex IDs and UUIDs are made of
  kLowerHex = 1 << 17,        // 0-9, a-f
  kBase64UrlDot = 1 << 18,    // alnum, '_', '-', '.'
  kBase64Any = 1 << 19,       // alnum, '+', '/', '_', '-', '='
  kAlnumDollar = 1 << 20,     // alnum, '$'
  kUpperDigit = 1 << 21,      // A-Z, 0-9
  kAlnumOnly = 1 << 22,       // A-Z, a-z, 0-9
  kHexDashLower = 1 << 23,    // 0-9, a-f, '-'
  kEmailLocal = 1 << 25,      // a character of an e-mail address's local part (see MatchEmailAt)
  kLdh = 1 << 26,             // letters, digits, '-': a DNS label
  // Set only in the trigger pass's table for a PII mode (kTriggerClasses), never in kCharClasses:
  kPiiPunct = 1 << 24,        // '@', '+', '(', ':': where a PII match starts outside a word
  kPiiWord = 1 << 27,         // the first byte of a word a PII scanner may take: digits, upper case
  kPiiHexWord = 1 << 28,      // with kStrict, a-f: the first byte of an IPv6 group if ':' follows
  kBase64Percent = 1u << 29,  // kBase64Any and '%': base64 written URL-encoded (%2B, %2F, %3D)
};

// --- The token table -----------------------------------------------------------------------------

// A self-identifying credential format: a literal prefix, then a body of `min_body` to `max_body`
// characters of `alphabet` (a CharClass bit). A token matches when it starts a word (the byte
// before it is not a letter or digit), its body has exactly a length in range (the body is the
// whole run of alphabet characters after the prefix; a trailing '.' is punctuation, not body), and
// a body of a mixed-case alphabet holds a digit or both cases (random bodies do; words and
// identifiers like "secret_name_of_the_volume" do not; hex and base32 bodies need neither). When
// prefixes overlap ("sk-" and "sk-ant-"), the longest one that matches names the token.
//
// Checksums: GitHub's new tokens and a few others end in a CRC32 of the body; the table does not
// verify them. A token that fails its checksum is still redacted (fail closed); the prefix and
// length already make a false positive rare, so a checksum could only give secrets back.
//
// Each row comes from the provider's documentation of the format; where a provider documents only
// a prefix, the body length is a lower bound below which real tokens do not occur.
struct TokenRule {
  std::string_view name;    // rule name in the snapshot (several rows may share one)
  std::string_view prefix;  // case-sensitive
  uint32_t alphabet;        // CharClass bit every body character has
  uint16_t min_body;
  uint16_t max_body;  // 0: no upper bound
};

constexpr uint16_t kAny = 0;

// clang-format off
constexpr TokenRule kTokenRules[] = {
    // Cloud providers
    {"aws-access-key", "AKIA", kUpperDigit, 16, 16},
    {"aws-access-key", "ASIA", kUpperDigit, 16, 16},
    {"aws-session-token", "FwoGZXIvYXdzE", kBase64Any, 100, kAny},
    {"aws-session-token", "IQoJb3JpZ2luX2Vj", kBase64Any, 100, kAny},
    {"gcp-api-key", "AIza", kBase64Url, 35, 35},
    {"gcp-oauth-secret", "GOCSPX-", kBase64Url, 24, 32},
    {"gcp-oauth-token", "ya29.", kBase64UrlDot, 30, kAny},
    {"alibaba-access-key", "LTAI", kAlnumOnly, 12, 24},
    {"digitalocean-token", "dop_v1_", kLowerHex, 64, 64},
    {"digitalocean-token", "doo_v1_", kLowerHex, 64, 64},
    {"digitalocean-token", "dor_v1_", kLowerHex, 64, 64},
    {"cloudflare-origin-ca-key", "v1.0-", kHexDashLower, 150, kAny},
    {"fly-token", "fo1_", kBase64Url, 20, kAny},
    {"fly-token", "fm1a_", kBase64Any, 20, kAny},
    {"fly-token", "fm1r_", kBase64Any, 20, kAny},
    {"fly-token", "fm2_", kBase64Any, 20, kAny},
    {"heroku-token", "HRKU-", kBase64Url, 20, kAny},
    {"vercel-token", "vcp_", kAlnumOnly, 20, kAny},
    {"vercel-token", "vci_", kAlnumOnly, 20, kAny},
    {"vercel-token", "vca_", kAlnumOnly, 20, kAny},
    {"vercel-token", "vcr_", kAlnumOnly, 20, kAny},
    {"vercel-token", "vck_", kAlnumOnly, 20, kAny},
    {"netlify-token", "nfp_", kAlnumOnly, 30, kAny},
    {"supabase-token", "sbp_", kLowerHex, 40, 40},
    {"supabase-token", "sb_secret_", kBase64Url, 20, kAny},
    {"tailscale-key", "tskey-", kBase64Url, 20, kAny},
    {"render-token", "rnd_", kAlnumOnly, 20, kAny},
    {"neon-token", "napi_", kAlnumOnly, 40, kAny},
    {"planetscale-token", "pscale_tkn_", kBase64UrlDot, 20, kAny},
    {"planetscale-token", "pscale_pw_", kBase64UrlDot, 20, kAny},
    {"planetscale-token", "pscale_oauth_", kBase64UrlDot, 20, kAny},
    {"databricks-token", "dapi", kLowerHex, 32, 32},
    {"dynatrace-token", "dt0c01.", kBase64UrlDot, 89, 89},  // 24-character ID, '.', 64-character secret
    // Source hosting, CI, registries
    {"github-token", "ghp_", kAlnumOnly, 20, kAny},
    {"github-token", "gho_", kAlnumOnly, 20, kAny},
    {"github-token", "ghu_", kAlnumOnly, 20, kAny},
    {"github-token", "ghs_", kAlnumOnly, 20, kAny},
    {"github-token", "ghr_", kAlnumOnly, 20, kAny},
    {"github-token", "github_pat_", kBase64Url, 20, kAny},
    {"gitlab-token", "glpat-", kBase64UrlDot, 20, kAny},
    {"gitlab-token", "glptt-", kBase64UrlDot, 20, kAny},
    {"gitlab-token", "gldt-", kBase64UrlDot, 20, kAny},
    {"gitlab-token", "glrt-", kBase64UrlDot, 20, kAny},
    {"gitlab-token", "glcbt-", kBase64UrlDot, 20, kAny},
    {"gitlab-token", "glimt-", kBase64UrlDot, 20, kAny},
    {"gitlab-token", "glsoat-", kBase64UrlDot, 20, kAny},
    {"gitlab-token", "gloas-", kBase64UrlDot, 20, kAny},
    {"gitlab-token", "GR1348941", kBase64Url, 20, kAny},
    {"bitbucket-token", "ATBB", kAlnumOnly, 28, kAny},
    {"atlassian-token", "ATATT", kBase64Any, 40, kAny},
    {"atlassian-token", "ATCTT", kBase64Any, 40, kAny},
    {"circleci-token", "CCIPAT_", kBase64Url, 20, kAny},
    {"circleci-token", "CCIPRJ_", kBase64Url, 63, kAny},  // base58 UUID, '_', 40 hex
    {"buildkite-token", "bkua_", kLowerHex, 40, 40},
    {"sonarqube-token", "squ_", kLowerHex, 40, 40},
    {"sonarqube-token", "sqp_", kLowerHex, 40, 40},
    {"sonarqube-token", "sqa_", kLowerHex, 40, 40},
    {"npm-token", "npm_", kAlnumOnly, 36, 36},
    {"pypi-token", "pypi-", kBase64Url, 50, kAny},
    {"rubygems-token", "rubygems_", kLowerHex, 48, 48},
    {"clojars-token", "CLOJARS_", kLowerHex, 60, 60},
    {"docker-token", "dckr_pat_", kBase64Url, 20, kAny},
    {"docker-token", "dckr_oat_", kBase64Url, 20, kAny},
    {"jfrog-token", "AKCp", kAlnumOnly, 60, kAny},
    {"jfrog-token", "cmVmdGtu", kAlnumOnly, 56, kAny},
    {"hashicorp-vault-token", "hvs.", kBase64Url, 24, kAny},
    {"hashicorp-vault-token", "hvb.", kBase64Url, 24, kAny},
    {"hashicorp-vault-token", "hvr.", kBase64Url, 24, kAny},
    {"doppler-token", "dp.pt.", kAlnumOnly, 40, kAny},
    {"doppler-token", "dp.st.", kBase64UrlDot, 40, kAny},
    {"doppler-token", "dp.sa.", kAlnumOnly, 40, kAny},
    {"doppler-token", "dp.ct.", kAlnumOnly, 40, kAny},
    {"doppler-token", "dp.scim.", kAlnumOnly, 40, kAny},
    {"doppler-token", "dp.audit.", kAlnumOnly, 40, kAny},
    {"pulumi-token", "pul-", kLowerHex, 40, 40},
    {"onepassword-token", "ops_", kBase64Any, 50, kAny},
    {"postman-token", "PMAK-", kHexDashLower, 50, kAny},
    // Chat, mail, messaging
    {"slack-token", "xoxb-", kBase64Url, 10, kAny},
    {"slack-token", "xoxa-", kBase64Url, 10, kAny},
    {"slack-token", "xoxp-", kBase64Url, 10, kAny},
    {"slack-token", "xoxr-", kBase64Url, 10, kAny},
    {"slack-token", "xoxs-", kBase64Url, 10, kAny},
    {"slack-token", "xoxo-", kBase64Url, 10, kAny},
    {"slack-token", "xoxe-", kBase64Url, 10, kAny},
    {"slack-token", "xoxe.xox", kBase64Url, 10, kAny},
    {"slack-token", "xapp-", kBase64Url, 10, kAny},
    {"twilio-key", "SK", kLowerHex, 32, 32},
    {"twilio-key", "AC", kLowerHex, 32, 32},
    {"sendgrid-key", "SG.", kBase64UrlDot, 60, kAny},
    {"mailgun-key", "key-", kLowerHex, 32, 32},
    {"brevo-key", "xkeysib-", kBase64Url, 60, kAny},
    {"brevo-key", "xsmtpsib-", kBase64Url, 60, kAny},
    {"intercom-token", "dG9rOj", kBase64Any, 40, kAny},
    {"linear-key", "lin_api_", kAlnumOnly, 40, kAny},
    {"notion-token", "secret_", kAlnumOnly, 40, kAny},
    {"notion-token", "ntn_", kAlnumOnly, 40, kAny},
    {"figma-token", "figd_", kBase64Url, 30, kAny},
    {"hubspot-token", "pat-na1-", kHexDashLower, 36, 36},
    {"hubspot-token", "pat-na2-", kHexDashLower, 36, 36},
    {"hubspot-token", "pat-eu1-", kHexDashLower, 36, 36},
    {"hubspot-token", "pat-ap1-", kHexDashLower, 36, 36},
    {"contentful-token", "CFPAT-", kBase64Url, 40, kAny},
    {"segment-token", "sgp_", kAlnumOnly, 40, kAny},
    {"launchdarkly-key", "api-", kHexDashLower, 36, 36},
    {"launchdarkly-key", "sdk-", kHexDashLower, 36, 36},
    {"mapbox-token", "sk.eyJ", kBase64UrlDot, 40, kAny},
    {"facebook-token", "EAA", kAlnumOnly, 80, kAny},
    {"twitter-token", "AAAAAAAAAAAAAAAAAAAAA", kBase64Percent, 40, kAny},  // URL-encoded as issued
    // Payment
    {"stripe-key", "sk_live_", kAlnumOnly, 16, kAny},
    {"stripe-key", "sk_test_", kAlnumOnly, 16, kAny},
    {"stripe-key", "rk_live_", kAlnumOnly, 16, kAny},
    {"stripe-key", "rk_test_", kAlnumOnly, 16, kAny},
    {"stripe-key", "whsec_", kBase64Any, 24, kAny},
    {"square-token", "sq0atp-", kBase64Url, 22, kAny},
    {"square-token", "sq0csp-", kBase64Url, 40, kAny},
    {"square-token", "EAAA", kBase64Url, 56, kAny},
    {"braintree-token", "access_token$production$", kAlnumDollar, 40, kAny},
    {"braintree-token", "access_token$sandbox$", kAlnumDollar, 40, kAny},
    {"shippo-token", "shippo_live_", kLowerHex, 40, 40},
    {"shippo-token", "shippo_test_", kLowerHex, 40, 40},
    {"shopify-token", "shpat_", kAlnumOnly, 32, 32},
    {"shopify-token", "shpss_", kAlnumOnly, 32, 32},
    {"shopify-token", "shpca_", kAlnumOnly, 32, 32},
    {"shopify-token", "shppa_", kAlnumOnly, 32, 32},
    {"flutterwave-key", "FLWSECK-", kBase64Url, 30, kAny},
    {"flutterwave-key", "FLWSECK_TEST-", kBase64Url, 30, kAny},
    {"razorpay-key", "rzp_live_", kAlnumOnly, 14, kAny},
    {"plaid-token", "access-production-", kHexDashLower, 36, 36},
    {"plaid-token", "access-sandbox-", kHexDashLower, 36, 36},
    // AI and data APIs
    {"openai-api-key", "sk-", kBase64Url, 32, kAny},
    {"anthropic-api-key", "sk-ant-", kBase64Url, 32, kAny},
    {"huggingface-token", "hf_", kAlnumOnly, 30, kAny},
    {"replicate-token", "r8_", kAlnumOnly, 30, kAny},
    {"groq-key", "gsk_", kAlnumOnly, 40, kAny},
    {"perplexity-key", "pplx-", kAlnumOnly, 40, kAny},
    {"xai-key", "xai-", kAlnumOnly, 60, kAny},
    {"pinecone-key", "pcsk_", kBase64Url, 40, kAny},
    {"langsmith-key", "lsv2_pt_", kBase64Url, 40, kAny},
    {"langsmith-key", "lsv2_sk_", kBase64Url, 40, kAny},
    // Observability
    {"grafana-token", "glsa_", kBase64Url, 32, kAny},
    {"grafana-token", "glc_", kBase64Any, 32, kAny},
    {"sentry-token", "sntrys_", kBase64Any, 40, kAny},
    {"sentry-token", "sntryu_", kLowerHex, 64, 64},
    {"newrelic-key", "NRAK-", kUpperDigit, 27, 27},
    {"newrelic-key", "NRII-", kBase64Url, 20, kAny},
    {"newrelic-key", "NRJS-", kLowerHex, 19, kAny},
    {"honeycomb-key", "hcaik_", kAlnumOnly, 58, kAny},  // 26-character key ID + 32-character secret
    {"honeycomb-key", "hcxik_", kAlnumOnly, 58, kAny},
    {"honeybadger-token", "hbp_", kAlnumOnly, 30, kAny},
};
// clang-format on

constexpr size_t kTokenRuleCount = std::size(kTokenRules);
constexpr size_t kRuleSetWords = (kTokenRuleCount + 63) / 64;

constexpr bool IsTokenRuleFirstByte(int c) {
  for (const TokenRule& rule : kTokenRules) {
    if (static_cast<unsigned char>(rule.prefix[0]) == c) return true;
  }
  return false;
}

// For each byte, the rows whose prefix has it at `index` (bit i = kTokenRules[i]).
using RuleSet = std::array<uint64_t, kRuleSetWords>;
constexpr std::array<RuleSet, 256> MakeRulesByByteAt(size_t index) {
  std::array<RuleSet, 256> table{};
  for (size_t i = 0; i < kTokenRuleCount; ++i) {
    const std::string_view prefix = kTokenRules[i].prefix;
    if (index >= prefix.size()) {
      for (auto& set : table) set[i / 64] |= uint64_t{1} << (i % 64);
    } else {
      table[static_cast<unsigned char>(prefix[index])][i / 64] |= uint64_t{1} << (i % 64);
    }
  }
  return table;
}

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
    if (c == 'A' || c == 'a' || c == 'e' || IsTokenRuleFirstByte(c)) bits |= kTokenFirst;
    if (digit || (c >= 'a' && c <= 'f')) bits |= kLowerHex;
    if (digit || (c >= 'a' && c <= 'f') || c == '-') bits |= kHexDashLower;
    if (alnum || c == '_' || c == '-' || c == '.') bits |= kBase64UrlDot;
    if (alnum || c == '+' || c == '/' || c == '_' || c == '-' || c == '=') bits |= kBase64Any;
    if (alnum || c == '+' || c == '/' || c == '_' || c == '-' || c == '=' || c == '%') {
      bits |= kBase64Percent;
    }
    if (alnum || c == '$') bits |= kAlnumDollar;
    if (upper || digit) bits |= kUpperDigit;
    if (alnum) bits |= kAlnumOnly;
    if (c == '>' || c == ',') bits |= kKeyValueStop;
    if (c == '=' || c == ':') bits |= kKeyValueStop;
    if (c == 'b' || c == 'B') bits |= kBearerFirst;
    if (alnum ||
        std::string_view("._%+-!#$*^~").find(static_cast<char>(c)) != std::string_view::npos) {
      bits |= kEmailLocal;
    }
    if (alnum || c == '-') bits |= kLdh;
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

// The trigger pass's class table for each PII mode: kCharClasses plus, with a PII mode, the bits
// of the bytes where a PII match may start. With kNone no byte has them, so the pass rules PII out
// with the tests it makes anyway.
constexpr std::array<uint32_t, 256> MakeTriggerClasses(PiiMode mode) {
  std::array<uint32_t, 256> table = kCharClasses;
  if (mode == PiiMode::kNone) return table;
  for (int c = 0; c < 256; ++c) {
    uint32_t& bits = table[static_cast<size_t>(c)];
    if (c == '@' || c == '+' || c == '(' || c == ':') bits |= kPiiPunct;
    if ((bits & (kDigit | kUpper)) != 0) bits |= kPiiWord;
    if (mode == PiiMode::kStrict && (bits & kHex) != 0 && (bits & kLower) != 0) bits |= kPiiHexWord;
  }
  return table;
}
constexpr std::array<std::array<uint32_t, 256>, 3> kTriggerClasses = {
    MakeTriggerClasses(PiiMode::kNone), MakeTriggerClasses(PiiMode::kStandard),
    MakeTriggerClasses(PiiMode::kStrict)};

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

// A byte loop rather than compare(): the prefixes are short, and a memcmp call per trigger costs
// more than the comparison.
bool StartsWith(std::string_view text, size_t pos, std::string_view prefix) {
  if (text.size() - pos < prefix.size()) return false;
  for (size_t k = 0; k < prefix.size(); ++k) {
    if (text[pos + k] != prefix[k]) return false;
  }
  return true;
}

// text[begin, end) without substr's bounds check (callers keep begin <= end <= text.size()).
std::string_view Slice(std::string_view text, size_t begin, size_t end) {
  return std::string_view(text.data() + begin, end - begin);
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

// Bit (b0 << 8 | b1): some token format (a row of kTokenRules, a JWT's "eyJ", an age key's "AG"
// or "ag") starts with bytes b0, b1. Most word starts are ruled out with this one load.
constexpr std::array<uint64_t, 1024> MakeTokenPairs() {
  std::array<uint64_t, 1024> bits{};
  const auto set = [&bits](char b0, char b1) {
    const size_t pair =
        static_cast<size_t>(static_cast<uint8_t>(b0)) << 8 | static_cast<uint8_t>(b1);
    bits[pair / 64] |= uint64_t{1} << (pair % 64);
  };
  for (const TokenRule& rule : kTokenRules) set(rule.prefix[0], rule.prefix[1]);
  set('e', 'y');
  set('A', 'G');
  set('a', 'g');
  set('A', 'g');
  set('a', 'G');
  return bits;
}
constexpr std::array<uint64_t, 1024> kTokenPairs = MakeTokenPairs();

bool MayStartToken(std::string_view text, size_t i) {
  if (i + 1 >= text.size()) return false;
  const size_t pair =
      static_cast<size_t>(static_cast<uint8_t>(text[i])) << 8 | static_cast<uint8_t>(text[i + 1]);
  return (kTokenPairs[pair / 64] >> (pair % 64) & 1) != 0;
}

constexpr std::array<RuleSet, 256> kRulesByFirstByte = MakeRulesByByteAt(0);
constexpr std::array<RuleSet, 256> kRulesBySecondByte = MakeRulesByByteAt(1);
constexpr std::array<RuleSet, 256> kRulesByThirdByte = MakeRulesByByteAt(2);

// The longest row of kTokenRules that matches at `i` (the start of a word); returns the end of the
// match (0 if none) and sets `*name`.
size_t MatchTokenTableAt(std::string_view text, size_t i, std::string_view* name) {
  if (text.size() - i < 3) return 0;
  const RuleSet& first = kRulesByFirstByte[static_cast<uint8_t>(text[i])];
  const RuleSet& second = kRulesBySecondByte[static_cast<uint8_t>(text[i + 1])];
  const RuleSet& third = kRulesByThirdByte[static_cast<uint8_t>(text[i + 2])];
  size_t best_end = 0;
  size_t best_prefix = 0;
  for (size_t word = 0; word < first.size(); ++word) {
    for (uint64_t bits = first[word] & second[word] & third[word]; bits != 0; bits &= bits - 1) {
      const TokenRule& rule = kTokenRules[word * 64 + static_cast<size_t>(std::countr_zero(bits))];
      if (rule.prefix.size() <= best_prefix || !StartsWith(text, i, rule.prefix)) continue;
      const size_t body_begin = i + rule.prefix.size();
      size_t end = RunEnd(text, body_begin, [&rule](char x) { return HasClass(x, rule.alphabet); });
      while (end > body_begin && text[end - 1] == '.') --end;
      const size_t body = end - body_begin;
      if (body < rule.min_body || (rule.max_body != kAny && body > rule.max_body)) continue;
      // Words and identifiers have neither digits nor mixed case; bodies of a single-case
      // alphabet (hex, base32) need not have digits.
      if ((rule.alphabet & (kUpperDigit | kLowerHex | kHexDashLower)) == 0) {
        uint32_t any = 0;
        for (size_t k = body_begin; k < end; ++k) {
          any |= kCharClasses[static_cast<uint8_t>(text[k])];
        }
        if ((any & kDigit) == 0 && (any & (kUpper | kLower)) != (kUpper | kLower)) continue;
      }
      best_end = end;
      best_prefix = rule.prefix.size();
      *name = rule.name;
    }
  }
  return best_end;
}

// Tries every token format that can start at `i`; returns the end of a match or 0.
size_t MatchTokenAt(std::string_view text, size_t i, Rule* rule, std::string_view* name) {
  const char prev = i > 0 ? text[i - 1] : ' ';
  const char c = text[i];
  if (prev != '_') {
    const size_t end = MatchTokenTableAt(text, i, name);
    if (end > i) {
      *rule = Rule::kTokenFormat;
      return end;
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
        *name = RuleName(Rule::kAgeSecretKey);
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
        *name = RuleName(Rule::kJwt);
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

// How much a key says about its value. A strong key ("password", "token") makes any value a
// secret; a weak one ("key", "sig", "pin") only a value that looks like one (LooksLikeSecretValue):
// "sort_key=created_at" stays, "ENCRYPTION_KEY=9f86d0…" goes.
enum class KeyStrength : uint8_t { kNone, kWeak, kStrong };

struct SecretKeyword {
  std::string_view word;
  bool
      plural;  // "passwords" is as secret as "password"; "tokens" and "sessions" are usually counts
  KeyStrength strength;
  bool whole;  // must start a component: the key's start, after a non-letter, or a camelCase step
  bool last;   // must end the key ("ENCRYPTION_KEY", "accountKey"; not "key_file")
};

constexpr KeyStrength kStrong = KeyStrength::kStrong;
constexpr KeyStrength kWeak = KeyStrength::kWeak;

// Keywords that make a key secret when they form a component of it (see SecretKeyStrength).
// clang-format off
constexpr std::array<SecretKeyword, 27> kSecretKeywords = {{
    {"password", true, kStrong, false, false},
    {"passwd", false, kStrong, false, false},
    {"passphrase", true, kStrong, false, false},
    {"pass", false, kStrong, false, true},  // DB_PASS, requirepass, storepass (not bypass)
    {"pwd", false, kStrong, false, true},   // MYSQL_PWD, Pwd= (not PWD, OLDPWD)
    {"pw", false, kStrong, true, true},
    {"secret", true, kStrong, false, false},
    {"token", false, kStrong, false, false},
    {"apikey", true, kStrong, false, false},
    {"api_key", true, kStrong, false, false},
    {"api-key", true, kStrong, false, false},
    {"access_key", true, kStrong, false, false},
    {"accesskey", true, kStrong, false, false},
    {"private_key", true, kStrong, false, false},
    {"privatekey", true, kStrong, false, false},
    {"credential", true, kStrong, false, false},
    {"auth", false, kStrong, false, false},
    {"session", false, kStrong, false, false},
    {"cookie", true, kStrong, false, false},
    {"key", true, kWeak, true, true},
    {"sig", false, kWeak, true, true},
    {"signature", false, kWeak, true, true},
    {"pin", false, kWeak, true, true},
    {"encrypt", false, kWeak, true, true},
    {"hmac", false, kWeak, true, true},
    {"api", false, kWeak, true, true},
    {"sas", false, kWeak, true, true},
}};
// clang-format on
// What may follow a keyword inside the same component: "sessionid", "secretkey", "passwords".
constexpr std::array<std::string_view, 6> kKeywordSuffixes = {"", "s", "id", "ids", "key", "keys"};
// Words that end in "pass" and are not passwords.
constexpr std::array<std::string_view, 7> kNotPasswords = {
    "bypass", "compass", "overpass", "underpass", "trespass", "surpass", "encompass"};

// For each byte, the keywords (bit i = kSecretKeywords[i]) whose letter at `index` it is, either
// case. A keyword can start at key[j] only if key[j] and key[j + 1] both fit.
constexpr std::array<uint32_t, 256> MakeKeywordsByByteAt(size_t index) {
  std::array<uint32_t, 256> table{};
  for (size_t i = 0; i < kSecretKeywords.size(); ++i) {
    const char c = kSecretKeywords[i].word[index];
    table[static_cast<uint8_t>(c)] |= 1U << i;
    if (c >= 'a' && c <= 'z') table[static_cast<uint8_t>(c - 'a' + 'A')] |= 1U << i;
  }
  return table;
}

static_assert(kSecretKeywords.size() <= 32, "keyword sets are 32-bit masks");
constexpr std::array<uint32_t, 256> kKeywordsByFirstByte = MakeKeywordsByByteAt(0);
constexpr std::array<uint32_t, 256> kKeywordsBySecondByte = MakeKeywordsByByteAt(1);
constexpr size_t kShortestKeyword = 2;  // "pw"
static_assert(std::all_of(kSecretKeywords.begin(), kSecretKeywords.end(),
                          [](const SecretKeyword& k) {
                            return k.word.size() >= kShortestKeyword;
                          }));

bool EndsWithIgnoreCase(std::string_view s, std::string_view lower_suffix);

// Components that may follow a keyword without changing what the key names: "SECRET_KEY_BASE",
// "session_id", "password_b64", "token_value". Any other ("auth-mode", "session-affinity",
// "password_policy", "token_url", "secret_name") makes the key name something else.
constexpr std::array<std::string_view, 20> kValueWords = {
    "key",  "keys",   "id",  "ids",  "value", "val",     "b64",   "base64", "hex",   "raw",
    "base", "string", "str", "data", "enc",   "encoded", "bytes", "secret", "token", "pass"};

// True if every component of key[end..] (split at non-letters and camelCase steps) is one of
// kValueWords or a keyword.
bool OnlyValueWordsFollow(std::string_view key, size_t end) {
  size_t i = end;
  while (i < key.size()) {
    if (!IsAlpha(key[i])) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < key.size() && IsAlpha(key[j]) && !(IsUpper(key[j]) && IsLower(key[j - 1]))) ++j;
    const std::string_view word = key.substr(i, j - i);
    const auto same = [&](std::string_view w) {
      return w.size() == word.size() && StartsWithIgnoreCase(word, 0, w);
    };
    if (std::none_of(kValueWords.begin(), kValueWords.end(), same) &&
        std::none_of(kSecretKeywords.begin(), kSecretKeywords.end(),
                     [&](const SecretKeyword& k) { return same(k.word); })) {
      return false;
    }
    i = j;
  }
  return true;
}

// How secret `key` is: the strongest keyword that forms a component of it. A keyword ends a
// component when followed by the end, a non-letter, or a camelCase step ("authToken"). Any prefix
// is allowed unless the keyword is `whole` ("DB_PASSWORD", "dbpassword", "jsessionid"; "tokenizer",
// "author", "secretary", "tokens_per_second", "keyboard" and "spin" do not count).
// Whether `keyword` makes `key` secret where it may start at key[j] (both first bytes fit).
[[gnu::noinline]] bool KeywordMatchesAt(std::string_view key, size_t j,
                                        const SecretKeyword& keyword) {
  if (keyword.whole && j > 0 && IsAlpha(key[j - 1]) && !(IsUpper(key[j]) && IsLower(key[j - 1]))) {
    return false;
  }
  if (!StartsWithIgnoreCase(key, j, keyword.word)) return false;
  if (keyword.word == "pwd" && (key == "PWD" || key == "OLDPWD")) return false;  // the cwd
  if (keyword.word == "pass") {
    const std::string_view head = key.substr(0, j + 4);
    if (std::any_of(kNotPasswords.begin(), kNotPasswords.end(),
                    [&](std::string_view w) { return EndsWithIgnoreCase(head, w); })) {
      return false;
    }
  }
  for (std::string_view suffix : kKeywordSuffixes) {
    if (suffix == "s" && !keyword.plural) continue;
    if (keyword.last && suffix.size() > 1) continue;
    const size_t end = j + keyword.word.size() + suffix.size();
    if (!suffix.empty() && !StartsWithIgnoreCase(key, j + keyword.word.size(), suffix)) continue;
    const bool ends_component =
        end == key.size() || !IsAlpha(key[end]) || (IsUpper(key[end]) && IsLower(key[end - 1]));
    const bool ends_key =
        std::none_of(key.begin() + static_cast<ptrdiff_t>(end), key.end(), IsAlpha);
    if (keyword.last ? ends_key : ends_component && OnlyValueWordsFollow(key, end)) return true;
  }
  return false;
}

KeyStrength SecretKeyStrength(std::string_view key) {
  KeyStrength best = KeyStrength::kNone;
  // A tight loop over the byte pairs; the rare candidates are checked out of line.
  for (size_t j = 0; j + kShortestKeyword <= key.size(); ++j) {
    for (uint32_t candidates = kKeywordsByFirstByte[static_cast<uint8_t>(key[j])] &
                               kKeywordsBySecondByte[static_cast<uint8_t>(key[j + 1])];
         candidates != 0; candidates &= candidates - 1) {
      const SecretKeyword& keyword = kSecretKeywords[std::countr_zero(candidates)];
      if (keyword.strength > best && KeywordMatchesAt(key, j, keyword)) best = keyword.strength;
    }
  }
  return best;
}

// A value a weak key ("…_KEY", "sig", "pin") makes a secret: at least 6 characters, not a path
// or URL, and shaped like a credential (letters with digits, both cases, or a symbol) or long.
bool LooksLikeSecretValue(std::string_view value) {
  if (value.size() < 6 || value[0] == '/' || value[0] == '.' ||
      value.find("://") != std::string_view::npos) {
    return false;
  }
  uint32_t any = 0;
  bool symbol = false;
  for (char c : value) {
    any |= kCharClasses[static_cast<uint8_t>(c)];
    symbol |= std::string_view("+/=%~!@#$^*").find(c) != std::string_view::npos;
  }
  const bool letters = (any & kLetter) != 0;
  return value.size() >= 16 || symbol || (letters && (any & kDigit) != 0) ||
         (any & (kUpper | kLower)) == (kUpper | kLower);
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
  // "key=value," in a list: the comma is punctuation.
  if (*value_end > begin + 1 && text[*value_end - 1] == ',') --*value_end;
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

// --- argv: programs whose short flags take a secret ----------------------------------------------

// A program (matched against the base name of a word before the flag, in the same text) and the
// short flags through which it takes a password: `separate` as "-p VALUE", `attached` as
// "-pVALUE". For 'u' (curl) and 'U' (smbclient) the value is "user:password" or "user%password"
// and only the part after the separator is secret.
struct ProgramFlags {
  std::string_view program;
  std::string_view separate;
  std::string_view attached;
};

// clang-format off
constexpr ProgramFlags kProgramFlags[] = {
    {"mysql", "", "p"}, {"mysqldump", "", "p"}, {"mysqladmin", "", "p"}, {"mysqlcheck", "", "p"},
    {"mysqlimport", "", "p"}, {"mysqlshow", "", "p"}, {"mysqlslap", "", "p"},
    {"mysqlbinlog", "", "p"}, {"mysqlpump", "", "p"}, {"mysqlsh", "", "p"}, {"mysqld", "", "p"},
    {"mariadb", "", "p"}, {"mariadb-dump", "", "p"}, {"mariadb-admin", "", "p"},
    {"mariadb-check", "", "p"}, {"mariadb-import", "", "p"},
    {"7z", "", "p"}, {"7za", "", "p"}, {"7zz", "", "p"}, {"rar", "", "p"}, {"unrar", "", "p"},
    {"sshpass", "p", ""}, {"docker", "p", ""}, {"podman", "p", ""}, {"nerdctl", "p", ""},
    {"buildah", "p", ""}, {"skopeo", "p", ""}, {"helm", "p", ""}, {"oras", "p", ""},
    {"mongo", "p", ""}, {"mongosh", "p", ""}, {"mongodump", "p", ""}, {"mongorestore", "p", ""},
    {"mongoexport", "p", ""}, {"mongoimport", "p", ""}, {"mongostat", "p", ""},
    {"mongotop", "p", ""},
    {"redis-cli", "a", ""}, {"keydb-cli", "a", ""}, {"valkey-cli", "a", ""},
    {"sqlcmd", "P", ""}, {"bcp", "P", ""}, {"osql", "P", ""}, {"zip", "P", ""},
    {"ldapsearch", "w", ""}, {"ldapadd", "w", ""}, {"ldapmodify", "w", ""},
    {"ldapdelete", "w", ""}, {"ldapwhoami", "w", ""}, {"ldappasswd", "w", ""},
    {"ldapcompare", "w", ""}, {"ldapmodrdn", "w", ""}, {"ldapexop", "w", ""},
    {"curl", "u", ""}, {"smbclient", "U", ""}, {"rpcclient", "U", ""}, {"openssl", "k", ""},
};
// clang-format on

constexpr size_t kMaxProgramLookBack = 1024;

// The letters of kProgramFlags' separate flags: a short flag with another letter needs no look-up.
constexpr std::string_view kSeparateFlagLetters = "paPwuUk";
static_assert(
    std::all_of(std::begin(kProgramFlags), std::end(kProgramFlags), [](const ProgramFlags& row) {
      return (row.attached.empty() || row.attached == "p") &&
             std::all_of(row.separate.begin(), row.separate.end(), [](char f) {
               return kSeparateFlagLetters.find(f) != std::string_view::npos;
             });
    }));

// For each first byte, the lengths (bit n, n < 16) of the program names starting with it, so that
// most words are ruled out without comparing them to every name.
constexpr std::array<uint16_t, 256> MakeProgramLengths() {
  std::array<uint16_t, 256> table{};
  for (const ProgramFlags& row : kProgramFlags) {
    table[static_cast<uint8_t>(row.program[0])] |= static_cast<uint16_t>(1U << row.program.size());
  }
  return table;
}
constexpr std::array<uint16_t, 256> kProgramLengths = MakeProgramLengths();
static_assert(std::all_of(std::begin(kProgramFlags), std::end(kProgramFlags),
                          [](const ProgramFlags& row) { return row.program.size() < 16; }));

// What ProgramBefore has learned of a text: the words are read once, front to back, however many
// short flags ask (a text of "-a -a -a ..." stays linear).
struct ProgramScan {
  size_t scanned_to = 0;               // the words in text[0, scanned_to) have been read
  const ProgramFlags* last = nullptr;  // the last of them that names a program
  size_t last_end = 0;                 // where that word ends
};

// The row of kProgramFlags for the nearest word before `pos` (ending within kMaxProgramLookBack
// bytes of it) that names one of its programs, or nullptr. Calls for one text come with `pos`
// ascending, as the trigger pass makes them.
const ProgramFlags* ProgramBefore(std::string_view text, size_t pos, ProgramScan& scan) {
  const auto separator = [](char x) { return IsSpace(x) || IsQuote(x); };
  size_t i = scan.scanned_to;
  while (i < pos) {
    while (i < pos && separator(text[i])) ++i;
    size_t end = i;
    while (end < text.size() && !separator(text[end])) ++end;
    if (end > pos) break;  // the word at `pos` is not before it
    std::string_view word = Slice(text, i, end);
    const size_t slash = word.rfind('/');
    if (slash != std::string_view::npos) word.remove_prefix(slash + 1);
    if (!word.empty() && word.size() < 16 &&
        (kProgramLengths[static_cast<uint8_t>(word[0])] & (1U << word.size())) != 0) {
      for (const ProgramFlags& row : kProgramFlags) {
        if (row.program == word) {
          scan.last = &row;
          scan.last_end = end;
        }
      }
    }
    i = end;
  }
  scan.scanned_to = std::max(scan.scanned_to, i);
  if (scan.last == nullptr || scan.last_end > pos || pos - scan.last_end > kMaxProgramLookBack) {
    return nullptr;
  }
  return scan.last;
}

// "-pS3cr3t!" with no known program before it: a password attached to -p only when it looks like
// one (6+ characters, a letter, an upper-case letter or a symbol, a digit or symbol) and not like
// another flag ("-pthread", "-print0", "-p8080:80", "-profile.cpu=x").
bool LooksLikeAttachedPassword(std::string_view rest) {
  if (rest.size() < 6 || rest.find_first_of("=/.:,") != std::string_view::npos) return false;
  uint32_t any = 0;
  bool symbol = false;
  for (char c : rest) {
    any |= kCharClasses[static_cast<uint8_t>(c)];
    symbol |= std::string_view("!@#$%^&*+~?").find(c) != std::string_view::npos;
  }
  return (any & kLetter) != 0 && ((any & kDigit) != 0 || symbol) && ((any & kUpper) != 0 || symbol);
}

// A word that is another flag rather than the value of the flag before it: "--verbose", "-v",
// "-rf". "-x9!k" (a password that starts with '-') is not.
bool IsFlagLike(std::string_view word) {
  if (word.size() < 2 || word[0] != '-') return false;
  if (word[1] == '-') return true;
  return std::all_of(word.begin() + 1, word.end(), [](char x) { return IsAlpha(x) || x == '-'; });
}

// True if `word` can be the key of "key value" with a blank between: it ends in one of the
// strong keywords people write that way (netrc's "password", "token", "secret", ...).
bool EndsWithBareKeyword(std::string_view word) {
  constexpr std::string_view kBareKeywords[] = {"password", "passwd", "pass",       "pwd",
                                                "secret",   "token",  "passphrase", "apikey"};
  if (word.size() < 3) return false;
  const char last = Lower(word.back());
  if (last != 'd' && last != 's' && last != 't' && last != 'n' && last != 'e' && last != 'y') {
    return false;
  }
  return std::any_of(std::begin(kBareKeywords), std::end(kBareKeywords),
                     [&](std::string_view k) { return EndsWithIgnoreCase(word, k); });
}

// A value after a bare secret word ("password S3cret!", netrc's "password x", a "token<TAB>v"
// pair): 6+ characters with a letter and a digit or symbol.
bool LooksLikeBareValue(std::string_view value) {
  if (value.size() < 6) return false;
  uint32_t any = 0;
  for (char c : value) any |= kCharClasses[static_cast<uint8_t>(c)];
  return (any & kLetter) != 0 && (any & ~(kLetter | kUpper | kLower | kKeyChar)) != 0;
}

// --- key=value, key: value, key := value, <key>value</key>, ("key", "value"), --key value --------

// Adds the value at `begin` of a key of `strength` (a weak key only when the value looks like a
// secret); returns the end of the value, or 0 when nothing was redacted.
size_t RedactValueAt(std::string_view text, size_t begin, KeyStrength strength, Spans& spans) {
  size_t value_begin;
  size_t value_end;
  ValueRange(text, begin, &value_begin, &value_end);
  if (value_end <= value_begin) return 0;
  if (strength == KeyStrength::kWeak &&
      !LooksLikeSecretValue(text.substr(value_begin, value_end - value_begin))) {
    return 0;
  }
  AddSpan(spans, value_begin, value_end, Rule::kSecretKeyValue);
  return value_end;
}

// A separator ('=' or ':', or the '>' of "->") at `i`: finds the key before it, allowing the
// compound assignments ":=", "::=", "?=", ".=", "+=", "=>", "->", blanks around them, and a quoted
// or subscripted key ("'k' =", ["k"] =).
size_t ScanSeparatorAt(std::string_view text, size_t i, size_t& floor, Spans& spans) {
  const char c = text[i];
  size_t key_end = i;
  const auto compound = [c](char x) {
    return x == ':' || x == '?' || x == '.' || x == '+' || x == '!' || (x == '-' && c == '>');
  };
  for (int seps = 0; seps < 2 && key_end > floor && compound(text[key_end - 1]); ++seps) --key_end;
  // "key = value" with a few blanks around the separator, as in INI and shell configs.
  for (int blanks = 0;
       blanks < 8 && key_end > floor && (text[key_end - 1] == ' ' || text[key_end - 1] == '\t');
       ++blanks) {
    --key_end;
  }
  if (key_end > floor && text[key_end - 1] == ']') --key_end;
  const bool quoted = key_end > floor && IsQuote(text[key_end - 1]);
  if (quoted) --key_end;
  size_t key_begin = key_end;
  while (key_begin > floor && key_end - key_begin < kMaxKeyScan && IsKeyChar(text[key_begin - 1])) {
    --key_begin;
  }
  if (key_begin == key_end) return i + 1;
  if (c == ':' && StartsWith(text, i + 1, "//")) return i + 1;  // a URL scheme
  std::string_view key = Slice(text, key_begin, key_end);
  // "password_policy.go:42" is a file and line, not a key; dotted keys need '=' or quotes.
  if (c == ':' && !quoted && key.find('.') != std::string_view::npos) return i + 1;
  // "/usr/local/bin:/usr/bin" (PATH and other colon-separated path lists): a path segment.
  if (c == ':' && !quoted && key_begin > 0 && text[key_begin - 1] == '/') return i + 1;
  const bool authorization = EndsWithIgnoreCase(key, "authorization");
  const KeyStrength strength = authorization ? KeyStrength::kStrong : SecretKeyStrength(key);
  if (strength == KeyStrength::kNone) return i + 1;
  size_t after = i + 1;
  for (int seps = 0; seps < 2 && after < text.size() && c != '>' &&
                     (text[after] == '=' || text[after] == ':' || text[after] == '>');
       ++seps) {
    ++after;
  }
  size_t begin = SkipBlanks(text, after);
  if (begin < text.size() && IsQuote(text[begin]) && authorization) ++begin;
  size_t end;
  if (authorization) {
    end = RedactAuthorizationValue(text, begin, spans);
  } else if (IsCookieKey(key) && c == ':') {
    // A Cookie header carries many name=value pairs: all of them, to the end of the line.
    end = RunEnd(text, begin, [](char x) { return x != '\n' && x != '\r'; });
    AddSpan(spans, begin, end, Rule::kSecretKeyValue);
  } else {
    end = RedactValueAt(text, begin, strength, spans);
    if (end == 0) return i + 1;
  }
  floor = std::max(floor, end);
  return std::max(i + 1, end);
}

// The '>' closing an XML start tag at `i`: <password>value</password>, the value to the next '<'
// (blanks and line breaks around it are not part of it).
size_t ScanXmlValueAt(std::string_view text, size_t i, size_t& floor, Spans& spans) {
  size_t tag_begin = i;
  while (tag_begin > floor && i - tag_begin < kMaxKeyScan && IsKeyChar(text[tag_begin - 1])) {
    --tag_begin;
  }
  if (tag_begin == i || tag_begin == 0 || text[tag_begin - 1] != '<') return i + 1;
  const KeyStrength strength = SecretKeyStrength(Slice(text, tag_begin, i));
  if (strength == KeyStrength::kNone) return i + 1;
  const size_t begin = RunEnd(text, i + 1, IsSpace);
  size_t end = text.find('<', begin);
  if (end == std::string_view::npos) end = text.size();
  const size_t next = end;
  while (end > begin && IsSpace(text[end - 1])) --end;
  if (end == begin) return i + 1;
  if (strength == KeyStrength::kWeak && !LooksLikeSecretValue(text.substr(begin, end - begin))) {
    return i + 1;
  }
  AddSpan(spans, begin, end, Rule::kSecretKeyValue);
  floor = std::max(floor, end);
  return next;
}

// The ',' of a quoted pair of arguments at `i`: setProperty("DB_PASSWORD", "v"), put('token', 'v'),
// ("password", "v").
size_t ScanArgumentPairAt(std::string_view text, size_t i, size_t& floor, Spans& spans) {
  if (i == 0 || !IsQuote(text[i - 1])) return i + 1;
  const char quote = text[i - 1];
  const size_t key_end = i - 1;
  size_t key_begin = key_end;
  while (key_begin > floor && key_end - key_begin < kMaxKeyScan && IsKeyChar(text[key_begin - 1])) {
    --key_begin;
  }
  if (key_begin == key_end || key_begin == 0 || text[key_begin - 1] != quote) return i + 1;
  const KeyStrength strength = SecretKeyStrength(text.substr(key_begin, key_end - key_begin));
  if (strength == KeyStrength::kNone) return i + 1;
  const size_t begin = SkipBlanks(text, i + 1);
  if (begin >= text.size() || !IsQuote(text[begin])) return i + 1;
  const size_t end = RedactValueAt(text, begin, strength, spans);
  if (end == 0) return i + 1;
  floor = std::max(floor, end);
  return end;
}

// The word after the blank at `i` when it is "-p" with a password attached: "-pS3cret" after
// mysql, 7z or rar; with no such program, only when the rest looks like a password. (Every
// attached flag of kProgramFlags is 'p'.)
size_t ScanAttachedFlagAt(std::string_view text, size_t i, size_t& floor, Spans& spans,
                          ProgramScan& programs) {
  if (i + 3 >= text.size() || text[i + 1] != '-' || text[i + 2] != 'p') return i + 1;
  const size_t word_begin = i + 1;
  size_t end = RunEnd(text, word_begin, [](char x) { return !IsSpace(x) && !IsQuote(x); });
  const std::string_view rest = text.substr(i + 3, end - (i + 3));
  if (rest.empty() || rest[0] == '-') return i + 1;
  const ProgramFlags* program = ProgramBefore(text, i, programs);
  const bool known =
      program != nullptr && program->attached.find(text[i + 2]) != std::string_view::npos;
  if (!known && !(text[i + 2] == 'p' && LooksLikeAttachedPassword(rest))) return i + 1;
  AddSpan(spans, i + 3, end, Rule::kSecretKeyValue);
  floor = std::max(floor, end);
  return end;
}

// A blank at `i`: the word before it may be a flag or a key whose value follows ("--password v",
// "-a v" after redis-cli, "token<TAB>v"); the word after it may be a flag with an attached
// password.
size_t ScanBlankAt(std::string_view text, size_t i, size_t& floor, Spans& spans,
                   ProgramScan& programs) {
  const char c = text[i];
  const bool same_line = c == ' ' || c == '\t' || c == '\0';
  if (i > floor && IsKeyChar(text[i - 1]) && same_line) {
    size_t key_begin = i;
    while (key_begin > floor && i - key_begin < kMaxKeyScan && IsKeyChar(text[key_begin - 1])) {
      --key_begin;
    }
    const bool word_start =
        key_begin == 0 || IsSpace(text[key_begin - 1]) || IsQuote(text[key_begin - 1]);
    const std::string_view word = Slice(text, key_begin, i);
    // Which kind of pair this can be, decided on the word alone before the value is looked at.
    enum { kNoPair, kShortFlag, kLongFlag, kBareKey } kind = kNoPair;
    if (word_start && word[0] == '-') {
      if (word.size() == 2 && IsAlpha(word[1])) {
        if (kSeparateFlagLetters.find(word[1]) != std::string_view::npos) kind = kShortFlag;
      } else {
        kind = kLongFlag;
      }
    } else if (word_start && IsAlpha(word[0]) && (c == '\t' || EndsWithBareKeyword(word))) {
      kind = kBareKey;
    }
    const size_t begin = kind == kNoPair ? i : SkipBlanks(text, i + 1);
    const size_t value_end = RunEnd(text, begin, [](char x) { return !IsSpace(x); });
    const std::string_view value = Slice(text, begin, value_end);
    size_t end = 0;
    if (kind == kShortFlag && !value.empty()) {
      // "-a v": a short flag that takes a password in the program before it.
      const ProgramFlags* program = ProgramBefore(text, key_begin, programs);
      if (program != nullptr && program->separate.find(word[1]) != std::string_view::npos) {
        if (word[1] == 'u' || word[1] == 'U') {
          const size_t sep = value.find(word[1] == 'u' ? ':' : '%');
          if (sep != std::string_view::npos && sep + 1 < value.size()) {
            AddSpan(spans, begin + sep + 1, value_end, Rule::kSecretKeyValue);
            end = value_end;
          }
        } else if (!(IsDigit(value[0]) && value.find(':') != std::string_view::npos)) {
          // (not "-p 8080:80", a port mapping of docker run)
          end = RedactValueAt(text, begin, KeyStrength::kStrong, spans);
        }
      }
    } else if (kind == kLongFlag && !value.empty()) {
      // "--key value": a flag naming a secret, then a value that is not itself a flag.
      const size_t dashes = word.size() > 1 && word[1] == '-' ? 2 : 1;
      const std::string_view name = word.substr(dashes);
      if (!name.empty() && IsAlpha(name[0]) && !IsFlagLike(value)) {
        const KeyStrength strength = SecretKeyStrength(name);
        if (strength != KeyStrength::kNone) end = RedactValueAt(text, begin, strength, spans);
      }
    } else if (kind == kBareKey && !value.empty() && value[0] != '-') {
      // "password S3cret!" (netrc), "token<TAB>value", "ENCRYPTION_KEY<TAB>value".
      const KeyStrength strength = SecretKeyStrength(word);
      if (strength != KeyStrength::kNone &&
          (c == '\t' || (strength == KeyStrength::kStrong && LooksLikeBareValue(value)))) {
        end = RedactValueAt(text, begin, strength, spans);
      }
    }
    if (end > 0) {
      floor = std::max(floor, end);
      return std::max(i + 1, end);
    }
  }
  return ScanAttachedFlagAt(text, i, floor, spans, programs);
}

// Looks for a secret key/value pair around the trigger byte at `i` (a separator or a blank);
// `floor` is the end of the last value redacted (keys never extend into it). Returns the first
// position worth looking at next.
size_t ScanKeyValueAt(std::string_view text, size_t i, size_t& floor, Spans& spans,
                      ProgramScan& programs) {
  switch (text[i]) {
    case '=':
    case ':':
      return ScanSeparatorAt(text, i, floor, spans);
    case '>':
      if (i > 0 && text[i - 1] == '-') return ScanSeparatorAt(text, i, floor, spans);
      return ScanXmlValueAt(text, i, floor, spans);
    case ',':
      return ScanArgumentPairAt(text, i, floor, spans);
    default:
      return ScanBlankAt(text, i, floor, spans, programs);
  }
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

// --- PII (RedactionPolicy::pii) ------------------------------------------------------------------

// The PII scanners run from the trigger pass below (DetectAtTriggers), which already looks up each
// byte's class and skips words in a tight loop: a number, an IBAN or an IPv6 address starts a
// word and is judged first by the word's length and the byte after it (MatchWordAt); an e-mail
// address is found from its '@', an international phone number from its '+', a North American
// one written "(NXX) …" from its '(', and an IPv6 address written "::…" or a tel: URI from a ':'
// (MatchPunctuationAt). Each scanner reads a bounded stretch from its trigger (an address's 64 +
// 253 bytes, a number's 19 digits and separators, an IPv6 address's 45 characters and zone, a
// tel: number's 64) and matches resume after the last one, so the pass stays linear.

bool IsWordByte(char c) { return IsAlnum(c) || c == '_'; }

// RunEnd reading at most `limit` bytes: a run longer than any the caller accepts stops there.
template <typename Pred>
size_t RunEndWithin(std::string_view text, size_t pos, size_t limit, Pred pred) {
  const size_t stop = std::min(text.size(), pos + limit);
  while (pos < stop && pred(text[pos])) ++pos;
  return pos;
}

// True if a number starting at `i` can stand alone: it does not continue a decimal or dotted
// number ("3.4111…", "10.4111…") or a number joined with '-' ("2026-4111…").
bool StartsNumber(std::string_view text, size_t i) {
  if (i == 0) return true;
  const char prev = text[i - 1];
  if (IsWordByte(prev)) return false;
  return !((prev == '.' || prev == '-') && i >= 2 && IsDigit(text[i - 2]));
}

// True if a number ending at `end` is not continued by a word or by a decimal/dotted/dashed number.
bool EndsNumber(std::string_view text, size_t end) {
  if (end == text.size()) return true;
  const char next = text[end];
  if (IsWordByte(next)) return false;
  return !((next == '.' || next == ',' || next == '-') && end + 1 < text.size() &&
           IsDigit(text[end + 1]));
}

// --- email

constexpr size_t kMaxEmailLocalPart = 64;  // RFC 5321 4.5.3.1.1
constexpr size_t kMaxDomainLabel = 63;     // RFC 1035 2.3.4
constexpr size_t kMaxDomain = 253;

// Last labels of names that are files or systemd units, not mail domains ("icon@2x.png",
// "getty@tty1.service", "user@1000.service"); none of them is a delegated top-level domain.
constexpr std::string_view kFileSuffixes[] = {
    "png",   "jpg",    "jpeg",  "gif",   "svg",  "webp", "ico",     "bmp",       "tiff",
    "pdf",   "txt",    "log",   "json",  "yaml", "yml",  "xml",     "html",      "htm",
    "css",   "js",     "jar",   "war",   "tar",  "gz",   "tgz",     "bz2",       "xz",
    "conf",  "cfg",    "ini",   "lock",  "pid",  "sock", "service", "socket",    "slice",
    "scope", "target", "mount", "timer", "path", "swap", "device",  "automount",
};

bool IsFileSuffix(std::string_view label) {
  return std::any_of(std::begin(kFileSuffixes), std::end(kFileSuffixes), [&](std::string_view s) {
    return s.size() == label.size() && StartsWithIgnoreCase(label, 0, s);
  });
}

// The address whose '@' is at `at`: returns [begin, end) through the arguments, or false.
bool MatchEmailAt(std::string_view text, size_t at, size_t* begin, size_t* end) {
  // Local part, scanned back (bounded): a dot-atom; a run longer than 64 is not an address.
  const size_t floor = at > kMaxEmailLocalPart + 1 ? at - kMaxEmailLocalPart - 1 : 0;
  size_t local = at;
  while (local > floor && HasClass(text[local - 1], kEmailLocal)) --local;
  if (at - local > kMaxEmailLocalPart) return false;
  // Dot-atom: no dot at either end, no two in a row (the address starts after "..").
  for (size_t k = at; k > local + 1; --k) {
    if (text[k - 1] == '.' && text[k - 2] == '.') {
      local = k - 1;
      break;
    }
  }
  while (local < at && text[local] == '.') ++local;
  if (local == at || text[at - 1] == '.') return false;
  // Domain: LDH labels of 1..63 characters without a '-' at either end, separated by single dots;
  // it ends at the last label (of two or more) that is a top-level domain of 2+ letters.
  size_t pos = at + 1;
  size_t labels = 0;
  size_t domain_end = 0;
  std::string_view tld;
  while (pos < text.size() && pos - at <= kMaxDomain) {
    const size_t label_end =
        RunEndWithin(text, pos, kMaxDomainLabel + 1, [](char x) { return HasClass(x, kLdh); });
    const size_t length = label_end - pos;
    if (length == 0 || length > kMaxDomainLabel || text[pos] == '-' || text[label_end - 1] == '-') {
      break;
    }
    ++labels;
    const std::string_view label = Slice(text, pos, label_end);
    if (labels >= 2 && length >= 2 &&
        std::all_of(label.begin(), label.end(), [](char x) { return IsAlpha(x); })) {
      domain_end = label_end;
      tld = label;
    }
    if (label_end + 1 < text.size() && text[label_end] == '.' && IsAlnum(text[label_end + 1])) {
      pos = label_end + 1;
    } else {
      break;
    }
  }
  if (domain_end == 0 || domain_end - at - 1 > kMaxDomain || IsFileSuffix(tld)) return false;
  *begin = local;
  *end = domain_end;
  return true;
}

// --- card-number

// A card network's issuer identification number range (ISO/IEC 7812; the networks' published
// ranges) and the lengths its card numbers have.
struct CardRange {
  uint32_t low;
  uint32_t high;
  uint8_t prefix_digits;
  uint8_t min_length;
  uint8_t max_length;
};

// clang-format off
constexpr CardRange kCardRanges[] = {
    {4, 4, 1, 13, 19},                                        // Visa
    {51, 55, 2, 16, 16}, {2221, 2720, 4, 16, 16},             // Mastercard
    {34, 34, 2, 15, 15}, {37, 37, 2, 15, 15},                 // American Express
    {6011, 6011, 4, 16, 19}, {644, 649, 3, 16, 19}, {65, 65, 2, 16, 19},  // Discover
    {3528, 3589, 4, 16, 19},                                  // JCB
    {300, 305, 3, 14, 19}, {3095, 3095, 4, 14, 19},           // Diners Club International
    {36, 36, 2, 14, 19}, {38, 39, 2, 14, 19},
    {62, 62, 2, 16, 19},                                      // UnionPay
    {50, 50, 2, 13, 19}, {56, 69, 2, 13, 19},                 // Maestro
};
// clang-format on
constexpr size_t kMinCardDigits = 13;
constexpr size_t kMaxCardDigits = 19;

bool PassesLuhn(const char* digits, size_t count) {
  uint32_t sum = 0;
  for (size_t k = 0; k < count; ++k) {
    uint32_t d = static_cast<uint32_t>(digits[count - 1 - k] - '0');
    if (k % 2 == 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 == 0;
}

bool IsCardNumber(const char* digits, size_t count) {
  uint32_t prefix[5] = {0, 0, 0, 0, 0};  // prefix[k]: the first k digits as a number
  for (size_t k = 1; k <= 4; ++k) {
    prefix[k] = prefix[k - 1] * 10 + static_cast<uint32_t>(digits[k - 1] - '0');
  }
  for (const CardRange& range : kCardRanges) {
    const uint32_t p = prefix[range.prefix_digits];
    if (p >= range.low && p <= range.high && count >= range.min_length &&
        count <= range.max_length) {
      return PassesLuhn(digits, count);
    }
  }
  return false;
}

// A card number starting at `i`: 13-19 contiguous digits, or groups separated by single spaces or
// single dashes (one kind per number): a first group of 4, middle groups of 4-6 (4-4-4-4, Amex
// 4-6-5, Diners 4-6-4), a last group of 2-7. The longest grouping that is a card number wins (a CVV
// written after the number may go with it). Returns the end, or 0.
size_t MatchCardAt(std::string_view text, size_t i) {
  const size_t n = text.size();
  const size_t first = RunEndWithin(text, i, kMaxCardDigits + 1, IsDigit) - i;
  if (first >= kMinCardDigits) {
    if (first > kMaxCardDigits || !EndsNumber(text, i + first)) return 0;
    return IsCardNumber(text.data() + i, first) ? i + first : 0;
  }
  if (first != 4 || i + 5 >= n) return 0;
  const char separator = text[i + 4];
  if (separator != ' ' && separator != '-') return 0;
  char digits[kMaxCardDigits];
  std::memcpy(digits, text.data() + i, 4);
  size_t count = 4;
  size_t best = 0;
  for (size_t p = i + 4; p + 1 < n && text[p] == separator && IsDigit(text[p + 1]);) {
    const size_t group_end = RunEndWithin(text, p + 1, 8, IsDigit);
    const size_t length = group_end - p - 1;
    if (length < 2 || length > 7 || count + length > kMaxCardDigits) break;
    std::memcpy(digits + count, text.data() + p + 1, length);
    count += length;
    p = group_end;
    const bool ends = p == n || !(IsWordByte(text[p]) || ((text[p] == '.' || text[p] == ',') &&
                                                          p + 1 < n && IsDigit(text[p + 1])));
    if (count >= kMinCardDigits && ends && IsCardNumber(digits, count)) best = p;
    if (length < 4 || length > 6) break;  // only a last group may be shorter or longer
  }
  return best;
}

// --- iban

constexpr size_t kCountryCodes = size_t{26} * 26;

// IBAN lengths by country (SWIFT's IBAN registry, ISO 13616), indexed by (letter1 - 'A') * 26 +
// (letter2 - 'A'); 0 for a country that has no IBAN.
constexpr std::array<uint8_t, kCountryCodes> MakeIbanLengths() {
  constexpr struct {
    const char* country;
    uint8_t length;
  } kRegistry[] = {
      {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
      {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22},
      {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20},
      {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22},
      {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HN", 28}, {"HR", 21},
      {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30},
      {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
      {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20},
      {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23},
      {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22},
      {"RU", 33}, {"SA", 24}, {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24},
      {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26},
      {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
  };
  std::array<uint8_t, kCountryCodes> table{};
  for (const auto& row : kRegistry) {
    table[static_cast<size_t>(row.country[0] - 'A') * 26 +
          static_cast<size_t>(row.country[1] - 'A')] = row.length;
  }
  return table;
}
constexpr std::array<uint8_t, kCountryCodes> kIbanLengths = MakeIbanLengths();
constexpr size_t kMaxIbanLength = 34;

// ISO 13616 check: the IBAN with its first four characters moved to the end, letters as 10..35,
// is 1 modulo 97.
bool PassesIbanCheck(const char* chars, size_t count) {
  uint32_t remainder = 0;
  for (size_t k = 0; k < count; ++k) {
    const char c = chars[(k + 4) % count];
    remainder = IsDigit(c) ? (remainder * 10 + static_cast<uint32_t>(c - '0')) % 97
                           : (remainder * 100 + static_cast<uint32_t>(c - 'A' + 10)) % 97;
  }
  return remainder == 1;
}

// An IBAN starting at `i` (a word start): the country's length of upper-case letters and digits,
// contiguous or in groups of four separated by single spaces (the last group 1-4). Returns the end,
// or 0.
size_t MatchIbanAt(std::string_view text, size_t i) {
  const size_t n = text.size();
  if (n - i < 15 || !IsUpper(text[i + 1]) || !IsDigit(text[i + 2]) || !IsDigit(text[i + 3])) {
    return 0;
  }
  const size_t length = kIbanLengths[static_cast<size_t>(text[i] - 'A') * 26 +
                                     static_cast<size_t>(text[i + 1] - 'A')];
  if (length == 0) return 0;
  const auto iban_char = [](char x) { return HasClass(x, kUpperDigit); };
  char chars[kMaxIbanLength];
  size_t count = 0;
  size_t p = i;
  while (p < n && p - i <= length && iban_char(text[p])) ++p;
  if (p - i == length) {
    std::memcpy(chars, text.data() + i, length);
    count = length;
  } else if (p - i == 4 && p < n && text[p] == ' ') {
    std::memcpy(chars, text.data() + i, 4);
    count = 4;
    while (count < length && p + 1 < n && text[p] == ' ') {
      size_t q = p + 1;
      while (q < n && q - p <= 4 && iban_char(text[q])) ++q;
      const size_t group = q - p - 1;
      if (group == 0 || group > 4 || count + group > length ||
          (group < 4 && count + group != length)) {
        return 0;
      }
      std::memcpy(chars + count, text.data() + p + 1, group);
      count += group;
      p = q;
    }
    if (count != length) return 0;
  } else {
    return 0;
  }
  if (p < n && IsWordByte(text[p])) return 0;
  return PassesIbanCheck(chars, count) ? p : 0;
}

// --- phone-number

// A North American exchange or area code at `p`: NXX with N in 2-9, and not an N11 service code.
bool IsNxx(std::string_view text, size_t p) {
  return p + 3 <= text.size() && text[p] >= '2' && text[p] <= '9' && IsDigit(text[p + 1]) &&
         IsDigit(text[p + 2]) && !(text[p + 1] == '1' && text[p + 2] == '1') &&
         (p + 3 == text.size() || !IsDigit(text[p + 3]));
}

// A North American number at `i`: "(NXX) NXX-XXXX" (the blank optional; '-', '.' or ' ' before the
// last four), "NXX-NXX-XXXX", "NXX.NXX.XXXX", each optionally after a trunk "1" and a separator.
// Returns the end, or 0.
size_t MatchNanpAt(std::string_view text, size_t i) {
  const size_t n = text.size();
  size_t p = i;
  if (text[p] == '1' && p + 2 < n &&
      (text[p + 1] == '-' || text[p + 1] == '.' || text[p + 1] == ' ')) {
    p += 2;
  }
  char separator;
  if (text[p] == '(') {
    if (!IsNxx(text, p + 1) || p + 4 >= n || text[p + 4] != ')') return 0;
    p += 5;
    if (p < n && text[p] == ' ') ++p;
    if (!IsNxx(text, p) || p + 3 >= n) return 0;
    separator = text[p + 3];
    if (separator != '-' && separator != '.' && separator != ' ') return 0;
    p += 4;
  } else {
    if (!IsNxx(text, p) || p + 3 >= n) return 0;
    separator = text[p + 3];
    if (separator != '-' && separator != '.') return 0;
    p += 4;
    if (!IsNxx(text, p) || p + 3 >= n || text[p + 3] != separator) return 0;
    p += 4;
  }
  const size_t line_end = RunEndWithin(text, p, 5, IsDigit);
  if (line_end - p != 4 || !EndsNumber(text, line_end)) return 0;
  return line_end;
}

constexpr size_t kMinPhoneDigits = 8;   // E.164 numbers are 8-15 digits long with the country code
constexpr size_t kMaxPhoneDigits = 15;  // ITU-T E.164 section 6.1

// An international number at the '+' at `i`: a country code's first digit (1-9), then 8-15 digits
// in all, in groups separated by single ' ', '-' or '.', or parenthesized ("+44 (0)20 7946 0958",
// "+1 (415) 555-2671"), ending before a group that would make it longer. Four dot-separated groups
// of up to three digits are an IPv4 address and a 4-2-2 dash grouping a date, not numbers. Returns
// the end, or 0.
size_t MatchInternationalPhoneAt(std::string_view text, size_t i) {
  const size_t n = text.size();
  if (i + 1 >= n || text[i + 1] < '1' || text[i + 1] > '9') return 0;
  size_t p = i + 1;
  size_t digits = 0;
  size_t groups = 0;
  size_t end = 0;
  size_t longest_group = 0;
  bool only_dots = true;
  bool only_dashes = true;
  std::array<size_t, 3> first_groups{};
  for (;;) {
    size_t group;
    if (p < n && text[p] == '(') {
      const size_t close = RunEndWithin(text, p + 1, 5, IsDigit);
      group = close - p - 1;
      if (group == 0 || group > 4 || close >= n || text[close] != ')') break;
      p = close + 1;
    } else if (p < n && IsDigit(text[p])) {
      const size_t group_end = RunEndWithin(text, p, kMaxPhoneDigits + 1, IsDigit);
      group = group_end - p;
      p = group_end;
    } else {
      break;
    }
    // A number written after the phone number ("+1 415 555 2671 4111…") is not part of it; a
    // first group of more than 15 digits is no phone number at all.
    if (digits + group > kMaxPhoneDigits) {
      if (groups == 0) return 0;
      break;
    }
    digits += group;
    if (groups < first_groups.size()) first_groups[groups] = group;
    ++groups;
    longest_group = std::max(longest_group, group);
    end = p;
    if (p >= n) break;
    const char c = text[p];
    if (c == '(' || (IsDigit(c) && text[p - 1] == ')')) continue;
    if ((c == ' ' || c == '-' || c == '.') && p + 1 < n &&
        (IsDigit(text[p + 1]) || text[p + 1] == '(')) {
      only_dots &= c == '.';
      only_dashes &= c == '-';
      ++p;
      continue;
    }
    break;
  }
  if (digits < kMinPhoneDigits || (end < n && IsWordByte(text[end]))) return 0;
  if (only_dots && groups == 4 && longest_group <= 3) return 0;
  if (only_dashes && groups == 3 && first_groups[0] == 4 && first_groups[1] == 2 &&
      first_groups[2] == 2) {
    return 0;
  }
  return end;
}

// Words that name a phone number when they end a key: "phone", "Mobile", "tel", "fax",
// "msisdn", and "<one of them or contact/home/work>Number"/"_number" ("phoneNumber", "cell_no").
constexpr std::array<std::string_view, 9> kPhoneKeyWords = {
    "phone", "mobile", "tel", "telephone", "cell", "cellphone", "fax", "msisdn", "handy"};
constexpr std::array<std::string_view, 9> kPhoneKeyQualifiers = {
    "phone", "mobile", "tel", "telephone", "cell", "fax", "contact", "home", "work"};
constexpr size_t kMaxPhoneKeyScan = 48;

// True if the text before `i` (within kMaxPhoneKeyScan bytes) ends with a key naming a phone
// number and an assignment: `phone=`, `"phone": "`, `Mobile: `, `<tel>`, `cell_no = '`. The key's
// last component (split at '_', '-', '.' and camelCase steps) must be a phone word, or "number"/
// "no"/"nr" after one, so "hotel: 2" and "intel=5" do not count.
// True if the key component text[begin, end) is `word` (lower case), ignoring case.
bool ComponentIs(std::string_view text, size_t begin, size_t end, std::string_view word) {
  return end - begin == word.size() && StartsWithIgnoreCase(text, begin, word);
}

template <size_t N>
bool ComponentIn(std::string_view text, size_t begin, size_t end,
                 const std::array<std::string_view, N>& words) {
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view w) { return ComponentIs(text, begin, end, w); });
}

// The start of the key component ending at `end` (letters, back to a non-letter or a camelCase
// step), not before `floor`.
size_t ComponentBegin(std::string_view text, size_t end, size_t floor) {
  size_t begin = end;
  while (begin > floor && IsAlpha(text[begin - 1])) {
    --begin;
    if (IsUpper(text[begin]) && begin > floor && IsLower(text[begin - 1])) break;
  }
  return begin;
}

[[gnu::noinline]] bool PhoneKeyBefore(std::string_view text, size_t i) {
  const size_t floor = i > kMaxPhoneKeyScan ? i - kMaxPhoneKeyScan : 0;
  size_t p = i;
  bool assigned = false;
  while (p > floor) {  // the assignment: quotes, blanks, one of = : > between key and value
    const char c = text[p - 1];
    if (c == '=' || c == ':' || c == '>') {
      if (assigned) return false;
      assigned = true;
    } else if (!(c == ' ' || c == '\t' || c == '"' || c == '\'')) {
      break;
    }
    --p;
  }
  if (!assigned) return false;
  const size_t last_begin = ComponentBegin(text, p, floor);
  if (last_begin == p) return false;
  if (ComponentIn(text, last_begin, p, kPhoneKeyWords)) return true;
  if (!(ComponentIs(text, last_begin, p, "number") || ComponentIs(text, last_begin, p, "no") ||
        ComponentIs(text, last_begin, p, "nr"))) {
    return false;
  }
  // The component before it, across a '_', '-' or '.' or a camelCase step.
  size_t end = last_begin;
  if (end > floor && (text[end - 1] == '_' || text[end - 1] == '-' || text[end - 1] == '.')) --end;
  const size_t begin = ComponentBegin(text, end, floor);
  return begin < end && ComponentIn(text, begin, end, kPhoneKeyQualifiers);
}

// A number in national or international writing after a phone key (PhoneKeyBefore) at `i`: an
// optional '+', then 6-15 digits in groups separated by single ' ', '-', '.' or '/', a group
// optionally parenthesized ("(020) 7946 0958", "0176 12345678", "555-0100"). Returns the end, or 0.
size_t MatchKeyedPhoneAt(std::string_view text, size_t i) {
  const size_t n = text.size();
  size_t p = i;
  if (p < n && text[p] == '+') ++p;
  size_t digits = 0;
  size_t end = 0;
  while (p < n) {
    const bool parenthesized = text[p] == '(';
    const size_t group_begin = parenthesized ? p + 1 : p;
    const size_t group_end = RunEndWithin(text, group_begin, kMaxPhoneDigits + 1, IsDigit);
    if (group_end == group_begin) break;
    if (parenthesized && (group_end >= n || text[group_end] != ')')) break;
    digits += group_end - group_begin;
    if (digits > kMaxPhoneDigits) return 0;
    p = parenthesized ? group_end + 1 : group_end;
    end = p;
    if (p + 1 < n && (text[p] == ' ' || text[p] == '-' || text[p] == '.' || text[p] == '/') &&
        (IsDigit(text[p + 1]) || text[p + 1] == '(')) {
      ++p;
    } else if (!(p < n && text[p] == '(')) {
      break;
    }
  }
  if (digits < 6 || (end < n && (IsWordByte(text[end]) || text[end] == '.'))) return 0;
  return end;
}

constexpr size_t kMaxTelNumber = 64;

// A tel: URI's number (RFC 3966) after the ':' at `colon`: a global "+…" or local number of digits
// (local numbers may hold hex digits, '*' and '#') and the visual separators "-.()", up to its
// parameters (';'), at most 64 characters of it. At least three digits. Returns the end, or 0.
size_t MatchTelUriAt(std::string_view text, size_t colon) {
  const size_t begin = colon + 1;
  const size_t stop = std::min(text.size(), begin + kMaxTelNumber);
  size_t end = begin;
  if (end < stop && text[end] == '+') ++end;
  size_t digits = 0;
  while (end < stop) {
    const char c = text[end];
    if (IsDigit(c)) {
      ++digits;
    } else if (!(HasClass(c, kHex) || c == '*' || c == '#' || c == '-' || c == '.' || c == '(' ||
                 c == ')')) {
      break;
    }
    ++end;
  }
  while (end > begin && (text[end - 1] == '.' || text[end - 1] == '-' || text[end - 1] == '(')) {
    --end;
  }
  return digits >= 3 ? end : 0;
}

// --- ipv4 and ipv6

// A dotted quad at `p` (each part 0-255, no leading zeros); returns its end, or 0.
size_t ParseDottedQuad(std::string_view text, size_t p, std::array<uint32_t, 4>* octets) {
  for (size_t k = 0; k < 4; ++k) {
    if (k > 0) {
      if (p >= text.size() || text[p] != '.') return 0;
      ++p;
    }
    const size_t end = RunEndWithin(text, p, 4, IsDigit);
    if (end == p || end - p > 3 || (end - p > 1 && text[p] == '0')) return 0;
    uint32_t value = 0;
    for (size_t q = p; q < end; ++q) value = value * 10 + static_cast<uint32_t>(text[q] - '0');
    if (value > 255) return 0;
    (*octets)[k] = value;
    p = end;
  }
  return p;
}

// An IPv4 address at `i` (a word start): returns the end of what was read (an exempt address is
// read and not redacted), or 0.
size_t MatchIpv4At(std::string_view text, size_t i, Spans& spans) {
  if (i >= 2 && text[i - 1] == '.' && IsAlnum(text[i - 2])) return 0;  // "1.2.3.4.5", an OID
  std::array<uint32_t, 4> octets{};
  const size_t end = ParseDottedQuad(text, i, &octets);
  if (end == 0) return 0;
  if (end < text.size() && (IsWordByte(text[end]) || (text[end] == '.' && end + 1 < text.size() &&
                                                      IsAlnum(text[end + 1])))) {
    return 0;
  }
  const bool unspecified = (octets[0] | octets[1] | octets[2] | octets[3]) == 0;
  if (!unspecified && octets[0] != 127) AddSpan(spans, i, end, Rule::kIpv4);
  return end;
}

constexpr size_t kMaxIpv6Text = 45;  // "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"

// An IPv6 address (RFC 4291 section 2.2) at `i`: eight groups of 1-4 hex digits, or fewer with one
// "::", the last two groups optionally a dotted quad, then optionally "%zone". Needs a decimal
// digit (so "a::b", "dead::beef" in code are not addresses); eight two-digit groups are an EUI-64
// or MAC address. Returns the end of what was read (an exempt address is read and not redacted),
// or 0.
size_t MatchIpv6At(std::string_view text, size_t i, Spans& spans) {
  const size_t n = text.size();
  const auto address_char = [](char x) { return HasClass(x, kHex) || x == ':' || x == '.'; };
  size_t end = i;
  while (end < n && end - i <= kMaxIpv6Text && address_char(text[end])) ++end;
  if (end - i > kMaxIpv6Text) return 0;
  // Punctuation after the address: a sentence's '.', a "fe80::1:" before a message.
  while (end > i && text[end - 1] == '.') --end;
  if (end - i >= 2 && text[end - 1] == ':' && text[end - 2] != ':') --end;
  if (end < n && IsWordByte(text[end])) return 0;
  std::array<uint32_t, 8> groups{};
  size_t count = 0;
  int compressed_at = -1;
  bool all_two_digit = true;
  bool digit = false;
  size_t p = i;
  if (StartsWith(text, p, "::")) {
    compressed_at = 0;
    p += 2;
  }
  while (p < end) {
    const size_t group_end = RunEndWithin(text, p, 5, [](char x) { return HasClass(x, kHex); });
    if (group_end < end && text[group_end] == '.') {  // an embedded IPv4 address ends it
      std::array<uint32_t, 4> octets{};
      if (count > 6 || ParseDottedQuad(text, p, &octets) != end) return 0;
      groups[count++] = octets[0] << 8 | octets[1];
      groups[count++] = octets[2] << 8 | octets[3];
      digit = true;
      break;
    }
    const size_t length = group_end - p;
    if (length == 0 || length > 4 || count == 8) return 0;
    uint32_t value = 0;
    for (size_t q = p; q < group_end; ++q) {
      const char c = text[q];
      digit |= IsDigit(c);
      value = value << 4 | static_cast<uint32_t>(IsDigit(c) ? c - '0' : Lower(c) - 'a' + 10);
    }
    groups[count++] = value;
    all_two_digit &= length == 2;
    p = group_end;
    if (p == end) break;
    if (text[p] != ':') return 0;
    ++p;
    if (p < end && text[p] == ':') {
      if (compressed_at >= 0) return 0;
      compressed_at = static_cast<int>(count);
      ++p;
    } else if (p == end) {
      return 0;
    }
  }
  if (compressed_at < 0 ? count != 8 : count > 7) return 0;
  if (compressed_at < 0 && all_two_digit) return 0;
  // A zone is an interface name or number (at most 15 bytes on Linux).
  size_t match_end = end;
  if (match_end + 1 < n && text[match_end] == '%' && HasClass(text[match_end + 1], kKeyChar)) {
    match_end = RunEndWithin(text, match_end + 1, 16, IsKeyChar);
  }
  // "::" and "::1" however written: the unspecified and loopback addresses say nothing about
  // anyone.
  std::array<uint32_t, 8> full{};
  const size_t head = compressed_at < 0 ? count : static_cast<size_t>(compressed_at);
  for (size_t k = 0; k < head; ++k) full[k] = groups[k];
  for (size_t k = head; k < count; ++k) full[8 - count + k] = groups[k];
  const bool exempt =
      std::all_of(full.begin(), full.end() - 1, [](uint32_t g) { return g == 0; }) && full[7] <= 1;
  if (!exempt) {
    if (!digit) return 0;
    AddSpan(spans, i, match_end, Rule::kIpv6);
  }
  return match_end;
}

// True if an IPv6 address may start at `i`: not inside a word or a run of colon-separated hex
// groups, but after a label such as "src:" (a word that cannot be a group).
bool MayStartIpv6(std::string_view text, size_t i) {
  if (i == 0) return true;
  const char prev = text[i - 1];
  if (IsWordByte(prev) || prev == '.') return false;
  if (prev != ':') return true;
  size_t word = i - 1;
  while (word > 0 && i - 1 - word <= 4 && IsAlnum(text[word - 1])) --word;
  if (word == i - 1) return false;  // "::" before it
  const std::string_view label = Slice(text, word, i - 1);
  return label.size() > 4 ||
         !std::all_of(label.begin(), label.end(), [](char x) { return HasClass(x, kHex); });
}

// --- dispatch from the trigger pass

// True if a PII scanner may match at the word text[start, start + length) whose first byte is of
// class `cls`, followed by `after` ('\0' at the end): the conditions MatchWordAt's scanners start
// with, decided from the word and the few bytes after it before any of them runs. A card's 13-19
// digits, or its first group of 4 and a second of at least 4; a North American number's area
// code and exchange, or its trunk "1"; an IBAN's country letters and check digits; when `strict`
// an IPv4 address's first part or an IPv6 address's first group.
bool IsPiiWordCandidate(std::string_view text, size_t start, size_t length, uint32_t cls,
                        char after, bool strict) {
  if (strict && length <= 4 && after == ':') return true;
  const auto digit_at = [&](size_t k) { return k < text.size() && IsDigit(text[k]); };
  const char first = text[start];
  if ((cls & kDigit) != 0) {
    if (length >= kMinCardDigits) {
      return length <= kMaxCardDigits && first >= '2' && first <= '6' &&
             IsDigit(text[start + length - 1]);
    }
    switch (length) {
      case 1:
        return (first == '1' && (after == '-' || after == '.' || after == ' ') &&
                (digit_at(start + 2) || (start + 2 < text.size() && text[start + 2] == '('))) ||
               (strict && after == '.');
      case 2:
        return strict && after == '.';
      case 3:
        return ((after == '-' || after == '.') && first >= '2' && digit_at(start + 4) &&
                digit_at(start + 5) && digit_at(start + 6)) ||
               (strict && after == '.');
      case 4:
        return (after == ' ' || after == '-') && first >= '2' && first <= '6' &&
               digit_at(start + 5) && digit_at(start + 6) && digit_at(start + 7) &&
               digit_at(start + 8);
      default:
        return false;
    }
  }
  return (cls & kUpper) != 0 && (length >= 15 || (length == 4 && after == ' ')) &&
         IsUpper(text[start + 1]) && IsDigit(text[start + 2]) && IsDigit(text[start + 3]);
}

// True if a PII scanner may match at the punctuation byte at `i` (of class kPiiPunct): '@'; '+'
// or '(' before a digit; ':' after "tel" or, when `strict`, before another ':'.
bool IsPiiPunctuationCandidate(std::string_view text, size_t i, bool strict) {
  const char next = i + 1 < text.size() ? text[i + 1] : '\0';
  switch (text[i]) {
    case '@':
      return true;
    case '+':
    case '(':
      return IsDigit(next);
    default:  // ':'
      return (strict && next == ':') || (i >= 3 && Lower(text[i - 1]) == 'l');
  }
}

// The PII scanners that can match at the word text[start, word_end) whose first byte is of class
// `cls` (it has kPiiWord, or kPiiHexWord and ':' follows): after IsPiiWordCandidate, a card number,
// a North American phone number or with `strict` an IPv4 address at a word of digits, an IBAN at an
// upper-case word, and with `strict` an IPv6 address at a group of hex digits before ':'. Out of
// line (as MatchPunctuationAt): the trigger pass stays small enough for the compiler to keep the
// secret scanners it calls inlined, so the pass costs what it did without PII. Returns the end of
// what was read, or 0.
[[gnu::noinline]] size_t MatchWordAt(std::string_view text, size_t start, size_t word_end,
                                     uint32_t cls, bool strict, Spans& spans) {
  if (start > 0 && text[start - 1] == '_') return 0;  // inside an identifier
  const size_t length = word_end - start;
  const char after = word_end < text.size() ? text[word_end] : '\0';
  if ((cls & kDigit) != 0 && length <= kMaxPhoneDigits && start > 0 &&
      !IsWordByte(text[start - 1]) && PhoneKeyBefore(text, start)) {
    const size_t end = MatchKeyedPhoneAt(text, start);
    if (end > 0) {
      AddSpan(spans, start, end, Rule::kPhoneNumber);
      return end;
    }
  }
  if (!IsPiiWordCandidate(text, start, length, cls, after, strict)) return 0;
  if ((cls & kDigit) != 0) {
    const char first = text[start];
    if (first >= '2' && first <= '6' &&
        ((length >= kMinCardDigits && length <= kMaxCardDigits) ||
         (length == 4 && (after == ' ' || after == '-'))) &&
        StartsNumber(text, start)) {
      const size_t end = MatchCardAt(text, start);
      if (end > 0) {
        AddSpan(spans, start, end, Rule::kCardNumber);
        return end;
      }
    }
    if (((length == 3 && (after == '-' || after == '.')) ||
         (length == 1 && first == '1' && (after == '-' || after == '.' || after == ' '))) &&
        StartsNumber(text, start)) {
      const size_t end = MatchNanpAt(text, start);
      if (end > 0) {
        AddSpan(spans, start, end, Rule::kPhoneNumber);
        return end;
      }
    }
    if (strict && length <= 3 && after == '.') {
      const size_t end = MatchIpv4At(text, start, spans);
      if (end > 0) return end;
    }
  } else if ((cls & kUpper) != 0 && length >= 4) {
    const size_t end = MatchIbanAt(text, start);
    if (end > 0) {
      AddSpan(spans, start, end, Rule::kIban);
      return end;
    }
  }
  // An IPv6 address's first group: 1-4 hex digits before a ':'.
  if (strict && length <= 4 && after == ':' &&
      std::all_of(text.begin() + static_cast<ptrdiff_t>(start),
                  text.begin() + static_cast<ptrdiff_t>(start + length),
                  [](char x) { return HasClass(x, kHex); }) &&
      MayStartIpv6(text, start)) {
    return MatchIpv6At(text, start, spans);
  }
  return 0;
}

// A trigger byte outside a word at `i` ('@', '+', '(', ':'). Returns the end of what was read, or
// 0.
[[gnu::noinline]] size_t MatchPunctuationAt(std::string_view text, size_t i, bool strict,
                                            Spans& spans) {
  if (!IsPiiPunctuationCandidate(text, i, strict)) return 0;
  const size_t n = text.size();
  const char prev = i > 0 ? text[i - 1] : ' ';
  size_t begin = i;
  size_t end = 0;
  Rule rule = Rule::kPhoneNumber;
  switch (text[i]) {
    case '@':
      if (MatchEmailAt(text, i, &begin, &end)) rule = Rule::kEmail;
      break;
    case '+':
      if (!IsWordByte(prev) && prev != '+' && prev != ')') end = MatchInternationalPhoneAt(text, i);
      break;
    case '(':
      if (!IsWordByte(prev)) end = MatchNanpAt(text, i);
      if (end == 0 && PhoneKeyBefore(text, i)) end = MatchKeyedPhoneAt(text, i);
      break;
    case ':':
      if (i >= 3 && StartsWithIgnoreCase(text, i - 3, "tel") &&
          (i == 3 || !IsWordByte(text[i - 4]))) {
        begin = i + 1;
        end = MatchTelUriAt(text, i);
      } else if (strict && i + 1 < n && text[i + 1] == ':' && !IsWordByte(prev) && prev != ':' &&
                 prev != '.') {
        return MatchIpv6At(text, i, spans);
      }
      break;
  }
  if (end <= begin) return 0;
  AddSpan(spans, begin, end, rule);
  return end;
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
// each byte's class once and hands trigger positions to the three scanners, and with a PII mode
// to the PII scanners too (a word's first byte, '@', '+', '(', ':': the kPiiWord, kPiiHexWord and
// kPiiPunct bits of the mode's class table, which with kNone no byte has). Each scanner keeps its
// own resume position, so a match of one never hides a match of another.
TriggerSightings DetectAtTriggers(std::string_view text, PiiMode pii, Spans& spans) {
  constexpr uint32_t kAlnum = kDigit | kLetter;
  const std::array<uint32_t, 256>& classes = kTriggerClasses[static_cast<size_t>(pii)];
  const bool strict = pii == PiiMode::kStrict;
  TriggerSightings seen;
  size_t token_next = 0;
  size_t bearer_next = 0;
  size_t key_value_next = 0;
  size_t pii_next = 0;
  size_t floor = 0;
  ProgramScan programs;
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t cls = classes[static_cast<uint8_t>(text[i])];
    if ((cls & kAlnum) == 0) {
      if ((cls & kKeyValueStop) != 0) {
        if (text[i] == ':' && StartsWith(text, i + 1, "//")) seen.scheme_separator = true;
        if (i >= key_value_next) {
          key_value_next = ScanKeyValueAt(text, i, floor, spans, programs);
        }
      }
      if ((cls & kPiiPunct) != 0 && i >= pii_next) {
        pii_next = std::max(pii_next, MatchPunctuationAt(text, i, strict, spans));
      }
      continue;
    }
    // text[i] starts a word; the rest of the word (letters and digits) triggers nothing, so it is
    // skipped in a tight loop.
    const size_t start = i;
    while (i + 1 < n && (kCharClasses[static_cast<uint8_t>(text[i + 1])] & kAlnum) != 0) ++i;
    if ((cls & (kTokenFirst | kBearerFirst | kPiiWord | kPiiHexWord)) == 0) continue;
    // Words of 5-12 characters are too long for a group and too short for a card or an IBAN, but
    // may start a national phone number after a phone key ("mobile: 07700 900123").
    if (((cls & kPiiWord) != 0 || ((cls & kPiiHexWord) != 0 && i + 1 < n && text[i + 1] == ':')) &&
        start >= pii_next &&
        (i - start < 4 || i - start >= kMinCardDigits - 1 ||
         ((cls & kDigit) != 0 && PhoneKeyBefore(text, start)))) {
      pii_next = std::max(pii_next, MatchWordAt(text, start, i + 1, cls, strict, spans));
    }
    if ((cls & (kTokenFirst | kBearerFirst)) == 0) continue;
    if ((cls & kTokenFirst) != 0 && start >= token_next && MayStartToken(text, start)) {
      Rule rule;
      std::string_view name;
      const size_t end = MatchTokenAt(text, start, &rule, &name);
      if (end > start) {
        AddNamedSpan(spans, start, end, rule, name);
        token_next = end;
        continue;
      }
    }
    if ((cls & kBearerFirst) == 0) continue;
    // 'B' of "-----BEGIN " starts a word too.
    if (text[start] == 'B' && start >= 5 && StartsWith(text, start - 5, "-----BEGIN ")) {
      seen.pem_begin = true;
    }
    if (start >= bearer_next) bearer_next = ScanBearerAt(text, start, spans);
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

// --- PiiMode -------------------------------------------------------------------------------------

std::string_view PiiModeName(PiiMode mode) {
  switch (mode) {
    case PiiMode::kNone:
      return "none";
    case PiiMode::kStandard:
      return "standard";
    case PiiMode::kStrict:
      return "strict";
  }
  return "unknown";
}

StatusOr<PiiMode> ParsePiiMode(std::string_view name) {
  for (PiiMode mode : {PiiMode::kNone, PiiMode::kStandard, PiiMode::kStrict}) {
    if (name == PiiModeName(mode)) return mode;
  }
  return InvalidArgumentError("pii mode \"" + std::string(name.substr(0, 64)) +
                              "\": must be one of none, standard, strict");
}

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
      uint16_t& cls = m.byte_class[static_cast<uint8_t>(c)];
      if (cls == 0) cls = static_cast<uint16_t>(m.classes++);
    }
  }
  // Trie with -1 for missing edges.
  std::vector<int32_t> trie(m.classes, -1);
  std::vector<int32_t> own_length(1, 0);
  std::vector<int32_t> own_index(1, -1);
  for (size_t index = 0; index < patterns.size(); ++index) {
    const std::string& p = patterns[index];
    int32_t state = 0;
    for (char c : p) {
      const size_t cls = m.byte_class[static_cast<uint8_t>(c)];
      int32_t& edge = trie[state * m.classes + cls];
      if (edge < 0) {
        edge = static_cast<int32_t>(own_length.size());
        own_length.push_back(0);
        own_index.push_back(-1);
        trie.resize(trie.size() + m.classes, -1);
      }
      state = trie[state * m.classes + cls];
    }
    own_length[state] = static_cast<int32_t>(p.size());
    own_index[state] = static_cast<int32_t>(index);
  }
  // Breadth-first: fail links, the complete transition table, and dictionary links.
  const size_t states = own_length.size();
  m.next.assign(states * m.classes, 0);
  m.own_length = own_length;
  m.own_index = std::move(own_index);
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

bool Redactor::IsExemptSecretValue(std::string_view value) {
  if (value.size() < kMinSecretValueBytes) return true;
  return value.size() < kMinDigitSecretValueBytes &&
         std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> Redactor::SecretValuesKept(std::vector<std::string> values) {
  std::erase_if(values, [](const std::string& v) { return IsExemptSecretValue(v); });
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  if (values.size() > kMaxSecretValues) {
    std::stable_sort(values.begin(), values.end(), [](const std::string& a, const std::string& b) {
      return a.size() > b.size();
    });
    values.resize(kMaxSecretValues);
    std::sort(values.begin(), values.end());
  }
  return values;
}

Redactor Redactor::WithSecretValues(const std::vector<std::string>& values) const {
  const std::vector<std::string> kept = SecretValuesKept(values);
  std::vector<std::string> keys;
  keys.reserve(kept.size());
  for (const std::string& v : kept) keys.push_back(v.substr(0, kSecretValueKeyBytes));
  std::map<std::string, size_t> longest;
  for (const std::string& v : kept) {
    size_t& reach = longest[v.substr(0, kSecretValueKeyBytes)];
    reach = std::max(reach, v.size());
  }
  Redactor copy = *this;
  copy.values_ = BuildExtraMatcher(keys);
  copy.secret_value_reach_.clear();
  for (const std::string& key : keys) copy.secret_value_reach_.push_back(longest[key]);
  return copy;
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
  const TriggerSightings seen = DetectAtTriggers(text, policy_.pii, spans);
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

  if (values_.next.size() > values_.classes) {  // at least one secret value
    size_t covered = 0;
    int32_t state = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      state =
          values_.next[state * values_.classes + values_.byte_class[static_cast<uint8_t>(text[i])]];
      for (int32_t s = values_.own_length[state] > 0 ? state : values_.dict_link[state]; s > 0;
           s = values_.dict_link[s]) {
        const size_t begin = i + 1 - static_cast<size_t>(values_.own_length[s]);
        if (i + 1 <= covered) break;
        // A value longer than its key: as far as the longest value with this key reaches, without
        // comparing (linear, and fails closed: at worst a few bytes after a secret's start go too).
        const size_t reach = secret_value_reach_[static_cast<size_t>(values_.own_index[s])];
        const size_t end = std::min(text.size(), begin + reach);
        AddSpan(spans, begin, end, Rule::kSecretValue);
        covered = std::max(covered, end);
      }
    }
  }

  if (spans.empty()) return std::string(text);
  // Merge overlapping matches; each merged match counts once, under its most specific rule.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.rule < b.rule;
  });
  std::map<std::string_view, int> counts;
  std::string out;
  out.reserve(text.size());
  size_t copied = 0;
  for (size_t i = 0; i < spans.size();) {
    Span merged = spans[i];
    size_t j = i + 1;
    for (; j < spans.size() && spans[j].begin < merged.end; ++j) {
      merged.end = std::max(merged.end, spans[j].end);
      if (spans[j].rule < merged.rule) {
        merged.rule = spans[j].rule;
        merged.name = spans[j].name;
      }
    }
    out.append(text.substr(copied, merged.begin - copied));
    out.append("[REDACTED:");
    out.append(merged.name);
    out.push_back(']');
    ++counts[merged.name];
    copied = merged.end;
    i = j;
  }
  out.append(text.substr(copied));
  for (const auto& [name, count] : counts) report.patterns_matched[std::string(name)] += count;
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
