// ephemera-bench-redact: throughput of Redactor::RedactText against two baselines measured in the
// same run, RE2 and std::regex, per kind of input the snapshot tool redacts.
//
// For each input kind a deterministic corpus of fields is generated, with a small fraction of
// planted secrets (JWTs, AWS access keys, GitHub tokens, key=value and --flag passwords, URLs with
// passwords, opaque high-entropy tokens):
//   cmdlines     NUL-separated argument vectors as read from /proc/<pid>/cmdline
//   paths        fd targets and memory-map paths (container layers, sockets, pipes, deleted files)
//   log lines    request logs, pod names, hex trace IDs, UUIDs, file:line locations
//   env values   values of environment variables (PATH, JAVA_OPTS, URLs, feature flags)
// Each is measured as
//   redactor         one RedactText call per field, as the snapshot tool calls it
//   RE2              the same rules in RE2: one RE2::Set (unanchored) of every rule finds which
//                    rules match a field, then each matched rule's own RE2 finds its matches and
//                    they are spliced out (rules in the redactor's precedence order, each over the
//                    output of the previous one). The rules are the std::regex baseline's below,
//                    its five token rules replaced by one pattern per token format. The token
//                    table itself (kTokenRules) is internal to redactor.cc, so those patterns are
//                    built from the independent token specifications of
//                    tests/redact/planted_corpus.h (prefix, then each part of the body
//                    as its alphabet and length, the last part open-ended), which cover every row
//                    of the table. The high-entropy rule is a candidate-token pattern plus the
//                    same entropy test in C++. Over the whole corpus of each kind.
//   std::regex       one std::regex per rule approximating the same rules (the token table only
//                    by its five oldest providers), applied in sequence (each rule rewrites the
//                    output of the previous one) to each field; the high-entropy rule as for RE2.
//                    std::regex is slow: over the first 1 MiB of each kind only.
// and, for log lines, RedactText over the whole log in one call (as for a container's log).
// Prints MB/s (10^6 bytes per CPU-second of the measuring thread), the ratios, and the match
// counts of all three against the planted secrets, and checks the goals (>= 200 MB/s per
// core on every kind, and ahead of RE2). Then the redactor's detection rate on the planted corpus
// of tests/redact/planted_corpus.h (provider token formats and secret keys in every
// syntax, random bodies) and its false-positive rate on the benign /proc corpus
// tests/testdata/redact/benign_proc.txt (share of whitespace-separated tokens redacted; goal
// <= 0.5 %). With the PII corpus of tests/redact/planted_pii_corpus.h: the PII detection
// rate with pii=strict, the benign false-positive rate with pii=standard, and the redactor's
// MB/s on log lines with pii=standard and pii=strict (goal >= 200 MB/s).
//
//   ephemera-bench-redact [--mib N]      N MiB per input kind (default 2)
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "redact/redactor.h"
#include "tests/redact/planted_corpus.h"
#include "tests/redact/planted_pii_corpus.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kSeed = 20261128;
constexpr double kGoalMbPerSecond = 200.0;
constexpr size_t kRegexBytesPerKind = size_t{1} << 20;  // std::regex is slow: 1 MiB per kind
constexpr int kRedactorRepeats = 5;
constexpr int kRe2Repeats = 3;
constexpr int kPiiRounds = 100;  // of the planted PII corpus: one value per PII rule a round
constexpr int kPlantPerMille = 15;

// The decimal number `text` holds entirely, or `fallback`.
int ParseInt(std::string_view text, int fallback) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size() ? value : fallback;
}

// ---- the corpus ----

struct Corpus {
  std::string kind;
  std::vector<std::string> fields;
  std::map<std::string, int> planted;  // rule -> secrets planted
  size_t bytes = 0;
};

class CorpusGenerator {
 public:
  explicit CorpusGenerator(uint32_t seed) : rng_(seed) {}

  // Fields of about `bytes` bytes in total, made by `noise` or, now and then, `secret`.
  Corpus Generate(std::string kind, size_t bytes,
                  const std::function<std::string(CorpusGenerator&)>& noise,
                  const std::function<std::string(CorpusGenerator&, Corpus&)>& secret) {
    Corpus corpus;
    corpus.kind = std::move(kind);
    while (corpus.bytes < bytes) {
      std::string field = Uniform(1000) < kPlantPerMille ? secret(*this, corpus) : noise(*this);
      corpus.bytes += field.size();
      corpus.fields.push_back(std::move(field));
    }
    return corpus;
  }

  int Uniform(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string Number(int n) { return std::to_string(Uniform(n)); }

  template <size_t N>
  std::string_view Pick(const std::string_view (&choices)[N]) {
    return choices[Uniform(static_cast<int>(N))];
  }

  std::string Chars(std::string_view alphabet, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += alphabet[Uniform(static_cast<int>(alphabet.size()))];
    return out;
  }
  std::string Hex(int n) { return Chars("0123456789abcdef", n); }
  std::string Base62(int n) {
    return Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", n);
  }
  std::string Base64Url(int n) {
    return Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", n);
  }
  std::string Uuid() { return Hex(8) + "-" + Hex(4) + "-" + Hex(4) + "-" + Hex(4) + "-" + Hex(12); }
  std::string PodName() {
    static constexpr std::string_view kApps[] = {"web-frontend", "checkout", "payments-api",
                                                 "redis-cache", "inventory"};
    return std::string(Pick(kApps)) + "-" + Chars("bcdfghjklmnpqrstvwxz2456789", 10) + "-" +
           Chars("bcdfghjklmnpqrstvwxz2456789", 5);
  }

  // A secret of one of the planted kinds, counted in `corpus.planted`; `kinds` limits the choice
  // to the first `kinds` of them.
  std::string Secret(Corpus& corpus, int kinds = 6) {
    switch (Uniform(kinds)) {
      case 0:
        ++corpus.planted["jwt"];
        return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + Base64Url(60) + "." + Base64Url(43);
      case 1:
        ++corpus.planted["aws-access-key"];
        return "AKIA" + Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
      case 2:
        ++corpus.planted["github-token"];
        return "ghp_" + Base62(36);
      case 3:
        ++corpus.planted["high-entropy"];
        // Letters and digits interleaved, as the high-entropy rule requires.
        return Base62(14) + "q7Z3" + Base62(14);
      case 4:
        ++corpus.planted["url-password"];
        return "postgres://app:" + Base62(12) + "@db.shop.svc:5432/orders";
      default:
        ++corpus.planted["secret-key-value"];
        return "DB_PASSWORD=" + Base62(14);
    }
  }

 private:
  std::mt19937 rng_;
};

std::string Timestamp(CorpusGenerator& g) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "2026-11-28T%02d:%02d:%02d.%03dZ ", g.Uniform(24), g.Uniform(60),
                g.Uniform(60), g.Uniform(1000));
  return buf;
}

std::string LogNoise(CorpusGenerator& g) {
  static constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "DELETE"};
  static constexpr std::string_view kPaths[] = {"/api/v1/orders", "/healthz", "/api/v2/cart/items",
                                                "/static/js/app.bundle.js", "/metrics"};
  std::string line = Timestamp(g);
  switch (g.Uniform(6)) {
    case 0:
    case 1:
      return line + "INFO  [worker-" + g.Number(64) + "] " + std::string(g.Pick(kMethods)) + " " +
             std::string(g.Pick(kPaths)) + " status=" + std::to_string(200 + g.Uniform(4) * 100) +
             " latency_ms=" + g.Number(900) + " trace_id=" + g.Hex(32) + " span_id=" + g.Hex(16);
    case 2:
      return line + "DEBUG pod " + g.PodName() + " in namespace shop scheduled on node ip-10-0-" +
             g.Number(255) + "-" + g.Number(255) + ".ec2.internal, container id containerd://" +
             g.Hex(64);
    case 3:
      return line + "WARN  request " + g.Uuid() + " retried (attempt " + g.Number(5) +
             "/5): upstream connect error or disconnect/reset before headers, "
             "reset reason: connection timeout";
    case 4:
      return line + "INFO  cache stats hits=" + g.Number(100000) + " misses=" + g.Number(1000) +
             " evictions=0 tokenizer=bpe tokens_per_second=" + g.Number(5000) +
             " author=alice file=/usr/src/app/internal/cache/lru.go:" + g.Number(500);
    default:
      return line + "ERROR failed to open /var/lib/app/data/segment-" + g.Number(9999) +
             ".log: no such file or directory (image sha256:" + g.Hex(64) + ")";
  }
}

std::string LogSecret(CorpusGenerator& g, Corpus& corpus) {
  return Timestamp(g) + "INFO  request from " + g.Number(100000) + " carried " + g.Secret(corpus) +
         " upstream";
}

// Arguments joined by NUL, as /proc/<pid>/cmdline holds them.
std::string Cmdline(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& arg : args) {
    out += arg;
    out.push_back('\0');
  }
  return out;
}

std::string CmdlineNoise(CorpusGenerator& g) {
  switch (g.Uniform(5)) {
    case 0:
      return Cmdline({"/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "-Xmx" + g.Number(4096) + "m",
                      "-XX:+UseG1GC", "-Dspring.profiles.active=prod",
                      "-Dlogging.config=/etc/app/logback.xml", "-jar",
                      "/opt/app/checkout-service-1." + g.Number(20) + ".2.jar",
                      "--server.port=8080", "--management.endpoints.web.exposure.include=health"});
    case 1:
      return Cmdline({"/usr/local/bin/python3", "-m", "gunicorn", "app.wsgi:application",
                      "--workers", g.Number(16), "--bind", "0.0.0.0:8000", "--timeout", "30",
                      "--access-logfile", "-"});
    case 2:
      return Cmdline({"/usr/bin/envoy", "-c", "/etc/envoy/envoy.yaml", "--service-cluster",
                      g.PodName(), "--service-node",
                      "sidecar~10.0." + g.Number(255) + "." + g.Number(255) + "~" + g.PodName() +
                          ".shop~shop.svc.cluster.local",
                      "--log-level", "warn"});
    case 3:
      return Cmdline({"node", "--max-old-space-size=" + g.Number(2048),
                      "/usr/src/app/dist/server.js", "--config", "/etc/app/config.json"});
    default:
      return Cmdline({"/app/inventory", "-addr=:" + g.Number(65535), "-v=" + g.Number(5),
                      "-cache-dir=/var/cache/inventory/" + g.Hex(12), "-trace-sample=0.01"});
  }
}

std::string CmdlineSecret(CorpusGenerator& g, Corpus& corpus) {
  if (g.Uniform(3) == 0) {
    ++corpus.planted["secret-key-value"];
    return Cmdline({"/app/worker", "--queue", "orders", "--api-token", g.Base62(32), "-v=2"});
  }
  return Cmdline({"/app/worker", "--queue", "orders", "--upstream", g.Secret(corpus, 5), "-v=2"});
}

std::string PathNoise(CorpusGenerator& g) {
  switch (g.Uniform(7)) {
    case 0:
      return "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/" +
             g.Number(900) + "/fs/usr/lib/x86_64-linux-gnu/libssl.so.3";
    case 1:
      return "socket:[" + std::to_string(100000 + g.Uniform(900000)) + "]";
    case 2:
      return "pipe:[" + std::to_string(100000 + g.Uniform(900000)) + "]";
    case 3:
      return "/var/log/pods/shop_" + g.PodName() + "_" + g.Uuid() + "/app/0.log";
    case 4:
      return "/tmp/.java_pid" + g.Number(60000) + " (deleted)";
    case 5:
      return "anon_inode:[eventfd]";
    default:
      return "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + g.Hex(64) + "/rootfs";
  }
}

std::string PathSecret(CorpusGenerator& g, Corpus& corpus) {
  if (g.Uniform(2) == 0) {
    ++corpus.planted["high-entropy"];
    return "/tmp/upload-" + g.Base62(14) + "q7Z3" + g.Base62(14) + ".part";
  }
  ++corpus.planted["url-password"];
  return "/mnt/https://svc:" + g.Base62(12) + "@registry.shop.svc/v2/cache";
}

std::string EnvNoise(CorpusGenerator& g) {
  switch (g.Uniform(6)) {
    case 0:
      return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/app/bin";
    case 1:
      return "-Xms256m -Xmx" + g.Number(4096) + "m -XX:MaxRAMPercentage=75.0 -Dfile.encoding=UTF-8";
    case 2:
      return g.PodName();
    case 3:
      return "tcp://10.96." + g.Number(255) + "." + g.Number(255) + ":443";
    case 4:
      return "en_US.UTF-8";
    default:
      return "https://orders.shop.svc.cluster.local:8443/api/v" + g.Number(3) +
             "/orders?limit=" + g.Number(500);
  }
}

std::string EnvSecret(CorpusGenerator& g, Corpus& corpus) { return g.Secret(corpus); }

// ---- the std::regex baseline ----

// Shannon entropy of `token` in bits per byte.
double Entropy(std::string_view token) {
  int counts[256] = {};
  for (unsigned char c : token) ++counts[c];
  double bits = 0;
  for (int count : counts) {
    if (count == 0) continue;
    double p = static_cast<double>(count) / static_cast<double>(token.size());
    bits -= p * std::log2(p);
  }
  return bits;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The high-entropy test on one segment (the redactor's thresholds, simplified).
bool LooksRandom(std::string_view token) {
  while (!token.empty() && token.back() == '=') token.remove_suffix(1);
  if (token.size() < 24) return false;
  bool pure_hex = std::all_of(token.begin(), token.end(), [](char c) {
    return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-';
  });
  if (pure_hex) return false;
  int boundaries = 0;
  for (size_t i = 1; i < token.size(); ++i) {
    if ((IsDigit(token[i - 1]) && IsLetter(token[i])) ||
        (IsLetter(token[i - 1]) && IsDigit(token[i]))) {
      ++boundaries;
    }
  }
  return boundaries >= 2 && Entropy(token) >= 3.5;
}

// A candidate token is judged like the redactor does: a path segment by segment, a lower-case name
// joined by '-', '_' or '/' part by part (two levels deep), anything else whole.
bool IsHighEntropy(std::string_view token, int depth = 0) {
  const auto split = [&](std::string_view separators) {
    size_t start = 0;
    for (size_t i = 0; i <= token.size(); ++i) {
      if (i == token.size() || separators.find(token[i]) != std::string_view::npos) {
        if (i > start && IsHighEntropy(token.substr(start, i - start), depth + 1)) return true;
        start = i + 1;
      }
    }
    return false;
  };
  const bool lower_name =
      token.find_first_of("-_/") != std::string_view::npos &&
      std::all_of(token.begin(), token.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '_' || c == '/';
      });
  if (depth < 2 && token[0] == '/') return split("/");
  if (depth < 2 && lower_name) return split("-_/");
  return LooksRandom(token);
}

struct RegexRule {
  std::string name;
  std::regex pattern;
  std::string replacement;  // regex_replace format ("$1[REDACTED:...]")
  bool check_entropy = false;
};

std::vector<RegexRule> MakeRegexRules() {
  auto flags = std::regex::ECMAScript | std::regex::optimize;
  auto rule = [&](std::string name, const char* pattern, const std::string& prefix = "",
                  std::regex::flag_type extra = std::regex::ECMAScript) {
    std::string replacement = prefix + "[REDACTED:" + name + "]";
    return RegexRule{std::move(name), std::regex(pattern, flags | extra), replacement};
  };
  std::vector<RegexRule> rules;
  rules.push_back(
      rule("pem-private-key",
           R"(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$))"));
  rules.push_back(rule("age-secret-key", R"(AGE-SECRET-KEY-(PQ-)?1[A-Z0-9]+)"));
  rules.push_back(rule("jwt", R"(eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)"));
  rules.push_back(rule("aws-access-key", R"(\b(AKIA|ASIA)[A-Z0-9]{16}\b)"));
  rules.push_back(rule("github-token", R"(\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}))"));
  rules.push_back(rule("gitlab-token", R"(glpat-[A-Za-z0-9_.-]{20,})"));
  rules.push_back(rule("slack-token", R"(xox[abprs]-[A-Za-z0-9-]{10,})"));
  rules.push_back(rule("gcp-api-key", R"(AIza[A-Za-z0-9_-]{35})"));
  rules.push_back(
      rule("url-password", R"(([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@))", "$1"));
  rules.push_back(rule("bearer-token", R"(\b(Bearer|Basic) +[A-Za-z0-9._~+/=-]{16,})", "$1 "));
  rules.push_back(rule(
      "secret-key-value",
      R"(\b([\w.-]*(password|passwd|secret|token|api[_-]?key|access_key|private_key|credential|auth|session|cookie)s?(id|key)?(\s*[:=]\s*|[\s\0]+))("[^"]*"|[^\s\0"&]+))",
      "$1", std::regex::icase));
  RegexRule entropy = rule("high-entropy", R"([A-Za-z0-9+/_-]{24,}=*)");
  entropy.check_entropy = true;
  rules.push_back(std::move(entropy));
  return rules;
}

// Applies the rules in sequence to `text`, counting matches per rule in `counts`.
std::string RegexRedact(const std::vector<RegexRule>& rules, const std::string& text,
                        std::map<std::string, int>& counts) {
  std::string current = text;
  for (const RegexRule& rule : rules) {
    std::string out;
    out.reserve(current.size());
    auto last = current.cbegin();
    for (std::sregex_iterator it(current.cbegin(), current.cend(), rule.pattern), end; it != end;
         ++it) {
      const std::smatch& match = *it;
      if (rule.check_entropy && !IsHighEntropy(match.str())) continue;
      out.append(last, match[0].first);
      out += match.format(rule.replacement);
      last = match[0].second;
      ++counts[rule.name];
    }
    out.append(last, current.cend());
    current = std::move(out);
  }
  return current;
}

// ---- the RE2 baseline ----

// One rule: capture group 1 is the secret; whatever else the pattern matches is kept.
struct Re2Rule {
  std::string name;
  std::unique_ptr<RE2> pattern;
  bool check_entropy = false;
};

struct Re2Baseline {
  std::vector<Re2Rule> rules;  // in the order they are applied
  std::unique_ptr<RE2::Set> set;
};

// A character class of exactly the characters of `alphabet`.
std::string Re2CharClass(std::string_view alphabet) {
  std::string out = "[";
  for (char c : alphabet) {
    if (c == '\\' || c == ']' || c == '[' || c == '^' || c == '-') out += '\\';
    out += c;
  }
  return out + "]";
}

// A token spec as a pattern: word start, the prefix, each part of the body at its documented
// minimum (or the length its real tokens have) and the last part open-ended.
std::string Re2TokenPattern(const ephemera::redact::corpus::TokenSpec& spec) {
  const auto count = [](size_t length, size_t min_length, bool last) {
    return "{" + std::to_string(min_length > 0 ? min_length : length) + (last ? ",}" : "}");
  };
  std::string pattern = "\\b(" + RE2::QuoteMeta(spec.prefix) + Re2CharClass(spec.alphabet) +
                        count(spec.length, spec.min_length, spec.more.empty());
  for (size_t i = 0; i < spec.more.size(); ++i) {
    const ephemera::redact::corpus::BodyPart& part = spec.more[i];
    pattern += RE2::QuoteMeta(part.separator);
    if (part.length > 0) {
      pattern += Re2CharClass(part.alphabet) +
                 count(part.length, part.min_length, i + 1 == spec.more.size());
    }
  }
  return pattern + ")";
}

// The std::regex baseline's rules in RE2 syntax (no look-ahead: the '@' after a URL's password is
// matched and kept), with one pattern per token specification in place of its five token rules,
// in the redactor's precedence order.
ephemera::StatusOr<Re2Baseline> MakeRe2Baseline() {
  struct Source {
    std::string name;
    std::string pattern;
    bool check_entropy;
  };
  std::vector<Source> sources = {
      {"pem-private-key",
       R"((-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)))",
       false},
      {"age-secret-key", R"((AGE-SECRET-KEY-(?:PQ-)?1[A-Z0-9]+))", false},
      {"jwt", R"((eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+))", false},
  };
  for (const auto& spec : ephemera::redact::corpus::TokenSpecs()) {
    sources.push_back({std::string(spec.rule), Re2TokenPattern(spec), false});
  }
  sources.push_back({"url-password", R"([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:([^\s@/]+)@)", false});
  sources.push_back({"bearer-token", R"(\b(?:Bearer|Basic) +([A-Za-z0-9._~+/=-]{16,}))", false});
  sources.push_back(
      {"secret-key-value",
       R"((?i)\b[\w.-]*(?:password|passwd|secret|token|api[_-]?key|access_key|private_key|)"
       R"(credential|auth|session|cookie)s?(?:id|key)?(?:\s*[:=]\s*|[\s\x00]+))"
       R"(("[^"]*"|[^\s\x00"&]+))",
       false});
  sources.push_back({"high-entropy", R"(([A-Za-z0-9+/_-]{24,}=*))", true});

  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(int64_t{256} << 20);  // the set's DFA: the token rows' counted repetitions
  Re2Baseline baseline;
  baseline.set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
  for (const Source& source : sources) {
    auto pattern = std::make_unique<RE2>(source.pattern, options);
    std::string error;
    if (!pattern->ok() || baseline.set->Add(source.pattern, &error) < 0) {
      return ephemera::InvalidArgumentError("RE2 rejects the " + source.name + " pattern " +
                                            source.pattern + ": " + pattern->error() + error);
    }
    baseline.rules.push_back({source.name, std::move(pattern), source.check_entropy});
  }
  if (!baseline.set->Compile()) {
    return ephemera::InternalError("RE2::Set::Compile ran out of memory");
  }
  return baseline;
}

// Applies the rules that the set finds in `text`, in order, each to the output of the previous
// one, counting matches per rule in `counts`; false when the set's DFA ran out of memory.
bool Re2Redact(const Re2Baseline& baseline, std::string_view text, std::string& out,
               std::map<std::string, int>& counts) {
  std::vector<int> matched;
  RE2::Set::ErrorInfo error{};
  if (!baseline.set->Match(text, &matched, &error)) {
    out.assign(text);
    return error.kind == RE2::Set::kNoError;
  }
  std::sort(matched.begin(), matched.end());
  std::string current(text);
  for (int index : matched) {
    const Re2Rule& rule = baseline.rules[static_cast<size_t>(index)];
    std::string next;
    next.reserve(current.size());
    const re2::StringPiece input(current);
    re2::StringPiece groups[2];
    size_t last = 0;
    size_t pos = 0;
    while (pos <= current.size() &&
           rule.pattern->Match(input, pos, current.size(), RE2::UNANCHORED, groups, 2)) {
      const size_t match_end =
          static_cast<size_t>(groups[0].data() - current.data()) + groups[0].size();
      const size_t begin = static_cast<size_t>(groups[1].data() - current.data());
      if (!rule.check_entropy ||
          IsHighEntropy(std::string_view(groups[1].data(), groups[1].size()))) {
        next.append(current, last, begin - last);
        next += "[REDACTED:" + rule.name + "]";
        last = begin + groups[1].size();
        ++counts[rule.name];
      }
      pos = std::max(match_end, pos + 1);
    }
    next.append(current, last, std::string::npos);
    current = std::move(next);
  }
  out = std::move(current);
  return true;
}

// ---- measurement ----

struct FalsePositives {
  size_t tokens = 0;    // whitespace-separated tokens of the benign corpus
  size_t redacted = 0;  // "[REDACTED:" markers in the output
  double Percent() const {
    return tokens == 0 ? 100.0
                       : 100.0 * static_cast<double>(redacted) / static_cast<double>(tokens);
  }
};

// `redactor` over the benign /proc corpus, line by line.
FalsePositives BenignFalsePositives(const ephemera::redact::Redactor& redactor) {
  FalsePositives result;
  std::ifstream benign(EPHEMERA_TESTDATA_DIR "/redact/benign_proc.txt");
  for (std::string line; std::getline(benign, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    for (std::string word; words >> word;) ++result.tokens;
    ephemera::redact::RedactionReport report;
    auto out = redactor.RedactText(line, report);
    for (size_t pos = 0; out.ok() && (pos = out->find("[REDACTED:", pos)) != std::string::npos;
         ++pos) {
      ++result.redacted;
    }
  }
  return result;
}

double MbPerSecond(size_t bytes, Clock::duration elapsed) {
  return static_cast<double>(bytes) / 1e6 / std::chrono::duration<double>(elapsed).count();
}

int Total(const std::map<std::string, int>& counts) {
  int total = 0;
  for (const auto& [name, count] : counts) total += count;
  return total;
}

// CPU time this thread has used: "per core" figures divide by it, so that other work on a loaded
// machine does not count against the redactor (wall-clock figures are printed beside them).
Clock::duration ThreadCpuTime() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

struct Throughput {
  double per_cpu = 0;   // MB per CPU-second
  double per_wall = 0;  // MB per wall-clock second
};

// Best of kRedactorRepeats of RedactText over every field; zero on an error.
Throughput MeasureRedactor(const ephemera::redact::Redactor& redactor, const Corpus& corpus,
                           std::map<std::string, int>& matched) {
  Clock::duration best_cpu = Clock::duration::max();
  Clock::duration best_wall = Clock::duration::max();
  for (int run = 0; run < kRedactorRepeats; ++run) {
    ephemera::redact::RedactionReport report;
    size_t out_bytes = 0;
    const auto cpu_start = ThreadCpuTime();
    const auto start = Clock::now();
    for (const std::string& field : corpus.fields) {
      auto out = redactor.RedactText(field, report);
      if (!out.ok()) return {};
      out_bytes += out->size();
    }
    best_wall = std::min(best_wall, Clock::now() - start);
    best_cpu = std::min(best_cpu, ThreadCpuTime() - cpu_start);
    matched = report.patterns_matched;
    if (out_bytes == 0) return {};
  }
  return {MbPerSecond(corpus.bytes, best_cpu), MbPerSecond(corpus.bytes, best_wall)};
}

// Best of kRe2Repeats of the RE2 baseline over every field, in MB per CPU-second; zero when the
// set's DFA ran out of memory.
double MeasureRe2(const Re2Baseline& baseline, const Corpus& corpus,
                  std::map<std::string, int>& matched) {
  Clock::duration best = Clock::duration::max();
  for (int run = 0; run < kRe2Repeats; ++run) {
    std::map<std::string, int> counts;
    std::string out;
    const auto start = ThreadCpuTime();
    for (const std::string& field : corpus.fields) {
      if (!Re2Redact(baseline, field, out, counts)) return 0;
    }
    best = std::min(best, ThreadCpuTime() - start);
    matched = std::move(counts);
  }
  return MbPerSecond(corpus.bytes, best);
}

struct KindResult {
  Throughput ours;   // one call per field
  double re2 = 0;    // MB per CPU-second, one call per field, whole corpus
  double regex = 0;  // MB per CPU-second, one call per field
  size_t regex_bytes = 0;
  std::map<std::string, int> ours_matched;  // over the whole corpus
  std::map<std::string, int> re2_matched;   // over the whole corpus
  std::map<std::string, int> regex_matched;
  std::map<std::string, int> regex_planted;  // planted in the fields std::regex saw
};

KindResult MeasureKind(const ephemera::redact::Redactor& redactor, const Re2Baseline& re2,
                       const std::vector<RegexRule>& rules, const Corpus& corpus,
                       const Corpus& regex_corpus) {
  KindResult result;
  result.ours = MeasureRedactor(redactor, corpus, result.ours_matched);
  result.re2 = MeasureRe2(re2, corpus, result.re2_matched);
  const auto start = ThreadCpuTime();
  for (const std::string& field : regex_corpus.fields) {
    RegexRedact(rules, field, result.regex_matched);
  }
  result.regex = MbPerSecond(regex_corpus.bytes, ThreadCpuTime() - start);
  result.regex_bytes = regex_corpus.bytes;
  result.regex_planted = regex_corpus.planted;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows appear as they are measured
  int mib = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string_view(argv[i]) == "--mib") mib = std::max(1, ParseInt(argv[i + 1], mib));
  }
  const size_t bytes = static_cast<size_t>(mib) << 20;

  auto redactor = ephemera::redact::Redactor::Create({});
  if (!redactor.ok()) {
    std::fprintf(stderr, "Redactor::Create: %s\n", redactor.status().message().c_str());
    return 1;
  }
  const std::vector<RegexRule> rules = MakeRegexRules();
  auto re2 = MakeRe2Baseline();
  if (!re2.ok()) {
    std::fprintf(stderr, "RE2 baseline: %s\n", re2.status().message().c_str());
    return 1;
  }

  struct Kind {
    const char* name;
    std::string (*noise)(CorpusGenerator&);
    std::string (*secret)(CorpusGenerator&, Corpus&);
  };
  const Kind kinds[] = {
      {"cmdlines", CmdlineNoise, CmdlineSecret},
      {"paths", PathNoise, PathSecret},
      {"log lines", LogNoise, LogSecret},
      {"env values", EnvNoise, EnvSecret},
  };

  std::printf(
      "corpus: %d MiB per input kind (std::regex: the first %zu KiB), seed %u, "
      "%d per mille of fields with a planted secret\n\n",
      mib, kRegexBytesPerKind >> 10, kSeed, kPlantPerMille);
  std::printf(
      "MB/s = 10^6 bytes per CPU-second of the measuring thread (per core); wall = per "
      "wall-clock second, lower when other work shares the cores\n\n");
  std::printf("%-12s %8s %10s %8s %9s %7s %11s %8s   %s\n", "input", "fields", "redactor", "(wall)",
              "RE2", "ratio", "std::regex", "ratio",
              "matches: planted / redactor / RE2 / std::regex (std::regex part)");
  double worst = 1e300;
  double worst_re2_ratio = 1e300;
  Corpus logs;
  double logs_mb_per_second = 0;  // the redactor on log lines, pii=none
  for (const Kind& kind : kinds) {
    Corpus corpus = CorpusGenerator(kSeed).Generate(kind.name, bytes, kind.noise, kind.secret);
    Corpus regex_corpus =
        CorpusGenerator(kSeed).Generate(kind.name, kRegexBytesPerKind, kind.noise, kind.secret);
    const KindResult r = MeasureKind(*redactor, *re2, rules, corpus, regex_corpus);
    if (r.ours.per_cpu == 0) {
      std::fprintf(stderr, "RedactText failed on %s\n", kind.name);
      return 1;
    }
    if (r.re2 == 0) {
      std::fprintf(stderr, "RE2::Set ran out of memory on %s\n", kind.name);
      return 1;
    }
    worst = std::min(worst, r.ours.per_cpu);
    worst_re2_ratio = std::min(worst_re2_ratio, r.ours.per_cpu / r.re2);
    std::printf("%-12s %8zu %10.1f %8.1f %9.1f %6.1fx %11.2f %7.0fx   %d / %d / %d / %d (%d)\n",
                kind.name, corpus.fields.size(), r.ours.per_cpu, r.ours.per_wall, r.re2,
                r.ours.per_cpu / r.re2, r.regex, r.ours.per_cpu / r.regex, Total(corpus.planted),
                Total(r.ours_matched), Total(r.re2_matched), Total(r.regex_matched),
                Total(r.regex_planted));
    const auto count = [](const std::map<std::string, int>& counts, const std::string& rule) {
      const auto it = counts.find(rule);
      return it == counts.end() ? 0 : it->second;
    };
    for (const auto& [rule, planted] : corpus.planted) {
      std::printf("%-12s   %-67s %d / %d / %d / %d (%d)\n", "", rule.c_str(), planted,
                  count(r.ours_matched, rule), count(r.re2_matched, rule),
                  count(r.regex_matched, rule), count(r.regex_planted, rule));
    }
    for (const auto& [rule, matched] : r.ours_matched) {
      if (!corpus.planted.contains(rule)) {
        std::printf("%-12s   %-67s not planted; redactor matched %d, RE2 %d\n", "", rule.c_str(),
                    matched, count(r.re2_matched, rule));
      }
    }
    for (const auto& [rule, matched] : r.re2_matched) {
      if (!corpus.planted.contains(rule) && !r.ours_matched.contains(rule)) {
        std::printf("%-12s   %-67s not planted; redactor matched 0, RE2 %d\n", "", rule.c_str(),
                    matched);
      }
    }
    if (std::string_view(kind.name) == "log lines") {
      logs = std::move(corpus);
      logs_mb_per_second = r.ours.per_cpu;
    }
  }

  // A container log redacted in one call (the controller does this with fetched log lines).
  std::string log_text;
  for (const std::string& line : logs.fields) log_text += line + "\n";
  const Corpus whole{"log text", {log_text}, logs.planted, log_text.size()};
  std::map<std::string, int> whole_matched;
  const Throughput w = MeasureRedactor(*redactor, whole, whole_matched);
  std::printf("%-12s %8d %10.1f %8.1f %9s %7s %11s %8s   %d / %d\n", "whole log", 1, w.per_cpu,
              w.per_wall, "-", "-", "-", "-", Total(logs.planted), Total(whole_matched));
  worst = std::min(worst, w.per_cpu);

  std::printf("\ngoal: >= %.0f MB/s per core on every input kind: %s (slowest %.1f)\n",
              kGoalMbPerSecond, worst >= kGoalMbPerSecond ? "met" : "NOT met", worst);
  std::printf(
      "goal: ahead of RE2 on the same rules on every input kind: %s "
      "(smallest ratio %.2fx)\n",
      worst_re2_ratio > 1.0 ? "met" : "NOT met", worst_re2_ratio);

  // Detection on the planted corpus, false positives on the benign one.
  const std::vector<ephemera::redact::corpus::PlantedCase> planted =
      ephemera::redact::corpus::PlantedCases(kSeed, 20);
  size_t leaked = 0;
  for (const auto& c : planted) {
    ephemera::redact::RedactionReport report;
    auto out = redactor->RedactText(c.text, report);
    if (!out.ok() || out->find(c.secret) != std::string::npos) ++leaked;
  }
  std::printf("planted corpus: %zu secrets, %zu leaked: detection rate %.2f %% (goal >= 99 %%)\n",
              planted.size(), leaked,
              100.0 * (1.0 - static_cast<double>(leaked) / static_cast<double>(planted.size())));
  const FalsePositives benign = BenignFalsePositives(*redactor);
  std::printf(
      "benign /proc corpus: %zu tokens, %zu redacted: false-positive rate %.2f %% (goal "
      "<= 0.5 %%)\n",
      benign.tokens, benign.redacted, benign.Percent());

  // PII mode: detection on the planted PII corpus with pii=strict (every PII rule), false
  // positives on the benign corpus with pii=standard (what a cluster turns on by default), and
  // throughput on the log lines with each mode.
  const auto pii_redactor = [](ephemera::redact::PiiMode mode) {
    ephemera::redact::RedactionPolicy policy;
    policy.pii = mode;
    return ephemera::redact::Redactor::Create(policy);
  };
  auto standard = pii_redactor(ephemera::redact::PiiMode::kStandard);
  auto strict = pii_redactor(ephemera::redact::PiiMode::kStrict);
  if (!standard.ok() || !strict.ok()) {
    std::fprintf(stderr, "Redactor::Create with a PII mode: %s\n",
                 (standard.ok() ? strict.status() : standard.status()).message().c_str());
    return 1;
  }
  const std::vector<ephemera::redact::corpus::PlantedPii> pii =
      ephemera::redact::corpus::PlantedPiiCases(kSeed, kPiiRounds);
  std::map<std::string, std::pair<int, int>> pii_by_rule;  // rule -> planted, leaked
  size_t pii_leaked = 0;
  for (const auto& c : pii) {
    ephemera::redact::RedactionReport report;
    auto out = strict->RedactText(c.text, report);
    const bool value_leaked = !out.ok() || out->find(c.value) != std::string::npos;
    ++pii_by_rule[c.rule].first;
    pii_by_rule[c.rule].second += value_leaked ? 1 : 0;
    pii_leaked += value_leaked ? 1 : 0;
  }
  std::printf("\nPII corpus (pii=strict): %zu values, %zu leaked: detection rate %.2f %% (",
              pii.size(), pii_leaked,
              100.0 * (1.0 - static_cast<double>(pii_leaked) / static_cast<double>(pii.size())));
  const char* separator = "";
  for (const auto& [rule, counts] : pii_by_rule) {
    std::printf("%s%s %d/%d leaked", separator, rule.c_str(), counts.second, counts.first);
    separator = ", ";
  }
  std::printf(")\n");
  const FalsePositives pii_benign = BenignFalsePositives(*standard);
  std::printf(
      "benign /proc corpus (pii=standard): %zu tokens, %zu redacted: false-positive rate %.2f %% "
      "(goal <= 0.5 %%)\n",
      pii_benign.tokens, pii_benign.redacted, pii_benign.Percent());
  double pii_worst = 1e300;
  for (const auto& [name, mode_redactor] :
       {std::pair{"standard", &*standard}, std::pair{"strict", &*strict}}) {
    std::map<std::string, int> matched;
    const Throughput t = MeasureRedactor(*mode_redactor, logs, matched);
    pii_worst = std::min(pii_worst, t.per_cpu);
    std::printf(
        "log lines (pii=%s): %.1f MB/s per core (wall %.1f), %.2fx of pii=none; %d "
        "matches\n",
        name, t.per_cpu, t.per_wall, t.per_cpu / logs_mb_per_second, Total(matched));
  }
  std::printf(
      "goal: a PII mode keeps >= %.0f MB/s per core on log lines: %s "
      "(slowest %.1f)\n",
      kGoalMbPerSecond, pii_worst >= kGoalMbPerSecond ? "met" : "NOT met", pii_worst);
  return 0;
}
