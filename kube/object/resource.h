// Naming API objects: which resource (GroupVersionResource) and which object (ObjectKey), and the
// REST paths built from them.
#ifndef EPHEMERA_KUBE_OBJECT_RESOURCE_H_
#define EPHEMERA_KUBE_OBJECT_RESOURCE_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::kube {

// A REST resource: `group` empty for the core group ("" + "v1" → /api/v1, otherwise
// /apis/<group>/<version>). `resource` is the plural lower-case name ("pods", "debugsessions").
// `subresource` ("status", "ephemeralcontainers", "log") addresses a part of one object.
struct GroupVersionResource {
  std::string group{};
  std::string version{};
  std::string resource{};
  bool namespaced = true;
  std::string subresource{};

  // The same resource addressing `sub` of an object.
  GroupVersionResource WithSubresource(std::string_view sub) const;
  // "pods", "debugsessions.ephemera.dev", "pods/log": for messages.
  std::string ToString() const;
  friend bool operator==(const GroupVersionResource&, const GroupVersionResource&) = default;
};

// One object: `namespace_name` is empty for cluster-scoped objects.
struct ObjectKey {
  std::string namespace_name{};
  std::string name{};

  // "ns/name" or "name": for messages and logs only, never parsed back.
  std::string ToString() const;
  friend bool operator==(const ObjectKey&, const ObjectKey&) = default;
  // clang-tidy 14 misreads the defaulted three-way comparison as a literal 0 compared to a pointer.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  friend auto operator<=>(const ObjectKey&, const ObjectKey&) = default;
};

// Well-known resources used by the controller.
GroupVersionResource PodsResource();
GroupVersionResource SecretsResource();
GroupVersionResource EventsResource();  // events.k8s.io/v1
GroupVersionResource LeasesResource();  // coordination.k8s.io/v1
GroupVersionResource SubjectAccessReviewsResource();
GroupVersionResource DebugSessionsResource();   // ephemera.dev/v1alpha1
GroupVersionResource DebugSnapshotsResource();  // ephemera.dev/v1alpha1
// admissionregistration.k8s.io/v1, cluster-scoped.
GroupVersionResource MutatingWebhookConfigurationsResource();
GroupVersionResource ValidatingWebhookConfigurationsResource();

// The collection path: /api/v1/namespaces/ns/pods, /apis/g/v/leases, or, for a namespaced
// resource with an empty namespace, the all-namespaces path /api/v1/pods. The subresource is not
// part of a collection path. InvalidArgument for a malformed namespace or resource.
StatusOr<std::string> CollectionPath(const GroupVersionResource& gvr,
                                     std::string_view namespace_name);
// The object path, with the subresource if set: /api/v1/namespaces/ns/pods/name/log.
// InvalidArgument when the name is empty or not a path segment ("", ".", "..", or containing
// '/'), or when a namespaced resource has no namespace.
StatusOr<std::string> ObjectPath(const GroupVersionResource& gvr, const ObjectKey& key);

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_OBJECT_RESOURCE_H_
