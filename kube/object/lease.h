// coordination.k8s.io/v1 Lease records for leader election, and their JSON form.
#ifndef EPHEMERA_KUBE_OBJECT_LEASE_H_
#define EPHEMERA_KUBE_OBJECT_LEASE_H_

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"
#include "kube/object/resource.h"

namespace ephemera::kube {

struct LeaseRecord {
  std::string holder_identity{};  // empty: released
  std::chrono::seconds lease_duration{0};
  std::optional<std::chrono::system_clock::time_point> acquire_time{};
  std::optional<std::chrono::system_clock::time_point> renew_time{};
  std::int64_t lease_transitions = 0;
  // The server's metadata.resourceVersion; UpdateLease sends it back so a concurrent writer makes
  // the update fail with kAborted (409) instead of being overwritten.
  std::string resource_version{};
};

// A full Lease object for `key` (times as MicroTime, UTC).
nlohmann::json LeaseToJson(const ObjectKey& key, const LeaseRecord& lease);
// Reads spec and metadata.resourceVersion; kInvalidArgument for malformed fields.
StatusOr<LeaseRecord> LeaseFromJson(const nlohmann::json& object);

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_OBJECT_LEASE_H_
