#include "kube/transport/kube_connection.h"

namespace ephemera::kube {

StatusOr<std::unique_ptr<KubeConnection>> KubeConnection::Open(const KubeConfig& config,
                                                               base::Clock& clock,
                                                               const RestKubeClientOptions& options,
                                                               bool stdin_is_terminal) {
  std::unique_ptr<KubeConnection> connection(new KubeConnection());
  connection->namespace_name_ = config.namespace_name;
  connection->runner_ = std::make_unique<PosixCommandRunner>();
  connection->tokens_ = NewTokenSource(config, clock, *connection->runner_, stdin_is_terminal);
  auto tls = CpprestTransport::Create(
      CpprestTransportOptions{config.server, config.tls_server_name,
                              config.certificate_authority_pem, config.proxy_url},
      connection->tokens_.get());
  if (!tls.ok()) return tls.status().WithContext(config.source);
  connection->tls_ = std::move(*tls);
  connection->auth_ =
      std::make_unique<BearerAuthTransport>(*connection->tls_, *connection->tokens_);
  connection->client_ = std::make_unique<RestKubeClient>(*connection->auth_, clock, options);
  return connection;
}

}  // namespace ephemera::kube
