// Fuzzes the redactor (debugpod/redact/redactor.h) with a policy that uses every feature: free text
// through RedactText, and, split at the first '=', an environment variable through RedactEnv. The
// output must stay valid UTF-8 (the redactor's contract; the snapshot is JSON).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "debugpod/redact/redactor.h"

namespace {

const ephemera::redact::Redactor& FuzzRedactor() {
  static const auto* const redactor = [] {
    ephemera::redact::RedactionPolicy policy;
    policy.allow_env = {"MYAPP_FEATURE_*", "REGION"};
    policy.secret_env = {"REGION_TOKEN"};
    policy.extra_patterns = {"acme_live_", "corp-sk-"};
    auto created = ephemera::redact::Redactor::Create(policy);
    if (!created.ok()) std::abort();
    return new ephemera::redact::Redactor(std::move(*created));
  }();
  return *redactor;
}

// A strict UTF-8 check (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      n = 1, min = 0x80, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2, min = 0x800, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3, min = 0x10000, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto& redactor = FuzzRedactor();
  ephemera::redact::RedactionReport report;
  auto redacted = redactor.RedactText(text, report);
  if (redacted.ok() && !IsValidUtf8(*redacted)) std::abort();
  if (const auto eq = text.find('='); eq != std::string_view::npos) {
    auto shown = redactor.RedactEnv(text.substr(0, eq), text.substr(eq + 1), report);
    if (shown.ok() && !IsValidUtf8(*shown)) std::abort();
  }
  return 0;
}
