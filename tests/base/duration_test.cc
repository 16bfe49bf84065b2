#include "base/duration.h"

#include <gtest/gtest.h>

namespace ephemera::base {
namespace {

using namespace std::chrono_literals;

std::chrono::nanoseconds Parsed(std::string_view text) {
  auto parsed = ParseDuration(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
  return parsed.ok() ? *parsed : std::chrono::nanoseconds(-12345);
}

TEST(ParseDurationTest, AcceptsGoSyntax) {
  EXPECT_EQ(Parsed("60s"), 60s);
  EXPECT_EQ(Parsed("5m"), 5min);
  EXPECT_EQ(Parsed("1h30m"), 90min);
  EXPECT_EQ(Parsed("1.5h"), 90min);
  EXPECT_EQ(Parsed("250ms"), 250ms);
  EXPECT_EQ(Parsed("1h0m0.5s"), 1h + 500ms);
  EXPECT_EQ(Parsed(".5s"), 500ms);
  EXPECT_EQ(Parsed("1.s"), 1s);
  EXPECT_EQ(Parsed("10us"), 10us);
  EXPECT_EQ(Parsed("10\xC2\xB5s"), 10us);
  EXPECT_EQ(Parsed("7ns"), 7ns);
  EXPECT_EQ(Parsed("0"), 0ns);
  EXPECT_EQ(Parsed("+5s"), 5s);
  EXPECT_EQ(Parsed("-1m"), -1min);
  EXPECT_EQ(Parsed("2h45m30s"), 2h + 45min + 30s);
}

TEST(ParseDurationTest, RejectsMalformedInputWithHint) {
  for (std::string_view bad : {"", "5", "5 m", "h", "5x", "1h30", "-", "s5", "1..5s", "5m "}) {
    auto parsed = ParseDuration(bad);
    ASSERT_FALSE(parsed.ok()) << "\"" << bad << "\" parsed";
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("write it like 60s, 5m, 1h30m"), std::string::npos)
        << parsed.status().message();
  }
  EXPECT_NE(ParseDuration("300").status().message().find("missing unit"), std::string::npos);
  EXPECT_NE(ParseDuration("5 minutes").status().message().find("unknown unit \" minutes\""),
            std::string::npos);
}

TEST(ParseDurationTest, RejectsOverflow) {
  EXPECT_FALSE(ParseDuration("9999999999h").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999999s").ok());
  EXPECT_FALSE(ParseDuration("2562047h2562047h").ok());
  EXPECT_TRUE(ParseDuration("2562047h").ok());
}

TEST(FormatDurationTest, ShortestForms) {
  EXPECT_EQ(FormatDuration(90min), "1h30m");
  EXPECT_EQ(FormatDuration(5min), "5m");
  EXPECT_EQ(FormatDuration(10s), "10s");
  EXPECT_EQ(FormatDuration(1h + 1s), "1h1s");
  EXPECT_EQ(FormatDuration(250ms), "250ms");
  EXPECT_EQ(FormatDuration(0s), "0s");
  EXPECT_EQ(FormatDuration(-2s), "-2s");
}

// The snapshot tool's --deadline form: one whole number and one unit.
TEST(ParseDurationTest, WholeNumberAndUnitAcceptsUnitsOnly) {
  constexpr auto kPlain = DurationSyntax::kWholeNumberAndUnit;
  EXPECT_EQ(*ParseDuration("20s", kPlain), 20s);
  EXPECT_EQ(*ParseDuration("250ms", kPlain), 250ms);
  EXPECT_EQ(*ParseDuration("2m", kPlain), 2min);
  EXPECT_EQ(*ParseDuration("1h", kPlain), 1h);
  EXPECT_EQ(*ParseDuration("4294967295ms", kPlain), 4294967295ms);
  for (std::string_view bad :
       {"20", "s", "-1s", "1.5s", "1h30m", "+5s", "10us", "0", "4294967296ms", ""}) {
    auto parsed = ParseDuration(bad, kPlain);
    ASSERT_FALSE(parsed.ok()) << "\"" << bad << "\" parsed";
    EXPECT_EQ(parsed.status().message().rfind("want a duration such as 20s, 500ms or 2m", 0), 0u)
        << parsed.status().message();
  }
}

}  // namespace
}  // namespace ephemera::base
