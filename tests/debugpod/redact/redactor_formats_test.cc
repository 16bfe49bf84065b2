// Tests of the redactor against real-world formats (issue 15, review M3): every assignment syntax
// with camelCase, snake_case and kebab keys; the argv forms programs really take passwords in; one
// positive and one negative case per row of the token table; a planted corpus generated from the
// formats' specifications with random bodies (detection rate); and the false-positive rate on a
// benign corpus of what /proc holds.
//
// The token specifications below are written here from the providers' documentation, independently
// of the redactor's table, so a wrong row in the table fails a test instead of agreeing with it.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "debugpod/redact/redactor.h"

namespace ephemera::redact {
namespace {

Redactor MakeRedactor() {
  StatusOr<Redactor> redactor = Redactor::Create({});
  EXPECT_TRUE(redactor.ok()) << redactor.status().ToString();
  return std::move(redactor).value();
}

std::string Redact(const Redactor& redactor, std::string_view text) {
  RedactionReport report;
  StatusOr<std::string> out = redactor.RedactText(text, report);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::string("<error>");
}

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

std::string Fill(std::string_view syntax, std::string_view key, std::string_view value) {
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

TEST(RedactorFormatsTest, ValueOfASecretKeyIsRedactedInEverySyntax) {
  const Redactor redactor = MakeRedactor();
  Random random(15);
  for (std::string_view key : kSecretKeys) {
    for (std::string_view syntax : kSyntaxes) {
      const std::string value = random.Password();
      const std::string text = "app " + Fill(syntax, key, value) + " next";
      const std::string out = Redact(redactor, text);
      EXPECT_EQ(out.find(value), std::string::npos) << text << "\n -> " << out;
      EXPECT_NE(out.find("[REDACTED:"), std::string::npos) << text;
    }
  }
}

TEST(RedactorFormatsTest, LowerCaseHexAfterAKeyIsRedacted) {
  const Redactor redactor = MakeRedactor();
  Random random(16);
  for (std::string_view form : {"ENCRYPTION_KEY=%V", "--signing-key=%V", "--api %V",
                                "X-Amz-Signature=%V", "--hmac-key %V", "master_key: %V"}) {
    const std::string hex = random.Chars(kLowerHex, 32 + random.Uniform(33));
    const std::string out = Redact(redactor, "svc " + Fill(form, "", hex));
    EXPECT_EQ(out.find(hex), std::string::npos) << form << " -> " << out;
  }
}

TEST(RedactorFormatsTest, WeakKeysKeepValuesThatAreNotSecrets) {
  const Redactor redactor = MakeRedactor();
  for (const char* text : {
           "sort_key=created_at",
           "--key /etc/tls/tls.key",
           "partition_key: customer",
           "--api https://api.example.com/v1",
           "pin=12",
           "keyboard=us",
           "monkey=yes",
           "spin=fast",
           "--bypass=true",
           "PWD=/app",
           "OLDPWD=/home/app",
           "compass=north",
           "the password is wrong",
           "token 5 of 10",
           "pass_through=enabled",
       }) {
    EXPECT_EQ(Redact(redactor, text), text);
  }
}

// --- argv forms (review M3) ----------------------------------------------------------------------

TEST(RedactorFormatsTest, ArgvFormsOfTheReviewAreRedacted) {
  const Redactor redactor = MakeRedactor();
  Random random(17);
  const std::string_view forms[] = {
      "mysql -uroot -p%V -h db shop",
      "mysqladmin ping -h 127.0.0.1 -uroot -p%V",
      "/usr/bin/mysqldump --single-transaction -p%V shop",
      "sh -c mysql -p%V -e 'select 1'",
      "redis-server --requirepass %V",
      "redis-cli -h redis -a %V ping",
      "sshpass -p %V ssh app@host",
      "curl -sf -u admin:%V http://svc/health",
      "docker login -u bot -p %V registry.example.com",
      "sqlcmd -S db -U sa -P %V -Q 'select 1'",
      "ldapsearch -x -D cn=admin -w %V -b dc=example",
      "openssl enc -aes256 -pass pass:%V -in x",
      "nats-server --user app --pass %V",
      "DB_PASS=%V ./run.sh",
      "MYSQL_PWD=%V mysql -uroot",
      "app --db-pass=%V",
      "app --db-pwd %V",
      "Driver={ODBC};Server=db;Uid=sa;Pwd=%V;",
      "{\"pw\": \"%V\"}",
      "user=bob&pass=%V&x=1",
      "gpg --batch --passphrase %V -d x.gpg",
      "java -Ddb.pass=%V -jar app.jar",
      "app --password -x%V",
      "smbclient //srv/share -U admin%%V",
      "7z x -p%V backup.7z",
      "keytool -list -storepass %V -keystore ks.jks",
      "mysql -p%V",
  };
  for (std::string_view form : forms) {
    const std::string value = random.Password();
    const std::string text = Fill(form, "", value);
    const std::string out = Redact(redactor, text);
    EXPECT_EQ(out.find(value), std::string::npos) << text << " -> " << out;
  }
}

TEST(RedactorFormatsTest, AzureAndConsulKeysAreRedacted) {
  const Redactor redactor = MakeRedactor();
  Random random(18);
  const std::string account_key = random.Chars(kBase64Url, 86) + "==";
  const std::string sig = random.Chars(kAlnum, 40) + "%3D";
  const std::string gossip = random.Chars(kAlnum, 22) + "==";
  const std::string texts[] = {
      "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + account_key +
          ";EndpointSuffix=core.windows.net",
      "https://acct.blob.core.windows.net/c?sv=2022-11-02&se=2026-01-01&sig=" + sig + "&sp=r",
      "consul agent -encrypt=" + gossip + " -server",
      "consul agent -encrypt " + gossip,
  };
  for (const std::string& text : texts) {
    const std::string out = Redact(redactor, text);
    for (const std::string& secret : {account_key, sig, gossip}) {
      EXPECT_EQ(out.find(secret), std::string::npos) << text << " -> " << out;
    }
  }
}

TEST(RedactorFormatsTest, ShortFlagsOfOtherProgramsAreLeftAlone) {
  const Redactor redactor = MakeRedactor();
  for (const char* text : {
           "ls -a /tmp",
           "gcc -pthread -pedantic -O2 x.c",
           "docker run -p 8080:80 nginx",
           "find . -print0",
           "ssh -p 2222 host",
           "mysql -P 3306 -h db",
           "tail -n 100 -f log",
           "/prometheus -promscrape.config=/etc/p.yml",
           "curl -u admin http://x",
           "rsync -avP src dst",
           "redis-server --port 6379",
           "psql -U app -d shop",
       }) {
    EXPECT_EQ(Redact(redactor, text), text);
  }
}

// --- the token table: one documented format per row ----------------------------------------------

struct TokenSpec {
  std::string_view rule;
  std::string prefix;
  std::string_view alphabet;
  size_t length;  // of the body
};

// From each provider's documentation of its token format (prefix, alphabet, body length).
std::vector<TokenSpec> TokenSpecs() {
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
std::string Body(Random& random, const TokenSpec& spec) {
  std::string body = random.Chars(spec.alphabet, spec.length);
  if (body.find_first_of(kDigits) == std::string::npos) body[random.Uniform(body.size())] = '7';
  return body;
}

TEST(RedactorFormatsTest, EachTokenFormatIsRedactedUnderItsRule) {
  const Redactor redactor = MakeRedactor();
  Random random(19);
  for (const TokenSpec& spec : TokenSpecs()) {
    const std::string token = spec.prefix + Body(random, spec);
    RedactionReport report;
    StatusOr<std::string> out = redactor.RedactText("run " + token + " now", report);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, "run [REDACTED:" + std::string(spec.rule) + "] now") << token;
    EXPECT_EQ(report.patterns_matched[std::string(spec.rule)], 1) << token;
  }
}

TEST(RedactorFormatsTest, TokenLookAlikesAreNotTokens) {
  const Redactor redactor = MakeRedactor();
  Random random(20);
  for (const TokenSpec& spec : TokenSpecs()) {
    // Too short to be the token, and a word: no rule may name it after the token's rule.
    const std::string short_token = spec.prefix + random.Chars(kDigits, 3) + "x";
    RedactionReport report;
    StatusOr<std::string> out = redactor.RedactText("run " + short_token + " now", report);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(report.patterns_matched.count(std::string(spec.rule)), 0U) << short_token;
    // A prefix inside a longer word does not start a token.
    const std::string glued = "x" + spec.prefix + Body(random, spec);
    report = {};
    out = redactor.RedactText("run " + glued + " now", report);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(report.patterns_matched.count(std::string(spec.rule)), 0U) << glued;
  }
  // Words that start like a prefix.
  for (const char* text : {"secret_name_of_the_volume_for_the_app_and_more", "key-value-store",
                           "api-gateway-service", "sk-learn", "pat-na1-", "SKIP", "ACCESS"}) {
    EXPECT_EQ(Redact(redactor, text), text);
  }
}

// --- value-keyed redaction ----------------------------------------------------------------------

TEST(RedactorFormatsTest, SecretValuesAreRedactedWhereverTheyAppear) {
  Random random(22);
  const std::string password = random.Chars("abcdefghijklmnopqrstuvwxyz0123456789", 12);
  const std::string long_value = random.Chars(kAlnum, 200);
  const Redactor redactor = MakeRedactor().WithSecretValues({password, long_value, password});
  RedactionReport report;
  StatusOr<std::string> out = redactor.RedactText(
      "dbserver -p" + password + " /run/" + password + ".sock peer=" + long_value + " x", report);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "dbserver -p[REDACTED:secret-value] /run/[REDACTED:secret-value].sock "
            "peer=[REDACTED:secret-value] x");
  EXPECT_EQ(report.patterns_matched["secret-value"], 3);
  // The original redactor is unchanged.
  EXPECT_EQ(Redact(MakeRedactor(), "dbserver -p" + password), "dbserver -p" + password);
  // A value cut short in the text is still redacted through what its key covers.
  const std::string cut = long_value.substr(0, 100);
  EXPECT_EQ(Redact(redactor, "x " + cut + " y").find(cut.substr(0, 64)), std::string::npos);
}

TEST(RedactorFormatsTest, ShortAndDigitOnlyValuesAreExempt) {
  EXPECT_TRUE(Redactor::IsExemptSecretValue("true"));
  EXPECT_TRUE(Redactor::IsExemptSecretValue("12345"));
  EXPECT_TRUE(Redactor::IsExemptSecretValue("8080443"));    // digits, < 8
  EXPECT_FALSE(Redactor::IsExemptSecretValue("80804431"));  // digits, 8
  EXPECT_FALSE(Redactor::IsExemptSecretValue("abc123"));
  const Redactor redactor = MakeRedactor().WithSecretValues({"info", "8080", "", "abcdef"});
  EXPECT_EQ(Redact(redactor, "level=info port=8080 x=abcdef"),
            "level=info port=8080 x=[REDACTED:secret-value]");
}

// --- planted corpus: detection rate --------------------------------------------------------------

// Secrets generated from the specs above and from the key syntaxes, each planted alone in an argv
// or a config line, as the held-out corpus does. At least 99 % must not appear in the output.
TEST(RedactorFormatsTest, PlantedCorpusDetectionRateIsAtLeast99Percent) {
  const Redactor redactor = MakeRedactor();
  Random random(21);
  const std::vector<TokenSpec> specs = TokenSpecs();
  const std::string_view contexts[] = {
      "app --token=%V --verbose",
      "%V",
      "env X=%V",
      "curl -H 'X-Auth: %V' http://svc",
      "{\"value\": \"%V\"}",
      "run %V",
      "config:\n  secret: %V\n",
  };
  int planted = 0;
  int leaked = 0;
  for (int round = 0; round < 20; ++round) {
    for (const TokenSpec& spec : specs) {
      const std::string token = spec.prefix + Body(random, spec);
      const std::string text = Fill(contexts[random.Uniform(std::size(contexts))], "", token);
      ++planted;
      if (Redact(redactor, text).find(token) != std::string::npos) ++leaked;
    }
    for (std::string_view key : kSecretKeys) {
      const std::string value = random.Password();
      const std::string text =
          "app " + Fill(kSyntaxes[random.Uniform(std::size(kSyntaxes))], key, value);
      ++planted;
      if (Redact(redactor, text).find(value) != std::string::npos) ++leaked;
    }
  }
  const double rate = 1.0 - static_cast<double>(leaked) / planted;
  EXPECT_GE(rate, 0.99) << leaked << " of " << planted << " planted secrets leaked";
}

// --- benign corpus: false-positive rate ----------------------------------------------------------

TEST(RedactorFormatsTest, BenignProcCorpusHasAtMostHalfAPercentOfTokensRedacted) {
  std::ifstream in(std::string(EPHEMERA_TESTDATA_DIR) + "/redact/benign_proc.txt");
  ASSERT_TRUE(in.good());
  const Redactor redactor = MakeRedactor();
  std::string line;
  size_t tokens = 0;
  size_t redacted = 0;
  std::string worst;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    for (std::string w; words >> w;) ++tokens;
    const std::string out = Redact(redactor, line);
    for (size_t pos = 0; (pos = out.find("[REDACTED:", pos)) != std::string::npos; ++pos) {
      ++redacted;
      worst += out + "\n";
    }
  }
  ASSERT_GT(tokens, 1000U) << "the benign corpus is too small to measure a rate";
  EXPECT_LE(static_cast<double>(redacted) / static_cast<double>(tokens), 0.005)
      << redacted << " of " << tokens << " tokens redacted:\n"
      << worst;
}

}  // namespace
}  // namespace ephemera::redact
