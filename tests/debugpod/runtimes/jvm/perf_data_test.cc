// Unit tests of the perf-data reader on files HotSpot 17 and 25 wrote for Parked.java, with the
// attach mechanism on and off (-XX:+DisableAttachMechanism), and on damaged copies of them.
#include "debugpod/runtimes/jvm/perf_data.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace ephemera::runtimes::jvm {
namespace {

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(JVM_TESTDATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void PutInt32(std::string& file, size_t offset, int32_t value) {
  for (int i = 0; i < 4; ++i) {
    file[offset + static_cast<size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

class PerfDataFixtureTest : public testing::TestWithParam<const char*> {};

TEST_P(PerfDataFixtureTest, CapabilitiesSayWhetherAttachIsOn) {
  const std::string jdk = GetParam();
  const std::string enabled = ReadFixture(jdk + "_perfdata_attach_enabled");
  const std::string disabled = ReadFixture(jdk + "_perfdata_attach_disabled");
  ASSERT_EQ(enabled.size(), 32768u);
  StatusOr<std::string> on = FindPerfDataString(enabled, "sun.rt.jvmCapabilities");
  StatusOr<std::string> off = FindPerfDataString(disabled, "sun.rt.jvmCapabilities");
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(on->size(), 64u);
  EXPECT_EQ(on->front(), '1');
  EXPECT_EQ(off->front(), '0');
}

TEST_P(PerfDataFixtureTest, ACounterThatIsNotThereOrNotAStringIsReported) {
  const std::string file = ReadFixture(std::string(GetParam()) + "_perfdata_attach_enabled");
  EXPECT_EQ(FindPerfDataString(file, "no.such.counter").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(FindPerfDataString(file, "sun.rt.createVmBeginTime").status().code(),
            StatusCode::kFailedPrecondition);
}

INSTANTIATE_TEST_SUITE_P(Jdks, PerfDataFixtureTest, testing::Values("jdk17", "jdk25"));

TEST(PerfDataTest, NotPerfDataIsInvalidArgument) {
  EXPECT_EQ(FindPerfDataString("", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FindPerfDataString(std::string(64, '\0'), "x").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PerfDataTest, OffsetsOutsideTheFileAreDataLoss) {
  const std::string original = ReadFixture("jdk17_perfdata_attach_enabled");
  ASSERT_GE(original.size(), 64u);
  std::string past = original;
  PutInt32(past, 24, 0x7ffffff0);  // the first entry beyond the file
  EXPECT_EQ(FindPerfDataString(past, "sun.rt.jvmCapabilities").status().code(),
            StatusCode::kDataLoss);
  std::string long_entry = original;
  PutInt32(long_entry, 32, 0x7fffffff);  // the first entry's length
  EXPECT_EQ(FindPerfDataString(long_entry, "sun.rt.jvmCapabilities").status().code(),
            StatusCode::kDataLoss);
  std::string zero_length = original;
  PutInt32(zero_length, 32, 0);  // would loop on the same entry
  EXPECT_EQ(FindPerfDataString(zero_length, "sun.rt.jvmCapabilities").status().code(),
            StatusCode::kDataLoss);
  const std::string truncated = original.substr(0, 40);
  EXPECT_EQ(FindPerfDataString(truncated, "sun.rt.jvmCapabilities").status().code(),
            StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ephemera::runtimes::jvm
