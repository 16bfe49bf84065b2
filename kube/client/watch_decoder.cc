#include "kube/client/watch_decoder.h"

#include <cstdio>

#include "base/json_access.h"

namespace ephemera::kube {
namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::string_view WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

std::string WatchEvent::ResourceVersion() const {
  const nlohmann::json* metadata = base::FindField(object, "metadata");
  return metadata != nullptr ? base::StringField(*metadata, "resourceVersion") : std::string();
}

StatusOr<WatchEvent> DecodeWatchEvent(nlohmann::json document) {
  if (!document.is_object()) return DataLossError("watch event is not a JSON object");
  const auto type = document.find("type");
  if (type == document.end() || !type->is_string()) {
    return DataLossError("watch event has no type");
  }
  const std::string& name = type->get_ref<const std::string&>();
  WatchEvent event;
  if (name == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (name == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (name == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (name == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (name == "ERROR") {
    event.type = WatchEventType::kError;
  } else {
    return DataLossError("watch event has unknown type \"" + name.substr(0, 32) + "\"");
  }
  auto object = document.find("object");
  if (object == document.end() || !object->is_object()) {
    return DataLossError("watch " + name + " event has no object");
  }
  event.object = std::move(*object);
  return event;
}

WatchStreamDecoder::WatchStreamDecoder(WatchDecoderLimits limits) : limits_(limits) {}

Status WatchStreamDecoder::Fail(Status status) {
  failed_ = std::move(status);
  pending_.clear();
  return failed_;
}

Status WatchStreamDecoder::Complete(std::vector<WatchEvent>* events) {
  nlohmann::json document = nlohmann::json::parse(pending_, nullptr, /*allow_exceptions=*/false);
  pending_.clear();
  if (document.is_discarded()) return Fail(DataLossError("watch event is not valid JSON"));
  auto event = DecodeWatchEvent(std::move(document));
  if (!event.ok()) return Fail(event.status());
  events->push_back(std::move(*event));
  return OkStatus();
}

Status WatchStreamDecoder::Feed(std::string_view chunk, std::vector<WatchEvent>* events) {
  if (!failed_.ok()) return failed_;
  std::size_t start = 0;  // first byte of `chunk` not yet copied into pending_
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    const char c = chunk[i];
    if (depth_ == 0) {
      if (IsJsonSpace(c)) {
        start = i + 1;
        continue;
      }
      if (c != '{') {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(c));
        return Fail(DataLossError(std::string("unexpected byte ") + hex + " between watch events"));
      }
      start = i;
      depth_ = 1;
      continue;
    }
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      if (++depth_ > limits_.max_depth) {
        return Fail(ResourceExhaustedError("watch event nests deeper than " +
                                           std::to_string(limits_.max_depth) + " levels"));
      }
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        pending_.append(chunk.substr(start, i + 1 - start));
        start = i + 1;
        if (pending_.size() > limits_.max_event_bytes) break;
        EPHEMERA_RETURN_IF_ERROR(Complete(events));
        continue;
      }
    }
    if (pending_.size() + (i + 1 - start) > limits_.max_event_bytes) break;
  }
  if (depth_ > 0 && start < chunk.size()) pending_.append(chunk.substr(start));
  if (pending_.size() > limits_.max_event_bytes) {
    return Fail(ResourceExhaustedError("watch event larger than " +
                                       std::to_string(limits_.max_event_bytes) + " bytes"));
  }
  return OkStatus();
}

}  // namespace ephemera::kube
