// Mapping API server failures onto ephemera::Status, and what the caller should do next.
//
// Every error produced from an HTTP response or an in-stream watch ERROR carries, at the end of
// its message, a suffix written by this file and read back by ApiErrorDetailsOf():
//
//   "<server message> (HTTP 409 Conflict)"
//   "<server message> (HTTP 429 TooManyRequests, retry after 5s)"
//
// so the HTTP code, the Kubernetes reason and Retry-After survive being passed around as a plain
// Status (Status::WithContext only prefixes, keeping the suffix last).
//
// HTTP → StatusCode:
//   409 reason AlreadyExists → kAlreadyExists      409 otherwise (Conflict) → kAborted
//   404 → kNotFound   403 → kPermissionDenied   401 → kUnauthenticated
//   400, 405, 406, 413, 415, 422 → kInvalidArgument
//   410 (Expired/Gone) → kFailedPrecondition, IsGone() true: relist, then watch again
//   408, 504 → kDeadlineExceeded    429, other 5xx → kUnavailable (retry_after when given)
//   other 4xx → kFailedPrecondition
#ifndef EPHEMERA_KUBE_CLIENT_API_ERROR_H_
#define EPHEMERA_KUBE_CLIENT_API_ERROR_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::kube {

// Builds the Status for a failed response. `body` is usually a Kubernetes Status object
// ({"kind":"Status","message":…,"reason":…,"code":…,"details":{"retryAfterSeconds":…}});
// anything else is summarised (first 200 printable bytes). `retry_after` is the Retry-After
// header when present; otherwise details.retryAfterSeconds is used. Precondition: not 2xx.
Status ParseApiError(int http_status, std::string_view body,
                     std::optional<std::chrono::seconds> retry_after = std::nullopt);

// The same mapping for a Status object that arrived inside a watch stream (type ERROR); the HTTP
// code is the object's `code` (500 when absent).
Status StatusFromApiStatusObject(const nlohmann::json& status_object);

// What ParseApiError recorded, recovered from a Status message; nullopt for Statuses that did not
// come from the API server (transport failures, local validation).
struct ApiErrorDetails {
  int http_status = 0;
  std::string reason{};  // "Conflict", "Expired", "NotFound", ...
  std::optional<std::chrono::seconds> retry_after{};
};
std::optional<ApiErrorDetails> ApiErrorDetailsOf(const Status& status);

// True for 410 Gone (reason Expired or Gone): the resourceVersion or continue token is too old;
// relist from scratch.
bool IsGone(const Status& status);
// The server's requested wait (Retry-After or retryAfterSeconds), if any.
std::optional<std::chrono::seconds> RetryAfterOf(const Status& status);

// Parses a Retry-After header: delta-seconds only ("5"); HTTP-dates are not sent by the API
// server and give nullopt, as do negative or malformed values. Capped at one hour.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view header_value);

enum class RetryAdvice {
  kRetryLater,      // Unavailable, DeadlineExceeded, ResourceExhausted: back off, same request
  kReReadAndRetry,  // Aborted (conflict) or Gone: re-read the object / relist, then retry now
  kDoNotRetry,      // everything else (and OK): retrying cannot help until something changes
};
RetryAdvice AdviseRetry(const Status& status);

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_CLIENT_API_ERROR_H_
