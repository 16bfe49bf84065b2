// Decoding a watch stream: a sequence of WatchEvent JSON objects
// ({"type":"ADDED","object":{…}}) with arbitrary whitespace between them, delivered in chunks that
// need not line up with events. The decoder frames objects incrementally (tracking strings,
// escapes and nesting), so an event split anywhere, even inside a UTF-8 sequence or an escape,
// decodes the same. Bytes are scanned once; feeding one byte at a time stays linear.
#ifndef EPHEMERA_KUBE_CLIENT_WATCH_DECODER_H_
#define EPHEMERA_KUBE_CLIENT_WATCH_DECODER_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

std::string_view WatchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  // The object; for kError a Kubernetes Status object; for kBookmark only metadata.resourceVersion
  // is meaningful.
  nlohmann::json object{};

  // object.metadata.resourceVersion, or "" when absent.
  std::string ResourceVersion() const;
};

struct WatchDecoderLimits {
  std::size_t max_event_bytes = 16 << 20;  // one event's JSON text
  int max_depth = 64;                      // nesting of objects and arrays
};

// Not thread safe: one decoder per stream. After an error the decoder stays failed and every
// later Feed returns the same error.
class WatchStreamDecoder {
 public:
  explicit WatchStreamDecoder(WatchDecoderLimits limits = {});

  // Consumes `chunk` and appends the events it completes to `events` (in stream order). Events
  // completed before an error are still appended. Errors: kResourceExhausted for an event over
  // max_event_bytes or nested deeper than max_depth; kDataLoss for bytes that are not a JSON
  // object, malformed JSON, or an event without a known type or an object.
  Status Feed(std::string_view chunk, std::vector<WatchEvent>* events);

  // True while an event has started but not finished: if the stream ends now, it was cut.
  bool HasPartialEvent() const { return depth_ > 0; }

 private:
  Status Fail(Status status);
  Status Complete(std::vector<WatchEvent>* events);

  WatchDecoderLimits limits_;
  std::string pending_;  // text of the event being framed
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  Status failed_;
};

// Turns one framed JSON document into an event (kDataLoss when it is not one).
StatusOr<WatchEvent> DecodeWatchEvent(nlohmann::json document);

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_CLIENT_WATCH_DECODER_H_
