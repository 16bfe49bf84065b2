#include "controller/detection/pod_summary.h"

#include <map>
#include <set>

#include "base/json_access.h"
#include "controller/detection/container_mark.h"

namespace ephemera::detection {
namespace {

using nlohmann::json;

const json* ArrayAt(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? &*it : nullptr;
}

std::string MarkOf(const json& container) {
  const json* env = ArrayAt(container, "env");
  if (env == nullptr) return "";
  for (const json& variable : *env) {
    if (base::StringField(variable, "name") == kMarkEnvName) {
      return base::StringField(variable, "value");
    }
  }
  return "";
}

}  // namespace

json ReducePod(json pod) {
  if (pod.is_object() && pod.contains("ephemeral")) return pod;  // already reduced
  const json metadata = pod.is_object() ? pod.value("metadata", json::object()) : json::object();
  json reduced = {{"metadata",
                   {{"name", base::StringField(metadata, "name")},
                    {"namespace", base::StringField(metadata, "namespace")},
                    {"uid", base::StringField(metadata, "uid")}}},
                  {"ephemeral", json::array()}};
  const json spec = pod.is_object() ? pod.value("spec", json::object()) : json::object();
  const json* containers = ArrayAt(spec, "ephemeralContainers");
  if (containers == nullptr) return reduced;
  // name → "waiting", "running" or "terminated" (the kubelet's view; absent until it reports).
  std::map<std::string, std::string> states;
  const json status = pod.value("status", json::object());
  if (const json* statuses = ArrayAt(status, "ephemeralContainerStatuses")) {
    for (const json& s : *statuses) {
      const json state = s.is_object() ? s.value("state", json::object()) : json::object();
      if (!state.is_object()) continue;
      for (const char* kind : {"waiting", "running", "terminated"}) {
        if (state.contains(kind)) states[base::StringField(s, "name")] = kind;
      }
    }
  }
  for (const json& container : *containers) {
    const std::string name = base::StringField(container, "name");
    const auto state = states.find(name);
    reduced["ephemeral"].push_back(
        {{"name", name},
         {"image", base::StringField(container, "image")},
         {"mark", MarkOf(container)},
         {"state", state == states.end() ? "" : state->second},
         {"running", state != states.end() && state->second == "running"}});
  }
  return reduced;
}

std::vector<std::string> EphemeralStates(const json& reduced) {
  std::vector<std::string> states;
  if (const json* containers = ArrayAt(reduced, "ephemeral")) {
    for (const json& c : *containers) {
      states.push_back(base::StringField(c, "name") + "=" + base::StringField(c, "state"));
    }
  }
  return states;
}

std::vector<UnsanctionedContainer> FindUnsanctioned(const json* before, const json& now,
                                                    std::string_view mark_key) {
  std::set<std::string> known;
  if (before != nullptr) {
    if (const json* old_containers = ArrayAt(*before, "ephemeral")) {
      for (const json& c : *old_containers) known.insert(base::StringField(c, "name"));
    }
  }
  std::vector<UnsanctionedContainer> found;
  const json* containers = ArrayAt(now, "ephemeral");
  if (containers == nullptr) return found;
  const json metadata = now.value("metadata", json::object());
  const std::string uid = base::StringField(metadata, "uid");
  for (const json& c : *containers) {
    const std::string name = base::StringField(c, "name");
    if (known.contains(name)) continue;
    if (IsValidMark(base::StringField(c, "mark"), mark_key, uid, name)) continue;
    found.push_back(
        {base::StringField(metadata, "namespace"), base::StringField(metadata, "name"), uid, name,
         base::StringField(c, "image"),
         c.contains("running") && c["running"].is_boolean() && c["running"].get<bool>()});
  }
  return found;
}

}  // namespace ephemera::detection
