#include "audit/anchor.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <utility>

#include "base/hash.h"
#include "base/json_access.h"

namespace ephemera::audit {
namespace {

constexpr std::string_view kNamePrefix = "ephemera-audit-";
constexpr std::size_t kNameHexDigits = 20;  // 80 bits: no collision among any real set of chains

}  // namespace

std::string AnchorConfigMapName(std::string_view chain) {
  return std::string(kNamePrefix) + base::Sha256Hex(chain).substr(0, kNameHexDigits);
}

nlohmann::json BuildAnchorConfigMap(const ChainAnchor& anchor, std::string_view namespace_name,
                                    std::string_view session_uid) {
  nlohmann::json labels = {{std::string(kAnchorLabel), "true"},
                           {"app.kubernetes.io/managed-by", "ephemera-controller"}};
  if (!session_uid.empty()) labels["ephemera.dev/audit-session-uid"] = std::string(session_uid);
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", AnchorConfigMapName(anchor.chain)},
            {"namespace", std::string(namespace_name)},
            {"labels", std::move(labels)}}},
          {"data",
           {{"chain", anchor.chain},
            {"records", std::to_string(anchor.head.records)},
            {"head", anchor.head.hash},
            {"updated", anchor.updated},
            {"session", anchor.session}}}};
}

bool IsAnchorConfigMap(const nlohmann::json& object) {
  if (!object.is_object()) return false;
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return false;
  auto labels = metadata->find("labels");
  if (labels == metadata->end() || !labels->is_object()) return false;
  auto label = labels->find(std::string(kAnchorLabel));
  return label != labels->end() && label->is_string() && label->get<std::string>() == "true";
}

StatusOr<ChainAnchor> ParseAnchorConfigMap(const nlohmann::json& config_map) {
  std::string name;
  if (config_map.is_object() && config_map.contains("metadata") &&
      config_map["metadata"].is_object()) {
    name = config_map["metadata"].value("name", "");
  }
  const std::string what = "anchor ConfigMap \"" + name + "\"";
  auto data = config_map.is_object() ? config_map.find("data") : config_map.end();
  if (!config_map.is_object() || data == config_map.end() || !data->is_object()) {
    return InvalidArgumentError(what + " has no data");
  }
  ChainAnchor anchor;
  anchor.chain = base::StringField(*data, "chain");
  anchor.session = base::StringField(*data, "session");
  anchor.updated = base::StringField(*data, "updated");
  anchor.head.hash = base::StringField(*data, "head");
  const std::string records = base::StringField(*data, "records");
  if (anchor.chain.empty()) return InvalidArgumentError(what + ": data.chain is missing");
  if (name != AnchorConfigMapName(anchor.chain)) {
    return InvalidArgumentError(what + " holds chain " + anchor.chain + ", whose anchor is named " +
                                AnchorConfigMapName(anchor.chain));
  }
  const char* end = records.data() + records.size();
  auto [ptr, ec] = std::from_chars(records.data(), end, anchor.head.records);
  if (records.empty() || ec != std::errc() || ptr != end) {
    return InvalidArgumentError(what + ": data.records must be a decimal count, got \"" + records +
                                "\"");
  }
  if (!IsAuditHash(anchor.head.hash)) {
    return InvalidArgumentError(what + ": data.head must be sha256: and 64 lowercase hex digits");
  }
  return anchor;
}

StatusOr<std::map<std::string, ChainHead>> AnchorsFromJson(const nlohmann::json& document) {
  std::vector<const nlohmann::json*> objects;
  if (document.is_object() && document.contains("items") && document["items"].is_array()) {
    for (const nlohmann::json& item : document["items"]) objects.push_back(&item);
  } else if (document.is_object() && document.value("kind", "") == "ConfigMap") {
    objects.push_back(&document);
  } else {
    return InvalidArgumentError(
        "the anchors file must hold a ConfigMap or a list of them (kubectl get configmaps -l " +
        std::string(kAnchorSelector) + " -o json)");
  }
  std::map<std::string, ChainHead> anchors;
  for (const nlohmann::json* object : objects) {
    if (!IsAnchorConfigMap(*object)) continue;
    StatusOr<ChainAnchor> anchor = ParseAnchorConfigMap(*object);
    if (!anchor.ok()) return anchor.status();
    if (!anchors.emplace(anchor->chain, anchor->head).second) {
      return InvalidArgumentError("two anchors for chain " + anchor->chain);
    }
  }
  return anchors;
}

}  // namespace ephemera::audit
