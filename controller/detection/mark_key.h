// The controller's mark key (see container_mark.h): a random 32-byte key in a Secret in the
// controller's own namespace, created by whichever replica needs it first.
#ifndef EPHEMERA_CONTROLLER_DETECTION_MARK_KEY_H_
#define EPHEMERA_CONTROLLER_DETECTION_MARK_KEY_H_

#include <string>

#include "base/status.h"
#include "kube/client/kube_client.h"

namespace ephemera::detection {

inline constexpr char kMarkKeySecretName[] = "ephemera-mark-key";

// Reads the key, creating the Secret if it does not exist (a replica that loses the creation race
// reads the winner's). Errors: the API's (Unavailable and the like: retry), DataLoss when the
// Secret exists without a usable key.
StatusOr<std::string> EnsureMarkKey(kube::KubeClient& client, const std::string& namespace_name);

}  // namespace ephemera::detection

#endif  // EPHEMERA_CONTROLLER_DETECTION_MARK_KEY_H_
