// ControllerConfig: the controller's settings, from command-line flags and an optional YAML file.
//
// Precedence: built-in defaults < the YAML file (--config path) < flags. The YAML file uses the
// camelCase keys below; each flag is the kebab-case form:
//
//   kubeconfig          --kubeconfig              "" = in-cluster service account
//   namespace           --namespace               the controller's own namespace; default: the
//                                                 in-cluster namespace file, else ephemera-system
//   snapshotImage       --snapshot-image          required; pinned: name@sha256:<64 hex>
//   allowUnpinnedImage  --allow-unpinned-image    development only: accept a tag
//   insecureNoAdmission --insecure-no-admission   development only: reconcile although no
//                                                 webhooks are served (no --webhook-cert-dir)
//   workers             --workers                 2 (1..64)
//   kubeApiQps          --kube-api-qps            50: requests per second to the API server
//   kubeApiBurst        --kube-api-burst          100: requests allowed at once above that rate
//   leaderElection:
//     enabled           --leader-elect            true
//     leaseName         --leader-election-lease-name       ephemera-controller
//     leaseDuration     --leader-election-lease-duration   15s
//     renewDeadline     --leader-election-renew-deadline   10s
//     retryPeriod       --leader-election-retry-period     2s
//   healthProbeAddress  --health-probe-address    ":8080" (host:port; empty host = all):
//                                                 /healthz, /readyz over plain HTTP, open
//   metricsAddress      --metrics-address         ":8443": /metrics over HTTPS, for bearer tokens
//                                                 whose identity may get /metrics (RBAC)
//   metricsCertDir      --metrics-cert-dir        "" (tls.crt and tls.key in it; "" = a
//                                                 self-signed certificate made at start)
//   webhookAddress      --webhook-address         ":9443"
//   webhookCertDir      --webhook-cert-dir        "" (tls.crt and tls.key in it)
//   webhookClientCaFile --webhook-client-ca-file  "": CA of the API server's webhook client cert
//   webhookClientAuth   --webhook-client-auth     request: verify a client certificate when one
//                                                 is presented (records from callers without one
//                                                 are marked unverified); require: refuse them
//   webhookClientNames  --webhook-client-names    [] = any common name from that CA
//   certificates:                                 made and kept by the controller itself
//                                                 (the chart's certificates.mode controller)
//     webhookSecret     --webhook-cert-secret     "": a kubernetes.io/tls Secret in the
//                                                 namespace for the webhooks' certificate, made
//                                                 when missing, written into webhookCertDir
//     webhookService    --webhook-service         the Service the API server calls the webhooks
//                                                 through (the certificate's DNS names)
//     webhookConfigurations --webhook-configurations  mutating/NAME, validating/NAME: given that
//                                                 CA as caBundle; the first owns the Secrets
//     metricsSecret     --metrics-cert-secret     "": the same for /metrics, into metricsCertDir
//     metricsService    --metrics-service         the Service scrapers use
//     validity          --certificate-validity    8760h (a year); renewed with a third left
//   logLevel            --log-level               info (debug, info, warn, error)
//   policy:                                       the cluster's rules for sessions (docs/policy.md)
//     allowedNamespaces --allowed-namespaces      [] = every namespace not forbidden
//     forbiddenNamespaces --forbidden-namespaces  [kube-system]; always wins
//     defaultTtl        --default-ttl             5m, for sessions that ask for none
//     maxTtl            --max-ttl                 1h
//     allowedProfiles   --allowed-profiles        [restricted, ptrace]
//     strictAudit       --strict-audit            false: when true, no new session starts while
//                                                 the audit sink cannot take records
//     annotateDebuggedPods --annotate-debugged-pods  false: mark a debugged pod with an annotation
//     recycleDebuggedPods  --recycle-debugged-pods   false: delete a debugged pod after its session
//                                                 ends so its owner replaces it (owned pods only)
//     ephemeralContainers --ephemeral-containers  audit: record ephemeral containers Ephemera did
//                                                 not add; enforce: also deny them at admission
//     hostNamespaces    --host-namespaces         deny: refuse sessions on pods with hostPID,
//                                                 hostIPC or hostNetwork or on a privileged
//                                                 container; allow: permit them for requesters
//                                                 with `use` on debugprofiles/host
//     pii:                                        personal data masked in free text: none,
//                                                 standard (e-mail, card numbers, IBANs, phone
//                                                 numbers) or strict (also IP addresses)
//       default         --pii-default             standard: for sessions that name no mode
//       minimum         --pii-minimum             none: the least a session may ask for
//
// Lists are YAML sequences in the file and comma-separated in flags.
// Flags are written --name=value or --name value; boolean flags also as --name alone. Booleans are
// true or false (YAML also True/TRUE/False/FALSE; not yes/no/on/off). Durations
// use ParseDuration ("60s", "5m", "1h30m"); durations here must be whole seconds.
//
// Every error says where the bad value came from (file:line:column, or the flag), what is wrong,
// and how to fix it. Unknown keys and flags are errors (with a "did you mean" hint), not ignored.
#ifndef EPHEMERA_CONTROLLER_CONFIG_CONTROLLER_CONFIG_H_
#define EPHEMERA_CONTROLLER_CONFIG_CONTROLLER_CONFIG_H_

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::config {

struct LeaderElectionSettings {
  bool enabled = true;
  std::string lease_name = "ephemera-controller";
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

// The cluster policy part of the configuration (mapped onto session::Policy by app::PolicyFrom).
struct PolicySettings {
  std::vector<std::string> allowed_namespaces;
  std::vector<std::string> forbidden_namespaces{"kube-system"};
  std::chrono::seconds default_ttl{5 * 60};
  std::chrono::seconds max_ttl{60 * 60};
  std::vector<std::string> allowed_profiles{"restricted", "ptrace"};
  bool strict_audit = false;
  bool annotate_debugged_pods = false;
  bool recycle_debugged_pods = false;
  std::string ephemeral_containers = "audit";  // audit | enforce
  std::string host_namespaces = "deny";        // deny | allow
  std::string pii_default = "standard";        // none | standard | strict
  std::string pii_minimum = "none";            // none | standard | strict
  // spec.logs: who may pull a log, the defaults and the ceilings (session::LogPolicy).
  std::string logs_access = "podsLog";  // podsLog | debugProfile
  int logs_default_tail_lines = 1000;
  int logs_max_tail_lines = 10000;
  int logs_default_limit_bytes = 256 * 1024;
  int logs_max_limit_bytes = 512 * 1024;
  std::chrono::seconds logs_max_since{24 * 60 * 60};
  // spec.budget: the snapshot tool's overhead budget, defaults and ceilings
  // (session::BudgetPolicy).
  std::chrono::seconds budget_default_cpu{2};
  std::chrono::seconds budget_max_cpu{10};
  int budget_default_memory_bytes = 64 << 20;
  int budget_max_memory_bytes = 256 << 20;
  std::chrono::seconds budget_default_wall{20};
  std::chrono::seconds budget_max_wall{120};
};

// Serving certificates the controller makes and keeps in Secrets (certificates/).
struct CertificateSettings {
  std::string webhook_secret;
  std::string webhook_service;
  std::vector<std::string> webhook_configurations;
  std::string metrics_secret;
  std::string metrics_service;
  std::chrono::seconds validity{365 * 24 * 60 * 60};
};

struct ControllerConfig {
  std::string kubeconfig;
  std::string namespace_name;
  std::string snapshot_image;
  bool allow_unpinned_image = false;
  bool insecure_no_admission = false;
  PolicySettings policy;
  int workers = 2;
  int kube_api_qps = 50;
  int kube_api_burst = 100;
  LeaderElectionSettings leader_election;
  std::string health_probe_address = ":8080";
  std::string metrics_address = ":8443";
  std::string metrics_cert_dir;
  std::string webhook_address = ":9443";
  std::string webhook_cert_dir;
  std::string webhook_client_ca_file;
  std::string webhook_client_auth = "request";  // request | require
  std::vector<std::string> webhook_client_names;
  CertificateSettings certificates;
  std::string log_level = "info";
  std::string config_file;      // the --config path, "" when none
  bool help_requested = false;  // --help: print UsageText() and exit
};

// Where each setting (by YAML path, e.g. "leaderElection.leaseDuration") was last set:
// "config.yaml:7:3" or "flag --max-ttl". Settings left at their default are absent.
using SettingOrigins = std::map<std::string, std::string>;

// Flags parsed but not yet applied: --config and --help are read first so the file can be loaded
// before the other flags override it.
struct ParsedFlags {
  std::string config_file;
  bool help = false;
  std::vector<std::pair<std::string, std::string>> settings;  // (flag name, value) in order
};
// kInvalidArgument for an unknown flag, a missing value, or a positional argument.
StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args);

// Applies a YAML document (the contents of `file_name`) on top of `config`. Errors name the file,
// line and column.
Status ApplyConfigYaml(std::string_view yaml_text, std::string_view file_name,
                       ControllerConfig& config, SettingOrigins& origins);
// Applies parsed flag settings on top of `config` (not --config/--help).
Status ApplyFlags(const ParsedFlags& flags, ControllerConfig& config, SettingOrigins& origins);

// Cross-field and required-value checks: snapshotImage set and pinned (unless allowed), policy
// TTLs positive with defaultTtl <= maxTtl, namespaces valid names, profiles and the
// ephemeralContainers and hostNamespaces modes known, workers 1..64, leader election timings
// (leaseDuration > renewDeadline > 1.2 x retryPeriod) and a valid lease name, addresses host:port,
// log level; certificates: a Secret name with its Service and cert dir, configurations parse.
Status ValidateControllerConfig(const ControllerConfig& config, const SettingOrigins& origins);

// True for "name@sha256:<64 lowercase hex>".
bool IsPinnedImage(std::string_view image);
// The --help text.
std::string UsageText();

}  // namespace ephemera::config

#endif  // EPHEMERA_CONTROLLER_CONFIG_CONTROLLER_CONFIG_H_
