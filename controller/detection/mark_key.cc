#include "controller/detection/mark_key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

#include "base/base64.h"
#include "kube/object/resource.h"

namespace ephemera::detection {
namespace {

constexpr char kFieldManager[] = "ephemera-controller";
constexpr std::size_t kKeyBytes = 32;

StatusOr<std::string> KeyFrom(const nlohmann::json& secret) {
  const nlohmann::json data = secret.value("data", nlohmann::json::object());
  if (!data.is_object() || !data.contains("key") || !data["key"].is_string()) {
    return DataLossError(std::string("Secret ") + kMarkKeySecretName +
                         " has no data.key; delete it and the controller creates a new one");
  }
  auto key = base::Base64Decode(data["key"].get<std::string>());
  if (!key.ok() || key->size() < kKeyBytes) {
    return DataLossError(std::string("Secret ") + kMarkKeySecretName +
                         " holds no usable key; delete it and the controller creates a new one");
  }
  return key;
}

}  // namespace

StatusOr<std::string> EnsureMarkKey(kube::KubeClient& client, const std::string& namespace_name) {
  auto existing = client.Get(kube::SecretsResource(), {namespace_name, kMarkKeySecretName});
  if (existing.ok()) return KeyFrom(*existing);
  if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status().WithContext("reading the mark key");
  }
  std::array<unsigned char, kKeyBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return InternalError("no randomness for the mark key");
  }
  std::string raw(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  OPENSSL_cleanse(bytes.data(), bytes.size());
  nlohmann::json secret = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata",
       {{"name", kMarkKeySecretName},
        {"namespace", namespace_name},
        {"labels", {{"app.kubernetes.io/managed-by", "ephemera-controller"}}}}},
      {"type", "ephemera.dev/mark-key"},
      {"data", {{"key", base::Base64Encode(raw)}}}};
  auto created = client.Create(kube::SecretsResource(), namespace_name, secret,
                               {std::string(kFieldManager), false});
  std::string& encoded = secret["data"]["key"].get_ref<std::string&>();
  OPENSSL_cleanse(encoded.data(), encoded.size());
  if (created.ok()) return raw;
  OPENSSL_cleanse(raw.data(), raw.size());
  if (created.status().code() != StatusCode::kAlreadyExists) {
    return created.status().WithContext("creating the mark key");
  }
  auto winner = client.Get(kube::SecretsResource(), {namespace_name, kMarkKeySecretName});
  if (!winner.ok()) return winner.status().WithContext("reading the mark key");
  return KeyFrom(*winner);
}

}  // namespace ephemera::detection
