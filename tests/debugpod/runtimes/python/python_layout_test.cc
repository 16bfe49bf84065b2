#include "debugpod/runtimes/python/python_layout.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace ephemera::runtimes::python {
namespace {

TEST(PythonLayoutTest, KnowsNineThroughThirteen) {
  for (int minor = 9; minor <= 13; ++minor) {
    StatusOr<PythonLayout> layout = LayoutForMinor(minor);
    ASSERT_TRUE(layout.ok()) << minor;
    EXPECT_EQ(layout->minor, minor);
    EXPECT_GT(layout->frame_read_size, layout->frame_previous);
    EXPECT_GT(layout->code_read_size, layout->code_line_table);
  }
  EXPECT_EQ(LayoutForMinor(9)->line_table_format, LineTableFormat::kLnotab);
  EXPECT_EQ(LayoutForMinor(10)->line_table_format, LineTableFormat::kLineTable310);
  EXPECT_EQ(LayoutForMinor(12)->line_table_format, LineTableFormat::kLocationTable);
  EXPECT_FALSE(LayoutForMinor(10)->tstate_native_thread_id.has_value());
  EXPECT_TRUE(LayoutForMinor(11)->tstate_native_thread_id.has_value());
}

TEST(PythonLayoutTest, OtherVersionsSayWhatIsSupported) {
  for (int minor : {8, 14}) {
    StatusOr<PythonLayout> layout = LayoutForMinor(minor);
    ASSERT_FALSE(layout.ok());
    EXPECT_EQ(layout.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(layout.status().message(),
              "python 3." + std::to_string(minor) + ": layout not known; supported 3.9–3.13");
  }
}

TEST(PythonLayoutTest, VersionFromHex) {
  EXPECT_EQ(VersionFromHex(0x030b02f0), "3.11.2");
  EXPECT_EQ(VersionFromHex(0x030d00c1), "3.13.0rc1");
  EXPECT_EQ(VersionFromHex(0x030e00a3), "3.14.0a3");
}

// A _Py_DebugOffsets as 3.13.0 fills it (pycore_runtime_init.h), from the 3.13 table.
std::vector<uint8_t> DebugOffsets313(uint64_t version_hex = 0x030d00f0, uint64_t free = 0) {
  const PythonLayout l = *LayoutForMinor(13);
  std::vector<uint8_t> bytes(kDebugOffsetsBytes, 0);
  auto put = [&](size_t at, uint64_t value) { std::memcpy(bytes.data() + at, &value, 8); };
  std::memcpy(bytes.data(), "xdebugpy", 8);
  put(8, version_hex);
  put(16, free);
  put(24, 0x452b8);  // sizeof(_PyRuntimeState)
  put(40, l.runtime_interpreters_head);
  put(48, 8000);  // sizeof(PyInterpreterState)
  put(56, l.interp_id);
  put(64, l.interp_next);
  put(72, l.interp_threads_head);
  put(136, l.gil_locked);
  put(144, l.gil_last_holder);
  put(152, 300);  // sizeof(PyThreadState)
  put(168, l.tstate_next);
  put(176, l.tstate_interp);
  put(184, l.tstate_frame);
  put(192, l.tstate_thread_id);
  put(200, *l.tstate_native_thread_id);
  put(224, 80);  // sizeof(_PyInterpreterFrame)
  put(232, l.frame_previous);
  put(240, l.frame_code);
  put(248, l.frame_instruction);
  put(264, *l.frame_owner);
  put(272, 208);  // sizeof(PyCodeObject)
  put(280, l.code_filename);
  put(288, l.code_name);
  put(296, *l.code_qualname);
  put(304, l.code_line_table);
  put(312, l.code_firstlineno);
  put(344, *l.code_code_adaptive);
  put(352, 16);
  put(360, l.object_type);
  put(368, 400);
  put(376, l.type_name);
  put(512, 40);
  put(520, l.var_object_size);
  put(528, l.bytes_data);
  put(536, 80);
  put(544, l.unicode_state);
  put(552, l.unicode_length);
  put(560, l.ascii_object_size);
  return bytes;
}

TEST(PythonLayoutTest, DebugOffsetsGiveTheSameLayoutAsTheTable) {
  std::vector<uint8_t> bytes = DebugOffsets313();
  ASSERT_TRUE(ReadDebugOffsetsHeader(bytes).has_value());
  EXPECT_EQ(ReadDebugOffsetsHeader(bytes)->version_hex, 0x030d00f0u);
  StatusOr<PythonLayout> parsed = ParseDebugOffsets(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const PythonLayout table = *LayoutForMinor(13);
  EXPECT_EQ(parsed->interp_threads_head, table.interp_threads_head);
  EXPECT_EQ(parsed->gil_locked, table.gil_locked);
  EXPECT_EQ(parsed->tstate_frame, table.tstate_frame);
  EXPECT_EQ(parsed->code_code_adaptive, table.code_code_adaptive);
  EXPECT_EQ(parsed->compact_object_size, table.compact_object_size);
  EXPECT_EQ(parsed->frame_read_size, table.frame_read_size);
}

TEST(PythonLayoutTest, DebugOffsetsFollowWhatTheyState) {
  std::vector<uint8_t> bytes = DebugOffsets313();
  const uint64_t moved = 7400;
  std::memcpy(bytes.data() + 72, &moved, 8);
  EXPECT_EQ(ParseDebugOffsets(bytes)->interp_threads_head, 7400u);
}

TEST(PythonLayoutTest, DebugOffsetsRejectWhatTheyCannotDescribe) {
  EXPECT_FALSE(ReadDebugOffsetsHeader(std::vector<uint8_t>(kDebugOffsetsBytes, 0)).has_value());
  EXPECT_EQ(ParseDebugOffsets(std::vector<uint8_t>(kDebugOffsetsBytes, 0)).status().code(),
            StatusCode::kDataLoss);
  std::vector<uint8_t> cut = DebugOffsets313();
  cut.resize(100);
  EXPECT_EQ(ParseDebugOffsets(cut).status().code(), StatusCode::kDataLoss);

  StatusOr<PythonLayout> newer = ParseDebugOffsets(DebugOffsets313(0x030e00f0));
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().message(), "python 3.14.0: layout not known; supported 3.9–3.13");
  EXPECT_EQ(ParseDebugOffsets(DebugOffsets313(0x030d00f0, 1)).status().code(),
            StatusCode::kFailedPrecondition);

  std::vector<uint8_t> beyond = DebugOffsets313();
  const uint64_t far = 1 << 20;
  std::memcpy(beyond.data() + 232, &far, 8);  // frame.previous past sizeof(frame)
  EXPECT_EQ(ParseDebugOffsets(beyond).status().code(), StatusCode::kDataLoss);
  std::vector<uint8_t> huge = DebugOffsets313();
  const uint64_t size = uint64_t{1} << 40;
  std::memcpy(huge.data() + 152, &size, 8);
  EXPECT_EQ(ParseDebugOffsets(huge).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ephemera::runtimes::python
