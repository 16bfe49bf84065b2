#include "debugpod/runtimes/memory_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdint>

namespace ephemera::runtimes {
namespace {

TEST(ProcMemMemoryReaderTest, ReadsAnotherAddressSpaceByPid) {
  // The test reads its own memory through the same file the tool reads a target's.
  static const std::array<uint64_t, 2> kValues = {0x0123456789abcdef, 42};
  ProcMemMemoryReader reader("/proc", getpid(), 1024);
  StatusOr<uint64_t> second = reader.ReadValue<uint64_t>(reinterpret_cast<uint64_t>(&kValues[1]));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, 42u);
  EXPECT_EQ(reader.BytesRead(), 8u);
}

TEST(ProcMemMemoryReaderTest, UnmappedMemoryIsDataLossNamingTheAddress) {
  ProcMemMemoryReader reader("/proc", getpid(), 1024);
  StatusOr<uint64_t> value = reader.ReadValue<uint64_t>(0x10);
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(value.status().message().find("0x10"), std::string::npos);
}

TEST(ProcMemMemoryReaderTest, StopsAtItsBudget) {
  static const std::array<uint8_t, 64> kBytes{};
  ProcMemMemoryReader reader("/proc", getpid(), 40);
  std::array<uint8_t, 32> out{};
  ASSERT_TRUE(reader.Read(reinterpret_cast<uint64_t>(kBytes.data()), out).ok());
  Status over = reader.Read(reinterpret_cast<uint64_t>(kBytes.data()), out);
  EXPECT_EQ(over.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(reader.BytesRead(), 32u);  // the refused read is not charged
}

TEST(ProcMemMemoryReaderTest, AProcessThatIsGoneIsNotFound) {
  ProcMemMemoryReader reader("/proc", 0x3fffffff, 1024);  // above pid_max: no such process
  StatusOr<uint64_t> value = reader.ReadValue<uint64_t>(0x1000);
  EXPECT_EQ(value.status().code(), StatusCode::kNotFound) << value.status().ToString();
}

TEST(FakeMemoryReaderTest, ReadsAcrossAdjacentRegionsAndFailsOnAGap) {
  FakeMemoryReader memory;
  memory.Put<uint32_t>(0x1000, 0x11111111);
  memory.Put<uint32_t>(0x1004, 0x22222222);
  memory.Put<uint32_t>(0x100c, 0x33333333);
  StatusOr<uint64_t> joined = memory.ReadValue<uint64_t>(0x1000);
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(*joined, 0x2222222211111111u);
  EXPECT_EQ(memory.ReadValue<uint64_t>(0x1008).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(memory.ReadValue<uint8_t>(0xfff).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ephemera::runtimes
