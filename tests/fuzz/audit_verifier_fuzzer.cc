// Fuzzes the audit verifier (audit/audit_verifier.h): `ephemera-controller audit verify`
// reads JSON lines from a file anyone may have edited, and both reports are rendered.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "audit/audit_verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  ephemera::audit::VerifyOptions options;
  options.allow_partial_chains = size % 2 == 0;
  const ephemera::audit::VerifyReport report = ephemera::audit::VerifyAuditStream(lines, options);
  (void)ephemera::audit::FormatVerifyReport(report);
  (void)ephemera::audit::VerifyReportToJson(report).dump();
  return 0;
}
