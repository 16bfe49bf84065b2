#include "controller/detection/container_mark.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "base/hash.h"

namespace ephemera::detection {

std::string ContainerMark(std::string_view key, std::string_view pod_uid,
                          std::string_view container_name) {
  std::string message;
  message.reserve(pod_uid.size() + 1 + container_name.size());
  message.append(pod_uid).append("/").append(container_name);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // HMAC over in-memory buffers cannot fail with a valid digest; an empty result would never
  // match a mark, which fails closed.
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(),
           &length) == nullptr) {
    return "";
  }
  return base::HexEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

void AddMark(nlohmann::json& container, std::string_view key, std::string_view pod_uid) {
  const std::string name = container.value("name", "");
  nlohmann::json& env = container["env"];
  if (!env.is_array()) env = nlohmann::json::array();
  for (auto it = env.begin(); it != env.end();) {
    it = it->value("name", "") == kMarkEnvName ? env.erase(it) : it + 1;
  }
  env.push_back({{"name", kMarkEnvName}, {"value", ContainerMark(key, pod_uid, name)}});
}

bool IsValidMark(std::string_view mark, std::string_view key, std::string_view pod_uid,
                 std::string_view container_name) {
  if (key.empty() || pod_uid.empty()) return false;
  const std::string expected = ContainerMark(key, pod_uid, container_name);
  return !expected.empty() && mark.size() == expected.size() &&
         CRYPTO_memcmp(mark.data(), expected.data(), expected.size()) == 0;
}

}  // namespace ephemera::detection
