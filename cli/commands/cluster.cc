#include "cli/commands/cluster.h"

#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "cli/commands/cluster_target.h"

namespace ephemera::commands {
namespace {

bool RegularFileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

OutcomeOr<std::unique_ptr<Cluster>> Cluster::Open(const command_line::GlobalOptions& global,
                                                  const kube::EnvironmentLookup& getenv,
                                                  base::Clock& clock) {
  const kube::KubeConfigLocation where =
      kube::LocateKubeConfig(global.kubeconfig, getenv, RegularFileExists);
  kube::InClusterOptions in_cluster;
  in_cluster.getenv = getenv;
  auto config = kube::LoadKubeConfig(where, kube::KubeConfigOptions{global.context}, in_cluster);
  if (!config.ok()) return ExplainKubeconfigFailure(config.status(), where);
  kube::RestKubeClientOptions options;
  options.user_agent = "kubectl-ephemera";
  options.request_timeout = std::chrono::seconds(20);
  auto connection =
      kube::KubeConnection::Open(*config, clock, options, ::isatty(STDIN_FILENO) == 1);
  if (!connection.ok()) return ExplainKubeconfigFailure(connection.status(), where);
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
