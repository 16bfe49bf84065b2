// A planted corpus for the redactor, generated from credential formats' specifications with
// random bodies (never a list of known answers), and the syntaxes secrets are written in. Shared by
// the detection-rate test (tests/debugpod/redact/redactor_formats_test.cc) and the benchmark
// (bench/redact_bench.cc), which both report the share of planted secrets that leak.
//
// The token specifications are written from the providers' documentation, independently of the
// redactor's table (kTokenRules), so a wrong row in the table fails instead of agreeing with it.
#ifndef EPHEMERA_TESTS_DEBUGPOD_REDACT_PLANTED_CORPUS_H_
#define EPHEMERA_TESTS_DEBUGPOD_REDACT_PLANTED_CORPUS_H_

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

struct TokenSpec {
  std::string_view rule;
  std::string prefix;
  std::string_view alphabet;
  size_t length;  // of the body
};

// From each provider's documentation of its token format (prefix, alphabet, body length).
inline std::vector<TokenSpec> TokenSpecs() {
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
  };
}

// The body of a spec'd token: random over the alphabet, with a digit in it (as random bodies of
// these lengths have; the table requires a digit or mixed case so that words do not match).
inline std::string Body(Random& random, const TokenSpec& spec) {
  std::string body = random.Chars(spec.alphabet, spec.length);
  if (body.find_first_of(kDigits) == std::string::npos) body[random.Uniform(body.size())] = '7';
  return body;
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

#endif  // EPHEMERA_TESTS_DEBUGPOD_REDACT_PLANTED_CORPUS_H_
