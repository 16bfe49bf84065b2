// Exec credential plugins (client.authentication.k8s.io/v1), as kubectl runs them.
//
// The plugin named in a kubeconfig's users[].user.exec runs with its args and env, plus
// KUBERNETES_EXEC_INFO (an ExecCredential describing the request, and the cluster when
// provideClusterInfo is set). It prints an ExecCredential whose status holds a token or a client
// certificate and key, and optionally an expirationTimestamp. ExecTokenSource caches that result
// until it expires and runs the plugin again after a 401.
#ifndef EPHEMERA_KUBE_AUTH_EXEC_CREDENTIAL_H_
#define EPHEMERA_KUBE_AUTH_EXEC_CREDENTIAL_H_

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "kube/auth/token_source.h"

namespace ephemera::kube {

inline constexpr std::string_view kExecCredentialApiVersion = "client.authentication.k8s.io/v1";

// interactiveMode of an exec config: whether the plugin may talk to the person at the terminal.
enum class ExecInteractiveMode { kNever, kIfAvailable, kAlways };

// users[].user.exec of a kubeconfig.
struct ExecConfig {
  std::string api_version{};
  // A bare name looked up on PATH, or a path (relative ones are resolved against the kubeconfig's
  // directory when the kubeconfig is loaded).
  std::string command{};
  std::vector<std::string> args{};
  std::vector<std::pair<std::string, std::string>> env{};
  bool provide_cluster_info = false;
  std::string install_hint{};
  ExecInteractiveMode interactive_mode = ExecInteractiveMode::kIfAvailable;
};

// What the plugin may learn about the cluster (spec.cluster of KUBERNETES_EXEC_INFO).
struct ExecClusterInfo {
  std::string server{};
  std::string tls_server_name{};
  std::string certificate_authority_pem{};
};

// Runs a program to completion. The real one is PosixCommandRunner (posix_command_runner.h).
class CommandRunner {
 public:
  struct Result {
    int exit_code = 0;  // 128 + signal number when killed by a signal
    std::string standard_output{};
    std::string standard_error{};
  };
  virtual ~CommandRunner() = default;
  // Runs `command` (PATH lookup when it has no '/') with `args`, the current environment plus
  // `extra_env` (overriding same-named variables), and no standard input. Kills it after
  // `timeout`. Errors: kNotFound when the program does not exist, kDeadlineExceeded on timeout,
  // kUnavailable for other spawn failures. A non-zero exit is a Result, not an error.
  virtual StatusOr<Result> Run(const std::string& command, const std::vector<std::string>& args,
                               const std::vector<std::pair<std::string, std::string>>& extra_env,
                               std::chrono::milliseconds timeout) = 0;
  // The same for a program that talks to the person at the terminal (an exec plugin's login
  // prompt): it reads our standard input and writes to our standard error (Result's
  // standard_error stays empty), and it is not killed however long the person takes.
  virtual StatusOr<Result> RunInteractive(
      const std::string& command, const std::vector<std::string>& args,
      const std::vector<std::pair<std::string, std::string>>& extra_env) = 0;
};

struct ExecCredential {
  ClientCredentials credentials{};
  std::optional<std::chrono::system_clock::time_point> expiration{};
};

// Parses the plugin's output. InvalidArgument when it is not an ExecCredential of
// `expected_api_version`, has neither a token nor a certificate+key pair, has only half a pair,
// or has a malformed expirationTimestamp. Messages name fields, never values.
StatusOr<ExecCredential> ParseExecCredential(std::string_view output,
                                             std::string_view expected_api_version);

// The KUBERNETES_EXEC_INFO value: {"apiVersion":…,"kind":"ExecCredential","spec":{"interactive":
// BOOL[,"cluster":{server, tls-server-name, certificate-authority-data}]}}.
std::string BuildExecInfo(const ExecConfig& config, const ExecClusterInfo& cluster,
                          bool interactive = false);

class ExecTokenSource final : public TokenSource {
 public:
  // `clock` and `runner` must outlive this object. `stdin_is_terminal`: a person may answer the
  // plugin (kubectl-ephemera run from a terminal; never the controller). The plugin then runs
  // interactively unless its interactiveMode is Never, as kubectl runs it; with Always and no
  // terminal it is not run at all.
  ExecTokenSource(ExecConfig config, ExecClusterInfo cluster, base::Clock& clock,
                  CommandRunner& runner,
                  std::chrono::milliseconds plugin_timeout = std::chrono::seconds(30),
                  bool stdin_is_terminal = false);

  // Cached credentials while they have not expired (a credential expiring within 10s counts as
  // expired); otherwise runs the plugin. Errors are kUnauthenticated, naming the command and, when
  // it could not be started, the kubeconfig's installHint.
  StatusOr<ClientCredentials> Credentials() override;
  // Drops the cache; the next Credentials() runs the plugin again. Always true.
  bool Invalidate() override;

 private:
  const ExecConfig config_;
  const ExecClusterInfo cluster_;
  base::Clock& clock_;
  CommandRunner& runner_;
  const std::chrono::milliseconds plugin_timeout_;
  const bool stdin_is_terminal_;
  base::Mutex mu_;
  std::optional<ExecCredential> cached_ EPHEMERA_GUARDED_BY(mu_);
};

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_AUTH_EXEC_CREDENTIAL_H_
