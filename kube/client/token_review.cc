#include "kube/client/token_review.h"

#include <utility>

namespace ephemera::kube {
namespace {

StatusOr<std::string> OptionalString(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return InvalidArgumentError(std::string("TokenReview field ") + key + " is not a string");
  }
  return it->get<std::string>();
}

StatusOr<std::vector<std::string>> StringList(const nlohmann::json& value, std::string_view what) {
  std::vector<std::string> out;
  if (value.is_null()) return out;
  if (!value.is_array()) {
    return InvalidArgumentError("TokenReview " + std::string(what) + " is not a list");
  }
  for (const nlohmann::json& item : value) {
    if (!item.is_string()) {
      return InvalidArgumentError("TokenReview " + std::string(what) + " holds a non-string");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

StatusOr<UserInfo> ParseUserInfo(const nlohmann::json& user) {
  if (!user.is_object()) return InvalidArgumentError("TokenReview status.user is not an object");
  UserInfo info;
  auto username = OptionalString(user, "username");
  if (!username.ok()) return username.status();
  info.username = std::move(*username);
  auto uid = OptionalString(user, "uid");
  if (!uid.ok()) return uid.status();
  info.uid = std::move(*uid);
  if (const auto groups = user.find("groups"); groups != user.end()) {
    auto list = StringList(*groups, "status.user.groups");
    if (!list.ok()) return list.status();
    info.groups = std::move(*list);
  }
  if (const auto extra = user.find("extra"); extra != user.end() && !extra->is_null()) {
    if (!extra->is_object()) {
      return InvalidArgumentError("TokenReview status.user.extra is not an object");
    }
    for (const auto& [key, values] : extra->items()) {
      auto list = StringList(values, "status.user.extra." + key);
      if (!list.ok()) return list.status();
      info.extra[key] = std::move(*list);
    }
  }
  return info;
}

}  // namespace

GroupVersionResource TokenReviewsResource() {
  return {"authentication.k8s.io", "v1", "tokenreviews", false, ""};
}

nlohmann::json BuildTokenReview(std::string_view token) {
  return nlohmann::json{{"apiVersion", "authentication.k8s.io/v1"},
                        {"kind", "TokenReview"},
                        {"spec", {{"token", std::string(token)}}}};
}

StatusOr<TokenReviewResult> ParseTokenReview(const nlohmann::json& object) {
  if (!object.is_object()) return InvalidArgumentError("TokenReview is not an object");
  const auto status = object.find("status");
  if (status == object.end() || !status->is_object()) {
    return InvalidArgumentError("TokenReview answer has no status");
  }
  TokenReviewResult result;
  if (const auto it = status->find("authenticated"); it != status->end() && !it->is_null()) {
    if (!it->is_boolean()) {
      return InvalidArgumentError("TokenReview status.authenticated is not a boolean");
    }
    result.authenticated = it->get<bool>();
  }
  auto error = OptionalString(*status, "error");
  if (!error.ok()) return error.status();
  result.error = std::move(*error);
  if (!result.authenticated) return result;
  const auto user = status->find("user");
  if (user == status->end()) {
    return InvalidArgumentError("TokenReview says authenticated but names no user");
  }
  auto info = ParseUserInfo(*user);
  if (!info.ok()) return info.status();
  if (info->username.empty()) {
    return InvalidArgumentError("TokenReview says authenticated but the username is empty");
  }
  result.user = std::move(*info);
  return result;
}

StatusOr<TokenReviewResult> CreateTokenReview(KubeClient& client, std::string_view token) {
  auto answer = client.Create(TokenReviewsResource(), "", BuildTokenReview(token));
  if (!answer.ok()) return answer.status();
  return ParseTokenReview(*answer);
}

}  // namespace ephemera::kube
