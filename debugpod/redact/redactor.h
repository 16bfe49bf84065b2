// Redactor: removes secrets from the text the snapshot tool captures (cmdlines, fd paths, socket
// peers, log lines) and from environment variables, before anything is encrypted or shown.
//
// Fail closed. Environment values are hidden unless the variable is on an allowlist of known-safe
// names; free text goes through detectors for credential shapes (rules below). When the redactor
// cannot safely scan a field it returns an error instead of guessing, and the caller drops the
// field and records its name in RedactionReport::dropped_fields.
//
// Rules (the names are part of the snapshot format):
//   secret-key-value  key=value, key: value, key = value, --key=value, --key value, where a
//                     component of the key is password, passwd, secret, token, apikey, api_key,
//                     api-key, access_key, private_key, credential, auth, session or cookie
//                     (case-insensitive; any prefix, as in DB_PASSWORD or jsessionid; optional
//                     "id"/"key" suffix and, except for token/session/auth, a plural "s"; so
//                     "tokenizer", "author", "tokens_per_second" do not count). The value is
//                     redacted: to the closing quote, or to whitespace, a quote or '&'; a Cookie
//                     header to the end of the line. Unquoted dotted keys need '=' ("file.go:42" is
//                     a location, not a key).
//   url-password      scheme://user:PASSWORD@host: only the password.
//   bearer-token      the credential after "Bearer"/"Basic" following an Authorization key, or
//   after
//                     "Bearer " anywhere when it looks like a credential (>= 16 chars, mixed
//                     classes).
//   jwt               eyJ… three (or five) base64url segments separated by dots.
//   aws-access-key    AKIA/ASIA + 16 upper-case letters or digits.
//   github-token      ghp_, gho_, ghu_, ghs_, ghr_ + >= 20 alphanumerics; github_pat_ + >= 20.
//   gitlab-token      glpat- + >= 20 of [A-Za-z0-9_.-].
//   slack-token       xox[abprs]- + >= 10 of [A-Za-z0-9-].
//   gcp-api-key       AIza + 35 of [A-Za-z0-9_-].
//   pem-private-key   -----BEGIN … PRIVATE KEY----- through the matching END line, or to the end of
//                     the text when unterminated.
//   age-secret-key    AGE-SECRET-KEY-1… (and AGE-SECRET-KEY-PQ-1…).
//   high-entropy      a token of >= 24 chars of [A-Za-z0-9+/_-] (optionally '='-padded) with
//   Shannon
//                     entropy >= 3.5 bits/char, letters and digits interleaved (>= 2 letter/digit
//                     boundaries), that is not pure hex. Hex-only tokens (hashes, container IDs,
//                     UUIDs, build IDs) are left alone: they are everywhere in /proc and are rarely
//                     credentials; hex secrets are still caught by secret-key-value in context.
//                     Paths (tokens starting with '/') and lower-case names joined by '-', '_' or
//                     '/' (pod, image and volume names) are judged segment by segment. The
//                     thresholds are justified in redactor.cc.
//   extra             a token starting with one of RedactionPolicy::extra_patterns.
// Each match becomes "[REDACTED:<rule>]"; overlapping matches merge into one, named after the most
// specific rule (token formats, then url-password, bearer-token, secret-key-value, high-entropy).
//
// Scanning is linear in the input: hand-written scanners with bounded look-behind, no backtracking
// and no std::regex; the extra prefixes are matched with an Aho-Corasick automaton.
//
// Input handling: text is treated as bytes; secrets are ASCII. Bytes that are not valid UTF-8 are
// replaced by U+FFFD in the output (so the result is always valid UTF-8 for JSON); that only ever
// removes information, and the detectors never see a secret split by such a byte differently.
// Text longer than kMaxTextBytes fails with ResourceExhausted (the caller drops the field).
//
// Thread safety: a Redactor is immutable after Create; its const methods may be called
// concurrently. A RedactionReport is a plain value owned by the caller (one per thread, then
// Merge).
#ifndef EPHEMERA_DEBUGPOD_REDACT_REDACTOR_H_
#define EPHEMERA_DEBUGPOD_REDACT_REDACTOR_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "status/status.h"

namespace ephemera::redact {

inline constexpr size_t kMaxTextBytes = 8 << 20;  // 8 MiB per field
inline constexpr size_t kMaxExtraPatterns = 32;
inline constexpr size_t kMinExtraPatternBytes = 4;
inline constexpr size_t kMaxExtraPatternBytes = 64;
inline constexpr size_t kMaxEnvNameBytes = 256;

struct RedactionPolicy {
  // Extra env names whose values may be shown (added to the built-in safe list). A trailing '*'
  // makes an entry a prefix ("MYAPP_FEATURE_*").
  std::vector<std::string> allow_env;
  // Env names the pod fills from Secrets: always redacted, even if allowlisted. Exact names.
  std::vector<std::string> secret_env;
  // Literal token prefixes (e.g. "acme_live_"): a token starting with one is redacted; rule
  // "extra". 4 to 64 printable ASCII characters without spaces, at most 32 of them; case-sensitive.
  std::vector<std::string> extra_patterns;
};

struct RedactionReport {
  int env_redacted = 0;
  std::map<std::string, int> patterns_matched;  // rule name -> count; never values
  std::vector<std::string> dropped_fields;      // fields removed because redaction failed
  void Merge(const RedactionReport& other);
};

class Redactor {
 public:
  // InvalidArgument on a bad policy: extra patterns that are empty, shorter than 4, longer than 64,
  // contain non-printable characters or spaces, or more than 32 of them; env names that are empty,
  // longer than 256 or contain '=' or NUL. The message names the entry by index.
  static StatusOr<Redactor> Create(RedactionPolicy policy);

  // Returns `text` with each secret replaced by "[REDACTED:<rule>]" and counts matches in `report`.
  // ResourceExhausted if text is longer than kMaxTextBytes; `report` is then unchanged.
  StatusOr<std::string> RedactText(std::string_view text, RedactionReport& report) const;

  // The value to show for environment variable `name`: the value (through RedactText) if the name
  // is allowlisted and not in secret_env, otherwise "[REDACTED]" (counted in env_redacted).
  // Built-in safe names: PATH, HOME, LANG, LANGUAGE, LC_*, TZ, HOSTNAME, TERM, PWD, OLDPWD, SHLVL,
  // USER, LOGNAME, SHELL, KUBERNETES_SERVICE_*, KUBERNETES_PORT, KUBERNETES_PORT_*.
  StatusOr<std::string> RedactEnv(std::string_view name, std::string_view value,
                                  RedactionReport& report) const;

  // True if RedactEnv would show the value of `name` (before text redaction).
  bool IsEnvShown(std::string_view name) const;

 private:
  // Aho-Corasick automaton over the extra prefixes, on a byte alphabet compressed to the bytes
  // that occur in patterns.
  struct ExtraMatcher {
    std::vector<uint8_t> byte_class;  // 256 entries; 0 = a byte no pattern contains
    size_t classes = 1;
    std::vector<int32_t> next;        // state * classes + class -> state (complete DFA)
    std::vector<int32_t> own_length;  // length of the pattern ending at this state, 0 if none
    std::vector<int32_t> dict_link;   // nearest suffix state that ends a pattern, -1 if none
  };

  explicit Redactor(RedactionPolicy policy);
  static ExtraMatcher BuildExtraMatcher(const std::vector<std::string>& patterns);

  RedactionPolicy policy_;
  ExtraMatcher extra_;
};

}  // namespace ephemera::redact

#endif  // EPHEMERA_DEBUGPOD_REDACT_REDACTOR_H_
