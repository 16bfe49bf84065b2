// Tests of the redactor against real-world formats (the security review's M3): every assignment
// syntax with camelCase, snake_case and kebab keys; the argv forms programs really take passwords
// in; one positive and one negative case per row of the token table; a planted corpus generated
// from the formats' specifications with random bodies (detection rate); and the false-positive rate
// on a benign corpus of what /proc holds. The corpus and the token specifications are in
// planted_corpus.h.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "redact/redactor.h"
#include "tests/redact/planted_corpus.h"

namespace ephemera::redact {
namespace {

using namespace corpus;  // NOLINT(google-build-using-namespace): the corpus vocabulary

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

// Where the provider documents the body's length, a body one character short of it is not that
// provider's token: the rule's name must not appear (another rule, high-entropy say, may still
// redact it).
TEST(RedactorFormatsTest, ABodyShorterThanDocumentedIsNotRedactedUnderItsRule) {
  const Redactor redactor = MakeRedactor();
  Random random(24);
  int documented = 0;
  for (const TokenSpec& spec : TokenSpecs()) {
    if (!HasDocumentedLength(spec)) continue;
    ++documented;
    const std::string token = spec.prefix + ShortBody(random, spec);
    RedactionReport report;
    StatusOr<std::string> out = redactor.RedactText("run " + token + " now", report);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(report.patterns_matched.count(std::string(spec.rule)), 0U) << token << " -> " << *out;
  }
  EXPECT_GT(documented, 0) << "no spec has a documented length";
}

TEST(RedactorFormatsTest, Base32AndHexBodiesNeedNoDigit) {
  // An AWS key ID's body is base32 (A-Z, 2-7): one in 28 has no digit.
  EXPECT_EQ(Redact(MakeRedactor(), "id AKIAQWERTYUIOPASDFGH x"), "id [REDACTED:aws-access-key] x");
  EXPECT_EQ(Redact(MakeRedactor(), "dapi" + std::string(32, 'e')), "[REDACTED:databricks-token]");
}

// True when a word inside `spec`'s prefix (after a '.', '-' or '_') begins another spec's prefix of
// the same rule, as "xoxp-" inside Slack's "xoxe.xoxp-": gluing a letter to the front then still
// leaves a real token inside the word.
bool PrefixHoldsAnotherOfItsRule(const TokenSpec& spec, const std::vector<TokenSpec>& specs) {
  for (size_t i = 1; i < spec.prefix.size(); ++i) {
    if (std::isalnum(static_cast<unsigned char>(spec.prefix[i - 1])) != 0) continue;
    const std::string_view rest = std::string_view(spec.prefix).substr(i);
    for (const TokenSpec& other : specs) {
      if (other.rule == spec.rule && rest.starts_with(other.prefix)) return true;
    }
  }
  return false;
}

TEST(RedactorFormatsTest, TokenLookAlikesAreNotTokens) {
  const Redactor redactor = MakeRedactor();
  Random random(20);
  const std::vector<TokenSpec> specs = TokenSpecs();
  for (const TokenSpec& spec : specs) {
    // Too short to be the token, and a word: no rule may name it after the token's rule.
    const std::string short_token = spec.prefix + random.Chars(kDigits, 3) + "x";
    RedactionReport report;
    StatusOr<std::string> out = redactor.RedactText("run " + short_token + " now", report);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(report.patterns_matched.count(std::string(spec.rule)), 0U) << short_token;
    // A prefix inside a longer word does not start a token.
    if (PrefixHoldsAnotherOfItsRule(spec, specs)) continue;
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

// --- linear time ---------------------------------------------------------------------------------

TEST(RedactorFormatsTest, NewSyntaxesStayLinearOnPathologicalInput) {
  // Each unit repeated to 1 MiB exercises a scanner of these syntaxes at every position (program
  // look-back for short flags, XML values, quoted pairs, compound separators); the test's run
  // time shows the scan is linear, the assertions that it finishes with the text in place.
  const size_t kMiB = 1 << 20;
  const Redactor redactor = MakeRedactor();
  for (std::string_view unit : {"x -a ", "x -p ", "<password>", "<key>", "'token',", "a->",
                                "k:=", "--password -x ", "pat-na1-", "-pS3cret! "}) {
    std::string text = "redis-cli ";
    while (text.size() < kMiB) text += unit;
    RedactionReport report;
    StatusOr<std::string> out = redactor.RedactText(text, report);
    ASSERT_TRUE(out.ok()) << unit;
    EXPECT_GE(out->size(), kMiB / 2) << unit;
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

// Two hidden values that share their first 64 bytes (JWTs with the same header, say): both are
// redacted whole; only the one kept for the shared key was, and the other's tail was printed.
TEST(RedactorFormatsTest, SecretValuesSharingTheirKeyAreBothRedactedWhole) {
  Random random(23);
  const std::string head = random.Chars(kAlnum, 80);
  const std::string first = head + "tail" + random.Chars(kAlnum, 40);
  const std::string second = head + "other" + random.Chars(kAlnum, 60);
  const Redactor redactor = MakeRedactor().WithSecretValues({first, second});
  const std::string out = Redact(redactor, "a=" + first + " b=" + second + " c");
  EXPECT_EQ(out.find(first.substr(64)), std::string::npos) << out;
  EXPECT_EQ(out.find(second.substr(64)), std::string::npos) << out;
  EXPECT_NE(out.find(" c"), std::string::npos) << out;
}

// A text that repeats a long value's key without being the value is redacted without comparing the
// value at every position (that cost text x value bytes, a stall a target could cause).
TEST(RedactorFormatsTest, ARunOfAValuesKeyIsRedactedNotComparedAtEveryByte) {
  const std::string value = std::string(4096, 'q') + "!";
  const Redactor redactor = MakeRedactor().WithSecretValues({value});
  const std::string out = Redact(redactor, "x " + std::string(1 << 16, 'q') + " y");
  EXPECT_EQ(out.find(std::string(64, 'q')), std::string::npos);
  EXPECT_EQ(out.rfind("x ", 0), 0u) << "text before the run is kept";
  // Fails closed: a match redacts as far as the value could reach (4097 bytes), so what follows
  // the run within that reach goes too.
  EXPECT_EQ(out, "x [REDACTED:secret-value]");
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
  int leaked = 0;
  const std::vector<PlantedCase> cases = PlantedCases(21, 20);
  for (const PlantedCase& c : cases) {
    if (Redact(redactor, c.text).find(c.secret) != std::string::npos) ++leaked;
  }
  const double rate = 1.0 - static_cast<double>(leaked) / static_cast<double>(cases.size());
  EXPECT_GE(rate, 0.99) << leaked << " of " << cases.size() << " planted secrets leaked";
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
