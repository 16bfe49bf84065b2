// A connection to the cluster the global flags name: the kubeconfig (resolved like kubectl), the
// namespace, and a KubeClient. Opening it does no network I/O; failures to load or use the
// kubeconfig come back as a CommandOutcome (exit code 3).
#ifndef EPHEMERA_CLI_COMMANDS_CLUSTER_H_
#define EPHEMERA_CLI_COMMANDS_CLUSTER_H_

#include <memory>
#include <string>

#include "base/clock.h"
#include "cli/command_line/command_line.h"
#include "cli/commands/api_failure.h"
#include "cli/commands/outcome.h"
#include "kube/auth/kube_config.h"
#include "kube/client/kube_client.h"
#include "kube/transport/kube_connection.h"

namespace ephemera::commands {

class Cluster {
 public:
  static OutcomeOr<std::unique_ptr<Cluster>> Open(const command_line::GlobalOptions& global,
                                                  const kube::EnvironmentLookup& getenv,
                                                  base::Clock& clock);

  // A Cluster over a client someone else owns (tests: a fake API); `client` must outlive it.
  static std::unique_ptr<Cluster> Borrowing(kube::KubeClient& client, std::string namespace_name,
                                            std::string server);

  kube::KubeClient& Client() { return *client_; }
  const std::string& NamespaceName() const { return namespace_name_; }
  const std::string& Server() const { return server_; }

  // An ApiRequest for messages about `verb` on `resource` (name optional) in this namespace.
  ApiRequest Request(std::string verb, std::string resource, std::string name = "") const;

 private:
  Cluster() = default;

  std::string namespace_name_;
  std::string server_;
  std::unique_ptr<kube::KubeConnection> connection_;  // null when borrowing
  kube::KubeClient* client_ = nullptr;
};

}  // namespace ephemera::commands

#endif  // EPHEMERA_CLI_COMMANDS_CLUSTER_H_
