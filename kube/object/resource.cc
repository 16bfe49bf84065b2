#include "kube/object/resource.h"

#include "kube/object/url.h"

namespace ephemera::kube {
namespace {

bool IsPathSegment(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos;
}

}  // namespace

GroupVersionResource GroupVersionResource::WithSubresource(std::string_view sub) const {
  GroupVersionResource copy = *this;
  copy.subresource = std::string(sub);
  return copy;
}

std::string GroupVersionResource::ToString() const {
  std::string out = resource;
  if (!group.empty()) out += "." + group;
  if (!subresource.empty()) out += "/" + subresource;
  return out;
}

std::string ObjectKey::ToString() const {
  return namespace_name.empty() ? name : namespace_name + "/" + name;
}

GroupVersionResource PodsResource() { return {"", "v1", "pods", true, ""}; }
GroupVersionResource SecretsResource() { return {"", "v1", "secrets", true, ""}; }
GroupVersionResource EventsResource() { return {"events.k8s.io", "v1", "events", true, ""}; }
GroupVersionResource LeasesResource() { return {"coordination.k8s.io", "v1", "leases", true, ""}; }
GroupVersionResource SubjectAccessReviewsResource() {
  return {"authorization.k8s.io", "v1", "subjectaccessreviews", false, ""};
}
GroupVersionResource DebugSessionsResource() {
  return {"ephemera.dev", "v1alpha1", "debugsessions", true, ""};
}
GroupVersionResource DebugSnapshotsResource() {
  return {"ephemera.dev", "v1alpha1", "debugsnapshots", true, ""};
}
GroupVersionResource MutatingWebhookConfigurationsResource() {
  return {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", false, ""};
}
GroupVersionResource ValidatingWebhookConfigurationsResource() {
  return {"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", false, ""};
}

StatusOr<std::string> CollectionPath(const GroupVersionResource& gvr,
                                     std::string_view namespace_name) {
  if (!IsPathSegment(gvr.version) || !IsPathSegment(gvr.resource) ||
      (!gvr.group.empty() && !IsPathSegment(gvr.group))) {
    return InvalidArgumentError("malformed resource \"" + gvr.ToString() + "\"");
  }
  std::string path = gvr.group.empty()
                         ? "/api/" + PercentEncode(gvr.version)
                         : "/apis/" + PercentEncode(gvr.group) + "/" + PercentEncode(gvr.version);
  if (gvr.namespaced && !namespace_name.empty()) {
    if (!IsPathSegment(namespace_name)) {
      return InvalidArgumentError("malformed namespace \"" + std::string(namespace_name) + "\"");
    }
    path += "/namespaces/" + PercentEncode(namespace_name);
  }
  path += "/" + PercentEncode(gvr.resource);
  return path;
}

StatusOr<std::string> ObjectPath(const GroupVersionResource& gvr, const ObjectKey& key) {
  if (!IsPathSegment(key.name)) {
    return InvalidArgumentError("malformed " + gvr.resource + " name \"" + key.name + "\"");
  }
  if (gvr.namespaced && key.namespace_name.empty()) {
    return InvalidArgumentError(gvr.resource + " \"" + key.name + "\" needs a namespace");
  }
  auto path = CollectionPath(gvr, gvr.namespaced ? key.namespace_name : "");
  if (!path.ok()) return path.status();
  std::string out = *path + "/" + PercentEncode(key.name);
  if (!gvr.subresource.empty()) {
    if (!IsPathSegment(gvr.subresource)) {
      return InvalidArgumentError("malformed subresource \"" + gvr.subresource + "\"");
    }
    out += "/" + PercentEncode(gvr.subresource);
  }
  return out;
}

}  // namespace ephemera::kube
