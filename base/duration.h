// Durations as people write them in flags and YAML: Go's time.ParseDuration syntax, or the plain
// "one number, one unit" form the snapshot tool takes.
#ifndef EPHEMERA_BASE_DURATION_H_
#define EPHEMERA_BASE_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::base {

enum class DurationSyntax {
  // Go's: a sequence of decimal numbers, each with an optional fraction and a required unit ("ns",
  // "us", "µs", "ms", "s", "m", "h"), with an optional leading sign: "60s", "5m", "1h30m", "1.5h",
  // "250ms". "0" alone needs no unit. The controller's flags and YAML, a DebugSession's ttl.
  kGo,
  // One whole number (at most 2^32 - 1) and one unit of "ms", "s", "m" or "h": "20s", "500ms",
  // "2m". The snapshot tool's --deadline, which the controller writes.
  kWholeNumberAndUnit,
};

// `text` as a duration in `syntax`. kInvalidArgument (saying what is wrong and showing valid forms)
// for anything else, including overflow beyond ~292 years.
StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view text,
                                                 DurationSyntax syntax = DurationSyntax::kGo);

// The shortest of "90m"-style forms for messages: "1h30m", "5m", "10s", "250ms", "0s".
std::string FormatDuration(std::chrono::nanoseconds duration);

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_DURATION_H_
