#include "cli/report/report.h"
#include "cli/report/snapshot_document.h"

namespace ephemera::report {

StatusOr<std::string> RenderHtml(const nlohmann::json& snapshot, const ReportContext& context) {
  EPHEMERA_RETURN_IF_ERROR(ValidateSnapshot(snapshot));
  (void)context;
  return InternalError("HTML report not implemented yet");
}

}  // namespace ephemera::report
