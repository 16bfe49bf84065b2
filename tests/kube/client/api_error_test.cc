#include "kube/client/api_error.h"

#include <gtest/gtest.h>

namespace ephemera::kube {
namespace {

std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json{{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
                        {"message", message}, {"reason", reason},   {"code", code}}
      .dump();
}

struct Case {
  int http;
  std::string reason;
  StatusCode code;
  RetryAdvice advice;
};

TEST(ApiErrorTest, MapsHttpStatusAndReasonToCodeAndAdvice) {
  const std::vector<Case> table = {
      {409, "Conflict", StatusCode::kAborted, RetryAdvice::kReReadAndRetry},
      {409, "AlreadyExists", StatusCode::kAlreadyExists, RetryAdvice::kDoNotRetry},
      {404, "NotFound", StatusCode::kNotFound, RetryAdvice::kDoNotRetry},
      {403, "Forbidden", StatusCode::kPermissionDenied, RetryAdvice::kDoNotRetry},
      {401, "Unauthorized", StatusCode::kUnauthenticated, RetryAdvice::kDoNotRetry},
      {422, "Invalid", StatusCode::kInvalidArgument, RetryAdvice::kDoNotRetry},
      {400, "BadRequest", StatusCode::kInvalidArgument, RetryAdvice::kDoNotRetry},
      {415, "UnsupportedMediaType", StatusCode::kInvalidArgument, RetryAdvice::kDoNotRetry},
      {410, "Expired", StatusCode::kFailedPrecondition, RetryAdvice::kReReadAndRetry},
      {410, "Gone", StatusCode::kFailedPrecondition, RetryAdvice::kReReadAndRetry},
      {429, "TooManyRequests", StatusCode::kUnavailable, RetryAdvice::kRetryLater},
      {500, "InternalError", StatusCode::kUnavailable, RetryAdvice::kRetryLater},
      {503, "ServiceUnavailable", StatusCode::kUnavailable, RetryAdvice::kRetryLater},
      {504, "Timeout", StatusCode::kDeadlineExceeded, RetryAdvice::kRetryLater},
      {408, "Timeout", StatusCode::kDeadlineExceeded, RetryAdvice::kRetryLater},
      {418, "Teapot", StatusCode::kFailedPrecondition, RetryAdvice::kDoNotRetry},
  };
  for (const Case& c : table) {
    const Status status = ParseApiError(c.http, StatusBody(c.http, c.reason, "server says hi"));
    EXPECT_EQ(status.code(), c.code) << c.http << " " << c.reason;
    EXPECT_EQ(AdviseRetry(status), c.advice) << c.http << " " << c.reason;
    EXPECT_NE(status.message().find("server says hi"), std::string::npos) << status.message();
    const auto details = ApiErrorDetailsOf(status);
    ASSERT_TRUE(details.has_value()) << status.message();
    EXPECT_EQ(details->http_status, c.http);
    EXPECT_EQ(details->reason, c.reason);
    EXPECT_EQ(IsGone(status), c.http == 410);
  }
}

TEST(ApiErrorTest, KeepsServerMessageAndFormatsSuffix) {
  const Status status = ParseApiError(
      409, StatusBody(409, "Conflict",
                      "Operation cannot be fulfilled on debugsessions.ephemera.dev \"x\": the "
                      "object has been modified"));
  EXPECT_EQ(status.message(),
            "Operation cannot be fulfilled on debugsessions.ephemera.dev \"x\": the object has "
            "been modified (HTTP 409 Conflict)");
}

TEST(ApiErrorTest, RetryAfterFromHeaderOrDetails) {
  const Status from_header =
      ParseApiError(429, StatusBody(429, "TooManyRequests", "slow down"), std::chrono::seconds(7));
  EXPECT_EQ(RetryAfterOf(from_header), std::chrono::seconds(7));
  EXPECT_NE(from_header.message().find("retry after 7s"), std::string::npos);

  const std::string body = nlohmann::json{{"kind", "Status"},
                                          {"message", "etcd leader changed"},
                                          {"reason", "ServiceUnavailable"},
                                          {"code", 503},
                                          {"details", {{"retryAfterSeconds", 3}}}}
                               .dump();
  const Status from_details = ParseApiError(503, body);
  EXPECT_EQ(RetryAfterOf(from_details), std::chrono::seconds(3));
  EXPECT_EQ(from_details.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(RetryAfterOf(ParseApiError(500, "oops")).has_value());
}

TEST(ApiErrorTest, DetailsSurviveWithContext) {
  const Status status =
      ParseApiError(410, StatusBody(410, "Expired", "too old")).WithContext("listing pods");
  EXPECT_TRUE(IsGone(status));
  EXPECT_EQ(status.message().rfind("listing pods: too old", 0), 0u);
}

TEST(ApiErrorTest, NonStatusBodyIsSummarised) {
  const Status status =
      ParseApiError(502, "<html>\n<body>Bad Gateway</body>\n</html>" + std::string(500, 'x'));
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("<html> <body>Bad Gateway"), std::string::npos);
  EXPECT_LT(status.message().size(), 300u);
  EXPECT_EQ(ApiErrorDetailsOf(status)->reason, "InternalError");
}

TEST(ApiErrorTest, InStreamStatusObjectMapsLikeHttp) {
  const Status status = StatusFromApiStatusObject(nlohmann::json::parse(
      R"json({"kind":"Status","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410})json"));
  EXPECT_TRUE(IsGone(status));
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("too old resource version"), std::string::npos);
  const Status internal = StatusFromApiStatusObject(nlohmann::json::parse(R"({"message":"x"})"));
  EXPECT_EQ(internal.code(), StatusCode::kUnavailable);
}

TEST(ApiErrorTest, LocalStatusesHaveNoDetails) {
  EXPECT_FALSE(ApiErrorDetailsOf(UnavailableError("connection refused")).has_value());
  EXPECT_FALSE(ApiErrorDetailsOf(OkStatus()).has_value());
  EXPECT_FALSE(IsGone(FailedPreconditionError("something (HTTP x)")));
  EXPECT_EQ(AdviseRetry(FailedPreconditionError("no")), RetryAdvice::kDoNotRetry);
  EXPECT_EQ(AdviseRetry(DeadlineExceededError("timeout")), RetryAdvice::kRetryLater);
  EXPECT_EQ(AdviseRetry(OkStatus()), RetryAdvice::kDoNotRetry);
}

TEST(ApiErrorTest, ParsesRetryAfterHeader) {
  EXPECT_EQ(ParseRetryAfter("5"), std::chrono::seconds(5));
  EXPECT_EQ(ParseRetryAfter(" 12 "), std::chrono::seconds(12));
  EXPECT_EQ(ParseRetryAfter("999999"), std::chrono::seconds(3600));
  EXPECT_FALSE(ParseRetryAfter("-1").has_value());
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
  EXPECT_FALSE(ParseRetryAfter("").has_value());
}

}  // namespace
}  // namespace ephemera::kube
