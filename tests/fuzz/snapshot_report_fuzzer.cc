// Fuzzes the reports of a decrypted snapshot document (cli/report/report.h): the document is
// written by the snapshot tool inside the target pod, so its content is attacker-influenced.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/json_depth.h"
#include "cli/report/report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json document = ephemera::base::ParseJsonWithinDepth(text);
  if (document.is_discarded()) return 0;
  ephemera::report::ReportContext context;
  context.session = "fuzz";
  context.namespace_name = "default";
  (void)ephemera::report::RenderText(document, context);
  (void)ephemera::report::RenderHtml(document, context);
  (void)document.dump(2);  // kubectl ephemera snapshot -o json
  return 0;
}
