#include "cli/commands/cluster.h"

#include <utility>

#include "cli/commands/cluster_target.h"

namespace ephemera::commands {

OutcomeOr<std::unique_ptr<Cluster>> Cluster::Open(const command_line::GlobalOptions& global,
                                                  const kube::EnvironmentLookup& getenv,
                                                  base::Clock& clock) {
  const std::string path = ResolveKubeconfigPath(global, getenv);
  auto config = kube::KubeConfig::FromFile(path, kube::KubeConfigOptions{global.context});
  if (!config.ok()) return ExplainKubeconfigFailure(config.status(), path);
  kube::RestKubeClientOptions options;
  options.user_agent = "kubectl-ephemera";
  options.request_timeout = std::chrono::seconds(20);
  auto connection = kube::KubeConnection::Open(*config, clock, options);
  if (!connection.ok()) return ExplainKubeconfigFailure(connection.status(), path);
  std::unique_ptr<Cluster> cluster(new Cluster());
  cluster->namespace_name_ = ResolveNamespace(global, *config);
  cluster->server_ = config->server;
  cluster->connection_ = std::move(*connection);
  cluster->client_ = &cluster->connection_->Client();
  return cluster;
}

std::unique_ptr<Cluster> Cluster::Borrowing(kube::KubeClient& client, std::string namespace_name,
                                            std::string server) {
  std::unique_ptr<Cluster> cluster(new Cluster());
  cluster->namespace_name_ = std::move(namespace_name);
  cluster->server_ = std::move(server);
  cluster->client_ = &client;
  return cluster;
}

ApiRequest Cluster::Request(std::string verb, std::string resource, std::string name) const {
  return ApiRequest{std::move(verb), std::move(resource), namespace_name_, std::move(name),
                    server_};
}

}  // namespace ephemera::commands
