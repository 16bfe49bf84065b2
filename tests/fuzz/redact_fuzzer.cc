// Fuzzes the redactor (redact/redactor.h) with a policy that uses every feature: free text
// through RedactText, and, split at the first '=', an environment variable through RedactEnv, each
// with the PII mode off and strict. The output must stay valid UTF-8 (the redactor's contract; the
// snapshot is JSON), and the PII mode must never turn a failure into a pass-through (a text one
// mode rejects, the other rejects too).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "redact/redactor.h"

namespace {

ephemera::redact::Redactor* MakeFuzzRedactor(ephemera::redact::PiiMode pii) {
  ephemera::redact::RedactionPolicy policy;
  policy.allow_env = {"MYAPP_FEATURE_*", "REGION"};
  policy.secret_env = {"REGION_TOKEN"};
  policy.extra_patterns = {"acme_live_", "corp-sk-"};
  policy.pii = pii;
  auto created = ephemera::redact::Redactor::Create(policy);
  if (!created.ok()) std::abort();
  return new ephemera::redact::Redactor(std::move(*created));
}

// The same policy without and with the PII mode.
const ephemera::redact::Redactor& FuzzRedactor(ephemera::redact::PiiMode pii) {
  static const auto* const none = MakeFuzzRedactor(ephemera::redact::PiiMode::kNone);
  static const auto* const strict = MakeFuzzRedactor(ephemera::redact::PiiMode::kStrict);
  return pii == ephemera::redact::PiiMode::kNone ? *none : *strict;
}

// A strict UTF-8 check (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;  // continuation bytes
    unsigned min = 0;       // smallest code point this length may encode
    unsigned cp = 0;
    if (lead < 0x80) {
      extra = 0;
      cp = lead;
    } else if ((lead & 0xE0U) == 0xC0U) {
      extra = 1;
      min = 0x80;
      cp = lead & 0x1FU;
    } else if ((lead & 0xF0U) == 0xE0U) {
      extra = 2;
      min = 0x800;
      cp = lead & 0x0FU;
    } else if ((lead & 0xF8U) == 0xF0U) {
      extra = 3;
      min = 0x10000;
      cp = lead & 0x07U;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0U) != 0x80U) return false;
      cp = (cp << 6U) | (c & 0x3FU);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<bool> text_ok;
  std::optional<bool> env_ok;
  for (const auto pii : {ephemera::redact::PiiMode::kNone, ephemera::redact::PiiMode::kStrict}) {
    const auto& redactor = FuzzRedactor(pii);
    ephemera::redact::RedactionReport report;
    auto redacted = redactor.RedactText(text, report);
    if (redacted.ok() && !IsValidUtf8(*redacted)) std::abort();
    if (text_ok.has_value() && *text_ok != redacted.ok()) std::abort();
    text_ok = redacted.ok();
    if (const auto eq = text.find('='); eq != std::string_view::npos) {
      auto shown = redactor.RedactEnv(text.substr(0, eq), text.substr(eq + 1), report);
      if (shown.ok() && !IsValidUtf8(*shown)) std::abort();
      if (env_ok.has_value() && *env_ok != shown.ok()) std::abort();
      env_ok = shown.ok();
    }
  }
  return 0;
}
