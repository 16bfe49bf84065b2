#include "kube/object/event.h"

#include "base/rfc3339.h"

namespace ephemera::kube {
namespace {

constexpr std::size_t kMaxShortField = 128;
constexpr std::size_t kMaxNote = 1024;

nlohmann::json ReferenceToJson(const ObjectReference& ref) {
  nlohmann::json out = {{"apiVersion", ref.api_version}, {"kind", ref.kind}, {"name", ref.name}};
  if (!ref.namespace_name.empty()) out["namespace"] = ref.namespace_name;
  if (!ref.uid.empty()) out["uid"] = ref.uid;
  return out;
}

// Cuts at most `limit` bytes without splitting a UTF-8 sequence.
std::string TruncateUtf8(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

StatusOr<nlohmann::json> BuildEventObject(const EventRecord& record,
                                          std::chrono::system_clock::time_point event_time) {
  const auto require = [](const std::string& value, const char* field) -> Status {
    if (value.empty()) return InvalidArgumentError(std::string("event ") + field + " is empty");
    if (value.size() > kMaxShortField) {
      return InvalidArgumentError(std::string("event ") + field + " is longer than 128 bytes");
    }
    return OkStatus();
  };
  EPHEMERA_RETURN_IF_ERROR(require(record.reason, "reason"));
  EPHEMERA_RETURN_IF_ERROR(require(record.action, "action"));
  EPHEMERA_RETURN_IF_ERROR(require(record.reporting_instance, "reportingInstance"));
  if (record.reporting_controller.empty()) {
    return InvalidArgumentError("event reportingController is empty");
  }
  if (record.type != "Normal" && record.type != "Warning") {
    return InvalidArgumentError("event type must be Normal or Warning");
  }
  if (record.regarding.name.empty() || record.regarding.kind.empty()) {
    return InvalidArgumentError("event regarding needs a kind and a name");
  }
  const std::string ns =
      record.regarding.namespace_name.empty() ? "default" : record.regarding.namespace_name;
  nlohmann::json event = {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", {{"generateName", record.regarding.name + "-"}, {"namespace", ns}}},
      {"eventTime", base::FormatRfc3339Micro(event_time)},
      {"reportingController", record.reporting_controller},
      {"reportingInstance", record.reporting_instance},
      {"action", record.action},
      {"reason", record.reason},
      {"type", record.type},
      {"regarding", ReferenceToJson(record.regarding)},
  };
  if (!record.note.empty()) event["note"] = TruncateUtf8(record.note, kMaxNote);
  if (record.related) event["related"] = ReferenceToJson(*record.related);
  return event;
}

}  // namespace ephemera::kube
