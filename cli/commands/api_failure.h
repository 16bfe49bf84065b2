// Turning a failed Kubernetes API call into one sentence for the person at the terminal, with the
// exit code they can act on: which URL could not be reached and what to check, which verb on which
// resource in which namespace they lack and whom to ask, what the server refused and why. Pure.
#ifndef EPHEMERA_CLI_COMMANDS_API_FAILURE_H_
#define EPHEMERA_CLI_COMMANDS_API_FAILURE_H_

#include <string>

#include "base/status.h"
#include "cli/commands/outcome.h"
#include "kube/auth/kube_config.h"

namespace ephemera::commands {

// What was asked of the API server when it failed.
struct ApiRequest {
  std::string verb{};            // Kubernetes verb: "get", "list", "create"
  std::string resource{};        // "debugsessions.ephemera.dev", "pods"
  std::string namespace_name{};  // "" for cluster-scoped requests
  std::string name{};            // "" for list/create
  std::string server{};          // https://… from the kubeconfig
};

// Precondition: !status.ok(). Statuses from KubeClient (kube/client/api_error.h).
CommandOutcome ExplainApiFailure(const Status& status, const ApiRequest& request);

// A kubeconfig that could not be loaded (KubeConfig::FromFile) or used (KubeConnection::Open).
CommandOutcome ExplainKubeconfigFailure(const Status& status,
                                        const kube::KubeConfigLocation& location);

// The server's own words, without the "(HTTP 403 Forbidden)" suffix api_error.h appends.
std::string ServerMessage(const Status& status);

}  // namespace ephemera::commands

#endif  // EPHEMERA_CLI_COMMANDS_API_FAILURE_H_
