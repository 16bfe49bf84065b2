// PodView: the few facts about a target pod that a DebugSession needs, read from a Pod object.
// Keeping only these (not the whole Pod) is what lets the controller's memory grow with sessions,
// not with the cluster's pods. Pure values.
#ifndef EPHEMERA_CONTROLLER_SESSION_POD_VIEW_H_
#define EPHEMERA_CONTROLLER_SESSION_POD_VIEW_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::session {

// How an instance of a container ended: status.containerStatuses[].state.terminated (the current
// instance) or lastState.terminated (the previous one). Times are RFC 3339 as the kubelet wrote
// them, "" when absent.
struct TerminationView {
  int exit_code = 0;
  std::optional<int> signal;
  std::string reason;  // e.g. OOMKilled, Error, Completed
  std::string started_at;
  std::string finished_at;
};

struct ContainerView {
  std::string name;
  bool running = false;
  std::optional<std::int64_t> run_as_user;  // effective: container securityContext, else pod's
  std::optional<std::int64_t> run_as_group;
  std::vector<std::string> secret_env;  // env names filled from Secrets (valueFrom.secretKeyRef)
  bool env_from_secret = false;         // envFrom a whole Secret: names unknown
  bool privileged = false;              // securityContext.privileged
  // The runtime's ID of the running container: status.containerStatuses[].containerID without its
  // "<runtime>://" scheme (64 hex digits for containerd and CRI-O); "" until the kubelet reports
  // it. The snapshot tool matches it in /proc/<pid>/cgroup to capture only this container.
  std::string container_id;
  std::int64_t restart_count = 0;
  std::optional<TerminationView> terminated;       // the current instance, when it has ended
  std::optional<TerminationView> last_terminated;  // the previous instance, after a restart
};

// State of one ephemeral container, from status.ephemeralContainerStatuses.
struct EphemeralState {
  enum class Kind { kUnknown, kWaiting, kRunning, kTerminated } kind = Kind::kUnknown;
  std::string reason;   // waiting/terminated reason, e.g. ErrImagePull, Completed
  std::string message;  // waiting/terminated message
  int exit_code = 0;
};

// The environment variable that carries Ephemera's mark on the containers it adds (the same name as
// detection::kMarkEnvName, which this pure library does not link; the reconciler checks they
// agree).
inline constexpr std::string_view kContainerMarkEnv = "EPHEMERA_MARK";

struct EphemeralContainerView {
  std::string name;
  std::string image;
  std::vector<std::string> args;
  EphemeralState state;  // kUnknown until the kubelet reports a status
  std::string mark;      // the value of kContainerMarkEnv in its env, "" when it has none
  // Whether `mark` proves that Ephemera added this container to this very pod: a valid HMAC, under
  // the controller's mark key, of the pod's UID and the container's name. Anyone allowed to add
  // ephemeral containers can add one with Ephemera's name for a session. ParsePodView cannot tell
  // (the key is the controller's), so it is false until the reconciler has checked the mark: an
  // unchecked container never counts as Ephemera's.
  bool added_by_ephemera = false;
};

struct PodView {
  std::string name;
  std::string namespace_name;
  std::string uid;
  std::string phase;  // Pending, Running, Succeeded, Failed, Unknown
  bool deleting = false;
  bool owned = false;  // has a controller owner (a ReplicaSet, StatefulSet, ...) that replaces it
  std::string default_container;  // kubectl.kubernetes.io/default-container, else the first
  // Namespaces the pod shares with the node (spec.hostPID, hostIPC, hostNetwork) or between its
  // containers (spec.shareProcessNamespace).
  bool host_pid = false;
  bool host_ipc = false;
  bool host_network = false;
  bool share_process_namespace = false;
  // Env names any container of the pod (init containers included) fills from a Secret through
  // valueFrom.secretKeyRef, and the containers that take a whole Secret through envFrom.secretRef
  // (whose names the controller cannot know: it does not read Secrets).
  std::vector<std::string> secret_env;
  std::vector<std::string> env_from_secret_containers;
  std::vector<ContainerView> containers;
  std::vector<EphemeralContainerView> ephemeral_containers;

  const ContainerView* FindContainer(const std::string& container_name) const;
  const EphemeralContainerView* FindEphemeral(const std::string& container_name) const;
  // The node-level settings of the pod and of `container_name` that let a capture see beyond the
  // container (hostPID, hostIPC, hostNetwork, privileged), in that order; empty for an ordinary
  // pod. Sessions on such targets need the cluster policy hostNamespaces: allow and the
  // requester's `use` on debugprofiles/host.
  std::vector<std::string> HostSettings(const std::string& container_name) const;
};

StatusOr<PodView> ParsePodView(const nlohmann::json& pod);

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_POD_VIEW_H_
