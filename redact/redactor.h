// Redactor: removes secrets from the text the snapshot tool captures (cmdlines, fd paths, socket
// peers, log lines) and from environment variables, before anything is encrypted or shown.
//
// Fail closed. Environment values are hidden unless the variable is on an allowlist of known-safe
// names; free text goes through detectors for credential shapes (rules below). When the redactor
// cannot safely scan a field it returns an error instead of guessing, and the caller drops the
// field and records its name in RedactionReport::dropped_fields.
//
// Rules (the names are part of the snapshot format):
//   secret-key-value  the value of a secret key, in any common syntax: key=value, key: value,
//                     key = value, := ?= ::= .= += => ->, --key=value, --key value (a value may
//                     start with '-' unless it is itself a flag), <key>value</key>,
//                     setProperty("key", "value"), ["key"] = value, key<TAB>value, and "key value"
//                     for a bare password/passwd/pass/pwd/secret/token/passphrase/apikey word when
//                     the value is credential-shaped (6+ chars, a letter and a digit or symbol).
//                     A key is secret when a component of it (any prefix, case-insensitive,
//                     camelCase steps count) is one of the strong keywords password, passwd,
//                     passphrase, pass, pwd, pw, secret, token, apikey, api_key, api-key,
//                     access_key, private_key, credential, auth, session, cookie (pass, pwd and pw
//                     only as the key's last component; pw as a whole component; "bypass",
//                     "PWD", "OLDPWD" excluded); optional "id"/"key" suffix and, except for
//                     token/session/auth, a plural "s"; so "tokenizer", "author",
//                     "tokens_per_second" do not count, nor keys where another word follows the
//                     keyword ("auth-mode", "password_policy"; only key/value/id/b64/hex/base/...
//                     may follow). Weak keywords, as the key's last whole component: key
//                     (ENCRYPTION_KEY, accountKey), sig, signature, pin, encrypt, hmac, api, sas:
//                     the value is redacted only when it looks like a secret (6+ chars, not a path
//                     or URL, letters with digits, mixed case, a symbol, or 16+ chars). The value
//                     is redacted: to the closing quote, or to whitespace, a quote or
//                     '&' (a trailing ',' excluded); a Cookie header to the end of the line; an
//                     XML element to the next '<'. Unquoted dotted keys need '=' ("file.go:42" is
//                     a location, not a key), and so do keys right after a '/' (PATH lists).
//                     Command lines: short flags that take a password in the program named
//                     before them (same text, within 1 KiB): -p<attached> for mysql* and
//                     mariadb*, 7z, rar; -p VALUE for sshpass, docker/podman/nerdctl/helm login,
//                     mongo*; -a for redis-cli; -P for sqlcmd, bcp, zip; -w for ldap*; the
//                     password of -u user:pass (curl) and -U user%pass (smbclient); -k for
//                     openssl. With no such program, -p<attached> only when credential-shaped.
//   url-password      scheme://user:PASSWORD@host: only the password.
//   bearer-token      the credential after "Bearer"/"Basic" following an Authorization key, or
//                     after "Bearer " anywhere when it looks like a credential (>= 16 chars,
//                     mixed classes).
//   jwt               eyJ… three (or five) base64url segments separated by dots.
//   <provider>-...    the token table (kTokenRules in redactor.cc, listed in
//                     docs/snapshot-format.md): a provider's self-identifying prefix followed by
//                     a body of its documented alphabet and length, at the start of a word, with
//                     a digit or mixed case in a body of a mixed-case alphabet. Names include
//                     aws-access-key, github-token, gitlab-token, slack-token, gcp-api-key,
//                     stripe-key, openai-api-key, anthropic-api-key, npm-token, ... (one name per
//                     provider).
//   pem-private-key   -----BEGIN … PRIVATE KEY----- through the matching END line, or to the end of
//                     the text when unterminated.
//   age-secret-key    AGE-SECRET-KEY-1… (and AGE-SECRET-KEY-PQ-1…).
//   high-entropy      a token of >= 24 chars of [A-Za-z0-9+/_-] (optionally '='-padded) with
//                     Shannon entropy >= 3.5 bits/char, letters and digits interleaved (>= 2
//                     letter/digit boundaries), that is not pure hex. Hex-only tokens (hashes,
//                     container IDs, UUIDs, build IDs) are left alone: they are everywhere in /proc
//                     and are rarely credentials; hex secrets are still caught by secret-key-value
//                     in context. Paths (tokens starting with '/') and lower-case names joined by
//                     '-', '_' or
//                     '/' (pod, image and volume names) are judged segment by segment. The
//                     thresholds are justified in redactor.cc.
//   extra             a token starting with one of RedactionPolicy::extra_patterns.
//   secret-value      an occurrence of a value the snapshot hides (WithSecretValues), anywhere.
// PII rules, only as RedactionPolicy::pii asks (see PiiMode). Numbers and addresses stand alone:
// not inside a word (letters, digits, '_') and not continuing a longer number.
//   email             an address as people write it: a local part of up to 64 letters, digits and
//                     . _ % + - ! # $ * ^ ~ (an RFC 5322 dot-atom: no dot first, last or doubled;
//                     the other atext symbols = / ' ` ? & | { } delimit values in logs, so an
//                     address starts after them: "to=a@b.example", "'a@b.example'"), '@', and a
//                     domain of 2+ LDH labels (1-63 characters, no '-' first or last) whose last
//                     label is a top-level domain of 2+ letters. The whole address is masked (in
//                     a mailto: URI too). Not addresses: "image@sha256:…" and "user@localhost"
//                     (one label), "@types/node" (no local part), "pkg@1.2.3" and
//                     "user@10.0.0.1" (no letter TLD; strict masks the IP as ipv4), and names
//                     whose last label is a file extension or a systemd unit type, which no
//                     top-level domain is ("icon@2x.png", "getty@tty1.service").
//   card-number       13-19 digits, contiguous or grouped by single spaces or single dashes (a
//                     first group of 4, middle groups of 4-6, a last of 2-7: 4-4-4-4, 4-6-5,
//                     4-6-4, 4-4-4-4-3), with a card network's IIN prefix and one of its lengths
//                     (Visa 4: 13-19; Mastercard 51-55, 2221-2720: 16; Amex 34, 37: 15; Discover
//                     6011, 644-649, 65: 16-19; JCB 3528-3589: 16-19; Diners 300-305, 3095, 36,
//                     38-39: 14-19; UnionPay 62: 16-19; Maestro 50, 56-69: 13-19), passing the
//                     Luhn check. Timestamps (10, 13 or 19 digits starting with 1) have no
//                     network's prefix.
//   iban              ISO 13616: a country of SWIFT's IBAN registry (two upper-case letters), two
//                     check digits and upper-case letters and digits to that country's length,
//                     contiguous or in groups of 4 separated by single spaces; mod 97 == 1.
//   phone-number      "+", a country code's first digit 1-9, 8-15 digits in all (E.164) in groups
//                     separated by single ' ', '-', '.' or parenthesized ("+44 (0)20 7946 0958"),
//                     up to a group that would make it longer; North American "(NXX) NXX-XXXX",
//                     "NXX-NXX-XXXX", "NXX.NXX.XXXX" (N 2-9, not an N11 code; optionally after
//                     "1" and a separator); the number of a tel: URI; after a key naming a
//                     phone (its last component phone, mobile, tel, telephone, cell, fax,
//                     msisdn, or number/no/nr after phone, mobile, contact, home, work, ...) and
//                     '=', ':' or '>' (quotes and blanks around them), a national number of 6-15
//                     digits in groups ("phone=020 7946 0958", "Mobile: 0176 12345678"). Not
//                     bare digit runs, dates (4-2-2), times, versions, or four dot-separated
//                     groups of 1-3 digits (an IPv4 address).
//   ipv4              (strict) a dotted quad, each part 0-255 without leading zeros, that does not
//                     continue or go on into a longer dotted run (versions "1.2.3.4.5", OIDs).
//   ipv6              (strict) RFC 4291 text: eight groups of 1-4 hex digits, or fewer with one
//                     "::", the last two optionally a dotted quad, then optionally "%zone"; with a
//                     decimal digit in it ("dead::beef", "std::string" are code). Not eight
//                     two-digit groups (EUI-64/MAC), times "12:34:56", "file.go:42".
//   ipv4 and ipv6 exempt the unspecified and loopback addresses (0.0.0.0, 127.0.0.0/8, ::, ::1):
//   they say nothing about anyone. After an address, ":port" is kept.
// Each match becomes "[REDACTED:<rule>]"; overlapping matches merge into one, named after the most
// specific rule (PEM, age, JWT, token formats, extra, secret-value, url-password, bearer-token,
// secret-key-value, email, card-number, iban, phone-number, ipv4, ipv6, high-entropy): a secret
// wins over PII where they overlap.
//
// Scanning is linear in the input: hand-written scanners with bounded look-behind, no backtracking
// and no std::regex; the extra prefixes and the secret values are matched with Aho-Corasick
// automata.
//
// Input handling: text is treated as bytes; secrets are ASCII. Bytes that are not valid UTF-8 are
// replaced by U+FFFD in the output (so the result is always valid UTF-8 for JSON); that only ever
// removes information, and the detectors never see a secret split by such a byte differently.
// Text longer than kMaxTextBytes fails with ResourceExhausted (the caller drops the field).
//
// Thread safety: a Redactor is immutable after Create; its const methods may be called
// concurrently. A RedactionReport is a plain value owned by the caller (one per thread, then
// Merge).
#ifndef EPHEMERA_REDACT_REDACTOR_H_
#define EPHEMERA_REDACT_REDACTOR_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::redact {

inline constexpr size_t kMaxTextBytes = 8 << 20;  // 8 MiB per field
inline constexpr size_t kMaxExtraPatterns = 32;
inline constexpr size_t kMinExtraPatternBytes = 4;
inline constexpr size_t kMaxExtraPatternBytes = 64;
inline constexpr size_t kMaxEnvNameBytes = 256;
// Value-keyed redaction (WithSecretValues): values shorter than this, or only digits and shorter
// than kMinDigitSecretValueBytes, are too common to scrub ("true", "8080", a PID).
inline constexpr size_t kMinSecretValueBytes = 6;
inline constexpr size_t kMinDigitSecretValueBytes = 8;
// At most this many distinct values are scrubbed (the longest are kept), each found by its first
// kSecretValueKeyBytes bytes: the automaton stays under a few MiB however large the environment.
inline constexpr size_t kMaxSecretValues = 512;
inline constexpr size_t kSecretValueKeyBytes = 64;

// PII mode: which personal data free text is masked for (RedactText; environment values that are
// shown go through RedactText too). Each level includes the one before it. Named "none",
// "standard" and "strict" (not "off": YAML 1.1 reads an unquoted off as false).
//   kNone      none
//   kStandard  email (addresses), card-number (13-19 digits of a card network's prefixes that pass
//              the Luhn check), iban (a country's IBAN length with a valid mod-97 check),
//              phone-number (international "+" numbers, and North American numbers written in
//              their usual groups)
//   kStrict    also ipv4 and ipv6 addresses (except the unspecified and loopback addresses)
// The rules' exact definitions are in the header comment above. With kNone the PII scan does not
// run at all; otherwise it is one more linear pass over the text.
enum class PiiMode : uint8_t { kNone, kStandard, kStrict };

// "none", "standard", "strict".
std::string_view PiiModeName(PiiMode mode);
// The mode named `name` ("none", "standard", "strict"); InvalidArgument otherwise.
StatusOr<PiiMode> ParsePiiMode(std::string_view name);

struct RedactionPolicy {
  // Extra env names whose values may be shown (added to the built-in safe list). A trailing '*'
  // makes an entry a prefix ("MYAPP_FEATURE_*").
  std::vector<std::string> allow_env;
  // Env names the pod fills from Secrets: always redacted, even if allowlisted. Exact names.
  std::vector<std::string> secret_env;
  // Literal token prefixes (e.g. "acme_live_"): a token starting with one is redacted; rule
  // "extra". 4 to 64 printable ASCII characters without spaces, at most 32 of them; case-sensitive.
  std::vector<std::string> extra_patterns;
  PiiMode pii = PiiMode::kNone;
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

  // A copy of this redactor that also replaces every occurrence of one of `values` in free text
  // with "[REDACTED:secret-value]", wherever it appears (inside a word too: "-p<value>"). For the
  // values the snapshot hides: every environment value that is not shown, and every value of a
  // Secret-bound variable (secret_env). Values exempt by length (kMinSecretValueBytes,
  // kMinDigitSecretValueBytes) are skipped; duplicates count once; beyond kMaxSecretValues the
  // shortest are dropped. A value longer than kSecretValueKeyBytes is found by its first
  // kSecretValueKeyBytes bytes and redacted through its whole length where the text continues it.
  // RedactEnv on the copy redacts shown values with the scrubber too. Linear in the text (one
  // Aho-Corasick pass); building is linear in the values' key bytes times their alphabet.
  Redactor WithSecretValues(const std::vector<std::string>& values) const;

  // True if `value` is exempt from value-keyed redaction (too short or too common).
  static bool IsExemptSecretValue(std::string_view value);

  // The values WithSecretValues scrubs of `values`: not exempt, distinct, at most
  // kMaxSecretValues of them (the longest), sorted.
  static std::vector<std::string> SecretValuesKept(std::vector<std::string> values);

 private:
  // Aho-Corasick automaton over the extra prefixes, on a byte alphabet compressed to the bytes
  // that occur in patterns.
  struct ExtraMatcher {
    std::vector<uint16_t> byte_class;  // 256 entries; 0 = a byte no pattern contains
    size_t classes = 1;
    std::vector<int32_t> next;        // state * classes + class -> state (complete DFA)
    std::vector<int32_t> own_length;  // length of the pattern ending at this state, 0 if none
    std::vector<int32_t> own_index;   // index of that pattern, -1 if none
    std::vector<int32_t> dict_link;   // nearest suffix state that ends a pattern, -1 if none
  };

  explicit Redactor(RedactionPolicy policy);
  static ExtraMatcher BuildExtraMatcher(const std::vector<std::string>& patterns);

  RedactionPolicy policy_;
  ExtraMatcher extra_;
  // Value-keyed redaction (WithSecretValues): an automaton over the values' keys.
  // Per secret value: how far a match of its key (its first kSecretValueKeyBytes) is redacted, the
  // length of the longest value with the same key. A match redacts that far without comparing the
  // rest: comparing cost text x value length on a text that repeats a value's key, and two values
  // sharing a key kept only one of them whole.
  std::vector<size_t> secret_value_reach_;
  ExtraMatcher values_;
};

}  // namespace ephemera::redact

#endif  // EPHEMERA_REDACT_REDACTOR_H_
