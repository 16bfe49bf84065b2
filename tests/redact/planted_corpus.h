// A planted corpus for the redactor, generated from credential formats' specifications with
// random bodies (never a list of known answers), and the syntaxes secrets are written in. Shared by
// the detection-rate test (tests/redact/redactor_formats_test.cc) and the benchmark
// (bench/redact_bench.cc), which both report the share of planted secrets that leak.
//
// The token specifications are written from the providers' documentation, independently of the
// redactor's table (kTokenRules), so a wrong row in the table fails instead of agreeing with it.
#ifndef EPHEMERA_TESTS_REDACT_PLANTED_CORPUS_H_
#define EPHEMERA_TESTS_REDACT_PLANTED_CORPUS_H_

#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ephemera::redact::corpus {

constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kLowerHex = "0123456789abcdef";
constexpr std::string_view kUpperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
constexpr std::string_view kPasswordChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%*+-._~";
constexpr std::string_view kLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kUpperHex = "0123456789ABCDEF";
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
// A Doppler config slug ("dev", "prd_eu-1").
constexpr std::string_view kSlug = "abcdefghijklmnopqrstuvwxyz0123456789-_";

class Random {
 public:
  explicit Random(uint32_t seed) : rng_(seed) {}
  std::string Chars(std::string_view alphabet, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out.push_back(alphabet[Uniform(alphabet.size())]);
    return out;
  }
  // A password as people choose them: letters, a digit somewhere, sometimes a symbol.
  std::string Password() {
    std::string p = Chars(kPasswordChars, 8 + Uniform(10));
    p[Uniform(p.size())] = kDigits[Uniform(10)];
    if (p[0] == '-' || p[0] == '.') p[0] = 'Q';  // a leading '-' is tested on its own
    return p;
  }
  size_t Uniform(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

 private:
  std::mt19937 rng_;
};

// --- assignment syntaxes -------------------------------------------------------------------------

// Each syntax writes key K with value V; "%K" and "%V" are replaced.
constexpr std::string_view kSyntaxes[] = {
    "%K=%V",
    "%K = %V",
    "%K=\"%V\"",
    "%K: %V",
    "%K := \"%V\"",
    "%K ?= \"%V\"",
    "%K ::= %V",
    "$%K .= \"%V\";",
    "%K += %V",
    "'%K' => '%V',",
    "\"%K\" => \"%V\"",
    "%K -> %V",
    "System.setProperty(\"%K\", \"%V\");",
    "put('%K', '%V')",
    "<%K>%V</%K>",
    "<%K>\n    %V\n</%K>",
    "{\"%K\": \"%V\", \"user\": \"bob\"}",
    "{\"%K\":\"%V\"}",
    "  %K: \"%V\"",
    "%K = '%V'  # toml",
    "[db]\n%K=%V\n",
    "export %K=%V",
    "--%K=%V",
    "--%K %V",
    "os.environ[\"%K\"] = \"%V\"",
    "%K\t%V",
    "-D%K=%V",
};

constexpr std::string_view kSecretKeys[] = {
    "DB_PASSWORD",  "dbPassword",    "db-password",      "password",
    "PASSWD",       "DB_PASS",       "dbPass",           "MYSQL_PWD",
    "Pwd",          "db_pw",         "passphrase",       "requirepass",
    "API_TOKEN",    "apiToken",      "planetScaleToken", "hubspotToken",
    "shippo_TOKEN", "sumo_TOKEN",    "client_secret",    "clientSecret",
    "AWS_SECRET",   "apikey",        "X-Api-Key",        "ENCRYPTION_KEY",
    "signingKey",   "AccountKey",    "privateKey",       "STRIPE_API_KEY",
    "DO_TOKEN",     "refresh_token", "GH_AUTH",          "Credentials",
    "session_id",   "masterauth",    "storepass",
};

inline std::string Fill(std::string_view syntax, std::string_view key, std::string_view value) {
  std::string out;
  for (size_t i = 0; i < syntax.size(); ++i) {
    if (syntax[i] == '%' && i + 1 < syntax.size() &&
        (syntax[i + 1] == 'K' || syntax[i + 1] == 'V')) {
      out += syntax[i + 1] == 'K' ? key : value;
      ++i;
    } else {
      out.push_back(syntax[i]);
    }
  }
  return out;
}

// A later part of a structured body (Dynatrace's ".<secret>", a UUID's "-xxxx"): a literal
// separator, then `length` characters of `alphabet` (0 for a literal-only part, like
// Flutterwave's trailing "-X").
struct BodyPart {
  std::string_view separator;
  std::string_view alphabet;
  size_t length;
  size_t min_length = 0;  // the documented minimum; 0 where the provider documents none
};

struct TokenSpec {
  std::string_view rule;
  std::string prefix;
  std::string_view alphabet;
  size_t length;  // of the body (of its first part when `more` follows)
  std::vector<BodyPart> more = {};
  // The documented minimum of the first part; 0 where the provider documents no length (the
  // length is then what real tokens show, and no "too short" case can be derived from it).
  size_t min_length = 0;
};

// True when every part of the spec's body has a documented minimum length.
inline bool HasDocumentedLength(const TokenSpec& spec) {
  if (spec.min_length == 0) return false;
  for (const BodyPart& part : spec.more) {
    if (part.length > 0 && part.min_length == 0) return false;
  }
  return true;
}

// From each provider's documentation of its token format (prefix, alphabet, body length), or,
// where a provider documents only the prefix, from the shape its real tokens have.
inline std::vector<TokenSpec> TokenSpecs() {
  // A UUID body (8-4-4-4-12 lower-case hex): its length is fixed by the format.
  const std::vector<BodyPart> kUuidTail = {{"-", kLowerHex, 4, 4},
                                           {"-", kLowerHex, 4, 4},
                                           {"-", kLowerHex, 4, 4},
                                           {"-", kLowerHex, 12, 12}};
  // Slack's legacy token shape, as its token-rotation docs show a token:
  // xoxp-<team>-<user>-<number>-<32-character secret>.
  const std::vector<BodyPart> kSlackLegacyTail = {
      {"-", kDigits, 11}, {"-", kDigits, 12}, {"-", kLowerAlnum, 32}};
  return {
      {"aws-access-key", "AKIA", kUpperDigits, 16},
      {"aws-access-key", "ASIA", kUpperDigits, 16},
      {"gcp-api-key", "AIza", kBase64Url, 35},
      {"gcp-oauth-secret", "GOCSPX-", kBase64Url, 28},
      {"github-token", "ghp_", kAlnum, 36},
      {"github-token", "gho_", kAlnum, 36},
      {"github-token", "ghu_", kAlnum, 36},
      {"github-token", "ghs_", kAlnum, 36},
      {"github-token", "ghr_", kAlnum, 36},
      {"github-token", "github_pat_", kAlnum, 82},
      {"gitlab-token", "glpat-", kBase64Url, 20},
      {"gitlab-token", "glptt-", kLowerHex, 40},
      {"slack-token", "xoxb-", kAlnum, 40},
      {"slack-token", "xoxp-", kAlnum, 60},
      {"slack-token", "xapp-", kAlnum, 60},
      {"stripe-key", "sk_live_", kAlnum, 99},
      {"stripe-key", "rk_live_", kAlnum, 99},
      {"stripe-key", "whsec_", kAlnum, 32},
      {"openai-api-key", "sk-proj-", kBase64Url, 120},
      {"openai-api-key", "sk-", kAlnum, 48},
      {"anthropic-api-key", "sk-ant-api03-", kBase64Url, 95},
      {"npm-token", "npm_", kAlnum, 36},
      {"pypi-token", "pypi-AgEIcHlwaS5vcmc", kBase64Url, 150},
      {"docker-token", "dckr_pat_", kBase64Url, 27},
      {"hashicorp-vault-token", "hvs.", kBase64Url, 90},
      {"hashicorp-vault-token", "hvb.", kBase64Url, 138},
      {"twilio-key", "SK", kLowerHex, 32},
      {"twilio-key", "AC", kLowerHex, 32},
      {"sendgrid-key", "SG." + std::string(22, 'x') + ".", kBase64Url, 43},
      {"mailgun-key", "key-", kLowerHex, 32},
      {"shopify-token", "shpat_", kLowerHex, 32},
      {"shopify-token", "shpss_", kLowerHex, 32},
      {"digitalocean-token", "dop_v1_", kLowerHex, 64},
      {"digitalocean-token", "doo_v1_", kLowerHex, 64},
      {"digitalocean-token", "dor_v1_", kLowerHex, 64},
      {"planetscale-token", "pscale_tkn_", kBase64Url, 43},
      {"planetscale-token", "pscale_pw_", kBase64Url, 43},
      {"atlassian-token", "ATATT3xFfGF0", kBase64Url, 180},
      {"databricks-token", "dapi", kLowerHex, 32},
      {"grafana-token", "glsa_", kAlnum, 41},
      {"grafana-token", "glc_", kBase64Url, 120},
      {"sentry-token", "sntrys_", kBase64Url, 120},
      {"sentry-token", "sntryu_", kLowerHex, 64},
      {"linear-key", "lin_api_", kAlnum, 40},
      {"notion-token", "secret_", kAlnum, 43},
      {"notion-token", "ntn_", kAlnum, 46},
      {"heroku-token", "HRKU-", kBase64Url, 60},
      {"square-token", "sq0atp-", kBase64Url, 22},
      {"square-token", "sq0csp-", kBase64Url, 43},
      {"square-token", "EAAA", kBase64Url, 60},
      {"braintree-token", "access_token$production$", kAlnum, 50},
      {"shippo-token", "shippo_live_", kLowerHex, 40},
      {"hubspot-token", "pat-na1-", kLowerHex, 36},
      {"doppler-token", "dp.pt.", kAlnum, 43},
      {"pulumi-token", "pul-", kLowerHex, 40},
      {"fly-token", "fo1_", kBase64Url, 43},
      {"supabase-token", "sbp_", kLowerHex, 40},
      {"vercel-token", "vcp_", kAlnum, 56},
      {"netlify-token", "nfp_", kAlnum, 36},
      {"postman-token", "PMAK-", kLowerHex, 59},
      {"newrelic-key", "NRAK-", kUpperDigits, 27},
      {"huggingface-token", "hf_", kAlnum, 34},
      {"tailscale-key", "tskey-auth-", kAlnum, 40},
      {"bitbucket-token", "ATBB", kAlnum, 32},
      {"circleci-token", "CCIPAT_", kBase64Url, 60},
      {"sonarqube-token", "squ_", kLowerHex, 40},
      {"jfrog-token", "AKCp", kAlnum, 69},
      {"onepassword-token", "ops_", kBase64Url, 200},
      {"groq-key", "gsk_", kAlnum, 52},
      {"figma-token", "figd_", kBase64Url, 40},
      {"buildkite-token", "bkua_", kLowerHex, 40},
      {"rubygems-token", "rubygems_", kLowerHex, 48},

      // --- Cloud providers ---
      // AWS STS session tokens: standard base64 of a binary blob; AWS documents no size.
      {"aws-session-token", "FwoGZXIvYXdzE", kBase64, 300},
      {"aws-session-token", "IQoJb3JpZ2luX2Vj", kBase64, 700},
      // Google OAuth access tokens: "ya29." and an opaque base64url string.
      {"gcp-oauth-token", "ya29.", kBase64Url, 180},
      // Alibaba Cloud AccessKey IDs: "LTAI" and, in current IDs, 20 letters and digits.
      {"alibaba-access-key", "LTAI", kAlnum, 20},
      // Cloudflare Origin CA keys: the docs say only "always starts with v1.0-"; real keys then
      // hold 24 and 146 hex digits.
      {"cloudflare-origin-ca-key", "v1.0-", kLowerHex, 24, {{"-", kLowerHex, 146}}},
      // Fly.io macaroon tokens (flyctl tokens create): standard base64, hundreds of characters.
      {"fly-token", "fm2_", kBase64, 400},
      {"fly-token", "fm1a_", kBase64, 300},
      {"fly-token", "fm1r_", kBase64, 300},
      // Vercel's changelog "new token formats" introduces vcp_, vci_, vca_, vcr_, vck_ together.
      {"vercel-token", "vci_", kAlnum, 56},
      {"vercel-token", "vca_", kAlnum, 56},
      {"vercel-token", "vcr_", kAlnum, 56},
      {"vercel-token", "vck_", kAlnum, 56},
      // Supabase secret API keys: sb_secret_<22 base64url>_<8-character check>, as the CLI's
      // local development key shows.
      {"supabase-token", "sb_secret_", kBase64Url, 22, {{"_", kBase64Url, 8}}},
      // Tailscale key prefixes page: tskey-<type>-<key ID ending CNTRL>-<secret>.
      {"tailscale-key", "tskey-api-", kAlnum, 7, {{"CNTRL-", kAlnum, 33}}},
      {"render-token", "rnd_", kAlnum, 24},
      // Neon's changelog: newly created API keys are prefixed napi_ (a body of 64 letters and
      // digits in real keys).
      {"neon-token", "napi_", kAlnum, 64},
      {"planetscale-token", "pscale_oauth_", kBase64Url, 43},
      // Dynatrace token format: prefix, a 24-character public portion and a 64-character secret
      // portion, separated by dots (the documented example is upper case and digits).
      {"dynatrace-token", "dt0c01.", kUpperDigits, 24, {{".", kUpperDigits, 64, 64}}, 24},

      // --- Source hosting, CI, registries ---
      // GitLab's token prefixes (docs: security/tokens). Real deploy, runner, incoming-mail and
      // SCIM tokens carry a 20-character body, OAuth application secrets 64 hex digits, CI/CD
      // job tokens their partition in hex before the body; runner registration tokens start
      // GR1348941.
      {"gitlab-token", "gldt-", kBase64Url, 20},
      {"gitlab-token", "glrt-", kBase64Url, 20},
      {"gitlab-token", "glcbt-", kLowerHex, 2, {{"_", kBase64Url, 20}}},
      {"gitlab-token", "glimt-", kBase64Url, 20},
      {"gitlab-token", "glsoat-", kBase64Url, 20},
      {"gitlab-token", "gloas-", kLowerHex, 64},
      {"gitlab-token", "GR1348941", kBase64Url, 20},
      // Atlassian API tokens, as real ones show: base64url, then "=" and 8 upper-case hex
      // digits.
      {"atlassian-token", "ATATT3xFfGF0", kBase64Url, 171, {{"=", kUpperHex, 8}}},
      {"atlassian-token", "ATCTT3xFfGF0", kBase64Url, 171, {{"=", kUpperHex, 8}}},
      // CircleCI changelog: CCIPRJ_<base58 UUID>_<40-character hex string>.
      {"circleci-token", "CCIPRJ_", kBase58, 22, {{"_", kLowerHex, 40, 40}}, 21},
      // SonarQube tokens: squ_ (user), sqa_ (global analysis), sqp_ (project analysis).
      {"sonarqube-token", "sqp_", kLowerHex, 40},
      {"sonarqube-token", "sqa_", kLowerHex, 40},
      // A TestPyPI token: the macaroon names test.pypi.org instead of pypi.org.
      {"pypi-token", "pypi-AgENdGVzdC5weXBpLm9yZw", kBase64Url, 150},
      // Clojars (clojars-web db.clj): "CLOJARS_" and 60 lower-case hex digits, the shape the
      // server itself checks.
      {"clojars-token", "CLOJARS_", kLowerHex, 60, {}, 60},
      {"docker-token", "dckr_oat_", kBase64Url, 32},
      // JFrog reference tokens: cmVmd followed by 59 letters and digits (64 in all).
      {"jfrog-token", "cmVmdGtu", kAlnum, 56, {}, 56},
      // Vault token prefixes: hvs. (service), hvb. (batch), hvr. (recovery).
      {"hashicorp-vault-token", "hvr.", kBase64Url, 90},
      // Doppler auth token formats: 40 to 44 letters and digits; a service token may carry its
      // config's slug (2 to 35 characters) before the secret. The redactor takes the whole run
      // after "dp.st." (slug, '.', secret) from 40 characters on, so it does not judge the secret's
      // own length there: that part's minimum is left out of the too-short check (fails closed).
      {"doppler-token", "dp.st.", kSlug, 3, {{".", kAlnum, 43, 0}}, 2},
      {"doppler-token", "dp.sa.", kAlnum, 43, {}, 40},
      {"doppler-token", "dp.ct.", kAlnum, 43, {}, 40},
      {"doppler-token", "dp.scim.", kAlnum, 43, {}, 40},
      {"doppler-token", "dp.audit.", kAlnum, 43, {}, 40},

      // --- Chat, mail, messaging ---
      {"slack-token", "xoxa-", kDigits, 11, kSlackLegacyTail},
      {"slack-token", "xoxr-", kDigits, 11, kSlackLegacyTail},
      {"slack-token", "xoxs-", kDigits, 11, kSlackLegacyTail},
      {"slack-token", "xoxo-", kDigits, 11, kSlackLegacyTail},
      // Refresh and configuration tokens: a version ("1-") and an opaque base64url string.
      {"slack-token", "xoxe-1-", kBase64Url, 146},
      {"slack-token", "xoxe.xoxp-1-", kBase64Url, 146},
      // Brevo (Sendinblue) API and SMTP keys: 64 hex digits, '-', 16 letters and digits.
      {"brevo-key", "xkeysib-", kLowerHex, 64, {{"-", kAlnum, 16}}},
      {"brevo-key", "xsmtpsib-", kLowerHex, 64, {{"-", kAlnum, 16}}},
      // Intercom access tokens, as real ones show: base64 of "tok:...", 60 characters ending in
      // '='.
      {"intercom-token", "dG9rOj", kBase64, 53, {{"=", "", 0}}},
      // HubSpot private app tokens: pat-<region>-<UUID>.
      {"hubspot-token", "pat-na2-", kLowerHex, 8, kUuidTail, 8},
      {"hubspot-token", "pat-eu1-", kLowerHex, 8, kUuidTail, 8},
      {"hubspot-token", "pat-ap1-", kLowerHex, 8, kUuidTail, 8},
      {"contentful-token", "CFPAT-", kBase64Url, 43},
      {"segment-token", "sgp_", kAlnum, 64},
      // LaunchDarkly SDK and API access tokens: sdk-<UUID>, api-<UUID>.
      {"launchdarkly-key", "api-", kLowerHex, 8, kUuidTail, 8},
      {"launchdarkly-key", "sdk-", kLowerHex, 8, kUuidTail, 8},
      // Mapbox secret tokens: "sk." and a base64url JSON segment, '.', 22 more characters.
      {"mapbox-token", "sk.eyJ", kBase64Url, 60, {{".", kBase64Url, 22}}},
      // Facebook (Meta) access tokens: EAA, an app-type letter, then letters and digits.
      {"facebook-token", "EAAG", kAlnum, 180},
      // X (Twitter) app-only bearer tokens, as the docs' example shows them: base64 whose '+',
      // '/' and '=' arrive URL-escaped (%2B, %2F, %3D).
      {"twitter-token",
       "AAAAAAAAAAAAAAAAAAAAA",
       kAlnum,
       12,
       {{"%2B", kAlnum, 5}, {"%2B", kAlnum, 19}, {"%3D", kAlnum, 50}}},

      // --- Payment ---
      {"stripe-key", "sk_test_", kAlnum, 99},
      {"stripe-key", "rk_test_", kAlnum, 99},
      // Braintree access tokens: access_token$<environment>$<merchant ID>$<32 hex digits>.
      {"braintree-token", "access_token$sandbox$", kLowerAlnum, 16, {{"$", kLowerHex, 32}}},
      {"shippo-token", "shippo_test_", kLowerHex, 40},
      // Shopify custom-app and private-app access tokens: 32 hex digits after the prefix.
      {"shopify-token", "shpca_", kLowerHex, 32},
      {"shopify-token", "shppa_", kLowerHex, 32},
      // Flutterwave secret keys: FLWSECK[_TEST]-<32 hex digits>-X.
      {"flutterwave-key", "FLWSECK-", kLowerHex, 32, {{"-X", "", 0}}},
      {"flutterwave-key", "FLWSECK_TEST-", kLowerHex, 32, {{"-X", "", 0}}},
      {"razorpay-key", "rzp_live_", kAlnum, 14},
      // Plaid access tokens: access-<environment>-<UUID>.
      {"plaid-token", "access-production-", kLowerHex, 8, kUuidTail, 8},
      {"plaid-token", "access-sandbox-", kLowerHex, 8, kUuidTail, 8},

      // --- AI and data APIs ---
      // Anthropic Admin API keys: sk-ant-admin01-, 93 base64url characters, "AA".
      {"anthropic-api-key", "sk-ant-admin01-", kBase64Url, 93, {{"AA", "", 0}}},
      {"replicate-token", "r8_", kAlnum, 37},
      {"perplexity-key", "pplx-", kAlnum, 48},
      {"xai-key", "xai-", kAlnum, 80},
      // Pinecone API keys: pcsk_<key ID>_<secret>.
      {"pinecone-key", "pcsk_", kAlnum, 6, {{"_", kAlnum, 63}}},
      // LangSmith keys: lsv2_pt_ (personal), lsv2_sk_ (service): <32 hex>_<10 hex>.
      {"langsmith-key", "lsv2_pt_", kLowerHex, 32, {{"_", kLowerHex, 10}}},
      {"langsmith-key", "lsv2_sk_", kLowerHex, 32, {{"_", kLowerHex, 10}}},

      // --- Observability ---
      // New Relic key prefixes: NRII- (Insights insert key), NRJS- (browser key, hex).
      {"newrelic-key", "NRII-", kBase64Url, 32},
      {"newrelic-key", "NRJS-", kLowerHex, 19},
      // Honeycomb API key format: the ingest key is its key ID (hcaik_/hcxik_ and 26
      // characters) and its 32-character secret concatenated: 58 characters after the prefix.
      {"honeycomb-key", "hcaik_", kLowerAlnum, 58, {}, 58},
      {"honeycomb-key", "hcxik_", kLowerAlnum, 58, {}, 58},
      {"honeybadger-token", "hbp_", kAlnum, 36},
  };
}

// A body whose first part has `first` characters and whose later parts have `lengths`: random
// over each part's alphabet, with a digit in the first part (as random bodies of these lengths
// have; the table requires a digit or mixed case so that words do not match).
inline std::string BodyOfLengths(Random& random, const TokenSpec& spec, size_t first,
                                 const std::vector<size_t>& lengths) {
  std::string body = random.Chars(spec.alphabet, first);
  if (first > 0 && spec.alphabet.find('7') != std::string_view::npos &&
      body.find_first_of(kDigits) == std::string::npos) {
    body[random.Uniform(body.size())] = '7';
  }
  for (size_t i = 0; i < spec.more.size(); ++i) {
    body += spec.more[i].separator;
    body += random.Chars(spec.more[i].alphabet, lengths[i]);
  }
  return body;
}

// The body of a spec'd token, at the spec's lengths.
inline std::string Body(Random& random, const TokenSpec& spec) {
  std::vector<size_t> lengths;
  for (const BodyPart& part : spec.more) lengths.push_back(part.length);
  return BodyOfLengths(random, spec, spec.length, lengths);
}

// A body one character shorter than the documented minimum: every part at its documented
// minimum, the last one that has characters one short. Needs HasDocumentedLength(spec).
inline std::string ShortBody(Random& random, const TokenSpec& spec) {
  size_t first = spec.min_length;
  std::vector<size_t> lengths;
  for (const BodyPart& part : spec.more) lengths.push_back(part.min_length);
  size_t* last = &first;
  for (size_t i = 0; i < spec.more.size(); ++i) {
    if (spec.more[i].length > 0) last = &lengths[i];
  }
  --*last;
  return BodyOfLengths(random, spec, first, lengths);
}

// One planted case: `text` holds `secret` once.
struct PlantedCase {
  std::string text;
  std::string secret;
};

// `rounds` rounds of: every token spec in a random context, and every secret key in a random
// syntax with a random password.
inline std::vector<PlantedCase> PlantedCases(uint32_t seed, int rounds) {
  Random random(seed);
  const std::vector<TokenSpec> specs = TokenSpecs();
  constexpr std::string_view kContexts[] = {
      "app --token=%V --verbose",
      "%V",
      "env X=%V",
      "curl -H 'X-Auth: %V' http://svc",
      "{\"value\": \"%V\"}",
      "run %V",
      "config:\n  secret: %V\n",
  };
  std::vector<PlantedCase> cases;
  for (int round = 0; round < rounds; ++round) {
    for (const TokenSpec& spec : specs) {
      std::string token = spec.prefix + Body(random, spec);
      std::string text = Fill(kContexts[random.Uniform(std::size(kContexts))], "", token);
      cases.push_back({std::move(text), std::move(token)});
    }
    for (std::string_view key : kSecretKeys) {
      std::string value = random.Password();
      std::string text = "app " + Fill(kSyntaxes[random.Uniform(std::size(kSyntaxes))], key, value);
      cases.push_back({std::move(text), std::move(value)});
    }
  }
  return cases;
}

}  // namespace ephemera::redact::corpus

#endif  // EPHEMERA_TESTS_REDACT_PLANTED_CORPUS_H_
