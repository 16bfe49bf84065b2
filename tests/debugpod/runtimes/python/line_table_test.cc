#include "debugpod/runtimes/python/line_table.h"

#include <gtest/gtest.h>

#include <climits>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ephemera::runtimes::python {
namespace {

int Line(LineTableFormat format, const std::vector<uint8_t>& table, int first, int64_t offset) {
  StatusOr<int> line = LineForOffset(format, table, first, offset);
  EXPECT_TRUE(line.ok()) << line.status().message();
  return line.ok() ? *line : -1;
}

TEST(LineTableTest, LnotabSumsIncrementsUpToTheOffset) {
  // (address increment, line increment): lines 11 from 0, 12 from 6, 10 from 14 (a negative
  // increment, as a loop's jump back produces), 138 from 20.
  const std::vector<uint8_t> table = {0, 1, 6, 1, 8, 0xfe, 6, 127, 0, 1};
  EXPECT_EQ(Line(LineTableFormat::kLnotab, table, 10, 0), 11);
  EXPECT_EQ(Line(LineTableFormat::kLnotab, table, 10, 5), 11);
  EXPECT_EQ(Line(LineTableFormat::kLnotab, table, 10, 6), 12);
  EXPECT_EQ(Line(LineTableFormat::kLnotab, table, 10, 14), 10);
  EXPECT_EQ(Line(LineTableFormat::kLnotab, table, 10, 20), 138);
  EXPECT_EQ(Line(LineTableFormat::kLnotab, table, 10, 5000), 138);
}

TEST(LineTableTest, LnotabIgnoresATrailingOddByte) {
  EXPECT_EQ(Line(LineTableFormat::kLnotab, {0, 2, 9}, 1, 100), 3);
}

TEST(LineTableTest, LineTable310RangesAndNoLineMarker) {
  // (end increment, line increment): [0,6) line 11, [6,14) line 13, [14,18) no line (-128),
  // [18,20) line 12.
  const std::vector<uint8_t> table = {6, 1, 8, 2, 4, 0x80, 2, 0xff};
  EXPECT_EQ(Line(LineTableFormat::kLineTable310, table, 10, 0), 11);
  EXPECT_EQ(Line(LineTableFormat::kLineTable310, table, 10, 13), 13);
  EXPECT_EQ(Line(LineTableFormat::kLineTable310, table, 10, 14), 0);
  EXPECT_EQ(Line(LineTableFormat::kLineTable310, table, 10, 18), 12);
  EXPECT_EQ(Line(LineTableFormat::kLineTable310, table, 10, 20), 0);  // past the table
}

// One entry of each form of Objects/locations.md, first line 100.
const std::vector<uint8_t> kLocations = {
    0x81, 0x12,              // short form (code 0), 2 units: line 100
    0xd8, 0x04, 0x09,        // one-line form, code 11 (delta +1), 1 unit: line 101
    0xe8, 0x07,              // no-column form (13), svarint 7 = -3, 1 unit: line 98
    0xf2, 0x4c, 0x02, 0x00,  // long form (14), 3 units, svarint 12 + (2 << 6) = 140 = +70
    0x01, 0x02,              //   … end line delta, column + 1, end column + 1: line 168
    0xf8,                    // no location (15), 1 unit
    0x80, 0x00,              // short form again, 1 unit: line 168
};

TEST(LineTableTest, LocationTableEachForm) {
  auto line = [](int unit) {
    return Line(LineTableFormat::kLocationTable, kLocations, 100, int64_t{2} * unit);
  };
  EXPECT_EQ(line(0), 100);
  EXPECT_EQ(line(1), 100);
  EXPECT_EQ(line(2), 101);
  EXPECT_EQ(line(3), 98);
  EXPECT_EQ(line(4), 168);
  EXPECT_EQ(line(6), 168);
  EXPECT_EQ(line(7), 0);
  EXPECT_EQ(line(8), 168);
  EXPECT_EQ(line(9), 0);  // past the table
}

TEST(LineTableTest, NegativeOffsetIsTheFirstLine) {
  for (LineTableFormat format : {LineTableFormat::kLnotab, LineTableFormat::kLineTable310,
                                 LineTableFormat::kLocationTable}) {
    EXPECT_EQ(Line(format, {}, 42, -2), 42);
  }
}

TEST(LineTableTest, LocationTableRejectsMalformedInput) {
  auto status = [](std::vector<uint8_t> table) {
    return LineForOffset(LineTableFormat::kLocationTable, table, 1, 1000).status().code();
  };
  EXPECT_EQ(status({0xe8, 0x47}), StatusCode::kDataLoss);  // varint cut off
  EXPECT_EQ(status({0x01, 0x80}), StatusCode::kDataLoss);  // no start bit
  EXPECT_EQ(status({0xe8, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00}),
            StatusCode::kDataLoss);  // a varint of more than 32 bits
  // A line beyond int: first line INT_MAX and a +1.
  EXPECT_EQ(
      LineForOffset(LineTableFormat::kLocationTable, std::vector<uint8_t>{0xd8, 0, 0}, INT_MAX, 0)
          .status()
          .code(),
      StatusCode::kInvalidArgument);
}

TEST(LineTableTest, Lnotab310LineOverflowIsAnError) {
  std::vector<uint8_t> table(80, 0);
  for (size_t i = 0; i < table.size(); i += 2) table[i + 1] = 100;
  EXPECT_EQ(
      LineForOffset(LineTableFormat::kLineTable310, table, INT_MAX - 10, 1000).status().code(),
      StatusCode::kInvalidArgument);
}

TEST(LineTableTest, LongTablesDecodeInOnePass) {
  // 1 MiB of one-unit short-form entries: the offset past them is found, and ends at 0.
  std::vector<uint8_t> table;
  for (int i = 0; i < (1 << 19); ++i) table.insert(table.end(), {0x80, 0x00});
  EXPECT_EQ(Line(LineTableFormat::kLocationTable, table, 7, int64_t{2} << 19), 0);
  EXPECT_EQ(Line(LineTableFormat::kLocationTable, table, 7, (int64_t{2} << 19) - 2), 7);
}

// The fixtures hold real code objects' tables and the line CPython computes for each
// instruction (make_line_tables.py, run with each interpreter).
class RealCodeObjectsTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RealCodeObjectsTest, MatchesCPython) {
  std::ifstream in(std::string(PYTHON_TESTDATA_DIR) + "/" + GetParam());
  ASSERT_TRUE(in) << GetParam();
  int code_objects = 0;
  int checked = 0;
  for (std::string row; std::getline(in, row);) {
    std::istringstream fields(row);
    std::string format_name;
    std::string hex;
    int first_line = 0;
    fields >> format_name >> first_line >> hex;
    LineTableFormat format = format_name == "lnotab"         ? LineTableFormat::kLnotab
                             : format_name == "linetable310" ? LineTableFormat::kLineTable310
                                                             : LineTableFormat::kLocationTable;
    std::vector<uint8_t> table;
    for (size_t i = 0; hex != "-" && i + 1 < hex.size(); i += 2) {
      table.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    ++code_objects;
    for (std::string pair; fields >> pair;) {
      const size_t colon = pair.find(':');
      const int64_t offset = std::stoll(pair.substr(0, colon));
      const int expected = std::stoi(pair.substr(colon + 1));
      ASSERT_EQ(Line(format, table, first_line, offset), expected)
          << GetParam() << " code object " << code_objects << " offset " << offset;
      ++checked;
    }
  }
  EXPECT_GE(code_objects, 30);
  EXPECT_GT(checked, 500);
}

INSTANTIATE_TEST_SUITE_P(EachVersion, RealCodeObjectsTest,
                         ::testing::Values("line_tables_3.9.txt", "line_tables_3.10.txt",
                                           "line_tables_3.11.txt", "line_tables_3.12.txt",
                                           "line_tables_3.13.txt"));

}  // namespace
}  // namespace ephemera::runtimes::python
