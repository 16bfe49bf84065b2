#include "kube/client/api_error.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/json_access.h"

namespace ephemera::kube {
namespace {

constexpr std::string_view kSuffixStart = " (HTTP ";
constexpr std::chrono::seconds kMaxRetryAfter{3600};

std::string_view DefaultReason(int http_status) {
  switch (http_status) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 406:
      return "NotAcceptable";
    case 408:
      return "Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return http_status >= 500 ? "InternalError" : "Unknown";
  }
}

StatusCode CodeFor(int http_status, std::string_view reason) {
  switch (http_status) {
    case 409:
      return reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kAborted;
    case 404:
      return StatusCode::kNotFound;
    case 403:
      return StatusCode::kPermissionDenied;
    case 401:
      return StatusCode::kUnauthenticated;
    case 400:
    case 405:
    case 406:
    case 413:
    case 415:
    case 422:
      return StatusCode::kInvalidArgument;
    case 410:
      return StatusCode::kFailedPrecondition;
    case 408:
    case 504:
      return StatusCode::kDeadlineExceeded;
    case 429:
      return StatusCode::kUnavailable;
    default:
      break;
  }
  if (http_status >= 500) return StatusCode::kUnavailable;
  return StatusCode::kFailedPrecondition;
}

// Keeps messages single-line and printable; bodies of proxies can be HTML or binary.
std::string Summarize(std::string_view text, std::size_t limit) {
  std::string out;
  for (char c : text) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : ' ';
  }
  return out;
}

Status Build(int http_status, std::string message, std::string reason,
             std::optional<std::chrono::seconds> retry_after) {
  if (reason.empty()) reason = std::string(DefaultReason(http_status));
  // Reasons are CamelCase words; anything else would break the suffix grammar.
  for (char c : reason) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      reason = std::string(DefaultReason(http_status));
      break;
    }
  }
  if (message.empty()) message = "the server answered " + std::to_string(http_status);
  std::string suffix = std::string(kSuffixStart) + std::to_string(http_status) + " " + reason;
  if (retry_after) suffix += ", retry after " + std::to_string(retry_after->count()) + "s";
  suffix += ")";
  return Status(CodeFor(http_status, reason), message + suffix);
}

std::optional<std::chrono::seconds> RetryAfterFromDetails(const nlohmann::json& status_object) {
  const auto details = status_object.find("details");
  if (details == status_object.end() || !details->is_object()) return std::nullopt;
  const auto seconds = details->find("retryAfterSeconds");
  if (seconds == details->end() || !seconds->is_number_integer()) return std::nullopt;
  const auto value = seconds->get<long long>();
  if (value <= 0) return std::nullopt;
  return std::min(std::chrono::seconds(value), kMaxRetryAfter);
}

using base::StringField;

}  // namespace

Status ParseApiError(int http_status, std::string_view body,
                     std::optional<std::chrono::seconds> retry_after) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.value("kind", "") == "Status") {
    if (!retry_after) retry_after = RetryAfterFromDetails(parsed);
    return Build(http_status, Summarize(StringField(parsed, "message"), 1024),
                 StringField(parsed, "reason"), retry_after);
  }
  std::string message = "the server answered " + std::to_string(http_status);
  if (!body.empty()) message += ": " + Summarize(body, 200);
  return Build(http_status, std::move(message), "", retry_after);
}

Status StatusFromApiStatusObject(const nlohmann::json& status_object) {
  if (!status_object.is_object()) {
    return Build(500, "watch ERROR event without a Status object", "", std::nullopt);
  }
  int code = 500;
  const auto it = status_object.find("code");
  if (it != status_object.end() && it->is_number_integer()) {
    const auto value = it->get<long long>();
    if (value >= 400 && value <= 599) code = static_cast<int>(value);
  }
  return Build(code, Summarize(StringField(status_object, "message"), 1024),
               StringField(status_object, "reason"), RetryAfterFromDetails(status_object));
}

std::optional<ApiErrorDetails> ApiErrorDetailsOf(const Status& status) {
  if (status.ok()) return std::nullopt;
  std::string_view message = status.message();
  const auto start = message.rfind(kSuffixStart);
  if (start == std::string_view::npos || message.back() != ')') return std::nullopt;
  std::string_view rest = message.substr(start + kSuffixStart.size());
  rest.remove_suffix(1);
  ApiErrorDetails details;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), details.http_status);
  if (ec != std::errc() || ptr == rest.data() + rest.size() || *ptr != ' ') return std::nullopt;
  rest.remove_prefix(static_cast<std::size_t>(ptr - rest.data()) + 1);
  const auto comma = rest.find(", retry after ");
  details.reason = std::string(rest.substr(0, comma));
  if (comma != std::string_view::npos) {
    std::string_view seconds = rest.substr(comma + std::string_view(", retry after ").size());
    if (seconds.empty() || seconds.back() != 's') return std::nullopt;
    seconds.remove_suffix(1);
    long long value = 0;
    auto [p2, ec2] = std::from_chars(seconds.data(), seconds.data() + seconds.size(), value);
    if (ec2 != std::errc() || p2 != seconds.data() + seconds.size()) return std::nullopt;
    details.retry_after = std::chrono::seconds(value);
  }
  return details;
}

bool IsGone(const Status& status) {
  const auto details = ApiErrorDetailsOf(status);
  return details && details->http_status == 410;
}

std::optional<std::chrono::seconds> RetryAfterOf(const Status& status) {
  const auto details = ApiErrorDetailsOf(status);
  return details ? details->retry_after : std::nullopt;
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  long long seconds = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || seconds < 0) {
    return std::nullopt;
  }
  return std::min(std::chrono::seconds(seconds), kMaxRetryAfter);
}

RetryAdvice AdviseRetry(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
      return RetryAdvice::kRetryLater;
    case StatusCode::kAborted:
      return RetryAdvice::kReReadAndRetry;
    case StatusCode::kFailedPrecondition:
      return IsGone(status) ? RetryAdvice::kReReadAndRetry : RetryAdvice::kDoNotRetry;
    default:
      return RetryAdvice::kDoNotRetry;
  }
}

}  // namespace ephemera::kube
