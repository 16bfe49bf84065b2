// Logger: structured JSON-lines logs for the controller, one object per line:
//
//   {"ts":"2026-01-01T00:00:00.123456Z","level":"info","msg":"Injected ephemeral container",
//    "debugsession":"team-a/x","pod":"team-a/p"}
//
// Messages follow Kubernetes style (capitalized, no trailing period, no values interpolated);
// values go in fields: log.Info("Injected ephemeral container", {{"debugsession", key}}).
// Keys and string values are JSON-escaped (quotes, backslashes, control characters; invalid UTF-8
// becomes U+FFFD), so a field can never break the line or forge another field. Fields keep the
// order given; "ts", "level" and "msg" are reserved and a field with one of those keys is written
// as "field.ts" etc.
//
// Secrets: the logger writes exactly the message and the fields its caller passes, nothing else
// (no environment, no request dumps). Callers must never pass tokens, keys, snapshot contents or
// environment values; pass names and identifiers instead.
//
// Backed by spdlog, which stays out of this header. Copies share the sink and the level. Thread
// safe: lines from concurrent callers never interleave.
#ifndef EPHEMERA_CONTROLLER_LOGGING_LOGGER_H_
#define EPHEMERA_CONTROLLER_LOGGING_LOGGER_H_

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace ephemera::logging {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// "debug", "info", "warn" (or "warning"), "error", case-sensitive; kInvalidArgument otherwise,
// naming the accepted values.
StatusOr<LogLevel> ParseLogLevel(std::string_view text);
std::string_view LogLevelName(LogLevel level);

// One key/value pair, its value already encoded as JSON.
class Field {
 public:
  Field(std::string_view key, std::string_view value);
  Field(std::string_view key, const char* value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, const std::string& value) : Field(key, std::string_view(value)) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) Field(std::string_view key, T value)
      : key_(key), json_value_(std::to_string(value)) {}
  Field(std::string_view key, double value);
  Field(std::string_view key, bool value);
  // The status as "Code: message" (or "OK").
  Field(std::string_view key, const Status& status);

  const std::string& Key() const { return key_; }
  const std::string& JsonValue() const { return json_value_; }

 private:
  std::string key_;
  std::string json_value_;
};

class Logger {
 public:
  // Writes to standard error.
  static Logger Stderr(LogLevel level);
  // Writes to `out` (tests, files); `out` must outlive the logger and all its copies.
  static Logger ToStream(std::ostream& out, LogLevel level);

  void Debug(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Log(LogLevel::kDebug, msg, fields);
  }
  void Info(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Log(LogLevel::kInfo, msg, fields);
  }
  void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Log(LogLevel::kWarn, msg, fields);
  }
  void Error(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Log(LogLevel::kError, msg, fields);
  }
  void Log(LogLevel level, std::string_view msg, std::initializer_list<Field> fields) const;

  // A logger writing to the same sink that adds `fields` to every line (before per-call fields),
  // e.g. logger.With({{"controller", "debugsession"}}).
  Logger With(std::initializer_list<Field> fields) const;

  // Changes the level for this logger and every copy sharing its sink.
  void SetLevel(LogLevel level);
  bool IsEnabled(LogLevel level) const;

 private:
  Logger(std::shared_ptr<spdlog::logger> sink, std::string base_fields);

  std::shared_ptr<spdlog::logger> sink_;
  std::string base_fields_;  // pre-rendered `,"key":value` pairs
};

}  // namespace ephemera::logging

#endif  // EPHEMERA_CONTROLLER_LOGGING_LOGGER_H_
