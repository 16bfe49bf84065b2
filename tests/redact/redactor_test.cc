// Tests of the redactor: for each rule, secrets it must catch and look-alikes it must leave alone;
// the env allowlist; the report; linear behaviour on pathological input; and the failure path.
#include "redact/redactor.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace ephemera::redact {
namespace {

RedactionPolicy Policy(std::vector<std::string> extra_patterns,
                       std::vector<std::string> allow_env = {},
                       std::vector<std::string> secret_env = {}) {
  RedactionPolicy policy;
  policy.extra_patterns = std::move(extra_patterns);
  policy.allow_env = std::move(allow_env);
  policy.secret_env = std::move(secret_env);
  return policy;
}

Redactor MakeRedactor(RedactionPolicy policy = {}) {
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

std::string Redact(std::string_view text, RedactionReport* report = nullptr) {
  return Redact(MakeRedactor(), text, report);
}

// A deterministic random-looking token over `alphabet`.
std::string RandomToken(size_t length, std::string_view alphabet, uint32_t seed) {
  std::string out;
  for (size_t i = 0; i < length; ++i) {
    seed = seed * 1103515245 + 12345;
    out.push_back(alphabet[(seed >> 16) % alphabet.size()]);
  }
  return out;
}

constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// --- secret-key-value ----------------------------------------------------------------------------

TEST(RedactorTest, RedactsSecretKeyValueForms) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"DB_PASSWORD=hunter2", "DB_PASSWORD=[REDACTED:secret-key-value]"},
      {"app --password=hunter2 --verbose", "app --password=[REDACTED:secret-key-value] --verbose"},
      {"app --api-key abc123 --port 80", "app --api-key [REDACTED:secret-key-value] --port 80"},
      {"password: hunter2", "password: [REDACTED:secret-key-value]"},
      {R"({"client_secret": "two words", "user": "bob"})",
       R"({"client_secret": "[REDACTED:secret-key-value]", "user": "bob"})"},
      {"GET /cb?access_token=abc&state=1",
       "GET /cb?access_token=[REDACTED:secret-key-value]&state=1"},
      {"authToken=xyz jsessionid=abc",
       "authToken=[REDACTED:secret-key-value] "
       "jsessionid=[REDACTED:secret-key-value]"},
      {"-Dspring.datasource.password=s3cret",
       "-Dspring.datasource.password=[REDACTED:secret-key-value]"},
      {"aws_secret_access_key = wJalrXUt", "aws_secret_access_key = [REDACTED:secret-key-value]"},
      {"Cookie: theme=dark; sid=abc123\nnext", "Cookie: [REDACTED:secret-key-value]\nnext"},
      {"X-Api-Key: 0123", "X-Api-Key: [REDACTED:secret-key-value]"},
      {"GOOGLE_APPLICATION_CREDENTIALS=/var/run/creds.json",
       "GOOGLE_APPLICATION_CREDENTIALS=[REDACTED:secret-key-value]"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(Redact(in), want) << in;
}

TEST(RedactorTest, RedactsFlagValuesInRawNulSeparatedCmdline) {
  const std::string cmdline(
      "app\0--db-password\0hunter2\0--port\0"
      "80",
      35);
  EXPECT_EQ(Redact(cmdline), std::string("app\0--db-password\0[REDACTED:secret-key-value]\0--port\0"
                                         "80",
                                         55));
}

TEST(RedactorTest, SecretKeyValueIgnoresLookAlikes) {
  for (const char* text : {
           "/src/internal/auth/password_policy.go:42 +0x1d5",
           "cat /etc/app/password_policy.go",
           "--tokenizer=bert-base --tokenizer fast",
           "TOKENIZER=fast author=jane secretary=bob",
           "tokens_per_second=42.5 max_sessions_per_user=3",
           "password",
           "--password",  // a flag without a value
           "--password --verbose",
       }) {
    EXPECT_EQ(Redact(text), text);
  }
}

// --- url-password --------------------------------------------------------------------------------

TEST(RedactorTest, RedactsOnlyThePasswordOfAUrl) {
  EXPECT_EQ(Redact("DATABASE_URL=postgres://app:s3cr3t@db:5432/shop"),
            "DATABASE_URL=postgres://app:[REDACTED:url-password]@db:5432/shop");
  EXPECT_EQ(Redact("redis://:pa55@redis:6379/0"), "redis://:[REDACTED:url-password]@redis:6379/0");
  EXPECT_EQ(Redact("mysql://u:p@ss/w#rd@h/db ok"), "mysql://u:[REDACTED:url-password]@h/db ok");
}

TEST(RedactorTest, UrlsWithoutPasswordsAreUnchanged) {
  for (const char* text :
       {"http://checkout.shop.svc:8080/healthz", "https://user@host/x",
        "git@github.com:acme/checkout.git", "ssh://git@github.com/acme/x.git", "a://b://c://d"}) {
    EXPECT_EQ(Redact(text), text);
  }
}

// --- bearer-token --------------------------------------------------------------------------------

TEST(RedactorTest, RedactsAuthorizationCredentials) {
  EXPECT_EQ(Redact("Authorization: Bearer abc.def-1"),
            "Authorization: Bearer [REDACTED:bearer-token]");
  EXPECT_EQ(Redact("curl -H 'Authorization: Basic dXNlcjpwYXNz' http://x"),
            "curl -H 'Authorization: Basic [REDACTED:bearer-token]' http://x");
  EXPECT_EQ(Redact("HTTP_AUTHORIZATION=opaque"), "HTTP_AUTHORIZATION=[REDACTED:secret-key-value]");
  EXPECT_EQ(Redact("sending Bearer 9f8e7d6c5b4a39281706abcdEF upstream"),
            "sending Bearer [REDACTED:bearer-token] upstream");
}

TEST(RedactorTest, BearerInProseIsUnchanged) {
  for (const char* text : {"Bearer tokens are described in RFC 6750.",
                           "Basic authentication is disabled", "the bearer of bad news"}) {
    EXPECT_EQ(Redact(text), text);
  }
}

// --- token formats -------------------------------------------------------------------------------

constexpr char kJwt[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

TEST(RedactorTest, RedactsJwtInCmdline) {
  RedactionReport report;
  EXPECT_EQ(Redact(std::string("app --id-token=") + kJwt + " --x", &report),
            "app --id-token=[REDACTED:jwt] --x");
  EXPECT_EQ(report.patterns_matched, (std::map<std::string, int>{{"jwt", 1}}));
  EXPECT_EQ(Redact(std::string("got ") + kJwt + ". Done"), "got [REDACTED:jwt]. Done");
}

TEST(RedactorTest, JwtLookAlikesAreUnchanged) {
  for (const char* text : {"the prefix eyJ starts base64 JSON", "eyJhbGciOiJIUzI1NiJ9",
                           "eyJ.eyJ.eyJ", "file.eyJ.json"}) {
    EXPECT_EQ(Redact(text), text);
  }
}

TEST(RedactorTest, RedactsAwsAccessKeys) {
  EXPECT_EQ(Redact("aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE"),
            "aws configure set aws_access_key_id [REDACTED:aws-access-key]");
  EXPECT_EQ(Redact("key=ASIAY34FZKBOKMUTVV7A,"), "key=[REDACTED:aws-access-key],");
  for (const char* text : {"AKIA is a prefix", "AKIAIOSFODNN7EXAMPLEX", "akiaiosfodnn7example",
                           "XAKIAIOSFODNN7EXAMPLE"}) {
    EXPECT_EQ(Redact(text), text);
  }
}

TEST(RedactorTest, RedactsGithubTokens) {
  const std::string classic = "ghp_" + RandomToken(36, kAlnum, 1);
  EXPECT_EQ(Redact("GH=" + classic), "GH=[REDACTED:github-token]");
  EXPECT_EQ(Redact("x gho_" + RandomToken(36, kAlnum, 2) + " y"), "x [REDACTED:github-token] y");
  const std::string fine_grained = "github_pat_11ABCDEFG0" + RandomToken(60, kAlnum, 3);
  EXPECT_EQ(Redact("token " + fine_grained), "token [REDACTED:github-token]");
  for (const char* text : {"ghp_short", "the ghp_ prefix", "ghx_0123456789012345678901234"}) {
    EXPECT_EQ(Redact(text), text);
  }
}

TEST(RedactorTest, RedactsGitlabSlackAndGcpTokens) {
  EXPECT_EQ(Redact("glpat-" + RandomToken(20, kAlnum, 4) + "."), "[REDACTED:gitlab-token].");
  EXPECT_EQ(Redact("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
            "[REDACTED:slack-token]");
  const std::string gcp = "AIza" + RandomToken(35, kAlnum, 5);
  EXPECT_EQ(Redact("key " + gcp), "key [REDACTED:gcp-api-key]");
  for (const std::string& text : {std::string("glpat-short"), std::string("xoxo-hugs xoxb-"),
                                  "AIza" + RandomToken(20, "abcdefgh", 6)}) {
    EXPECT_EQ(Redact(text), text);
  }
}

TEST(RedactorTest, RedactsAgeSecretKeys) {
  RedactionReport report;
  EXPECT_EQ(Redact("id=AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6",
                   &report),
            "id=[REDACTED:age-secret-key]");
  EXPECT_EQ(report.patterns_matched["age-secret-key"], 1);
  EXPECT_EQ(Redact("AGE-SECRET-KEY-1 is the prefix"), "AGE-SECRET-KEY-1 is the prefix");
}

TEST(RedactorTest, RedactsPemPrivateKeys) {
  const std::string key =
      "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1b2c3\n-----END RSA PRIVATE KEY-----";
  EXPECT_EQ(Redact("before\n" + key + "\nafter"), "before\n[REDACTED:pem-private-key]\nafter");
  // Escaped newlines, as in a JSON string or an env value.
  EXPECT_EQ(Redact("KEY=\"-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----\""),
            "KEY=\"[REDACTED:pem-private-key]\"");
  // Unterminated: everything to the end is redacted.
  EXPECT_EQ(Redact("x -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\nmore"),
            "x [REDACTED:pem-private-key]");
}

TEST(RedactorTest, PublicPemBlocksAreNotPrivateKeys) {
  RedactionReport report;
  const std::string text = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----";
  EXPECT_EQ(Redact(text, &report), text);
  EXPECT_TRUE(report.patterns_matched.empty());
}

// --- high-entropy --------------------------------------------------------------------------------

TEST(RedactorTest, RedactsHighEntropyTokens) {
  EXPECT_EQ(Redact("secret is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ok"),
            "secret is [REDACTED:high-entropy] ok");
  EXPECT_EQ(Redact("q8ZpR3vT1mX6wK9sL2yB5nD0fH4jG7cA"), "[REDACTED:high-entropy]");
  EXPECT_EQ(Redact("blob=" + RandomToken(40, kAlnum, 7) + "=="), "blob=[REDACTED:high-entropy]");
  // A random lower-case token is still a secret when it is not dash-separated like a name.
  EXPECT_EQ(Redact(RandomToken(32, "abcdefghijklmnopqrstuvwxyz0123456789", 8)),
            "[REDACTED:high-entropy]");
}

constexpr char kMapsPath[] =
    "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/sha256/"
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08/fs/usr/lib/libc.so.6";

TEST(RedactorTest, HighEntropyIgnoresHashesUuidsPathsAndNames) {
  for (const char* text : {
           "3f9a1c0b-7e2d-4c1a-9b8e-1234567890ab",
           "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
           kMapsPath,
           "checkout-7d9f8c6b5-x2v4q",
           "kube-proxy-config-map-volume-1234",
           "ThisIsAVeryLongIdentifier2024",
           "SpringApplicationContextInitializer",
       }) {
    EXPECT_EQ(Redact(text), text);
  }
}

TEST(RedactorTest, LeavesBenignFixtureLinesUnchanged) {
  std::ifstream in(std::string(EPHEMERA_TESTDATA_DIR) + "/redact/benign_lines.txt");
  ASSERT_TRUE(in.good());
  const Redactor redactor = MakeRedactor();
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    RedactionReport report;
    EXPECT_EQ(Redact(redactor, line, &report), line);
    EXPECT_TRUE(report.patterns_matched.empty()) << line;
    ++checked;
  }
  EXPECT_GE(checked, 25);
}

// --- extra patterns ------------------------------------------------------------------------------

TEST(RedactorTest, RedactsTokensWithExtraPrefixes) {
  const Redactor redactor = MakeRedactor(Policy({"acme_live_", "sk-acme-"}));
  RedactionReport report;
  EXPECT_EQ(Redact(redactor, "k=acme_live_abc and sk-acme-xyz.", &report),
            "k=[REDACTED:extra] and [REDACTED:extra].");
  EXPECT_EQ(report.patterns_matched["extra"], 2);
  for (const char* text : {"myacme_live_abc", "acme_live_ alone", "acme_test_abc"}) {
    EXPECT_EQ(Redact(redactor, text), text);
  }
}

TEST(RedactorTest, ExtraPrefixesThatOverlapEachOther) {
  const Redactor redactor = MakeRedactor(Policy({"abab", "babx", "abx_"}));
  EXPECT_EQ(Redact(redactor, "zz ababx_1 q"), "zz [REDACTED:extra] q");
  EXPECT_EQ(Redact(redactor, "-babx1"), "-[REDACTED:extra]");
}

TEST(RedactorTest, CreateRejectsBadPolicies) {
  const std::vector<RedactionPolicy> bad = {
      Policy({""}),
      Policy({"abc"}),
      Policy({std::string(65, 'a')}),
      Policy({"acme live"}),
      Policy({"acme\x01live"}),
      Policy(std::vector<std::string>(33, "acme_")),
      Policy({}, {""}),
      Policy({}, {"A=B"}),
      Policy({}, {}, {std::string(257, 'A')}),
  };
  for (const RedactionPolicy& policy : bad) {
    StatusOr<Redactor> redactor = Redactor::Create(policy);
    ASSERT_FALSE(redactor.ok());
    EXPECT_EQ(redactor.status().code(), StatusCode::kInvalidArgument);
  }
  StatusOr<Redactor> named = Redactor::Create(Policy({"good_", "abc"}));
  ASSERT_FALSE(named.ok());
  EXPECT_NE(named.status().message().find("extra_patterns[1]"), std::string::npos);
}

// --- env -----------------------------------------------------------------------------------------

TEST(RedactorTest, EnvShowsOnlyAllowlistedNames) {
  const Redactor redactor = MakeRedactor();
  RedactionReport report;
  const auto env = [&](std::string_view name, std::string_view value) {
    StatusOr<std::string> out = redactor.RedactEnv(name, value, report);
    EXPECT_TRUE(out.ok());
    return out.ok() ? *out : std::string();
  };
  EXPECT_EQ(env("PATH", "/usr/bin:/bin"), "/usr/bin:/bin");
  EXPECT_EQ(env("LC_ALL", "C.UTF-8"), "C.UTF-8");
  EXPECT_EQ(env("KUBERNETES_SERVICE_HOST", "10.96.0.1"), "10.96.0.1");
  EXPECT_EQ(env("KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"), "tcp://10.96.0.1:443");
  EXPECT_EQ(env("HOSTNAME", "checkout-7d9f"), "checkout-7d9f");
  EXPECT_EQ(env("LOG_LEVEL", "debug"), "[REDACTED]");
  EXPECT_EQ(env("DB_PASSWORD", "hunter2"), "[REDACTED]");
  EXPECT_EQ(env("PATHX", "/x"), "[REDACTED]");
  EXPECT_EQ(env("LC_", "x"), "[REDACTED]");
  EXPECT_EQ(report.env_redacted, 4);
}

TEST(RedactorTest, AllowEnvAddsNamesAndWildcards) {
  const Redactor redactor =
      MakeRedactor(Policy({}, {"LOG_LEVEL", "MYAPP_FEATURE_*", "DATABASE_URL"}));
  RedactionReport report;
  EXPECT_EQ(*redactor.RedactEnv("LOG_LEVEL", "debug", report), "debug");
  EXPECT_EQ(*redactor.RedactEnv("MYAPP_FEATURE_X", "on", report), "on");
  EXPECT_EQ(*redactor.RedactEnv("MYAPP_OTHER", "on", report), "[REDACTED]");
  // Shown values still go through the text rules.
  EXPECT_EQ(*redactor.RedactEnv("DATABASE_URL", "postgres://u:pw@db/shop", report),
            "postgres://u:[REDACTED:url-password]@db/shop");
  EXPECT_EQ(report.env_redacted, 1);
  EXPECT_EQ(report.patterns_matched["url-password"], 1);
}

TEST(RedactorTest, SecretEnvOverridesAllowEnvAndBuiltins) {
  const Redactor redactor =
      MakeRedactor(Policy({}, {"API_TOKEN", "APP_*"}, {"API_TOKEN", "APP_KEY", "HOME"}));
  RedactionReport report;
  EXPECT_EQ(*redactor.RedactEnv("API_TOKEN", "t", report), "[REDACTED]");
  EXPECT_EQ(*redactor.RedactEnv("APP_KEY", "k", report), "[REDACTED]");
  EXPECT_EQ(*redactor.RedactEnv("HOME", "/root", report), "[REDACTED]");
  EXPECT_EQ(*redactor.RedactEnv("APP_NAME", "shop", report), "shop");
  EXPECT_FALSE(redactor.IsEnvShown("API_TOKEN"));
  EXPECT_TRUE(redactor.IsEnvShown("APP_NAME"));
  EXPECT_EQ(report.env_redacted, 3);
}

// --- report --------------------------------------------------------------------------------------

TEST(RedactorTest, ReportCountsRulesAndNeverHoldsValues) {
  const Redactor redactor = MakeRedactor();
  RedactionReport report;
  const std::string secrets[] = {"hunter2", "AKIAIOSFODNN7EXAMPLE", "pw123"};
  Redact(redactor, "--password=hunter2 AKIAIOSFODNN7EXAMPLE", &report);
  Redact(redactor, "mysql://u:pw123@db/x AKIAIOSFODNN7EXAMPLE", &report);
  StatusOr<std::string> env = redactor.RedactEnv("SECRET", "hunter2", report);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(report.patterns_matched,
            (std::map<std::string, int>{
                {"aws-access-key", 2}, {"secret-key-value", 1}, {"url-password", 1}}));
  EXPECT_EQ(report.env_redacted, 1);
  report.dropped_fields.push_back("processes[3].cmdline");
  std::string everything;
  for (const auto& [rule, count] : report.patterns_matched) everything += rule + " ";
  for (const std::string& field : report.dropped_fields) everything += field + " ";
  for (const std::string& secret : secrets) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret;
  }
}

TEST(RedactorTest, ReportsMerge) {
  RedactionReport a;
  a.env_redacted = 2;
  a.patterns_matched = {{"jwt", 1}, {"extra", 2}};
  a.dropped_fields = {"env"};
  RedactionReport b;
  b.env_redacted = 3;
  b.patterns_matched = {{"jwt", 4}};
  b.dropped_fields = {"cmdline"};
  a.Merge(b);
  EXPECT_EQ(a.env_redacted, 5);
  EXPECT_EQ(a.patterns_matched, (std::map<std::string, int>{{"extra", 2}, {"jwt", 5}}));
  EXPECT_EQ(a.dropped_fields, (std::vector<std::string>{"env", "cmdline"}));
}

TEST(RedactorTest, OverlappingMatchesCountOnceUnderTheMostSpecificRule) {
  RedactionReport report;
  const std::string token = "ghp_" + RandomToken(36, kAlnum, 9);
  EXPECT_EQ(Redact("GITHUB_TOKEN=" + token, &report), "GITHUB_TOKEN=[REDACTED:github-token]");
  EXPECT_EQ(report.patterns_matched, (std::map<std::string, int>{{"github-token", 1}}));
}

// --- the single trigger pass
// ---------------------------------------------------------------------- Token formats, bearer
// credentials and key=value pairs are found in one pass over the text, each scanner resuming after
// its own matches; "://" and "-----BEGIN " are spotted in that pass and only then searched for.
// These tests pin the cases where one scanner's skip could hide another's.

TEST(RedactorTest, UrlInsideASecretValueIsStillSeen) {
  // The key=value scanner skips the whole value; the "://" inside must still reach url-password.
  EXPECT_EQ(Redact("password=postgres://u:pw@db.svc/x"), "password=[REDACTED:url-password]");
  EXPECT_EQ(Redact("postgres://u:pw@h"), "postgres://u:[REDACTED:url-password]@h");
  EXPECT_EQ(Redact("a://"), "a://");
}

TEST(RedactorTest, PemBeginInsideABearerCredentialIsStillSeen) {
  EXPECT_EQ(Redact("Bearer q7Z3x9Yy2Wv8Lm4N-----BEGIN PRIVATE KEY-----\nabc\n"
                   "-----END PRIVATE KEY-----"),
            "Bearer [REDACTED:pem-private-key]");
  EXPECT_EQ(Redact("-----BEGIN PRIVATE KEY-----\nabc"), "[REDACTED:pem-private-key]");
  EXPECT_EQ(Redact("x-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY----- tail"),
            "x[REDACTED:pem-private-key] tail");
}

TEST(RedactorTest, AdjacentMatchesOfDifferentScannersAreAllFound) {
  const std::string token = "ghp_" + RandomToken(36, kAlnum, 11);
  const std::string credential = RandomToken(24, kAlnum, 12) + "9z";
  RedactionReport report;
  EXPECT_EQ(Redact("token=" + token + " Bearer " + credential + " api_key=k1", &report),
            "token=[REDACTED:github-token] Bearer [REDACTED:bearer-token] "
            "api_key=[REDACTED:secret-key-value]");
  EXPECT_EQ(report.patterns_matched,
            (std::map<std::string, int>{
                {"bearer-token", 1}, {"github-token", 1}, {"secret-key-value", 1}}));
}

TEST(RedactorTest, SecretKeywordsMatchInAnyCaseAndAtTheEndOfAKey) {
  EXPECT_EQ(Redact("pAsSwOrD=hunter2"), "pAsSwOrD=[REDACTED:secret-key-value]");
  EXPECT_EQ(Redact("PASSWORD=hunter2"), "PASSWORD=[REDACTED:secret-key-value]");
  EXPECT_EQ(Redact("my_auth=x1"), "my_auth=[REDACTED:secret-key-value]");
  // A keyword's first letters only ("pass" is a keyword of its own since review M3).
  EXPECT_EQ(Redact("au=x1 sec=x3 tok=x4 passw=x5"), "au=x1 sec=x3 tok=x4 passw=x5");
}

TEST(RedactorTest, HighEntropyLengthIsCountedWithoutPadding) {
  EXPECT_EQ(Redact("aB3dE5gH7jK9mN1pQ3sT5vW7"), "[REDACTED:high-entropy]");     // 24
  EXPECT_EQ(Redact("aB3dE5gH7jK9mN1pQ3sT5vW"), "aB3dE5gH7jK9mN1pQ3sT5vW");      // 23
  EXPECT_EQ(Redact("aB3dE5gH7jK9mN1pQ3sT5vW=="), "aB3dE5gH7jK9mN1pQ3sT5vW==");  // 23 + 2
  EXPECT_EQ(Redact("aB3dE5gH7jK9mN1pQ3sT5vW7=="), "[REDACTED:high-entropy]");   // 24 + 2
}

TEST(RedactorTest, InvalidByteIsReplacedAtEveryOffset) {
  // ASCII is checked eight bytes at a time; a bad byte in any lane, or in the tail, is found.
  for (size_t at = 0; at < 20; ++at) {
    std::string text(20, 'a');
    text[at] = '\xff';
    std::string expected(20, 'a');
    expected.replace(at, 1, "\xef\xbf\xbd");
    EXPECT_EQ(Redact(text), expected) << at;
  }
}

// --- robustness ----------------------------------------------------------------------------------

std::string Repeat(std::string_view unit, size_t bytes) {
  std::string out;
  out.reserve(bytes + unit.size());
  while (out.size() < bytes) out.append(unit);
  return out;
}

TEST(RedactorTest, PathologicalInputsAreHandledInOnePass) {
  // Each of these would take quadratic time with a backtracking or restart-per-position scanner;
  // the assertions check the output, the test's run time shows the scan is linear.
  const size_t kMiB = 1 << 20;
  const Redactor redactor = MakeRedactor(Policy({"aaab", "acme_live_"}));
  for (std::string_view unit : {"a=a=", "eyJ", "eyJ.", "a://", "AKIA", "--password ", "Bearer ",
                                "a:", "-----BEGIN X-----", "/a", "a-1", "aaaa", "ab1", "x "}) {
    const std::string text = Repeat(unit, kMiB);
    EXPECT_EQ(Redact(redactor, text), text) << unit;
  }
  EXPECT_EQ(Redact(redactor, Repeat("token=", kMiB)), "token=[REDACTED:secret-key-value]");
  EXPECT_EQ(Redact(redactor, Repeat("-----BEGIN PRIVATE KEY-----", kMiB)),
            "[REDACTED:pem-private-key]");
  EXPECT_EQ(Redact(redactor, " " + Repeat("acme_live_", kMiB)), " [REDACTED:extra]");
}

TEST(RedactorTest, TooLargeTextFailsWithoutTouchingTheReport) {
  const Redactor redactor = MakeRedactor();
  RedactionReport report;
  const std::string huge(kMaxTextBytes + 1, 'a');
  StatusOr<std::string> out = redactor.RedactText(huge, report);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(report.patterns_matched.empty());
  // The same through an allowlisted env var: the caller drops the field.
  StatusOr<std::string> env = redactor.RedactEnv("PATH", huge, report);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(report.env_redacted, 0);
  EXPECT_TRUE(redactor.RedactText(std::string(kMaxTextBytes, 'a'), report).ok());
}

TEST(RedactorTest, InvalidUtf8IsReplacedAndSecretsAreStillFound) {
  EXPECT_EQ(Redact("caf\xe9 AKIAIOSFODNN7EXAMPLE"), "caf\xef\xbf\xbd [REDACTED:aws-access-key]");
  EXPECT_EQ(Redact("password=\xff\xfe secret"), "password=[REDACTED:secret-key-value] secret");
  EXPECT_EQ(Redact("overlong \xc0\xaf and surrogate \xed\xa0\x80"),
            "overlong \xef\xbf\xbd\xef\xbf\xbd and surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(Redact("truncated \xe2\x82"), "truncated \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(Redact("valid h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x94\x91"),
            "valid h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x94\x91");
}

TEST(RedactorTest, RedactingTwiceChangesNothingMore) {
  const std::string text = std::string("--password=x ") + kJwt + " postgres://u:p@h/db";
  const std::string once = Redact(text);
  EXPECT_EQ(Redact(once), once);
}

TEST(RedactorTest, EmptyTextIsFine) { EXPECT_EQ(Redact(""), ""); }

}  // namespace
}  // namespace ephemera::redact
