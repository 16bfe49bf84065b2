// KubeConnection: everything needed to talk to one API server, wired from a KubeConfig:
//   TokenSource (static / token file / exec plugin) → CpprestTransport (verified TLS, client
//   certificate) → BearerAuthTransport (token, 401 → re-read and retry once) → RestKubeClient.
//
//   auto config = KubeConfig::FromFile(path);            // or KubeConfig::InCluster()
//   auto connection = KubeConnection::Open(*config, clock);
//   KubeClient\& client = (*connection)->Client();
//
// Owns its parts; the clock is borrowed and must outlive it. Thread safe like its parts.
#ifndef EPHEMERA_KUBE_TRANSPORT_KUBE_CONNECTION_H_
#define EPHEMERA_KUBE_TRANSPORT_KUBE_CONNECTION_H_

#include <memory>

#include "base/clock.h"
#include "kube/auth/kube_config.h"
#include "kube/auth/posix_command_runner.h"
#include "kube/client/rest_kube_client.h"
#include "kube/transport/bearer_auth_transport.h"
#include "kube/transport/cpprest_transport.h"

namespace ephemera::kube {

class KubeConnection {
 public:
  // `stdin_is_terminal`: an exec credential plugin may prompt the person there (a command-line
  // tool run from a terminal; never a controller).
  static StatusOr<std::unique_ptr<KubeConnection>> Open(const KubeConfig& config,
                                                        base::Clock& clock,
                                                        const RestKubeClientOptions& options = {},
                                                        bool stdin_is_terminal = false);

  KubeClient& Client() { return *client_; }
  // The namespace named by the config (context namespace or in-cluster namespace file).
  const std::string& NamespaceName() const { return namespace_name_; }

 private:
  KubeConnection() = default;

  std::string namespace_name_;
  std::unique_ptr<PosixCommandRunner> runner_;
  std::unique_ptr<TokenSource> tokens_;
  std::unique_ptr<CpprestTransport> tls_;
  std::unique_ptr<BearerAuthTransport> auth_;
  std::unique_ptr<RestKubeClient> client_;
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_TRANSPORT_KUBE_CONNECTION_H_
