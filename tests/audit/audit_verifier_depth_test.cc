// Regression: an audit line nested 100000 levels deep overflowed the stack while the verifier
// copied the record (found by tests/fuzz/audit_verifier_fuzzer).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "audit/audit_verifier.h"

namespace ephemera::audit {
namespace {

using ::testing::HasSubstr;

TEST(AuditVerifierDepthTest, ReportsADeeplyNestedRecordInsteadOfCrashing) {
  std::ifstream file(std::string(EPHEMERA_TESTDATA_DIR) + "/audit/deeply_nested_details.jsonl");
  ASSERT_TRUE(file.is_open());
  const VerifyReport report = VerifyAuditStream(file, VerifyOptions{});
  EXPECT_FALSE(report.Verified());
  EXPECT_EQ(report.records, 0u);
  ASSERT_FALSE(report.problems.empty());
  EXPECT_EQ(report.problems[0].line, 1u);
  EXPECT_THAT(report.problems[0].message, HasSubstr("nested deeper than 128 levels"));
}

TEST(AuditVerifierDepthTest, SkipsADeeplyNestedLineThatIsNotARecord) {
  std::istringstream lines(std::string(100000, '[') + "\n");
  const VerifyReport report = VerifyAuditStream(lines, VerifyOptions{});
  EXPECT_EQ(report.skipped_lines, 1u);
  EXPECT_EQ(report.records, 0u);
}

}  // namespace
}  // namespace ephemera::audit
