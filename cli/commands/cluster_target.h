// Which namespace a command uses, from the global flags and the kubeconfig, the way kubectl
// decides (which kubeconfig: kube::LocateKubeConfig). Pure.
#ifndef EPHEMERA_CLI_COMMANDS_CLUSTER_TARGET_H_
#define EPHEMERA_CLI_COMMANDS_CLUSTER_TARGET_H_

#include <string>

#include "cli/command_line/command_line.h"
#include "kube/auth/kube_config.h"

namespace ephemera::commands {

// -n/--namespace, else the kubeconfig context's namespace, else "default".
std::string ResolveNamespace(const command_line::GlobalOptions& global,
                             const kube::KubeConfig& config);

}  // namespace ephemera::commands

#endif  // EPHEMERA_CLI_COMMANDS_CLUSTER_TARGET_H_
