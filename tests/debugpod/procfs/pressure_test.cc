#include "debugpod/procfs/pressure.h"

#include <gtest/gtest.h>

#include <string>

namespace ephemera::procfs {
namespace {

TEST(ParsePressureTest, ParsesSomeAndFull) {
  StatusOr<Pressure> p = ParsePressure(
      "some avg10=97.77 avg60=95.71 avg300=90.68 total=3080579518\n"
      "full avg10=0.00 avg60=1.5 avg300=100.00 total=0\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_DOUBLE_EQ(p->some.avg10_percent, 97.77);
  EXPECT_DOUBLE_EQ(p->some.avg60_percent, 95.71);
  EXPECT_DOUBLE_EQ(p->some.avg300_percent, 90.68);
  EXPECT_EQ(p->some.total_micros, 3080579518u);
  ASSERT_TRUE(p->full.has_value());
  EXPECT_DOUBLE_EQ(p->full->avg60_percent, 1.5);
  EXPECT_DOUBLE_EQ(p->full->avg300_percent, 100);
  EXPECT_EQ(p->full->total_micros, 0u);
}

TEST(ParsePressureTest, FullIsOptionalAndUnknownKindsAndKeysAreIgnored) {
  StatusOr<Pressure> p =
      ParsePressure("some avg10=1.00 avg60=2.00 avg300=3.00 total=4 avg900=5.00\nstall avg10=x\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->full.has_value());
  EXPECT_DOUBLE_EQ(p->some.avg300_percent, 3);
  EXPECT_EQ(p->some.total_micros, 4u);
}

TEST(ParsePressureTest, RefusesMissingOrRepeatedParts) {
  EXPECT_EQ(ParsePressure("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParsePressure("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n").ok());
  EXPECT_FALSE(ParsePressure("some avg10=0.00 avg60=0.00 total=0\n").ok());
  EXPECT_FALSE(ParsePressure("some avg10=0.00 avg60=0.00 avg300=0.00\n").ok());
  EXPECT_FALSE(ParsePressure("some avg10=0.00 avg10=0.00 avg60=0.00 avg300=0.00 total=0\n").ok());
  EXPECT_FALSE(ParsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                             "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
                   .ok());
  EXPECT_FALSE(ParsePressure("some avg10=0.00 avg60 avg300=0.00 total=0\n").ok());
}

TEST(ParsePressureTest, RefusesHostileValues) {
  auto with_avg10 = [](const std::string& value) {
    return ParsePressure("some avg10=" + value + " avg60=0.00 avg300=0.00 total=0\n").ok();
  };
  EXPECT_TRUE(with_avg10("12"));
  EXPECT_FALSE(with_avg10("100.01"));
  EXPECT_FALSE(with_avg10("1000"));
  EXPECT_FALSE(with_avg10("-1.00"));
  EXPECT_FALSE(with_avg10("1.234"));
  EXPECT_FALSE(with_avg10("1."));
  EXPECT_FALSE(with_avg10(".5"));
  EXPECT_FALSE(with_avg10("nan"));
  EXPECT_FALSE(with_avg10("inf"));
  EXPECT_FALSE(with_avg10("1e2"));
  EXPECT_FALSE(with_avg10(""));
  EXPECT_FALSE(with_avg10(std::string("1.0\0", 4)));
  EXPECT_FALSE(ParsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 "
                             "total=99999999999999999999999\n")
                   .ok());
  EXPECT_TRUE(ParsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 "
                            "total=18446744073709551615\n")
                  .ok());
  EXPECT_FALSE(ParsePressure("some avg10=0.00 avg60=0.0").ok());  // truncated
  std::string huge =
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n" + std::string(kMaxPressureBytes, '\n');
  EXPECT_EQ(ParsePressure(huge).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ephemera::procfs
