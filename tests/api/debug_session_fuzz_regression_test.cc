// Regressions found by tests/fuzz/debug_session_fuzzer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "api/debug_session.h"
#include "base/rfc3339.h"

namespace ephemera::api {
namespace {

using ::testing::HasSubstr;

// Year 1013 is outside what system_clock can hold (nanoseconds in 64 bits); the conversion used
// to overflow (undefined behaviour) and yield some other time.
TEST(DebugSessionFuzzRegressionTest, RejectsACreationTimestampOutsideTheClockRange) {
  std::ifstream file(std::string(EPHEMERA_TESTDATA_DIR) +
                     "/session/creation_timestamp_year_1013.json");
  ASSERT_TRUE(file.is_open());
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto parsed = ParseDebugSession(nlohmann::json::parse(text));
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("creationTimestamp"));
  EXPECT_THAT(parsed.status().message(), HasSubstr("out of range"));
}

TEST(DebugSessionFuzzRegressionTest, Rfc3339AcceptsOnlyWhatTheClockCanHold) {
  EXPECT_FALSE(base::ParseRfc3339("1013-11-28T23:39:24Z").ok());
  EXPECT_FALSE(base::ParseRfc3339("0000-01-01T00:00:00Z").ok());
  EXPECT_FALSE(base::ParseRfc3339("9999-12-31T23:59:59.999999999Z").ok());
  EXPECT_FALSE(base::ParseRfc3339("2262-04-12T00:00:00Z").ok());
  for (const char* inside :
       {"1700-01-01T00:00:00Z", "2262-04-10T00:00:00Z", "2026-11-28T23:39:24Z"}) {
    const auto t = base::ParseRfc3339(inside);
    ASSERT_TRUE(t.ok()) << inside;
    EXPECT_EQ(base::FormatRfc3339(*t), inside);
  }
}

}  // namespace
}  // namespace ephemera::api
