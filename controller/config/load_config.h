// Loading ControllerConfig from the process's arguments and files (the I/O half of config).
#ifndef EPHEMERA_CONTROLLER_CONFIG_LOAD_CONFIG_H_
#define EPHEMERA_CONTROLLER_CONFIG_LOAD_CONFIG_H_

#include <string>
#include <vector>

#include "base/status.h"
#include "controller/config/controller_config.h"

namespace ephemera::config {

inline constexpr char kInClusterNamespaceFile[] =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
inline constexpr char kDefaultNamespace[] = "ephemera-system";

struct ConfigSources {
  std::vector<std::string> args;  // argv without the program name
  std::string in_cluster_namespace_file = kInClusterNamespaceFile;
};

// Defaults, then the --config file, then the flags; an unset namespace comes from the in-cluster
// namespace file when it exists, else "ephemera-system"; then ValidateControllerConfig. With
// --help, returns the config with help_requested set and skips validation. Errors: kNotFound /
// kPermissionDenied for an unreadable config file; kInvalidArgument for everything else.
StatusOr<ControllerConfig> LoadControllerConfig(const ConfigSources& sources);

}  // namespace ephemera::config

#endif  // EPHEMERA_CONTROLLER_CONFIG_LOAD_CONFIG_H_
