// `ephemera-controller check-install`: what `helm test` runs inside the cluster to show that an
// installation works for its users, from the API server's side:
//   - the API server reaches the DebugSession webhooks through the Service and the CA bundle the
//     installation configured (the part that breaks when certificates are wrong);
//   - the mutating webhook binds a session to the identity that sends it (spec.requestedBy equals
//     what a SelfSubjectReview says the caller is);
//   - a session that names its own requester is refused.
// Every create is a server-side dry run: nothing is stored and no controller acts on it.
#ifndef EPHEMERA_CONTROLLER_APP_INSTALL_CHECK_H_
#define EPHEMERA_CONTROLLER_APP_INSTALL_CHECK_H_

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "kube/client/kube_client.h"

namespace ephemera::app {

struct InstallCheckResult {
  std::string name;  // what was checked, as a person would say it
  bool passed = false;
  std::string detail{};  // on failure: what went wrong and what to look at
};

// The DebugSession the check sends (dry run): a pod that need not exist, `recipient` (age1…),
// and `requested_by` as spec.requestedBy when it is not null (the forged case).
nlohmann::json BuildInstallCheckSession(std::string_view recipient,
                                        const nlohmann::json& requested_by = nullptr);

// What a refused create means for the installation, and what to look at: the API server could
// not call the webhook (certificates), a webhook refused it (namespace policy), RBAC refused it.
std::string ExplainCreateRefusal(const Status& refusal);

// Judges the dry-run create of BuildInstallCheckSession without requestedBy: it must be admitted,
// with spec.requestedBy.username equal to `who_am_i`'s status.userInfo.username (a
// SelfSubjectReview) and Ephemera's cleanup finalizer added.
InstallCheckResult JudgeStampedSession(const StatusOr<nlohmann::json>& who_am_i,
                                       const StatusOr<nlohmann::json>& admitted);

// Judges the dry-run create of a session that names its own requester: it must be refused by
// Ephemera's mutating webhook for that reason (admission::kRequesterIsBoundMessage).
InstallCheckResult JudgeForgedSession(const StatusOr<nlohmann::json>& admitted);

// Runs the checks through `client` in `namespace_name`; one line per check on `out`
// ("ok: …" or "FAIL: … — detail"). Returns 0 when every check passed, 1 when one failed, 2 when
// the check could not run.
int RunInstallCheck(kube::KubeClient& client, std::string_view namespace_name, std::ostream& out);

// The arguments of `ephemera-controller check-install [--namespace NS] [--kubeconfig FILE]`
// (each also as --flag=value). Empty means: the in-cluster namespace and service account.
struct InstallCheckArgs {
  std::string namespace_name;
  std::string kubeconfig;
};
inline constexpr std::string_view kInstallCheckUsage =
    "usage: ephemera-controller check-install [--namespace NS] [--kubeconfig FILE]";
// InvalidArgument naming the argument that is unknown or lacks its value.
StatusOr<InstallCheckArgs> ParseInstallCheckArgs(const std::vector<std::string>& args);

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_INSTALL_CHECK_H_
