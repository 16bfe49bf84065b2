#include "controller/logging/logger.h"

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

namespace ephemera::logging {
namespace {

std::string JsonString(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string_view SpdlogLevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    default:
      return "error";
  }
}

// "2026-01-01T00:00:00.123456Z" (UTC, microseconds).
void AppendTimestamp(std::chrono::system_clock::time_point time, spdlog::memory_buf_t& out) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  std::int64_t seconds = micros / 1'000'000;
  std::int64_t fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  fmt::format_to(std::back_inserter(out), "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:06d}Z",
                 utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                 utc.tm_sec, fraction);
}

// Wraps the pre-rendered `"msg":…` payload into one JSON object per line.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    constexpr std::string_view kTs = "{\"ts\":\"";
    dest.append(kTs.data(), kTs.data() + kTs.size());
    AppendTimestamp(msg.time, dest);
    constexpr std::string_view kLevel = "\",\"level\":\"";
    dest.append(kLevel.data(), kLevel.data() + kLevel.size());
    const std::string_view level = SpdlogLevelName(msg.level);
    dest.append(level.data(), level.data() + level.size());
    dest.push_back('"');
    dest.push_back(',');
    dest.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
    dest.push_back('}');
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

void AppendField(std::string& out, const Field& field) {
  out += ',';
  const std::string& key = field.Key();
  if (key == "ts" || key == "level" || key == "msg") {
    out += JsonString("field." + key);
  } else {
    out += JsonString(key);
  }
  out += ':';
  out += field.JsonValue();
}

std::shared_ptr<spdlog::logger> MakeLogger(spdlog::sink_ptr sink, LogLevel level) {
  auto logger = std::make_shared<spdlog::logger>("ephemera", std::move(sink));
  logger->set_formatter(std::make_unique<JsonLineFormatter>());
  logger->set_level(ToSpdlog(level));
  logger->flush_on(spdlog::level::trace);  // every line reaches the sink at once
  return logger;
}

}  // namespace

StatusOr<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return InvalidArgumentError("unknown log level \"" + std::string(text) +
                              "\"; use one of debug, info, warn, error");
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

Field::Field(std::string_view key, std::string_view value)
    : key_(key), json_value_(JsonString(value)) {}

Field::Field(std::string_view key, double value) : key_(key) {
  // JSON has no NaN or infinities: those are written as strings.
  if (std::isnan(value)) {
    json_value_ = "\"NaN\"";
  } else if (std::isinf(value)) {
    json_value_ = value > 0 ? "\"+Inf\"" : "\"-Inf\"";
  } else {
    json_value_ = nlohmann::json(value).dump();
  }
}

Field::Field(std::string_view key, bool value) : key_(key), json_value_(value ? "true" : "false") {}

Field::Field(std::string_view key, const Status& status)
    : key_(key), json_value_(JsonString(status.ToString())) {}

Logger::Logger(std::shared_ptr<spdlog::logger> sink, std::string base_fields)
    : sink_(std::move(sink)), base_fields_(std::move(base_fields)) {}

Logger Logger::Stderr(LogLevel level) {
  return Logger(MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), level), "");
}

Logger Logger::ToStream(std::ostream& out, LogLevel level) {
  return Logger(
      MakeLogger(std::make_shared<spdlog::sinks::ostream_sink_mt>(out, /*force_flush=*/true),
                 level),
      "");
}

void Logger::Log(LogLevel level, std::string_view msg, std::initializer_list<Field> fields) const {
  if (!IsEnabled(level)) return;
  std::string payload = "\"msg\":" + JsonString(msg);
  payload += base_fields_;
  for (const Field& field : fields) AppendField(payload, field);
  // The payload is passed as an argument, never as a format string: braces in it stay literal.
  sink_->log(ToSpdlog(level), "{}", payload);
}

Logger Logger::With(std::initializer_list<Field> fields) const {
  std::string base = base_fields_;
  for (const Field& field : fields) AppendField(base, field);
  return Logger(sink_, std::move(base));
}

void Logger::SetLevel(LogLevel level) { sink_->set_level(ToSpdlog(level)); }

bool Logger::IsEnabled(LogLevel level) const { return sink_->should_log(ToSpdlog(level)); }

}  // namespace ephemera::logging
