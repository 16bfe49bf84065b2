#include "controller/logging/logger.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace ephemera::logging {
namespace {

// Every line of `text` parsed as one JSON object (a parse failure fails the test).
std::vector<nlohmann::ordered_json> ParseLines(const std::string& text) {
  std::vector<nlohmann::ordered_json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto parsed = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << line;
    lines.push_back(parsed);
  }
  return lines;
}

TEST(LoggerTest, WritesOneJsonObjectPerLineWithFieldsInOrder) {
  std::ostringstream out;
  Logger log = Logger::ToStream(out, LogLevel::kInfo);
  log.Info("Injected ephemeral container", {{"debugsession", "team-a/x"}, {"pod", "team-a/p"}});
  auto lines = ParseLines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  const auto& line = lines[0];
  std::vector<std::string> keys;
  for (const auto& [key, value] : line.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"ts", "level", "msg", "debugsession", "pod"}));
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["msg"], "Injected ephemeral container");
  EXPECT_EQ(line["debugsession"], "team-a/x");
  EXPECT_EQ(line["pod"], "team-a/p");
  EXPECT_TRUE(std::regex_match(line["ts"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")))
      << line["ts"];
}

TEST(LoggerTest, EscapesHostileStringsSoTheyCannotForgeFields) {
  std::ostringstream out;
  Logger log = Logger::ToStream(out, LogLevel::kInfo);
  const std::string hostile = "x\",\"level\":\"error\"}\n{\"msg\":\"forged\\\t\x01";
  log.Info("Message with \"quotes\" and {braces} {}", {{"name", hostile}, {hostile, "value"}});
  auto lines = ParseLines(out.str());
  ASSERT_EQ(lines.size(), 1u) << out.str();
  EXPECT_EQ(lines[0]["level"], "info");
  EXPECT_EQ(lines[0]["msg"], "Message with \"quotes\" and {braces} {}");
  EXPECT_EQ(lines[0]["name"], hostile);
  EXPECT_EQ(lines[0][hostile], "value");
}

TEST(LoggerTest, InvalidUtf8IsReplacedNotDropped) {
  std::ostringstream out;
  Logger log = Logger::ToStream(out, LogLevel::kInfo);
  log.Info("Read comm", {{"comm", std::string("ab\xff\xfe") + "cd"}});
  auto lines = ParseLines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["comm"],
            "ab\xEF\xBF\xBD\xEF\xBF\xBD"
            "cd");
}

TEST(LoggerTest, TypedFieldValues) {
  std::ostringstream out;
  Logger log = Logger::ToStream(out, LogLevel::kInfo);
  log.Info("Values", {{"count", 3},
                      {"big", std::int64_t{1} << 40},
                      {"ratio", 0.5},
                      {"nan", std::nan("")},
                      {"ok", true},
                      {"error", UnavailableError("apiserver down")},
                      {"status", OkStatus()}});
  auto lines = ParseLines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["count"], 3);
  EXPECT_EQ(lines[0]["big"], std::int64_t{1} << 40);
  EXPECT_EQ(lines[0]["ratio"], 0.5);
  EXPECT_EQ(lines[0]["nan"], "NaN");
  EXPECT_EQ(lines[0]["ok"], true);
  EXPECT_EQ(lines[0]["error"], "Unavailable: apiserver down");
  EXPECT_EQ(lines[0]["status"], "OK");
}

TEST(LoggerTest, ReservedKeysAreRenamed) {
  std::ostringstream out;
  Logger log = Logger::ToStream(out, LogLevel::kInfo);
  log.Info("Real message", {{"msg", "fake"}, {"level", "error"}});
  auto lines = ParseLines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["msg"], "Real message");
  EXPECT_EQ(lines[0]["level"], "info");
  EXPECT_EQ(lines[0]["field.msg"], "fake");
  EXPECT_EQ(lines[0]["field.level"], "error");
}

TEST(LoggerTest, LevelFiltersAndCanChange) {
  std::ostringstream out;
  Logger log = Logger::ToStream(out, LogLevel::kWarn);
  log.Debug("Dropped");
  log.Info("Dropped");
  log.Warn("Kept warn");
  log.Error("Kept error");
  Logger copy = log;
  copy.SetLevel(LogLevel::kDebug);
  log.Debug("Kept debug");  // copies share the level
  auto lines = ParseLines(out.str());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["level"], "warn");
  EXPECT_EQ(lines[1]["level"], "error");
  EXPECT_EQ(lines[2]["level"], "debug");
  EXPECT_EQ(lines[2]["msg"], "Kept debug");
  EXPECT_TRUE(log.IsEnabled(LogLevel::kDebug));
}

TEST(LoggerTest, WithAddsFieldsToEveryLine) {
  std::ostringstream out;
  Logger base = Logger::ToStream(out, LogLevel::kInfo);
  Logger log = base.With({{"controller", "debugsession"}});
  log.Info("Reconciled", {{"debugsession", "ns/a"}});
  base.Info("Plain");
  auto lines = ParseLines(out.str());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["controller"], "debugsession");
  EXPECT_EQ(lines[0]["debugsession"], "ns/a");
  EXPECT_FALSE(lines[1].contains("controller"));
}

TEST(LoggerTest, ConcurrentLinesDoNotInterleave) {
  std::ostringstream out;
  Logger log = Logger::ToStream(out, LogLevel::kInfo);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 200; ++i) log.Info("Tick", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& thread : threads) thread.join();
  auto lines = ParseLines(out.str());
  EXPECT_EQ(lines.size(), 800u);
}

TEST(LoggerTest, ParseLogLevel) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("info"), LogLevel::kInfo);
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  auto bad = ParseLogLevel("verbose");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("debug, info, warn, error"), std::string::npos);
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "warn");
}

}  // namespace
}  // namespace ephemera::logging
