#include "kube/client/kube_client.h"

namespace ephemera::kube {

std::string_view PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJsonPatch:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

StatusOr<nlohmann::json> KubeClient::UpdateStatus(const GroupVersionResource& gvr,
                                                  const ObjectKey& key,
                                                  const nlohmann::json& object,
                                                  const WriteOptions& options) {
  return Update(gvr.WithSubresource("status"), key, object, options);
}

StatusOr<nlohmann::json> KubeClient::PatchStatus(const GroupVersionResource& gvr,
                                                 const ObjectKey& key, PatchType type,
                                                 const nlohmann::json& patch,
                                                 const PatchOptions& options) {
  return Patch(gvr.WithSubresource("status"), key, type, patch, options);
}

StatusOr<nlohmann::json> KubeClient::PatchEphemeralContainers(const ObjectKey& pod,
                                                              const nlohmann::json& patch,
                                                              const PatchOptions& options) {
  return Patch(PodsResource().WithSubresource("ephemeralcontainers"), pod,
               PatchType::kStrategicMerge, patch, options);
}

StatusOr<nlohmann::json> KubeClient::CreateEvent(const EventRecord& record,
                                                 std::chrono::system_clock::time_point time,
                                                 const WriteOptions& options) {
  auto event = BuildEventObject(record, time);
  if (!event.ok()) return event.status();
  const std::string ns = (*event)["metadata"]["namespace"].get<std::string>();
  return Create(EventsResource(), ns, *event, options);
}

StatusOr<LeaseRecord> KubeClient::GetLease(const ObjectKey& key) {
  auto object = Get(LeasesResource(), key);
  if (!object.ok()) return object.status();
  return LeaseFromJson(*object);
}

StatusOr<LeaseRecord> KubeClient::CreateLease(const ObjectKey& key, const LeaseRecord& lease) {
  LeaseRecord fresh = lease;
  fresh.resource_version.clear();
  auto object = Create(LeasesResource(), key.namespace_name, LeaseToJson(key, fresh));
  if (!object.ok()) return object.status();
  return LeaseFromJson(*object);
}

StatusOr<LeaseRecord> KubeClient::UpdateLease(const ObjectKey& key, const LeaseRecord& lease) {
  if (lease.resource_version.empty()) {
    return InvalidArgumentError("UpdateLease needs the resourceVersion from a read");
  }
  auto object = Update(LeasesResource(), key, LeaseToJson(key, lease));
  if (!object.ok()) return object.status();
  return LeaseFromJson(*object);
}

StatusOr<AccessReviewResult> KubeClient::CreateSubjectAccessReview(
    const AccessReviewRequest& request) {
  auto review = BuildSubjectAccessReview(request);
  if (!review.ok()) return review.status();
  auto answer = Create(SubjectAccessReviewsResource(), "", *review);
  if (!answer.ok()) return answer.status();
  return ParseSubjectAccessReview(*answer);
}

}  // namespace ephemera::kube
