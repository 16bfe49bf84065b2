#include "base/duration.h"

#include <cstdint>
#include <limits>

namespace ephemera::base {
namespace {

constexpr std::int64_t kMaxNanos = std::numeric_limits<std::int64_t>::max();

struct Unit {
  std::string_view name;
  std::int64_t nanos;
};
// The longest matching name wins, so that "ms" is not read as "m" followed by "s".
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1'000},  // U+03BC Greek mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

Status Invalid(std::string_view text, std::string_view why) {
  return InvalidArgumentError("invalid duration \"" + std::string(text) + "\": " +
                              std::string(why) + "; write it like 60s, 5m, 1h30m or 250ms");
}

// Digits and then exactly one of the units ms, s, m, h; the number fits in 32 bits.
bool IsWholeNumberAndUnit(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string_view unit = text.substr(digits);
  if (digits == 0 || (unit != "ms" && unit != "s" && unit != "m" && unit != "h")) return false;
  std::uint64_t number = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    number = number * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (number > std::numeric_limits<std::uint32_t>::max()) return false;
  }
  return true;
}

StatusOr<std::chrono::nanoseconds> ParseGoDuration(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return std::chrono::nanoseconds(0);
  if (rest.empty()) return Invalid(text, "empty");

  std::int64_t total = 0;
  while (!rest.empty()) {
    // The number: digits, optionally '.' and more digits; at least one digit in all.
    std::int64_t whole = 0;
    bool whole_overflow = false;
    std::size_t i = 0;
    bool any_digit = false;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      if (whole > (kMaxNanos - 9) / 10) whole_overflow = true;
      if (!whole_overflow) whole = whole * 10 + (rest[i] - '0');
      any_digit = true;
      ++i;
    }
    long double fraction = 0;
    if (i < rest.size() && rest[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
        fraction += scale * (rest[i] - '0');
        scale /= 10;
        any_digit = true;
        ++i;
      }
    }
    if (!any_digit) return Invalid(text, "expected a number");
    rest.remove_prefix(i);

    const Unit* unit = nullptr;
    for (const Unit& candidate : kUnits) {
      if (rest.starts_with(candidate.name) &&
          (unit == nullptr || candidate.name.size() > unit->name.size())) {
        unit = &candidate;
      }
    }
    if (unit == nullptr) {
      return Invalid(text, rest.empty() ? "missing unit (ns, us, ms, s, m or h)"
                                        : "unknown unit \"" + std::string(rest) + "\"");
    }
    rest.remove_prefix(unit->name.size());

    if (whole_overflow || whole > kMaxNanos / unit->nanos) return Invalid(text, "too large");
    std::int64_t value = whole * unit->nanos;
    const auto fraction_nanos = static_cast<std::int64_t>(fraction * unit->nanos);
    if (value > kMaxNanos - fraction_nanos) return Invalid(text, "too large");
    value += fraction_nanos;
    if (total > kMaxNanos - value) return Invalid(text, "too large");
    total += value;
  }
  return std::chrono::nanoseconds(negative ? -total : total);
}

}  // namespace

StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view text, DurationSyntax syntax) {
  if (syntax == DurationSyntax::kWholeNumberAndUnit && !IsWholeNumberAndUnit(text)) {
    return InvalidArgumentError("want a duration such as 20s, 500ms or 2m, got \"" +
                                std::string(text) + "\"");
  }
  return ParseGoDuration(text);
}

std::string FormatDuration(std::chrono::nanoseconds duration) {
  using std::chrono::nanoseconds;
  std::int64_t n = duration.count();
  if (n == 0) return "0s";
  std::string sign = n < 0 ? "-" : "";
  if (n < 0) n = -n;
  constexpr std::int64_t kSecond = 1'000'000'000;
  if (n % kSecond != 0) {
    if (n % 1'000'000 == 0) return sign + std::to_string(n / 1'000'000) + "ms";
    if (n % 1'000 == 0) return sign + std::to_string(n / 1'000) + "us";
    return sign + std::to_string(n) + "ns";
  }
  std::int64_t seconds = n / kSecond;
  std::string out = sign;
  if (seconds >= 3600) {
    out += std::to_string(seconds / 3600) + "h";
    seconds %= 3600;
  }
  if (seconds >= 60) {
    out += std::to_string(seconds / 60) + "m";
    seconds %= 60;
  }
  if (seconds > 0) out += std::to_string(seconds) + "s";
  return out;
}

}  // namespace ephemera::base
