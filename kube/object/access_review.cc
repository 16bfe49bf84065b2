#include "kube/object/access_review.h"

#include "base/json_access.h"

namespace ephemera::kube {
namespace {

// The rest of the requester's identity (uid, groups, extra) around `spec`, as a whole review.
nlohmann::json WithUserInfo(const AccessReviewRequest& request, nlohmann::json spec) {
  if (!request.uid.empty()) spec["uid"] = request.uid;
  if (!request.groups.empty()) spec["groups"] = request.groups;
  if (!request.extra.empty()) spec["extra"] = request.extra;
  return nlohmann::json{{"apiVersion", "authorization.k8s.io/v1"},
                        {"kind", "SubjectAccessReview"},
                        {"spec", std::move(spec)}};
}

}  // namespace

StatusOr<nlohmann::json> BuildSubjectAccessReview(const AccessReviewRequest& request) {
  if (request.user.empty()) return InvalidArgumentError("access review needs a user");
  if (request.non_resource) {
    const NonResourceAttributes& n = *request.non_resource;
    if (n.path.empty() || n.verb.empty()) {
      return InvalidArgumentError("access review needs a path and a verb");
    }
    nlohmann::json spec = {{"user", request.user},
                           {"nonResourceAttributes", {{"path", n.path}, {"verb", n.verb}}}};
    return WithUserInfo(request, std::move(spec));
  }
  const ResourceAttributes& r = request.resource;
  if (r.verb.empty() || r.resource.empty()) {
    return InvalidArgumentError("access review needs a verb and a resource");
  }
  nlohmann::json attributes = {{"verb", r.verb}, {"group", r.group}, {"resource", r.resource}};
  if (!r.namespace_name.empty()) attributes["namespace"] = r.namespace_name;
  if (!r.version.empty()) attributes["version"] = r.version;
  if (!r.subresource.empty()) attributes["subresource"] = r.subresource;
  if (!r.name.empty()) attributes["name"] = r.name;
  nlohmann::json spec = {{"user", request.user}, {"resourceAttributes", std::move(attributes)}};
  return WithUserInfo(request, std::move(spec));
}

StatusOr<AccessReviewResult> ParseSubjectAccessReview(const nlohmann::json& object) {
  if (!object.is_object()) return InvalidArgumentError("SubjectAccessReview is not an object");
  const auto status = object.find("status");
  if (status == object.end() || !status->is_object()) {
    return InvalidArgumentError("SubjectAccessReview answer has no status");
  }
  AccessReviewResult result;
  const auto boolean = [&](const char* key, bool* out) -> Status {
    const auto it = status->find(key);
    if (it == status->end() || it->is_null()) return OkStatus();
    if (!it->is_boolean()) {
      return InvalidArgumentError(std::string("SubjectAccessReview status.") + key +
                                  " is not a boolean");
    }
    *out = it->get<bool>();
    return OkStatus();
  };
  EPHEMERA_RETURN_IF_ERROR(boolean("allowed", &result.allowed));
  EPHEMERA_RETURN_IF_ERROR(boolean("denied", &result.denied));
  if (result.denied) result.allowed = false;
  result.reason = base::StringField(*status, "reason");
  result.evaluation_error = base::StringField(*status, "evaluationError");
  return result;
}

}  // namespace ephemera::kube
