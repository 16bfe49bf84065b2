#include "controller/session/pod_view.h"

#include "base/json_access.h"

namespace ephemera::session {
namespace {

using nlohmann::json;

using base::ArrayField;
using base::IntField;
using base::ObjectFieldOrEmpty;
using base::StringField;

EphemeralState ParseState(const json& container_status) {
  EphemeralState s;
  const json& state = ObjectFieldOrEmpty(container_status, "state");
  if (state.contains("terminated")) {
    const json& t = ObjectFieldOrEmpty(state, "terminated");
    s.kind = EphemeralState::Kind::kTerminated;
    s.reason = StringField(t, "reason");
    s.message = StringField(t, "message");
    s.exit_code = static_cast<int>(IntField(t, "exitCode").value_or(0));
  } else if (state.contains("running")) {
    s.kind = EphemeralState::Kind::kRunning;
  } else if (state.contains("waiting")) {
    const json& w = ObjectFieldOrEmpty(state, "waiting");
    s.kind = EphemeralState::Kind::kWaiting;
    s.reason = StringField(w, "reason");
    s.message = StringField(w, "message");
  }
  return s;
}

std::optional<TerminationView> ParseTermination(const json& state) {
  const json* terminated = base::FindField(state, "terminated");
  if (terminated == nullptr || !terminated->is_object()) return std::nullopt;
  TerminationView t;
  t.exit_code = static_cast<int>(IntField(*terminated, "exitCode").value_or(0));
  if (auto signal = IntField(*terminated, "signal")) t.signal = static_cast<int>(*signal);
  t.reason = StringField(*terminated, "reason");
  t.started_at = StringField(*terminated, "startedAt");
  t.finished_at = StringField(*terminated, "finishedAt");
  return t;
}

}  // namespace

const ContainerView* PodView::FindContainer(const std::string& container_name) const {
  for (const auto& c : containers) {
    if (c.name == container_name) return &c;
  }
  return nullptr;
}

std::vector<std::string> PodView::HostSettings(const std::string& container_name) const {
  std::vector<std::string> settings;
  if (host_pid) settings.push_back("hostPID");
  if (host_ipc) settings.push_back("hostIPC");
  if (host_network) settings.push_back("hostNetwork");
  const ContainerView* container = FindContainer(container_name);
  if (container != nullptr && container->privileged) settings.push_back("privileged");
  return settings;
}

const EphemeralContainerView* PodView::FindEphemeral(const std::string& container_name) const {
  for (const auto& c : ephemeral_containers) {
    if (c.name == container_name) return &c;
  }
  return nullptr;
}

StatusOr<PodView> ParsePodView(const nlohmann::json& pod) {
  try {
    PodView view;
    const json& metadata = ObjectFieldOrEmpty(pod, "metadata");
    const json& spec = ObjectFieldOrEmpty(pod, "spec");
    const json& status = ObjectFieldOrEmpty(pod, "status");
    view.name = StringField(metadata, "name");
    view.namespace_name = StringField(metadata, "namespace");
    view.uid = StringField(metadata, "uid");
    view.deleting =
        metadata.contains("deletionTimestamp") && !metadata["deletionTimestamp"].is_null();
    view.phase = StringField(status, "phase");
    for (const auto& owner : ArrayField(metadata, "ownerReferences")) {
      if (owner.is_object() && owner.value("controller", false) == true) view.owned = true;
    }
    if (view.name.empty()) return InvalidArgumentError("pod object has no metadata.name");

    auto flag = [](const json& o, const char* key) {
      auto it = o.find(key);
      return it != o.end() && it->is_boolean() && it->get<bool>();
    };
    view.host_pid = flag(spec, "hostPID");
    view.host_ipc = flag(spec, "hostIPC");
    view.host_network = flag(spec, "hostNetwork");
    view.share_process_namespace = flag(spec, "shareProcessNamespace");
    const json& pod_security = ObjectFieldOrEmpty(spec, "securityContext");
    for (const auto& c : ArrayField(spec, "containers")) {
      ContainerView cv;
      cv.name = StringField(c, "name");
      const json& sc = ObjectFieldOrEmpty(c, "securityContext");
      cv.privileged = flag(sc, "privileged");
      cv.run_as_user = IntField(sc, "runAsUser");
      if (!cv.run_as_user) cv.run_as_user = IntField(pod_security, "runAsUser");
      cv.run_as_group = IntField(sc, "runAsGroup");
      if (!cv.run_as_group) cv.run_as_group = IntField(pod_security, "runAsGroup");
      for (const auto& e : ArrayField(c, "env")) {
        if (!e.is_object() ||
            ObjectFieldOrEmpty(ObjectFieldOrEmpty(e, "valueFrom"), "secretKeyRef").empty()) {
          continue;
        }
        cv.secret_env.push_back(StringField(e, "name"));
      }
      for (const auto& e : ArrayField(c, "envFrom")) {
        if (e.is_object() && e.contains("secretRef")) cv.env_from_secret = true;
      }
      view.containers.push_back(std::move(cv));
    }
    for (const char* list : {"containers", "initContainers"}) {
      for (const auto& c : ArrayField(spec, list)) {
        for (const auto& e : ArrayField(c, "env")) {
          if (!e.is_object() ||
              ObjectFieldOrEmpty(ObjectFieldOrEmpty(e, "valueFrom"), "secretKeyRef").empty()) {
            continue;
          }
          view.secret_env.push_back(StringField(e, "name"));
        }
        for (const auto& e : ArrayField(c, "envFrom")) {
          if (e.is_object() && e.contains("secretRef")) {
            view.env_from_secret_containers.push_back(StringField(c, "name"));
            break;
          }
        }
      }
    }
    for (const auto& cs : ArrayField(status, "containerStatuses")) {
      for (auto& cv : view.containers) {
        if (cv.name != StringField(cs, "name")) continue;
        cv.running = ObjectFieldOrEmpty(cs, "state").contains("running");
        cv.restart_count = IntField(cs, "restartCount").value_or(0);
        cv.terminated = ParseTermination(ObjectFieldOrEmpty(cs, "state"));
        cv.last_terminated = ParseTermination(ObjectFieldOrEmpty(cs, "lastState"));
        const std::string id = StringField(cs, "containerID");
        const size_t scheme = id.find("://");
        cv.container_id = scheme == std::string::npos ? id : id.substr(scheme + 3);
        // The runtime reports the user the process really runs as (SupplementalGroupsPolicy).
        const json& linux_user = ObjectFieldOrEmpty(ObjectFieldOrEmpty(cs, "user"), "linux");
        if (!cv.run_as_user) cv.run_as_user = IntField(linux_user, "uid");
        if (!cv.run_as_group) cv.run_as_group = IntField(linux_user, "gid");
      }
    }
    std::string annotated = StringField(ObjectFieldOrEmpty(metadata, "annotations"),
                                        "kubectl.kubernetes.io/default-container");
    if (!annotated.empty() && view.FindContainer(annotated) != nullptr) {
      view.default_container = annotated;
    } else if (!view.containers.empty()) {
      view.default_container = view.containers.front().name;
    }
    for (const auto& ec : ArrayField(spec, "ephemeralContainers")) {
      EphemeralContainerView ev{
          StringField(ec, "name"), StringField(ec, "image"), {}, {}, {}, false};
      for (const auto& a : ArrayField(ec, "args")) {
        if (a.is_string()) ev.args.push_back(a.get<std::string>());
      }
      for (const auto& e : ArrayField(ec, "env")) {
        if (e.is_object() && StringField(e, "name") == kContainerMarkEnv) {
          ev.mark = StringField(e, "value");
        }
      }
      view.ephemeral_containers.push_back(std::move(ev));
    }
    for (const auto& es : ArrayField(status, "ephemeralContainerStatuses")) {
      for (auto& ev : view.ephemeral_containers) {
        if (ev.name == StringField(es, "name")) ev.state = ParseState(es);
      }
    }
    return view;
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("malformed Pod: ") + e.what());
  }
}

}  // namespace ephemera::session
