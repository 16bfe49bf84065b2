// Fuzzes DebugSession parsing (controller/session/debug_session.h): an object as a watch or a GET
// delivers it, then its status written back.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/json_depth.h"
#include "controller/session/debug_session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json object = ephemera::base::ParseJsonWithinDepth(text);
  if (object.is_discarded()) return 0;
  auto session = ephemera::session::ParseDebugSession(object);
  if (session.ok()) (void)ephemera::session::StatusToJson(session->status).dump();
  return 0;
}
