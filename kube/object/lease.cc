#include "kube/object/lease.h"

#include "base/rfc3339.h"

namespace ephemera::kube {

nlohmann::json LeaseToJson(const ObjectKey& key, const LeaseRecord& lease) {
  nlohmann::json metadata = {{"name", key.name}, {"namespace", key.namespace_name}};
  if (!lease.resource_version.empty()) metadata["resourceVersion"] = lease.resource_version;
  nlohmann::json spec = {{"holderIdentity", lease.holder_identity},
                         {"leaseDurationSeconds", lease.lease_duration.count()},
                         {"leaseTransitions", lease.lease_transitions}};
  if (lease.acquire_time) spec["acquireTime"] = base::FormatRfc3339Micro(*lease.acquire_time);
  if (lease.renew_time) spec["renewTime"] = base::FormatRfc3339Micro(*lease.renew_time);
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", std::move(metadata)},
          {"spec", std::move(spec)}};
}

StatusOr<LeaseRecord> LeaseFromJson(const nlohmann::json& object) {
  if (!object.is_object()) return InvalidArgumentError("Lease is not a JSON object");
  LeaseRecord lease;
  if (const auto md = object.find("metadata"); md != object.end() && md->is_object()) {
    lease.resource_version = md->value("resourceVersion", "");
  }
  const auto spec = object.find("spec");
  if (spec == object.end() || spec->is_null()) return lease;
  if (!spec->is_object()) return InvalidArgumentError("Lease spec is not an object");
  const auto field = [&](const char* key) -> const nlohmann::json* {
    const auto it = spec->find(key);
    return it == spec->end() || it->is_null() ? nullptr : &*it;
  };
  if (const auto* v = field("holderIdentity")) {
    if (!v->is_string()) return InvalidArgumentError("Lease spec.holderIdentity is not a string");
    lease.holder_identity = v->get<std::string>();
  }
  if (const auto* v = field("leaseDurationSeconds")) {
    if (!v->is_number_integer()) {
      return InvalidArgumentError("Lease spec.leaseDurationSeconds is not an integer");
    }
    lease.lease_duration = std::chrono::seconds(v->get<std::int64_t>());
  }
  if (const auto* v = field("leaseTransitions")) {
    if (!v->is_number_integer()) {
      return InvalidArgumentError("Lease spec.leaseTransitions is not an integer");
    }
    lease.lease_transitions = v->get<std::int64_t>();
  }
  for (auto [key, target] :
       {std::pair{"acquireTime", &lease.acquire_time}, std::pair{"renewTime", &lease.renew_time}}) {
    if (const auto* v = field(key)) {
      if (!v->is_string()) {
        return InvalidArgumentError(std::string("Lease spec.") + key + " is not a string");
      }
      auto t = base::ParseRfc3339(v->get<std::string>());
      if (!t.ok()) return t.status().WithContext(std::string("Lease spec.") + key);
      *target = *t;
    }
  }
  return lease;
}

}  // namespace ephemera::kube
