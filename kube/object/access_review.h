// authorization.k8s.io/v1 SubjectAccessReview: asking the API server whether a user may do
// something, used to check the requester of a DebugSession.
#ifndef EPHEMERA_KUBE_OBJECT_ACCESS_REVIEW_H_
#define EPHEMERA_KUBE_OBJECT_ACCESS_REVIEW_H_

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ephemera::kube {

struct ResourceAttributes {
  std::string namespace_name{};
  std::string verb{};  // get, patch, use, ...
  std::string group{};
  std::string version{};
  std::string resource{};
  std::string subresource{};
  std::string name{};
};

// A request path outside the resource API, e.g. {"/metrics", "get"} (RBAC nonResourceURLs).
struct NonResourceAttributes {
  std::string path{};
  std::string verb{};
};

struct AccessReviewRequest {
  std::string user{};
  std::string uid{};
  std::vector<std::string> groups{};
  std::map<std::string, std::vector<std::string>> extra{};
  ResourceAttributes resource{};
  // Set = ask about this non-resource path instead of `resource` (which is then ignored).
  std::optional<NonResourceAttributes> non_resource{};
};

struct AccessReviewResult {
  bool allowed = false;
  bool denied = false;  // an authorizer explicitly denied (allowed is then false)
  std::string reason{};
  std::string evaluation_error{};
};

// The SubjectAccessReview to POST. kInvalidArgument when user, verb or resource (path for a
// non-resource request) is empty.
StatusOr<nlohmann::json> BuildSubjectAccessReview(const AccessReviewRequest& request);
// Reads status.{allowed,denied,reason,evaluationError} from the server's answer.
StatusOr<AccessReviewResult> ParseSubjectAccessReview(const nlohmann::json& object);

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_OBJECT_ACCESS_REVIEW_H_
