// Tests of gzip with a decompression cap.
#include "envelope/gzip.h"

#include <gtest/gtest.h>

#include <string>

namespace ephemera::envelope {
namespace {

TEST(GzipTest, RoundTripsAndIsDeterministic) {
  for (const std::string& data : {std::string(), std::string("x"), std::string(300000, 'q')}) {
    StatusOr<std::string> gz = GzipCompress(data);
    ASSERT_TRUE(gz.ok());
    EXPECT_EQ(gz->substr(0, 2), "\x1f\x8b");
    StatusOr<std::string> again = GzipCompress(data);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*gz, *again);
    StatusOr<std::string> back = GzipDecompress(*gz, data.size());
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, data);
  }
}

TEST(GzipTest, CapStopsABomb) {
  StatusOr<std::string> gz = GzipCompress(std::string(64 << 20, '\0'));  // 64 MiB of zeros
  ASSERT_TRUE(gz.ok());
  EXPECT_LT(gz->size(), 100u << 10);
  StatusOr<std::string> back = GzipDecompress(*gz, 1 << 20);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), StatusCode::kResourceExhausted);
}

TEST(GzipTest, CorruptTruncatedAndTrailingInputIsDataLoss) {
  StatusOr<std::string> gz = GzipCompress("hello hello hello hello");
  ASSERT_TRUE(gz.ok());
  for (const std::string& bad : {gz->substr(0, gz->size() - 1), gz->substr(0, 5), std::string(),
                                 *gz + "x", std::string("not gzip at all")}) {
    StatusOr<std::string> back = GzipDecompress(bad, 1000);
    ASSERT_FALSE(back.ok());
    EXPECT_EQ(back.status().code(), StatusCode::kDataLoss) << back.status().ToString();
  }
  std::string flipped = *gz;
  flipped[flipped.size() - 5] ^= 1;  // CRC-32 trailer
  EXPECT_FALSE(GzipDecompress(flipped, 1000).ok());
}

}  // namespace
}  // namespace ephemera::envelope
