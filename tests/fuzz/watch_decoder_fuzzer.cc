// Fuzzes the watch stream decoder (kube/client/watch_decoder.h): the bytes of a watch response
// body, delivered in chunks whose size comes from the first input byte, so events split anywhere.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kube/client/watch_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  ephemera::kube::WatchStreamDecoder decoder;
  std::vector<ephemera::kube::WatchEvent> events;
  while (!stream.empty()) {
    const std::string_view piece = stream.substr(0, chunk);
    stream.remove_prefix(piece.size());
    if (!decoder.Feed(piece, &events).ok()) break;
  }
  for (const auto& event : events) {
    (void)event.ResourceVersion();
    (void)ephemera::kube::WatchEventTypeName(event.type);
    (void)event.object.dump();
  }
  return 0;
}
