// ephemera-bench-redact: throughput of Redactor::RedactText against a per-rule std::regex baseline.
//
// Generates a deterministic corpus of log-like lines (request logs, pod names, hex trace IDs,
// UUIDs, paths) with a small fraction of planted secrets (JWTs, AWS access keys, GitHub tokens,
// key=value passwords, URLs with passwords, opaque high-entropy tokens), then measures
//   redactor        RedactText over the whole corpus in one call, and line by line
//   std::regex      one std::regex per rule approximating the same rules, applied in sequence
//                   (each rule rewrites the output of the previous one), on a slice of the corpus
//                   when it is slow; the high-entropy rule is a regex for candidate tokens plus
//                   the entropy test in C++, since a regex cannot compute entropy
// and prints MB/s (10^6 bytes per second, one thread), the ratio, the match counts of both and the
// issue's goal (>= 200 MB/s per core).
//
//   ephemera-bench-redact [--mib N]
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "debugpod/redact/redactor.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kSeed = 20261128;
constexpr double kGoalMbPerSecond = 200.0;
constexpr size_t kRegexSliceBytes = size_t{4} << 20;
constexpr int kRedactorRepeats = 3;

// The decimal number `text` holds entirely, or `fallback`.
int ParseInt(std::string_view text, int fallback) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size() ? value : fallback;
}

// ---- the corpus ----

class CorpusGenerator {
 public:
  explicit CorpusGenerator(uint32_t seed) : rng_(seed) {}

  // Lines of about `bytes` bytes in total; `planted` counts the secrets planted, by kind.
  std::vector<std::string> Generate(size_t bytes, std::map<std::string, int>& planted) {
    std::vector<std::string> lines;
    size_t total = 0;
    while (total < bytes) {
      std::string line = Timestamp();
      if (Uniform(1000) < 15) {
        line += PlantSecret(planted);
      } else {
        line += NoiseLine();
      }
      total += line.size() + 1;
      lines.push_back(std::move(line));
    }
    return lines;
  }

 private:
  int Uniform(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

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

  std::string Timestamp() {
    char buf[64];
    std::snprintf(buf, sizeof buf, "2026-11-28T%02d:%02d:%02d.%03dZ ", Uniform(24), Uniform(60),
                  Uniform(60), Uniform(1000));
    return buf;
  }

  std::string PodName() {
    static constexpr std::string_view kApps[] = {"web-frontend", "checkout", "payments-api",
                                                 "redis-cache", "inventory"};
    return std::string(kApps[Uniform(5)]) + "-" + Chars("bcdfghjklmnpqrstvwxz2456789", 10) + "-" +
           Chars("bcdfghjklmnpqrstvwxz2456789", 5);
  }

  std::string Uuid() { return Hex(8) + "-" + Hex(4) + "-" + Hex(4) + "-" + Hex(4) + "-" + Hex(12); }

  std::string NoiseLine() {
    static constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "DELETE"};
    static constexpr std::string_view kPaths[] = {
        "/api/v1/orders", "/healthz", "/api/v2/cart/items", "/static/js/app.bundle.js", "/metrics"};
    switch (Uniform(6)) {
      case 0:
      case 1:
        return "INFO  [worker-" + std::to_string(Uniform(64)) + "] " +
               std::string(kMethods[Uniform(4)]) + " " + std::string(kPaths[Uniform(5)]) +
               " status=" + std::to_string(200 + Uniform(4) * 100) +
               " latency_ms=" + std::to_string(Uniform(900)) + " trace_id=" + Hex(32) +
               " span_id=" + Hex(16);
      case 2:
        return "DEBUG pod " + PodName() + " in namespace shop scheduled on node ip-10-0-" +
               std::to_string(Uniform(255)) + "-" + std::to_string(Uniform(255)) +
               ".ec2.internal, container id containerd://" + Hex(64);
      case 3:
        return "WARN  request " + Uuid() + " retried (attempt " + std::to_string(Uniform(5)) +
               "/5): upstream connect error or disconnect/reset before headers, "
               "reset reason: connection timeout";
      case 4:
        return "INFO  cache stats hits=" + std::to_string(Uniform(100000)) +
               " misses=" + std::to_string(Uniform(1000)) +
               " evictions=0 tokenizer=bpe tokens_per_second=" + std::to_string(Uniform(5000)) +
               " author=alice file=/usr/src/app/internal/cache/lru.go:" +
               std::to_string(Uniform(500));
      default:
        return "ERROR failed to open /var/lib/app/data/segment-" + std::to_string(Uniform(9999)) +
               ".log: no such file or directory (image sha256:" + Hex(64) + ")";
    }
  }

  std::string PlantSecret(std::map<std::string, int>& planted) {
    switch (Uniform(6)) {
      case 0:
        ++planted["jwt"];
        return "INFO  issued eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + Base64Url(60) + "." +
               Base64Url(43) + " for user " + std::to_string(Uniform(100000));
      case 1:
        ++planted["aws-access-key"];
        return "DEBUG using credentials AKIA" + Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16) +
               " for bucket s3://backups-" + std::to_string(Uniform(100));
      case 2:
        ++planted["github-token"];
        return "INFO  cloning with ghp_" + Base62(36) + " from github.com/acme/shop";
      case 3:
        ++planted["secret-key-value"];
        return "DEBUG connecting host=db.shop.svc user=app DB_PASSWORD=" + Base62(14) +
               " sslmode=require";
      case 4:
        ++planted["url-password"];
        return "INFO  dialing postgres://app:" + Base62(12) + "@db.shop.svc:5432/orders";
      default:
        ++planted["high-entropy"];
        // Letters and digits interleaved, as the high-entropy rule requires.
        return "WARN  unexpected opaque value " + Base62(14) + "q7Z3" + Base62(14) +
               " in upstream response";
    }
  }

  std::mt19937 rng_;
};

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
    return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
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

// A candidate token is judged whole, unless it has no upper-case letter (a name joined by '-',
// '_' or '/'): then segment by segment.
bool IsHighEntropy(std::string_view token) {
  if (std::any_of(token.begin(), token.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return LooksRandom(token);
  }
  size_t start = 0;
  for (size_t i = 0; i <= token.size(); ++i) {
    if (i == token.size() || token[i] == '-' || token[i] == '_' || token[i] == '/') {
      if (LooksRandom(token.substr(start, i - start))) return true;
      start = i + 1;
    }
  }
  return false;
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
      R"(\b([\w.-]*(password|passwd|secret|token|api[_-]?key|access_key|private_key|credential|auth|session|cookie)s?(id|key)?\s*[:=]\s*)("[^"]*"|[^\s"&]+))",
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

// ---- measurement ----

double MbPerSecond(size_t bytes, Clock::duration elapsed) {
  return static_cast<double>(bytes) / 1e6 / std::chrono::duration<double>(elapsed).count();
}

int Total(const std::map<std::string, int>& counts) {
  int total = 0;
  for (const auto& [name, count] : counts) total += count;
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  int mib = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string_view(argv[i]) == "--mib") mib = std::max(1, ParseInt(argv[i + 1], mib));
  }

  std::map<std::string, int> planted;
  std::vector<std::string> lines =
      CorpusGenerator(kSeed).Generate(static_cast<size_t>(mib) << 20, planted);
  std::string corpus;
  for (const std::string& line : lines) corpus += line + "\n";

  auto redactor = ephemera::redact::Redactor::Create({});
  if (!redactor.ok()) {
    std::fprintf(stderr, "Redactor::Create: %s\n", redactor.status().message().c_str());
    return 1;
  }

  // Whole corpus in one call (best of kRedactorRepeats).
  Clock::duration best_whole = Clock::duration::max();
  ephemera::redact::RedactionReport whole_report;
  for (int run = 0; run < kRedactorRepeats; ++run) {
    ephemera::redact::RedactionReport report;
    auto start = Clock::now();
    auto out = redactor->RedactText(corpus, report);
    auto elapsed = Clock::now() - start;
    if (!out.ok()) {
      std::fprintf(stderr, "RedactText: %s\n", out.status().message().c_str());
      return 1;
    }
    best_whole = std::min(best_whole, elapsed);
    whole_report = report;
  }

  // Line by line, as the snapshot tool calls it (one field at a time).
  Clock::duration best_lines = Clock::duration::max();
  for (int run = 0; run < kRedactorRepeats; ++run) {
    ephemera::redact::RedactionReport report;
    auto start = Clock::now();
    for (const std::string& line : lines) {
      auto out = redactor->RedactText(line, report);
      if (!out.ok()) return 1;
    }
    best_lines = std::min(best_lines, Clock::now() - start);
  }

  // std::regex on a slice that ends at a line boundary; the redactor on the same slice for counts.
  std::vector<RegexRule> rules = MakeRegexRules();
  size_t slice_end = corpus.find('\n', std::min(kRegexSliceBytes, corpus.size() - 1));
  std::string slice = corpus.substr(0, slice_end + 1);
  std::map<std::string, int> regex_counts;
  auto regex_start = Clock::now();
  std::string regex_out = RegexRedact(rules, slice, regex_counts);
  auto regex_elapsed = Clock::now() - regex_start;
  ephemera::redact::RedactionReport slice_report;
  if (!redactor->RedactText(slice, slice_report).ok()) return 1;

  double ours = MbPerSecond(corpus.size(), best_whole);
  double ours_lines = MbPerSecond(corpus.size(), best_lines);
  double regex = MbPerSecond(slice.size(), regex_elapsed);

  std::printf("corpus: %zu bytes, %zu lines, seed %u; %d secrets planted\n", corpus.size(),
              lines.size(), kSeed, Total(planted));
  std::printf("\n%-34s %12s %14s\n", "throughput (1 thread)", "MB/s", "vs std::regex");
  std::printf("%-34s %12.1f %13.1fx\n", "redactor, whole corpus per call", ours, ours / regex);
  std::printf("%-34s %12.1f %13.1fx\n", "redactor, one line per call", ours_lines,
              ours_lines / regex);
  std::printf("%-34s %12.2f %13.1fx   (on %zu bytes)\n", "std::regex, one regex per rule", regex,
              1.0, slice.size());
  std::printf("\ngoal (issue): >= %.0f MB/s per core: %s (whole corpus %.1f, per line %.1f)\n",
              kGoalMbPerSecond,
              std::min(ours, ours_lines) >= kGoalMbPerSecond ? "met"
              : ours >= kGoalMbPerSecond                     ? "met for whole text only"
                                                             : "NOT met",
              ours, ours_lines);

  // Match counts on the slice: both should find roughly the planted secrets.
  std::map<std::string, int> slice_planted;
  {
    // Planted counts for the slice: regenerate with the same seed up to the slice size.
    CorpusGenerator(kSeed).Generate(slice.size() - 1, slice_planted);
  }
  std::printf("\nmatches on the %zu-byte slice, by rule:\n", slice.size());
  std::printf("%-18s %9s %9s %11s\n", "rule", "planted", "redactor", "std::regex");
  std::map<std::string, int> names = slice_planted;
  for (const auto& [name, count] : slice_report.patterns_matched) names[name] += 0;
  for (const auto& [name, count] : regex_counts) names[name] += 0;
  for (const auto& [name, unused] : names) {
    std::printf("%-18s %9d %9d %11d\n", name.c_str(), slice_planted[name],
                slice_report.patterns_matched[name], regex_counts[name]);
  }
  std::printf("%-18s %9d %9d %11d\n", "total", Total(slice_planted),
              Total(slice_report.patterns_matched), Total(regex_counts));
  std::printf("whole corpus: planted %d, redactor matched %d\n", Total(planted),
              Total(whole_report.patterns_matched));
  return 0;
}
