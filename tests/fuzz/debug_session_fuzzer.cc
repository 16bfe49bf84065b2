// Fuzzes DebugSession parsing (api/debug_session.h): an object as a watch or a GET
// delivers it, then its status written back.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/debug_session.h"
#include "base/json_depth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json object = ephemera::base::ParseJsonWithinDepth(text);
  if (object.is_discarded()) return 0;
  auto session = ephemera::api::ParseDebugSession(object);
  if (session.ok()) (void)ephemera::api::StatusToJson(session->status).dump();
  return 0;
}
