// authentication.k8s.io/v1 TokenReview: asking the API server who a bearer token belongs to, used
// to authenticate scrapes of the controller's /metrics.
#ifndef EPHEMERA_KUBE_CLIENT_TOKEN_REVIEW_H_
#define EPHEMERA_KUBE_CLIENT_TOKEN_REVIEW_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "kube/client/kube_client.h"
#include "kube/object/resource.h"

namespace ephemera::kube {

// An authenticated identity, as TokenReview status.user reports it.
struct UserInfo {
  std::string username{};
  std::string uid{};
  std::vector<std::string> groups{};
  std::map<std::string, std::vector<std::string>> extra{};
};

struct TokenReviewResult {
  bool authenticated = false;
  UserInfo user{};      // meaningful only when authenticated
  std::string error{};  // status.error, why the token was not accepted (may be empty)
};

GroupVersionResource TokenReviewsResource();  // authentication.k8s.io/v1, cluster-scoped

// The TokenReview to POST for `token` (the API server's default audiences).
nlohmann::json BuildTokenReview(std::string_view token);
// Reads status.{authenticated,user,error}. kInvalidArgument for a malformed answer, or for one that
// says authenticated without a username.
StatusOr<TokenReviewResult> ParseTokenReview(const nlohmann::json& object);
// Creates the review and parses the answer; errors are the client's (kUnavailable, ...).
StatusOr<TokenReviewResult> CreateTokenReview(KubeClient& client, std::string_view token);

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_CLIENT_TOKEN_REVIEW_H_
