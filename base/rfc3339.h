// RFC 3339 timestamps as the Kubernetes API writes them: metav1.Time ("2026-01-02T15:04:05Z") and
// metav1.MicroTime ("2026-01-02T15:04:05.000000Z"). Pure conversions, UTC only on output.
#ifndef EPHEMERA_BASE_RFC3339_H_
#define EPHEMERA_BASE_RFC3339_H_

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::base {

// "2026-01-02T15:04:05Z" (seconds precision, truncating).
std::string FormatRfc3339(std::chrono::system_clock::time_point t);
// "2026-01-02T15:04:05.123456Z" (microseconds, the MicroTime format).
std::string FormatRfc3339Micro(std::chrono::system_clock::time_point t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)"; 't'/'z' and a space separator are accepted
// too. InvalidArgument otherwise, and for times system_clock cannot hold (before 1677 or after
// 2262).
StatusOr<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

}  // namespace ephemera::base

#endif  // EPHEMERA_BASE_RFC3339_H_
