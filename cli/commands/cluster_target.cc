#include "cli/commands/cluster_target.h"

namespace ephemera::commands {

std::string ResolveNamespace(const command_line::GlobalOptions& global,
                             const kube::KubeConfig& config) {
  if (!global.namespace_name.empty()) return global.namespace_name;
  if (!config.namespace_name.empty()) return config.namespace_name;
  return "default";
}

}  // namespace ephemera::commands
