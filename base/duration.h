// Durations as people write them in flags and YAML: Go's time.ParseDuration syntax.
#ifndef EPHEMERA_BASE_DURATION_H_
#define EPHEMERA_BASE_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::base {

// A sequence of decimal numbers, each with an optional fraction and a required unit ("ns", "us",
// "µs", "ms", "s", "m", "h"), with an optional leading sign: "60s", "5m", "1h30m", "1.5h",
// "250ms". "0" alone needs no unit. kInvalidArgument (saying what is wrong and showing valid
// forms) for anything else, including overflow beyond ~292 years.
StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// The shortest of "90m"-style forms for messages: "1h30m", "5m", "10s", "250ms", "0s".
std::string FormatDuration(std::chrono::nanoseconds duration);

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_DURATION_H_
