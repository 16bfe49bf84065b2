// Container marks: how Ephemera recognizes the ephemeral containers it added itself.
//
// Kubernetes cannot say afterwards who added an ephemeral container, and an ephemeral container
// stays in its pod until the pod is deleted (long after its DebugSession may be gone). So the
// controller marks each snapshot container it adds with an environment variable whose value is an
// HMAC-SHA256, under a key only the controller can read (a Secret in its own namespace), of the
// pod's UID and the container's name. Anyone can read the mark; nobody without the key can make
// one for another pod or another container name, so copying a mark does not help. Pure.
#ifndef EPHEMERA_CONTROLLER_DETECTION_CONTAINER_MARK_H_
#define EPHEMERA_CONTROLLER_DETECTION_CONTAINER_MARK_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ephemera::detection {

// The environment variable that carries the mark. Not a secret: it proves origin, nothing else.
inline constexpr char kMarkEnvName[] = "EPHEMERA_MARK";

// Lowercase hex HMAC-SHA256(key, pod_uid + "/" + container_name).
std::string ContainerMark(std::string_view key, std::string_view pod_uid,
                          std::string_view container_name);

// Adds (or replaces) the mark in an ephemeral container spec (`container` is the JSON object
// that goes into pod.spec.ephemeralContainers[]; it must have a "name").
void AddMark(nlohmann::json& container, std::string_view key, std::string_view pod_uid);

// True when `mark` is the mark of this pod and container name (constant-time comparison).
bool IsValidMark(std::string_view mark, std::string_view key, std::string_view pod_uid,
                 std::string_view container_name);

}  // namespace ephemera::detection

#endif  // EPHEMERA_CONTROLLER_DETECTION_CONTAINER_MARK_H_
