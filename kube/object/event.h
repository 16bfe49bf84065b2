// events.k8s.io/v1 Events: what the controller reports about an object, built as JSON.
#ifndef EPHEMERA_KUBE_OBJECT_EVENT_H_
#define EPHEMERA_KUBE_OBJECT_EVENT_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"

namespace ephemera::kube {

struct ObjectReference {
  std::string api_version{};  // "ephemera.dev/v1alpha1", "v1"
  std::string kind{};
  std::string namespace_name{};
  std::string name{};
  std::string uid{};
};

struct EventRecord {
  ObjectReference regarding{};
  std::optional<ObjectReference> related{};
  std::string type = "Normal";         // Normal | Warning
  std::string reason{};                // CamelCase, e.g. "Injected"; at most 128 bytes
  std::string action{};                // e.g. "InjectEphemeralContainer"; at most 128 bytes
  std::string note{};                  // human text; truncated to 1 KiB (never put secrets here)
  std::string reporting_controller{};  // "ephemera.dev/ephemera-controller"
  std::string reporting_instance{};    // pod name of this replica; at most 128 bytes
};

// The Event object to POST in the regarding object's namespace ("default" when cluster-scoped),
// named by generateName "<regarding name>-" (a trailing dash is the only non-name character the API
// accepts in a prefix). kInvalidArgument when a required field is empty or too long, or the type is
// not Normal/Warning.
StatusOr<nlohmann::json> BuildEventObject(const EventRecord& record,
                                          std::chrono::system_clock::time_point event_time);

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_OBJECT_EVENT_H_
