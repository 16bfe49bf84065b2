#include "controller/config/controller_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <set>
#include <tuple>
#include <variant>

#include "base/duration.h"
#include "base/host_port.h"

namespace ephemera::config {
namespace {

using StringTarget = std::string& (*)(ControllerConfig&);
using BoolTarget = bool& (*)(ControllerConfig&);
using SecondsTarget = std::chrono::seconds& (*)(ControllerConfig&);
using IntTarget = int& (*)(ControllerConfig&);
using StringListTarget = std::vector<std::string>& (*)(ControllerConfig&);
using Target = std::variant<StringTarget, BoolTarget, SecondsTarget, IntTarget, StringListTarget>;

// One setting: its YAML path, its flag, where it lives in ControllerConfig, and its help line.
struct Setting {
  std::string_view path;
  std::string_view flag;
  Target target;
  std::string_view help;
};

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> settings = {
      {"kubeconfig", "kubeconfig",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.kubeconfig; }),
       "path to a kubeconfig; empty = in-cluster service account"},
      {"namespace", "namespace",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.namespace_name; }),
       "the controller's own namespace (default: in-cluster namespace, else ephemera-system)"},
      {"snapshotImage", "snapshot-image",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.snapshot_image; }),
       "image of the snapshot container, pinned as name@sha256:<digest> (required)"},
      {"allowUnpinnedImage", "allow-unpinned-image",
       BoolTarget([](ControllerConfig& c) -> bool& { return c.allow_unpinned_image; }),
       "accept a snapshotImage without a digest (development only)"},
      {"insecureNoAdmission", "insecure-no-admission",
       BoolTarget([](ControllerConfig& c) -> bool& { return c.insecure_no_admission; }),
       "reconcile without serving the admission webhooks (no --webhook-cert-dir): nothing then "
       "binds spec.requestedBy to the real requester (development only)"},
      {"workers", "workers", IntTarget([](ControllerConfig& c) -> int& { return c.workers; }),
       "concurrent reconcile workers, 1..64 (default 2)"},
      {"kubeApiQps", "kube-api-qps",
       IntTarget([](ControllerConfig& c) -> int& { return c.kube_api_qps; }),
       "client-side limit of requests per second to the API server, 1..10000 (default 50)"},
      {"kubeApiBurst", "kube-api-burst",
       IntTarget([](ControllerConfig& c) -> int& { return c.kube_api_burst; }),
       "requests allowed at once above kubeApiQps, 1..10000 (default 100)"},
      {"leaderElection.enabled", "leader-elect",
       BoolTarget([](ControllerConfig& c) -> bool& { return c.leader_election.enabled; }),
       "elect a leader among replicas with a Lease (default true)"},
      {"leaderElection.leaseName", "leader-election-lease-name",
       StringTarget(
           [](ControllerConfig& c) -> std::string& { return c.leader_election.lease_name; }),
       "name of the Lease in the controller's namespace (default ephemera-controller)"},
      {"leaderElection.leaseDuration", "leader-election-lease-duration",
       SecondsTarget([](ControllerConfig& c) -> std::chrono::seconds& {
         return c.leader_election.lease_duration;
       }),
       "how long a lease is valid without renewal (default 15s)"},
      {"leaderElection.renewDeadline", "leader-election-renew-deadline",
       SecondsTarget([](ControllerConfig& c) -> std::chrono::seconds& {
         return c.leader_election.renew_deadline;
       }),
       "the leader gives up if it cannot renew for this long (default 10s)"},
      {"leaderElection.retryPeriod", "leader-election-retry-period",
       SecondsTarget([](ControllerConfig& c) -> std::chrono::seconds& {
         return c.leader_election.retry_period;
       }),
       "time between acquire/renew attempts (default 2s)"},
      {"healthProbeAddress", "health-probe-address",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.health_probe_address; }),
       "host:port for /healthz and /readyz, plain HTTP without authentication (default :8080)"},
      {"metricsAddress", "metrics-address",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.metrics_address; }),
       "host:port for /metrics over HTTPS, for bearer tokens allowed to get /metrics (default "
       ":8443; 127.0.0.1:8443 keeps it on this host)"},
      {"metricsCertDir", "metrics-cert-dir",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.metrics_cert_dir; }),
       "directory holding tls.crt and tls.key for /metrics (default: a self-signed certificate "
       "made at start)"},
      {"webhookAddress", "webhook-address",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.webhook_address; }),
       "host:port for the HTTPS admission webhooks (default :9443)"},
      {"webhookCertDir", "webhook-cert-dir",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.webhook_cert_dir; }),
       "directory holding tls.crt and tls.key for the webhooks"},
      {"webhookClientCaFile", "webhook-client-ca-file",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.webhook_client_ca_file; }),
       "PEM CA bundle of the API server's webhook client certificate (default: none)"},
      {"webhookClientAuth", "webhook-client-auth",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.webhook_client_auth; }),
       "require (refuse callers without that certificate) or request (serve them, mark their "
       "audit records unverified); default request"},
      {"webhookClientNames", "webhook-client-names",
       StringListTarget(
           [](ControllerConfig& c) -> std::vector<std::string>& { return c.webhook_client_names; }),
       "subject common names the webhook client certificate may carry (default: any)"},
      {"certificates.webhookSecret", "webhook-cert-secret",
       StringTarget(
           [](ControllerConfig& c) -> std::string& { return c.certificates.webhook_secret; }),
       "kubernetes.io/tls Secret in the namespace holding the webhooks' certificate; made when "
       "missing and written into --webhook-cert-dir (default: none, the files are given)"},
      {"certificates.webhookService", "webhook-service",
       StringTarget(
           [](ControllerConfig& c) -> std::string& { return c.certificates.webhook_service; }),
       "Service in the namespace in front of the webhooks: the names the certificate is for"},
      {"certificates.webhookConfigurations", "webhook-configurations",
       StringListTarget([](ControllerConfig& c) -> std::vector<std::string>& {
         return c.certificates.webhook_configurations;
       }),
       "mutating/NAME or validating/NAME: configurations given that certificate's CA as caBundle"},
      {"certificates.metricsSecret", "metrics-cert-secret",
       StringTarget(
           [](ControllerConfig& c) -> std::string& { return c.certificates.metrics_secret; }),
       "kubernetes.io/tls Secret for /metrics' certificate (ca.crt for scrapers); made when "
       "missing and written into --metrics-cert-dir"},
      {"certificates.metricsService", "metrics-service",
       StringTarget(
           [](ControllerConfig& c) -> std::string& { return c.certificates.metrics_service; }),
       "Service in the namespace in front of /metrics"},
      {"certificates.validity", "certificate-validity",
       SecondsTarget(
           [](ControllerConfig& c) -> std::chrono::seconds& { return c.certificates.validity; }),
       "validity of the certificates the controller makes; renewed with a third left (default "
       "8760h)"},
      {"logLevel", "log-level",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.log_level; }),
       "debug, info, warn or error (default info)"},
      {"policy.allowedNamespaces", "allowed-namespaces",
       StringListTarget([](ControllerConfig& c) -> std::vector<std::string>& {
         return c.policy.allowed_namespaces;
       }),
       "namespaces where sessions may run (default: all not forbidden)"},
      {"policy.forbiddenNamespaces", "forbidden-namespaces",
       StringListTarget([](ControllerConfig& c) -> std::vector<std::string>& {
         return c.policy.forbidden_namespaces;
       }),
       "namespaces where sessions never run; wins over allowed (default kube-system)"},
      {"policy.defaultTtl", "default-ttl",
       SecondsTarget(
           [](ControllerConfig& c) -> std::chrono::seconds& { return c.policy.default_ttl; }),
       "session TTL when a DebugSession sets none (default 5m)"},
      {"policy.maxTtl", "max-ttl",
       SecondsTarget([](ControllerConfig& c) -> std::chrono::seconds& { return c.policy.max_ttl; }),
       "longest TTL a DebugSession may ask for (default 1h)"},
      {"policy.allowedProfiles", "allowed-profiles",
       StringListTarget([](ControllerConfig& c) -> std::vector<std::string>& {
         return c.policy.allowed_profiles;
       }),
       "profiles sessions may use: restricted, ptrace (default both)"},
      {"policy.strictAudit", "strict-audit",
       BoolTarget([](ControllerConfig& c) -> bool& { return c.policy.strict_audit; }),
       "start no new session while the audit sink cannot take records (default false)"},
      {"policy.annotateDebuggedPods", "annotate-debugged-pods",
       BoolTarget([](ControllerConfig& c) -> bool& { return c.policy.annotate_debugged_pods; }),
       "annotate a pod when a session injects into it (default false)"},
      {"policy.recycleDebuggedPods", "recycle-debugged-pods",
       BoolTarget([](ControllerConfig& c) -> bool& { return c.policy.recycle_debugged_pods; }),
       "delete a debugged pod that has an owner once its session ends (default false)"},
      {"policy.ephemeralContainers", "ephemeral-containers",
       StringTarget(
           [](ControllerConfig& c) -> std::string& { return c.policy.ephemeral_containers; }),
       "ephemeral containers Ephemera did not add: audit (record) or enforce (also deny)"},
      {"policy.hostNamespaces", "host-namespaces",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.policy.host_namespaces; }),
       "sessions on pods sharing the node's namespaces (hostPID, hostIPC, hostNetwork) or on "
       "privileged containers: deny (default) or allow (for requesters with use on "
       "debugprofiles/host)"},
      {"policy.pii.default", "pii-default",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.policy.pii_default; }),
       "personal data masked in free text for sessions that name no mode: none, standard "
       "(e-mail, card numbers, IBANs, phone numbers; default) or strict (also IP addresses)"},
      {"policy.pii.minimum", "pii-minimum",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.policy.pii_minimum; }),
       "the least PII masking a session may ask for: none (default), standard or strict"},
      {"policy.logs.access", "logs-access",
       StringTarget([](ControllerConfig& c) -> std::string& { return c.policy.logs_access; }),
       "what a session that captures logs needs: podsLog (get pods/log on the target pod; "
       "default) or debugProfile (use on debugprofiles/logs, so that raw pods/log can be taken "
       "away and redacted, recorded access given instead)"},
      {"policy.logs.defaultTailLines", "logs-default-tail-lines",
       IntTarget([](ControllerConfig& c) -> int& { return c.policy.logs_default_tail_lines; }),
       "lines read per log instance when spec.logs.tailLines is unset (default 1000)"},
      {"policy.logs.maxTailLines", "logs-max-tail-lines",
       IntTarget([](ControllerConfig& c) -> int& { return c.policy.logs_max_tail_lines; }),
       "most lines a session may read per log instance (default 10000)"},
      {"policy.logs.defaultLimitBytes", "logs-default-limit-bytes",
       IntTarget([](ControllerConfig& c) -> int& { return c.policy.logs_default_limit_bytes; }),
       "bytes read per log instance when spec.logs.limitBytes is unset (default 262144)"},
      {"policy.logs.maxLimitBytes", "logs-max-limit-bytes",
       IntTarget([](ControllerConfig& c) -> int& { return c.policy.logs_max_limit_bytes; }),
       "most bytes a session may read per log instance, at most 1048576 (default 524288)"},
      {"policy.logs.maxSince", "logs-max-since",
       SecondsTarget(
           [](ControllerConfig& c) -> std::chrono::seconds& { return c.policy.logs_max_since; }),
       "the longest spec.logs.since window (default 24h)"},
      {"policy.budget.defaultCpu", "budget-default-cpu",
       SecondsTarget([](ControllerConfig& c) -> std::chrono::seconds& {
         return c.policy.budget_default_cpu;
       }),
       "the snapshot tool's CPU time when spec.budget.cpu is unset (default 2s)"},
      {"policy.budget.maxCpu", "budget-max-cpu",
       SecondsTarget(
           [](ControllerConfig& c) -> std::chrono::seconds& { return c.policy.budget_max_cpu; }),
       "the most CPU time a session may give the snapshot tool (default 10s)"},
      {"policy.budget.defaultMemoryBytes", "budget-default-memory-bytes",
       IntTarget([](ControllerConfig& c) -> int& { return c.policy.budget_default_memory_bytes; }),
       "the snapshot tool's peak memory in bytes when spec.budget.memoryBytes is unset (default "
       "67108864)"},
      {"policy.budget.maxMemoryBytes", "budget-max-memory-bytes",
       IntTarget([](ControllerConfig& c) -> int& { return c.policy.budget_max_memory_bytes; }),
       "the most peak memory in bytes a session may give the snapshot tool, at most 1073741824 "
       "(default 268435456)"},
      {"policy.budget.defaultWall", "budget-default-wall",
       SecondsTarget([](ControllerConfig& c) -> std::chrono::seconds& {
         return c.policy.budget_default_wall;
       }),
       "the snapshot tool's deadline when spec.budget.wall is unset (default 20s)"},
      {"policy.budget.maxWall", "budget-max-wall",
       SecondsTarget(
           [](ControllerConfig& c) -> std::chrono::seconds& { return c.policy.budget_max_wall; }),
       "the longest deadline a session may give the snapshot tool, at most 1h (default 2m)"},
  };
  return settings;
}

const Setting* FindByPath(std::string_view path) {
  for (const Setting& setting : Settings()) {
    if (setting.path == path) return &setting;
  }
  return nullptr;
}

const Setting* FindByFlag(std::string_view flag) {
  for (const Setting& setting : Settings()) {
    if (setting.flag == flag) return &setting;
  }
  return nullptr;
}

// Joins `parts` (one allocation; for messages built inside loops).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out += part;
  return out;
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const auto lower = [](char c) { return static_cast<char>(std::tolower(c)); };
      const std::size_t substitution =
          previous[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

// ` Did you mean "x"?` for the closest candidate within a few edits, else "".
std::string Suggestion(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view quote_prefix = "") {
  std::string best;
  std::size_t best_distance = 4;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  if (best.empty()) return "";
  return " Did you mean \"" + std::string(quote_prefix) + best + "\"?";
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

std::string Where(const SettingOrigins& origins, std::string_view path) {
  auto it = origins.find(std::string(path));
  return it == origins.end() ? "" : it->second + ": ";
}

// Parses `text` into the setting's field. Errors start with `origin` and name the setting.
Status ApplyValue(const Setting& setting, std::string_view text, std::string_view origin,
                  ControllerConfig& config) {
  const std::string prefix = std::string(origin) + ": " + std::string(setting.path);
  if (auto* target = std::get_if<StringTarget>(&setting.target)) {
    (*target)(config) = std::string(text);
    return OkStatus();
  }
  if (auto* target = std::get_if<BoolTarget>(&setting.target)) {
    // YAML 1.2's core schema spellings; "yes"/"on" are YAML 1.1 and deliberately refused.
    if (text == "true" || text == "True" || text == "TRUE") {
      (*target)(config) = true;
    } else if (text == "false" || text == "False" || text == "FALSE") {
      (*target)(config) = false;
    } else {
      return InvalidArgumentError(prefix + " must be true or false, not \"" + std::string(text) +
                                  "\"");
    }
    return OkStatus();
  }
  if (auto* target = std::get_if<StringListTarget>(&setting.target)) {
    // Flags carry lists comma-separated; the YAML path hands each element over joined the same way.
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size() && !text.empty()) {
      const std::size_t comma = text.find(',', start);
      const std::string_view item = text.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (item.empty()) {
        return InvalidArgumentError(prefix + " has an empty element in \"" + std::string(text) +
                                    "\"; separate names with single commas");
      }
      items.emplace_back(item);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    (*target)(config) = std::move(items);
    return OkStatus();
  }
  if (auto* target = std::get_if<IntTarget>(&setting.target)) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      return InvalidArgumentError(prefix + " must be a whole number, not \"" + std::string(text) +
                                  "\"");
    }
    (*target)(config) = value;
    return OkStatus();
  }
  auto* target = std::get_if<SecondsTarget>(&setting.target);
  auto duration = base::ParseDuration(text);
  if (!duration.ok()) return InvalidArgumentError(prefix + ": " + duration.status().message());
  if (duration->count() % 1'000'000'000 != 0) {
    return InvalidArgumentError(prefix + " must be a whole number of seconds, not \"" +
                                std::string(text) + "\"; write e.g. 1s or 90s");
  }
  (*target)(config) = std::chrono::duration_cast<std::chrono::seconds>(*duration);
  return OkStatus();
}

std::string MarkOf(std::string_view file_name, const YAML::Mark& mark) {
  return std::string(file_name) + ":" + std::to_string(mark.line + 1) + ":" +
         std::to_string(mark.column + 1);
}

// Applies one YAML mapping whose keys are `prefix` + key (prefix "" or "leaderElection.").
Status ApplyYamlMap(const YAML::Node& map, std::string_view prefix, std::string_view file_name,
                    ControllerConfig& config, SettingOrigins& origins) {
  // The keys allowed at this level, for "did you mean" and the list in the error.
  std::vector<std::string> known;
  std::set<std::string> sections;
  for (const Setting& setting : Settings()) {
    if (!setting.path.starts_with(prefix)) continue;
    std::string_view rest = setting.path.substr(prefix.size());
    const std::size_t dot = rest.find('.');
    std::string key(rest.substr(0, dot));
    if (dot != std::string_view::npos) sections.insert(key);
    if (std::find(known.begin(), known.end(), key) == known.end()) known.push_back(key);
  }
  const std::string where_level = prefix.empty()
                                      ? "at the top level"
                                      : "in " + std::string(prefix.substr(0, prefix.size() - 1));

  std::set<std::string> seen;
  for (const auto& entry : map) {
    // Copies: yaml-cpp's iterators hand out temporaries, so references into them would dangle.
    const YAML::Node key_node = entry.first;
    const YAML::Node value = entry.second;
    const std::string at = MarkOf(file_name, key_node.Mark());
    if (!key_node.IsScalar()) {
      return InvalidArgumentError(Cat({at, ": keys must be plain names ", where_level}));
    }
    const std::string& key = key_node.Scalar();
    if (!seen.insert(key).second) {
      return InvalidArgumentError(
          Cat({at, ": duplicate key \"", key, "\" ", where_level, "; remove one of them"}));
    }
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return InvalidArgumentError(Cat({at, ": unknown key \"", key, "\" ", where_level, ".",
                                       Suggestion(key, known), " Known keys: ", Join(known), "."}));
    }
    const std::string path = Cat({prefix, key});
    if (sections.contains(key)) {
      if (value.IsNull()) continue;
      if (!value.IsMap()) {
        return InvalidArgumentError(
            Cat({at, ": ", path, " must be a mapping of settings (indented key: value lines)"}));
      }
      EPHEMERA_RETURN_IF_ERROR(ApplyYamlMap(value, Cat({path, "."}), file_name, config, origins));
      continue;
    }
    const Setting* setting = FindByPath(path);
    const std::string value_at = MarkOf(file_name, value.Mark());
    std::string text;
    if (value.IsNull()) {
      if (!std::holds_alternative<StringTarget>(setting->target)) {
        return InvalidArgumentError(Cat({at, ": ", path, " needs a value"}));
      }
    } else if (std::holds_alternative<StringListTarget>(setting->target)) {
      if (!value.IsSequence()) {
        return InvalidArgumentError(
            Cat({value_at, ": ", path, " must be a list, e.g. [team-a, team-b]"}));
      }
      for (const auto& item : value) {
        if (!item.IsScalar() || item.Scalar().empty() ||
            item.Scalar().find(',') != std::string::npos) {
          return InvalidArgumentError(Cat({MarkOf(file_name, item.Mark()), ": ", path,
                                           " must list plain names (no commas, no nesting)"}));
        }
        if (!text.empty()) text += ',';
        text += item.Scalar();
      }
    } else if (!value.IsScalar()) {
      return InvalidArgumentError(
          Cat({value_at, ": ", path, " must be a single value, not a list or mapping"}));
    } else {
      text = value.Scalar();
    }
    EPHEMERA_RETURN_IF_ERROR(ApplyValue(*setting, text, value_at, config));
    origins[path] = value_at;
  }
  return OkStatus();
}

std::vector<std::string> AllFlags() {
  std::vector<std::string> flags = {"config", "help"};
  for (const Setting& setting : Settings()) flags.emplace_back(setting.flag);
  return flags;
}

bool IsDnsLabel(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return name.front() != '-' && name.back() != '-';
}

bool IsDnsSubdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = name.find('.', start);
    const std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!IsDnsLabel(label)) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

Status ValidatePolicy(const PolicySettings& policy, const SettingOrigins& origins) {
  if (policy.default_ttl <= std::chrono::seconds::zero()) {
    return InvalidArgumentError(Where(origins, "policy.defaultTtl") +
                                "policy.defaultTtl must be positive");
  }
  if (policy.max_ttl <= std::chrono::seconds::zero()) {
    return InvalidArgumentError(Where(origins, "policy.maxTtl") + "policy.maxTtl must be positive");
  }
  if (policy.default_ttl > policy.max_ttl) {
    return InvalidArgumentError(
        Where(origins,
              origins.contains("policy.defaultTtl") ? "policy.defaultTtl" : "policy.maxTtl") +
        "policy.defaultTtl (" + base::FormatDuration(policy.default_ttl) +
        ") must not exceed policy.maxTtl (" + base::FormatDuration(policy.max_ttl) +
        "); lower defaultTtl or raise maxTtl");
  }
  for (const auto& [path, names] :
       {std::pair{"policy.allowedNamespaces", &policy.allowed_namespaces},
        std::pair{"policy.forbiddenNamespaces", &policy.forbidden_namespaces}}) {
    for (const std::string& name : *names) {
      if (!IsDnsLabel(name)) {
        return InvalidArgumentError(Where(origins, path) + path + ": \"" + name +
                                    "\" is not a valid namespace name (lowercase letters, digits "
                                    "and '-', at most 63)");
      }
    }
  }
  if (policy.allowed_profiles.empty()) {
    return InvalidArgumentError(Where(origins, "policy.allowedProfiles") +
                                "policy.allowedProfiles must name at least one profile "
                                "(restricted, ptrace); to stop all sessions, forbid namespaces");
  }
  for (const std::string& profile : policy.allowed_profiles) {
    if (profile != "restricted" && profile != "ptrace") {
      return InvalidArgumentError(Where(origins, "policy.allowedProfiles") +
                                  "policy.allowedProfiles: unknown profile \"" + profile +
                                  "\"; the profiles are restricted and ptrace");
    }
  }
  if (policy.ephemeral_containers != "audit" && policy.ephemeral_containers != "enforce") {
    return InvalidArgumentError(Where(origins, "policy.ephemeralContainers") +
                                "policy.ephemeralContainers must be audit or enforce, not \"" +
                                policy.ephemeral_containers + "\"");
  }
  if (policy.host_namespaces != "deny" && policy.host_namespaces != "allow") {
    return InvalidArgumentError(Where(origins, "policy.hostNamespaces") +
                                "policy.hostNamespaces must be deny or allow, not \"" +
                                policy.host_namespaces + "\"");
  }
  const auto pii_rank = [](const std::string& mode) {
    return mode == "none" ? 0 : mode == "standard" ? 1 : mode == "strict" ? 2 : -1;
  };
  for (const auto& [path, mode] : {std::pair{"policy.pii.default", &policy.pii_default},
                                   std::pair{"policy.pii.minimum", &policy.pii_minimum}}) {
    if (pii_rank(*mode) < 0) {
      return InvalidArgumentError(Where(origins, path) + path +
                                  " must be none, standard or strict, not \"" + *mode + "\"");
    }
  }
  if (policy.logs_access != "podsLog" && policy.logs_access != "debugProfile") {
    return InvalidArgumentError(Where(origins, "policy.logs.access") +
                                "policy.logs.access must be podsLog or debugProfile, not \"" +
                                policy.logs_access + "\"");
  }
  // The delivered DebugSnapshot holds two instances and must stay under the API server's object
  // size limit (about 1.5 MiB).
  constexpr int kMaxLogBytesCeiling = 1024 * 1024;
  for (const auto& [default_path, max_path, default_value, max_value, ceiling] :
       {std::tuple{"policy.logs.defaultTailLines", "policy.logs.maxTailLines",
                   policy.logs_default_tail_lines, policy.logs_max_tail_lines, 1000000},
        std::tuple{"policy.logs.defaultLimitBytes", "policy.logs.maxLimitBytes",
                   policy.logs_default_limit_bytes, policy.logs_max_limit_bytes,
                   kMaxLogBytesCeiling}}) {
    if (max_value < 1 || max_value > ceiling) {
      return InvalidArgumentError(Where(origins, max_path) + max_path + " must be between 1 and " +
                                  std::to_string(ceiling) + ", not " + std::to_string(max_value));
    }
    if (default_value < 1 || default_value > max_value) {
      return InvalidArgumentError(
          Where(origins, default_path) + default_path + " must be between 1 and " + max_path +
          " (" + std::to_string(max_value) + "), not " + std::to_string(default_value));
    }
  }
  for (const auto& [default_path, max_path, default_value, max_value] :
       {std::tuple{"policy.budget.defaultCpu", "policy.budget.maxCpu", policy.budget_default_cpu,
                   policy.budget_max_cpu},
        std::tuple{"policy.budget.defaultWall", "policy.budget.maxWall", policy.budget_default_wall,
                   policy.budget_max_wall}}) {
    if (max_value < std::chrono::seconds(1) || max_value > std::chrono::hours(1)) {
      return InvalidArgumentError(Where(origins, max_path) + max_path +
                                  " must be between 1s and 1h, not " +
                                  base::FormatDuration(max_value));
    }
    if (default_value < std::chrono::seconds(1) || default_value > max_value) {
      return InvalidArgumentError(
          Where(origins, default_path) + default_path + " must be between 1s and " + max_path +
          " (" + base::FormatDuration(max_value) + "), not " + base::FormatDuration(default_value));
    }
  }
  {
    // The tool needs about 8 MiB to run at all; above 1 GiB its address-space ceiling stops it.
    constexpr int kMinBudgetMemory = 16 << 20;
    constexpr int kMaxBudgetMemory = 1 << 30;
    if (policy.budget_max_memory_bytes < kMinBudgetMemory ||
        policy.budget_max_memory_bytes > kMaxBudgetMemory) {
      return InvalidArgumentError(
          Where(origins, "policy.budget.maxMemoryBytes") +
          "policy.budget.maxMemoryBytes must be between 16777216 and 1073741824, not " +
          std::to_string(policy.budget_max_memory_bytes));
    }
    if (policy.budget_default_memory_bytes < kMinBudgetMemory ||
        policy.budget_default_memory_bytes > policy.budget_max_memory_bytes) {
      return InvalidArgumentError(Where(origins, "policy.budget.defaultMemoryBytes") +
                                  "policy.budget.defaultMemoryBytes must be between 16777216 and "
                                  "policy.budget.maxMemoryBytes (" +
                                  std::to_string(policy.budget_max_memory_bytes) + "), not " +
                                  std::to_string(policy.budget_default_memory_bytes));
    }
  }
  if (policy.logs_max_since < std::chrono::seconds(1)) {
    return InvalidArgumentError(Where(origins, "policy.logs.maxSince") +
                                "policy.logs.maxSince must be at least 1s");
  }
  if (pii_rank(policy.pii_default) < pii_rank(policy.pii_minimum)) {
    return InvalidArgumentError(
        Where(origins, origins.contains("policy.pii.default") ? "policy.pii.default"
                                                              : "policy.pii.minimum") +
        "policy.pii.default (" + policy.pii_default + ") masks less than policy.pii.minimum (" +
        policy.pii_minimum + "); raise the default or lower the minimum");
  }
  return OkStatus();
}

}  // namespace

StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args) {
  ParsedFlags parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      parsed.help = true;
      continue;
    }
    if (!arg.starts_with("--") || arg.size() == 2) {
      return InvalidArgumentError(
          Cat({"unexpected argument \"", arg,
               "\": settings are flags like --name=value; run with --help"}));
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const std::size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const Setting* setting = FindByFlag(name);
    if (name != "config" && setting == nullptr) {
      return InvalidArgumentError(
          Cat({"unknown flag --", name, ".", Suggestion(name, AllFlags(), "--"),
               " Run with --help for the list of flags."}));
    }
    if (!value) {
      if (setting != nullptr && std::holds_alternative<BoolTarget>(setting->target)) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return InvalidArgumentError(Cat({"flag --", name, " needs a value: --", name, "=<value>"}));
      }
    }
    if (name == "config") {
      parsed.config_file = *value;
    } else {
      parsed.settings.emplace_back(name, *value);
    }
  }
  return parsed;
}

Status ApplyConfigYaml(std::string_view yaml_text, std::string_view file_name,
                       ControllerConfig& config, SettingOrigins& origins) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(MarkOf(file_name, e.mark) + ": not valid YAML: " + e.msg);
  }
  if (!root || root.IsNull()) return OkStatus();  // an empty file changes nothing
  if (!root.IsMap()) {
    return InvalidArgumentError(MarkOf(file_name, root.Mark()) +
                                ": the config file must be a mapping of settings (key: value)");
  }
  try {
    return ApplyYamlMap(root, "", file_name, config, origins);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(MarkOf(file_name, e.mark) + ": " + e.msg);
  }
}

Status ApplyFlags(const ParsedFlags& flags, ControllerConfig& config, SettingOrigins& origins) {
  for (const auto& [name, value] : flags.settings) {
    const Setting* setting = FindByFlag(name);
    if (setting == nullptr) return InvalidArgumentError(Cat({"unknown flag --", name}));
    const std::string origin = Cat({"flag --", name});
    EPHEMERA_RETURN_IF_ERROR(ApplyValue(*setting, value, origin, config));
    origins[std::string(setting->path)] = origin;
  }
  return OkStatus();
}

bool IsPinnedImage(std::string_view image) {
  const std::size_t at = image.find('@');
  if (at == 0 || at == std::string_view::npos) return false;
  const std::string_view digest = image.substr(at + 1);
  constexpr std::string_view kAlgorithm = "sha256:";
  if (!digest.starts_with(kAlgorithm) || digest.size() != kAlgorithm.size() + 64) return false;
  return std::all_of(digest.begin() + kAlgorithm.size(), digest.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

namespace {

Status ValidateCertificates(const ControllerConfig& config, const SettingOrigins& origins) {
  const CertificateSettings& c = config.certificates;
  struct Kept {
    std::string_view what, secret_path, service_path, dir_path;
    const std::string& secret;
    const std::string& service;
    const std::string& dir;
  };
  const Kept kept[] = {
      {"webhooks", "certificates.webhookSecret", "certificates.webhookService", "webhookCertDir",
       c.webhook_secret, c.webhook_service, config.webhook_cert_dir},
      {"/metrics", "certificates.metricsSecret", "certificates.metricsService", "metricsCertDir",
       c.metrics_secret, c.metrics_service, config.metrics_cert_dir}};
  for (const Kept& k : kept) {
    if (k.secret.empty()) continue;
    const std::string where = Where(origins, std::string(k.secret_path));
    if (!IsDnsSubdomain(k.secret)) {
      return InvalidArgumentError(where + std::string(k.secret_path) + " \"" + k.secret +
                                  "\" is not a valid Secret name");
    }
    if (!IsDnsLabel(k.service)) {
      return InvalidArgumentError(where + std::string(k.secret_path) + " needs " +
                                  std::string(k.service_path) +
                                  ": the Service the certificate is for (a valid Service name)");
    }
    if (k.dir.empty()) {
      return InvalidArgumentError(where + std::string(k.secret_path) + " needs " +
                                  std::string(k.dir_path) + ": the directory the " +
                                  std::string(k.what) + " server reads tls.crt and tls.key from");
    }
  }
  if (c.webhook_secret.empty() && !c.webhook_configurations.empty()) {
    return InvalidArgumentError(Where(origins, "certificates.webhookConfigurations") +
                                "certificates.webhookConfigurations needs "
                                "certificates.webhookSecret: the certificate whose CA they get");
  }
  for (const std::string& configuration : c.webhook_configurations) {
    const std::size_t slash = configuration.find('/');
    const std::string kind = configuration.substr(0, slash == std::string::npos ? 0 : slash);
    const std::string name =
        slash == std::string::npos ? std::string() : configuration.substr(slash + 1);
    if ((kind != "mutating" && kind != "validating") || !IsDnsSubdomain(name)) {
      return InvalidArgumentError(Where(origins, "certificates.webhookConfigurations") + "\"" +
                                  configuration +
                                  "\" is not a webhook configuration: write mutating/NAME or "
                                  "validating/NAME");
    }
  }
  if (!(c.webhook_secret.empty() && c.metrics_secret.empty()) &&
      c.validity < std::chrono::hours(24)) {
    return InvalidArgumentError(Where(origins, "certificates.validity") +
                                "certificates.validity must be at least 24h, not " +
                                base::FormatDuration(c.validity));
  }
  return OkStatus();
}

}  // namespace

Status ValidateControllerConfig(const ControllerConfig& config, const SettingOrigins& origins) {
  if (config.snapshot_image.empty()) {
    return InvalidArgumentError(
        "snapshotImage is required: set snapshotImage in the config file or pass "
        "--snapshot-image=<name>@sha256:<digest>");
  }
  if (!config.allow_unpinned_image && !IsPinnedImage(config.snapshot_image)) {
    return InvalidArgumentError(
        Where(origins, "snapshotImage") + "snapshotImage \"" + config.snapshot_image +
        "\" is not pinned by digest; use <name>@sha256:<64 hex digits> (for development only, "
        "set allowUnpinnedImage: true or pass --allow-unpinned-image)");
  }
  EPHEMERA_RETURN_IF_ERROR(ValidatePolicy(config.policy, origins));
  for (const auto& [path, value] : {std::pair{"kubeApiQps", config.kube_api_qps},
                                    std::pair{"kubeApiBurst", config.kube_api_burst}}) {
    if (value < 1 || value > 10000) {
      return InvalidArgumentError(Where(origins, path) + path +
                                  " must be between 1 and 10000, not " + std::to_string(value));
    }
  }
  if (config.workers < 1 || config.workers > 64) {
    return InvalidArgumentError(Where(origins, "workers") +
                                "workers must be between 1 and 64, not " +
                                std::to_string(config.workers));
  }
  if (!config.namespace_name.empty() && !IsDnsLabel(config.namespace_name)) {
    return InvalidArgumentError(Where(origins, "namespace") + "namespace \"" +
                                config.namespace_name +
                                "\" is not a valid namespace name (lowercase letters, digits and "
                                "'-', at most 63)");
  }
  const LeaderElectionSettings& le = config.leader_election;
  if (le.enabled) {
    if (!IsDnsSubdomain(le.lease_name)) {
      return InvalidArgumentError(Where(origins, "leaderElection.leaseName") +
                                  "leaderElection.leaseName \"" + le.lease_name +
                                  "\" is not a valid object name (lowercase letters, digits, '-' "
                                  "and '.')");
    }
    if (le.retry_period <= std::chrono::seconds::zero()) {
      return InvalidArgumentError(Where(origins, "leaderElection.retryPeriod") +
                                  "leaderElection.retryPeriod must be positive");
    }
    if (le.lease_duration <= le.renew_deadline) {
      return InvalidArgumentError(
          Where(origins, "leaderElection.leaseDuration") + "leaderElection.leaseDuration (" +
          base::FormatDuration(le.lease_duration) + ") must be greater than renewDeadline (" +
          base::FormatDuration(le.renew_deadline) + ")");
    }
    if (static_cast<double>(le.renew_deadline.count()) <=
        1.2 * static_cast<double>(le.retry_period.count())) {
      return InvalidArgumentError(
          Where(origins, "leaderElection.renewDeadline") + "leaderElection.renewDeadline (" +
          base::FormatDuration(le.renew_deadline) + ") must be greater than 1.2 x retryPeriod (" +
          base::FormatDuration(le.retry_period) + ")");
    }
  }
  const std::pair<std::string_view, const std::string*> addresses[] = {
      {"healthProbeAddress", &config.health_probe_address},
      {"metricsAddress", &config.metrics_address},
      {"webhookAddress", &config.webhook_address}};
  for (const auto& [path, address] : addresses) {
    auto parsed = base::ParseHostPort(*address);
    if (!parsed.ok()) {
      return InvalidArgumentError(Where(origins, path) + std::string(path) + ": " +
                                  parsed.status().message());
    }
  }
  if (config.metrics_address == config.health_probe_address) {
    return InvalidArgumentError(Where(origins, "metricsAddress") + "metricsAddress \"" +
                                config.metrics_address +
                                "\" is also healthProbeAddress: /metrics is served over HTTPS and "
                                "the probes over plain HTTP, so give them different ports");
  }
  if (config.webhook_client_auth != "request" && config.webhook_client_auth != "require") {
    return InvalidArgumentError(Where(origins, "webhookClientAuth") + "webhookClientAuth \"" +
                                config.webhook_client_auth + "\" is not one of request, require");
  }
  if (config.webhook_client_auth == "require" && config.webhook_client_ca_file.empty()) {
    return InvalidArgumentError(Where(origins, "webhookClientAuth") +
                                "webhookClientAuth require needs webhookClientCaFile: give the CA "
                                "that signs the API server's webhook client certificate");
  }
  EPHEMERA_RETURN_IF_ERROR(ValidateCertificates(config, origins));
  static const std::set<std::string> kLevels = {"debug", "info", "warn", "warning", "error"};
  if (!kLevels.contains(config.log_level)) {
    return InvalidArgumentError(Where(origins, "logLevel") + "logLevel \"" + config.log_level +
                                "\" is not one of debug, info, warn, error");
  }
  return OkStatus();
}

std::string UsageText() {
  std::string out =
      "Usage: ephemera-controller [--config=FILE] [flags]\n\n"
      "Settings come from defaults, then the YAML file given by --config (camelCase keys),\n"
      "then flags. Durations are written like 60s, 5m or 1h30m.\n\n"
      "  --config=FILE  YAML file with settings\n"
      "  --help         print this text\n";
  for (const Setting& setting : Settings()) {
    out += "  --" + std::string(setting.flag) + "  (" + std::string(setting.path) + ") " +
           std::string(setting.help) + "\n";
  }
  return out;
}

}  // namespace ephemera::config
