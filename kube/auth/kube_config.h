// KubeConfig: where the API server is and how to authenticate to it, from a kubeconfig file or
// from the in-cluster service-account mount.
//
// Supported: clusters[].cluster {server (https only), certificate-authority[-data],
// tls-server-name, proxy-url (an http:// proxy: CONNECT tunnel, TLS end to end)}; users[].user
// {client-certificate[-data] + client-key[-data], token, tokenFile, exec
// (client.authentication.k8s.io/v1)}; contexts[].context {cluster, user, namespace};
// current-context, or an explicit context. Refused with a clear error: insecure-skip-tls-verify
// true (TLS is always verified), a SOCKS proxy-url, username/password, auth-provider, impersonation
// (as, as-groups, as-uid, as-user-extra). Relative paths resolve against the directory of the
// kubeconfig they are written in, as kubectl does. Several files merge as kubectl merges the
// files of $KUBECONFIG (FromFiles). Files named by certificate-authority and client-certificate/key
// are read at load time; the token file is re-read by FileTokenSource as it rotates.
//
// Errors are kInvalidArgument (kNotFound for a missing kubeconfig file) and read
// "<file>: <field path>: <problem>"; they never contain a token or key.
// A KubeConfig holds secrets (token, client key): never log it; Describe() is safe to log.
#ifndef EPHEMERA_KUBE_AUTH_KUBE_CONFIG_H_
#define EPHEMERA_KUBE_AUTH_KUBE_CONFIG_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "kube/auth/exec_credential.h"
#include "kube/auth/token_source.h"

namespace ephemera::kube {

// Reads an environment variable; tests inject their own.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;
std::optional<std::string> LookupProcessEnvironment(const std::string& name);

struct KubeConfigOptions {
  std::string context{};  // non-empty: use this context instead of current-context
};

struct InClusterOptions {
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  EnvironmentLookup getenv = LookupProcessEnvironment;
};

struct KubeConfig {
  std::string server{};           // "https://host:port[/prefix]", no trailing '/'
  std::string tls_server_name{};  // non-empty: SNI and certificate name to verify instead of host
  std::string certificate_authority_pem{};  // empty: the system trust store
  std::string client_certificate_pem{};
  std::string client_key_pem{};
  std::string token{};
  std::string token_file{};
  std::string proxy_url{};  // clusters[].cluster.proxy-url: "http://host:port", or empty
  std::optional<ExecConfig> exec{};
  std::string namespace_name = "default";
  std::string context_name{};  // empty for in-cluster
  std::string source{};        // the kubeconfig path, the FromString name, or "in-cluster"

  static StatusOr<KubeConfig> FromFile(const std::string& path,
                                       const KubeConfigOptions& options = {});
  // The files merged the way kubectl merges $KUBECONFIG: empty names and files that do not exist
  // are skipped (kNotFound, naming them all, when none exists); one that exists but cannot be read
  // or parsed is an error naming it. The first file to set current-context wins; a cluster, user
  // or context is taken from the first file that defines its name, later definitions of that name
  // are ignored whole (never merged field by field).
  static StatusOr<KubeConfig> FromFiles(const std::vector<std::string>& paths,
                                        const KubeConfigOptions& options = {});
  // `source_name` is used in messages; relative paths inside resolve against `base_dir` (the
  // current directory when empty).
  static StatusOr<KubeConfig> FromString(std::string_view yaml, std::string_view source_name,
                                         std::string_view base_dir = "",
                                         const KubeConfigOptions& options = {});
  // The in-cluster configuration: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
  // (IPv6 bracketed), ca.crt and token (path kept for re-reading) and namespace from the
  // service-account directory. kFailedPrecondition when the variables are not set (not in a
  // cluster); kUnauthenticated when the token file is unreadable.
  static StatusOr<KubeConfig> InCluster(const InClusterOptions& options = {});

  // "server=https://10.0.0.1:6443 context=kind namespace=default auth=exec(kubelogin)": no secrets.
  std::string Describe() const;
};

// Where a client's configuration comes from, decided as kubectl decides: the --kubeconfig file
// alone when one is given; else every file in $KUBECONFIG (':'-separated), merged; else
// $HOME/.kube/config; and when there is neither $KUBECONFIG nor that file while the process runs
// in a pod ($KUBERNETES_SERVICE_HOST set), the pod's service account (KubeConfig::InCluster).
struct KubeConfigLocation {
  std::vector<std::string> files{};
  bool in_cluster = false;

  // "/home/a/.kube/config", "a.yaml:b.yaml (KUBECONFIG)" or "the pod's service account".
  std::string Describe() const;
};
KubeConfigLocation LocateKubeConfig(const std::string& flag_path, const EnvironmentLookup& getenv,
                                    const std::function<bool(const std::string&)>& file_exists);
// Loads what LocateKubeConfig found.
StatusOr<KubeConfig> LoadKubeConfig(const KubeConfigLocation& location,
                                    const KubeConfigOptions& options = {},
                                    const InClusterOptions& in_cluster = {});

// The TokenSource the config calls for: ExecTokenSource for exec, FileTokenSource for tokenFile
// (and in-cluster), otherwise a StaticTokenSource (possibly with no credentials at all). Client
// certificates from the config ride along with the token. `clock` and `runner` must outlive it.
// `stdin_is_terminal`: an exec plugin may prompt the person there (ExecTokenSource).
std::unique_ptr<TokenSource> NewTokenSource(const KubeConfig& config, base::Clock& clock,
                                            CommandRunner& runner, bool stdin_is_terminal = false);

}  // namespace ephemera::kube

#endif  // EPHEMERA_KUBE_AUTH_KUBE_CONFIG_H_
