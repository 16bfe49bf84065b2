#include "controller/config/controller_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "controller/config/load_config.h"

namespace ephemera::config {
namespace {

using namespace std::chrono_literals;

const std::string kDigest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string Fixture(std::string_view name) {
  return std::string(EPHEMERA_TESTDATA_DIR) + "/config/" + std::string(name);
}

// Sources whose in-cluster namespace file does not exist unless a test creates it.
ConfigSources Sources(std::vector<std::string> args) {
  ConfigSources sources;
  sources.args = std::move(args);
  sources.in_cluster_namespace_file = "/nonexistent/ephemera-test/namespace";
  return sources;
}

StatusOr<ControllerConfig> LoadFixture(std::string_view name, std::vector<std::string> flags = {}) {
  std::vector<std::string> args = {"--config=" + Fixture(name)};
  args.insert(args.end(), flags.begin(), flags.end());
  return LoadControllerConfig(Sources(std::move(args)));
}

// The error message of loading `name`, which must fail with kInvalidArgument.
std::string ErrorOf(std::string_view name, std::vector<std::string> flags = {}) {
  auto loaded = LoadFixture(name, std::move(flags));
  EXPECT_FALSE(loaded.ok()) << name << " loaded";
  if (loaded.ok()) return "";
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument) << loaded.status().ToString();
  return loaded.status().message();
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(ControllerConfigTest, ValidFileSetsEverySetting) {
  auto loaded = LoadFixture("valid.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const ControllerConfig& config = *loaded;
  EXPECT_EQ(config.kubeconfig, "/etc/ephemera/kubeconfig");
  EXPECT_EQ(config.namespace_name, "debug-system");
  EXPECT_EQ(config.snapshot_image, "registry.local/ephemera-snapshot:0.1.0@sha256:" + kDigest);
  EXPECT_FALSE(config.allow_unpinned_image);
  EXPECT_EQ(config.policy.default_ttl, 10min);
  EXPECT_EQ(config.policy.max_ttl, 90min);
  EXPECT_EQ(config.policy.allowed_namespaces, (std::vector<std::string>{"team-a", "team-b"}));
  EXPECT_EQ(config.policy.forbidden_namespaces,
            (std::vector<std::string>{"kube-system", "payments"}));
  EXPECT_EQ(config.policy.allowed_profiles, std::vector<std::string>{"restricted"});
  EXPECT_TRUE(config.policy.strict_audit);
  EXPECT_TRUE(config.policy.annotate_debugged_pods);
  EXPECT_TRUE(config.policy.recycle_debugged_pods);
  EXPECT_EQ(config.policy.ephemeral_containers, "enforce");
  EXPECT_EQ(config.workers, 4);
  EXPECT_TRUE(config.leader_election.enabled);
  EXPECT_EQ(config.leader_election.lease_name, "ephemera-leader");
  EXPECT_EQ(config.leader_election.lease_duration, 30s);
  EXPECT_EQ(config.leader_election.renew_deadline, 20s);
  EXPECT_EQ(config.leader_election.retry_period, 4s);
  EXPECT_EQ(config.metrics_address, "127.0.0.1:9090");
  EXPECT_EQ(config.webhook_address, ":10443");
  EXPECT_EQ(config.webhook_cert_dir, "/var/run/ephemera/certs");
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.config_file, Fixture("valid.yaml"));
  EXPECT_FALSE(config.help_requested);
}

TEST(ControllerConfigTest, MinimalFileKeepsDefaults) {
  auto loaded = LoadFixture("minimal.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->kubeconfig, "");
  EXPECT_EQ(loaded->namespace_name, "ephemera-system");
  EXPECT_EQ(loaded->policy.default_ttl, 5min);
  EXPECT_EQ(loaded->policy.max_ttl, 1h);
  EXPECT_TRUE(loaded->policy.allowed_namespaces.empty());
  EXPECT_EQ(loaded->policy.forbidden_namespaces, std::vector<std::string>{"kube-system"});
  EXPECT_EQ(loaded->policy.allowed_profiles, (std::vector<std::string>{"restricted", "ptrace"}));
  EXPECT_FALSE(loaded->policy.strict_audit);
  EXPECT_EQ(loaded->policy.ephemeral_containers, "audit");
  EXPECT_EQ(loaded->workers, 2);
  EXPECT_TRUE(loaded->leader_election.enabled);
  EXPECT_EQ(loaded->leader_election.lease_name, "ephemera-controller");
  EXPECT_EQ(loaded->leader_election.lease_duration, 15s);
  EXPECT_EQ(loaded->leader_election.renew_deadline, 10s);
  EXPECT_EQ(loaded->leader_election.retry_period, 2s);
  EXPECT_EQ(loaded->health_probe_address, ":8080");
  EXPECT_EQ(loaded->metrics_address, ":8443");
  EXPECT_EQ(loaded->metrics_cert_dir, "");
  EXPECT_EQ(loaded->webhook_address, ":9443");
  EXPECT_EQ(loaded->log_level, "info");
}

TEST(ControllerConfigTest, FlagsOverrideTheFile) {
  auto loaded = LoadFixture("valid.yaml", {"--workers=8", "--max-ttl", "2h", "--leader-elect=false",
                                           "--log-level=warn", "--kubeconfig="});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->workers, 8);
  EXPECT_EQ(loaded->policy.max_ttl, 2h);
  EXPECT_FALSE(loaded->leader_election.enabled);
  EXPECT_EQ(loaded->log_level, "warn");
  EXPECT_EQ(loaded->kubeconfig, "") << "an empty flag value overrides the file";
  EXPECT_EQ(loaded->policy.default_ttl, 10min) << "untouched settings keep the file's value";
}

TEST(ControllerConfigTest, FlagsAloneWithoutFile) {
  auto loaded = LoadControllerConfig(
      Sources({"--snapshot-image", "img:dev", "--allow-unpinned-image", "--namespace=tools"}));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->snapshot_image, "img:dev");
  EXPECT_TRUE(loaded->allow_unpinned_image) << "a boolean flag alone means true";
  EXPECT_EQ(loaded->namespace_name, "tools");
  EXPECT_EQ(loaded->config_file, "");
}

TEST(ControllerConfigTest, NamespaceFromInClusterFileWhenUnset) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ephemera-config-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / "namespace";
  std::ofstream(file) << "team-tools\n";
  ConfigSources sources = Sources({"--config=" + Fixture("minimal.yaml")});
  sources.in_cluster_namespace_file = file.string();
  auto loaded = LoadControllerConfig(sources);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->namespace_name, "team-tools");
  sources.args.push_back("--namespace=explicit");
  loaded = LoadControllerConfig(sources);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->namespace_name, "explicit");
  std::filesystem::remove_all(dir);
}

TEST(ControllerConfigTest, HelpSkipsValidation) {
  auto loaded = LoadControllerConfig(Sources({"--help"}));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(loaded->help_requested);
  const std::string usage = UsageText();
  for (const char* flag : {"--config",
                           "--kubeconfig",
                           "--namespace",
                           "--snapshot-image",
                           "--allow-unpinned-image",
                           "--default-ttl",
                           "--max-ttl",
                           "--workers",
                           "--leader-elect",
                           "--leader-election-lease-name",
                           "--leader-election-lease-duration",
                           "--leader-election-renew-deadline",
                           "--leader-election-retry-period",
                           "--metrics-address",
                           "--webhook-address",
                           "--webhook-cert-dir",
                           "--health-probe-address",
                           "--metrics-cert-dir",
                           "--log-level",
                           "--kube-api-qps",
                           "--kube-api-burst"}) {
    EXPECT_CONTAINS(usage, flag);
  }
}

TEST(ControllerConfigTest, UnpinnedImageAllowedForDevelopment) {
  auto loaded = LoadFixture("unpinned_allowed.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(loaded->allow_unpinned_image);
}

TEST(ControllerConfigErrorTest, UnknownKeyNamesFileLineAndSuggestion) {
  const std::string error = ErrorOf("unknown_key.yaml");
  EXPECT_CONTAINS(error, Fixture("unknown_key.yaml") + ":3:1: unknown key \"snapshotImg\"");
  EXPECT_CONTAINS(error, "Did you mean \"snapshotImage\"?");
  EXPECT_CONTAINS(error, "Known keys: kubeconfig, namespace, snapshotImage");
}

TEST(ControllerConfigErrorTest, UnknownNestedKey) {
  const std::string error = ErrorOf("unknown_nested_key.yaml");
  EXPECT_CONTAINS(error,
                  "unknown_nested_key.yaml:4:3: unknown key \"leaseDurration\" in "
                  "leaderElection");
  EXPECT_CONTAINS(error, "Did you mean \"leaseDuration\"?");
}

TEST(ControllerConfigErrorTest, BadDuration) {
  const std::string error = ErrorOf("bad_duration.yaml");
  EXPECT_CONTAINS(error,
                  "bad_duration.yaml:3:15: policy.defaultTtl: invalid duration \"5 minutes\"");
  EXPECT_CONTAINS(error, "write it like 60s, 5m, 1h30m");
}

TEST(ControllerConfigErrorTest, DurationWithoutUnit) {
  EXPECT_CONTAINS(
      ErrorOf("duration_without_unit.yaml"),
      "duration_without_unit.yaml:3:11: policy.maxTtl: invalid duration \"3600\": missing unit");
}

TEST(ControllerConfigErrorTest, FractionalSeconds) {
  EXPECT_CONTAINS(ErrorOf("fractional_seconds.yaml"),
                  "fractional_seconds.yaml:3:16: leaderElection.retryPeriod must be a whole "
                  "number of seconds");
}

TEST(ControllerConfigErrorTest, UnpinnedImage) {
  const std::string error = ErrorOf("unpinned_image.yaml");
  EXPECT_CONTAINS(error,
                  "unpinned_image.yaml:1:16: snapshotImage "
                  "\"registry.local/ephemera-snapshot:latest\" is not pinned by digest");
  EXPECT_CONTAINS(error, "<name>@sha256:<64 hex digits>");
  EXPECT_CONTAINS(error, "allowUnpinnedImage: true");
}

TEST(ControllerConfigErrorTest, UnpinnedImageFromFlag) {
  auto loaded = LoadControllerConfig(Sources({"--snapshot-image=img:latest"}));
  ASSERT_FALSE(loaded.ok());
  EXPECT_CONTAINS(loaded.status().message(), "flag --snapshot-image: snapshotImage \"img:latest\"");
}

TEST(ControllerConfigErrorTest, DefaultTtlAboveMaxTtl) {
  EXPECT_CONTAINS(
      ErrorOf("ttl_order.yaml"),
      "ttl_order.yaml:3:15: policy.defaultTtl (2h) must not exceed policy.maxTtl (1h); lower "
      "defaultTtl or raise maxTtl");
}

TEST(ControllerConfigErrorTest, Workers) {
  EXPECT_CONTAINS(ErrorOf("bad_workers.yaml"),
                  "bad_workers.yaml:2:10: workers must be a whole number, not \"two\"");
  EXPECT_CONTAINS(ErrorOf("zero_workers.yaml"),
                  "zero_workers.yaml:2:10: workers must be between 1 and 64, not 0");
}

TEST(ControllerConfigErrorTest, BadBool) {
  EXPECT_CONTAINS(ErrorOf("bad_bool.yaml"),
                  "bad_bool.yaml:2:21: allowUnpinnedImage must be true or false, not \"yes\"");
}

TEST(ControllerConfigErrorTest, BadAddress) {
  const std::string error = ErrorOf("bad_address.yaml");
  EXPECT_CONTAINS(error,
                  "bad_address.yaml:2:17: metricsAddress: address \"8080\" must be "
                  "host:port");
  EXPECT_CONTAINS(error, "e.g. :8080");
}

TEST(ControllerConfigErrorTest, LeaderElectionTimings) {
  EXPECT_CONTAINS(ErrorOf("bad_leader_timings.yaml"),
                  "bad_leader_timings.yaml:3:18: leaderElection.leaseDuration (15s) must be "
                  "greater than renewDeadline (20s)");
  EXPECT_CONTAINS(ErrorOf("minimal.yaml", {"--leader-election-retry-period=9s"}),
                  "must be greater than 1.2 x retryPeriod (9s)");
  auto disabled = LoadFixture("bad_leader_timings.yaml", {"--leader-elect=false"});
  EXPECT_TRUE(disabled.ok()) << "timings are only checked when leader election is enabled";
}

TEST(ControllerConfigErrorTest, ListWhereValueExpected) {
  EXPECT_CONTAINS(ErrorOf("list_value.yaml"),
                  "list_value.yaml:3:3: workers must be a single value, not a list or mapping");
}

TEST(ControllerConfigErrorTest, SectionNotMapping) {
  EXPECT_CONTAINS(ErrorOf("section_not_map.yaml"),
                  "section_not_map.yaml:2:1: leaderElection must be a mapping");
}

TEST(ControllerConfigErrorTest, YamlSyntaxError) {
  const std::string error = ErrorOf("syntax_error.yaml");
  EXPECT_CONTAINS(error, Fixture("syntax_error.yaml") + ":");
  EXPECT_CONTAINS(error, "not valid YAML");
}

TEST(ControllerConfigErrorTest, DuplicateKey) {
  EXPECT_CONTAINS(ErrorOf("duplicate_key.yaml"),
                  "duplicate_key.yaml:3:1: duplicate key \"workers\" at the top level; remove "
                  "one of them");
}

TEST(ControllerConfigErrorTest, DocumentNotMapping) {
  EXPECT_CONTAINS(ErrorOf("not_a_map.yaml"), "must be a mapping of settings");
}

TEST(ControllerConfigErrorTest, BadLogLevel) {
  EXPECT_CONTAINS(ErrorOf("bad_log_level.yaml"),
                  "bad_log_level.yaml:2:11: logLevel \"verbose\" is not one of debug, info, "
                  "warn, error");
}

TEST(ControllerConfigErrorTest, EmptyFileNeedsSnapshotImage) {
  EXPECT_CONTAINS(ErrorOf("empty.yaml"), "snapshotImage is required");
}

TEST(ControllerConfigErrorTest, MissingFile) {
  auto loaded = LoadControllerConfig(Sources({"--config=" + Fixture("does-not-exist.yaml")}));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
  EXPECT_CONTAINS(loaded.status().message(), "does-not-exist.yaml does not exist");
}

TEST(ControllerConfigErrorTest, FlagErrors) {
  auto unknown = LoadControllerConfig(Sources({"--worker=3"}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_CONTAINS(unknown.status().message(), "unknown flag --worker. Did you mean \"--workers\"?");
  auto missing = LoadControllerConfig(Sources({"--snapshot-image"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_CONTAINS(missing.status().message(), "flag --snapshot-image needs a value");
  auto positional = LoadControllerConfig(Sources({"extra"}));
  ASSERT_FALSE(positional.ok());
  EXPECT_CONTAINS(positional.status().message(), "unexpected argument \"extra\"");
  auto bad_value = LoadFixture("minimal.yaml", {"--default-ttl=soon"});
  ASSERT_FALSE(bad_value.ok());
  EXPECT_CONTAINS(bad_value.status().message(),
                  "flag --default-ttl: policy.defaultTtl: invalid duration \"soon\"");
}

TEST(PinnedImageTest, RequiresSha256Digest) {
  EXPECT_TRUE(IsPinnedImage("reg/img@sha256:" + kDigest));
  EXPECT_TRUE(IsPinnedImage("reg/img:1.0@sha256:" + kDigest));
  EXPECT_FALSE(IsPinnedImage("reg/img:1.0"));
  EXPECT_FALSE(IsPinnedImage("reg/img@sha256:" + kDigest.substr(1)));
  EXPECT_FALSE(IsPinnedImage("reg/img@sha512:" + kDigest));
  EXPECT_FALSE(IsPinnedImage("@sha256:" + kDigest));
  std::string upper = kDigest;
  upper[0] = 'A';
  EXPECT_FALSE(IsPinnedImage("reg/img@sha256:" + upper));
}

TEST(ControllerConfigTest, PolicyListsFromFlags) {
  auto loaded = LoadControllerConfig(Sources(
      {"--snapshot-image=img:dev", "--allow-unpinned-image", "--allowed-namespaces=team-a,team-b",
       "--forbidden-namespaces=", "--allowed-profiles", "restricted", "--strict-audit",
       "--ephemeral-containers=enforce"}));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->policy.allowed_namespaces, (std::vector<std::string>{"team-a", "team-b"}));
  EXPECT_TRUE(loaded->policy.forbidden_namespaces.empty()) << "an empty flag clears the list";
  EXPECT_EQ(loaded->policy.allowed_profiles, std::vector<std::string>{"restricted"});
  EXPECT_TRUE(loaded->policy.strict_audit);
  EXPECT_EQ(loaded->policy.ephemeral_containers, "enforce");
}

TEST(ControllerConfigErrorTest, PolicyValues) {
  const auto error_of = [](std::vector<std::string> args) {
    args.insert(args.begin(), {"--snapshot-image=img:dev", "--allow-unpinned-image"});
    auto loaded = LoadControllerConfig(Sources(args));
    EXPECT_FALSE(loaded.ok());
    return loaded.ok() ? std::string() : loaded.status().message();
  };
  EXPECT_CONTAINS(error_of({"--allowed-profiles=restricted,root"}),
                  "flag --allowed-profiles: policy.allowedProfiles: unknown profile \"root\"; the "
                  "profiles are restricted and ptrace");
  EXPECT_CONTAINS(error_of({"--allowed-profiles="}),
                  "policy.allowedProfiles must name at least one profile");
  EXPECT_CONTAINS(error_of({"--forbidden-namespaces=kube-system,,x"}),
                  "flag --forbidden-namespaces: policy.forbiddenNamespaces has an empty element");
  EXPECT_CONTAINS(error_of({"--allowed-namespaces=Team_A"}),
                  "policy.allowedNamespaces: \"Team_A\" is not a valid namespace name");
  EXPECT_CONTAINS(error_of({"--ephemeral-containers=deny"}),
                  "policy.ephemeralContainers must be audit or enforce, not \"deny\"");
  EXPECT_CONTAINS(
      error_of({"--host-namespaces=yes"}),
      "flag --host-namespaces: policy.hostNamespaces must be deny or allow, not \"yes\"");
}

// H2: sessions on host-namespace pods are denied unless the policy says allow.
TEST(ControllerConfigTest, HostNamespacesDefaultsToDeny) {
  auto defaults =
      LoadControllerConfig(Sources({"--snapshot-image=img:dev", "--allow-unpinned-image"}));
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->policy.host_namespaces, "deny");
  auto allowed = LoadControllerConfig(
      Sources({"--snapshot-image=img:dev", "--allow-unpinned-image", "--host-namespaces=allow"}));
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(allowed->policy.host_namespaces, "allow");
}

TEST(ControllerConfigErrorTest, PolicyListInFileMustBeAList) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/policy_scalar.yaml";
  {
    std::ofstream out(path);
    out << "snapshotImage: img@sha256:" << kDigest << "\npolicy:\n  allowedNamespaces: team-a\n";
  }
  auto loaded = LoadControllerConfig(Sources({"--config=" + path}));
  ASSERT_FALSE(loaded.ok());
  EXPECT_CONTAINS(loaded.status().message(),
                  "policy_scalar.yaml:3:22: policy.allowedNamespaces must be a list, e.g. "
                  "[team-a, team-b]");
}

TEST(ControllerConfigTest, ApiRateLimits) {
  auto loaded =
      LoadControllerConfig(Sources({"--snapshot-image=img:dev", "--allow-unpinned-image"}));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->kube_api_qps, 50);
  EXPECT_EQ(loaded->kube_api_burst, 100);
  auto bad = LoadControllerConfig(
      Sources({"--snapshot-image=img:dev", "--allow-unpinned-image", "--kube-api-qps=0"}));
  ASSERT_FALSE(bad.ok());
  EXPECT_CONTAINS(bad.status().message(),
                  "flag --kube-api-qps: kubeApiQps must be between 1 and 10000, not 0");
}

TEST(ControllerConfigTest, MetricsOverTlsApartFromProbes) {
  auto loaded = LoadControllerConfig(Sources(
      {"--snapshot-image=img:dev", "--allow-unpinned-image", "--health-probe-address=:18080",
       "--metrics-address=127.0.0.1:18443", "--metrics-cert-dir=/etc/ephemera/metrics-tls"}));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->health_probe_address, ":18080");
  EXPECT_EQ(loaded->metrics_address, "127.0.0.1:18443");
  EXPECT_EQ(loaded->metrics_cert_dir, "/etc/ephemera/metrics-tls");

  auto same_port = LoadControllerConfig(
      Sources({"--snapshot-image=img:dev", "--allow-unpinned-image", "--metrics-address=:8080"}));
  ASSERT_FALSE(same_port.ok());
  EXPECT_CONTAINS(same_port.status().message(),
                  "flag --metrics-address: metricsAddress \":8080\" is also healthProbeAddress");
  auto bad_probe = LoadControllerConfig(Sources(
      {"--snapshot-image=img:dev", "--allow-unpinned-image", "--health-probe-address=8080"}));
  ASSERT_FALSE(bad_probe.ok());
  EXPECT_CONTAINS(bad_probe.status().message(), "healthProbeAddress: address \"8080\"");
}

TEST(ControllerConfigTest, WebhookClientAuthentication) {
  auto defaults =
      LoadControllerConfig(Sources({"--snapshot-image=img:dev", "--allow-unpinned-image"}));
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->webhook_client_auth, "request");
  EXPECT_TRUE(defaults->webhook_client_ca_file.empty());

  auto loaded = LoadControllerConfig(Sources(
      {"--snapshot-image=img:dev", "--allow-unpinned-image", "--webhook-client-ca-file=/ca.crt",
       "--webhook-client-auth=require", "--webhook-client-names=kube-apiserver-admission,other"}));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->webhook_client_ca_file, "/ca.crt");
  EXPECT_EQ(loaded->webhook_client_auth, "require");
  EXPECT_EQ(loaded->webhook_client_names,
            (std::vector<std::string>{"kube-apiserver-admission", "other"}));
}

TEST(ControllerConfigErrorTest, WebhookClientAuthentication) {
  auto bad = LoadControllerConfig(Sources(
      {"--snapshot-image=img:dev", "--allow-unpinned-image", "--webhook-client-auth=optional"}));
  ASSERT_FALSE(bad.ok());
  EXPECT_CONTAINS(bad.status().message(),
                  "webhookClientAuth \"optional\" is not one of request, require");
  auto without_ca = LoadControllerConfig(Sources(
      {"--snapshot-image=img:dev", "--allow-unpinned-image", "--webhook-client-auth=require"}));
  ASSERT_FALSE(without_ca.ok());
  EXPECT_CONTAINS(without_ca.status().message(), "require needs webhookClientCaFile");
}

// certificates.*: the Secrets the controller keeps its own serving certificates in.
TEST(ControllerConfigTest, CertificatesTheControllerKeeps) {
  const std::vector<std::string> base = {"--snapshot-image=img:dev", "--allow-unpinned-image"};
  const auto load = [&](std::vector<std::string> args) {
    args.insert(args.begin(), base.begin(), base.end());
    return LoadControllerConfig(Sources(args));
  };
  auto defaults = load({});
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_TRUE(defaults->certificates.webhook_secret.empty());
  EXPECT_EQ(defaults->certificates.validity, 8760h);

  auto loaded =
      load({"--webhook-cert-dir=/run/w", "--webhook-cert-secret=e-webhook-tls",
            "--webhook-service=e-webhook", "--webhook-configurations=mutating/e-m,validating/e-v",
            "--metrics-cert-dir=/run/m", "--metrics-cert-secret=e-metrics-tls",
            "--metrics-service=e-metrics", "--certificate-validity=720h"});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->certificates.webhook_secret, "e-webhook-tls");
  EXPECT_EQ(loaded->certificates.webhook_service, "e-webhook");
  EXPECT_EQ(loaded->certificates.webhook_configurations,
            (std::vector<std::string>{"mutating/e-m", "validating/e-v"}));
  EXPECT_EQ(loaded->certificates.metrics_secret, "e-metrics-tls");
  EXPECT_EQ(loaded->certificates.metrics_service, "e-metrics");
  EXPECT_EQ(loaded->certificates.validity, 720h);

  const struct {
    std::vector<std::string> args;
    std::string message;
  } errors[] = {
      {{"--webhook-cert-secret=e-webhook-tls", "--webhook-cert-dir=/run/w"},
       "certificates.webhookSecret needs certificates.webhookService"},
      {{"--webhook-cert-secret=e-webhook-tls", "--webhook-service=e-webhook"},
       "certificates.webhookSecret needs webhookCertDir"},
      {{"--metrics-cert-secret=e-metrics-tls", "--metrics-service=e-metrics"},
       "certificates.metricsSecret needs metricsCertDir"},
      {{"--webhook-cert-secret=Bad_Name", "--webhook-service=e", "--webhook-cert-dir=/w"},
       "\"Bad_Name\" is not a valid Secret name"},
      {{"--webhook-configurations=mutating/e-m"}, "needs certificates.webhookSecret"},
      {{"--webhook-cert-secret=s", "--webhook-service=e", "--webhook-cert-dir=/w",
        "--webhook-configurations=webhook/e-m"},
       "\"webhook/e-m\" is not a webhook configuration: write mutating/NAME"},
      {{"--webhook-cert-secret=s", "--webhook-service=e", "--webhook-cert-dir=/w",
        "--certificate-validity=1h"},
       "certificates.validity must be at least 24h"},
  };
  for (const auto& error : errors) {
    auto refused = load(error.args);
    ASSERT_FALSE(refused.ok()) << error.message;
    EXPECT_CONTAINS(refused.status().message(), error.message);
    EXPECT_CONTAINS(refused.status().message(), "flag --");
  }
}

// spec.redaction.pii: the policy's default (standard) and minimum (none), each validated, and a
// default that masks less than the minimum refused.
TEST(ControllerConfigTest, PiiPolicyDefaultsAndLimits) {
  const auto load = [](std::vector<std::string> args) {
    args.insert(args.begin(), {"--snapshot-image=img:dev", "--allow-unpinned-image"});
    return LoadControllerConfig(Sources(args));
  };
  auto defaults = load({});
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->policy.pii_default, "standard");
  EXPECT_EQ(defaults->policy.pii_minimum, "none");
  auto strict = load({"--pii-default=strict", "--pii-minimum=standard"});
  ASSERT_TRUE(strict.ok()) << strict.status().ToString();
  EXPECT_EQ(strict->policy.pii_default, "strict");
  EXPECT_EQ(strict->policy.pii_minimum, "standard");

  auto off = load({"--pii-default=off"});
  ASSERT_FALSE(off.ok());
  EXPECT_CONTAINS(off.status().message(),
                  "flag --pii-default: policy.pii.default must be none, standard or strict, not "
                  "\"off\"");
  auto below = load({"--pii-minimum=strict"});
  ASSERT_FALSE(below.ok());
  EXPECT_CONTAINS(below.status().message(),
                  "policy.pii.default (standard) masks less than policy.pii.minimum (strict)");
}

TEST(ControllerConfigTest, LogPolicyDefaultsAndLimits) {
  const auto load = [](std::vector<std::string> args) {
    args.insert(args.begin(), {"--snapshot-image=img:dev", "--allow-unpinned-image"});
    return LoadControllerConfig(Sources(args));
  };
  auto defaults = load({});
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->policy.logs_access, "podsLog");
  EXPECT_EQ(defaults->policy.logs_max_limit_bytes, 524288);
  auto set = load({"--logs-access=debugProfile", "--logs-max-tail-lines=50",
                   "--logs-default-tail-lines=50", "--logs-max-since=2h"});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->policy.logs_access, "debugProfile");
  EXPECT_EQ(set->policy.logs_max_tail_lines, 50);
  EXPECT_EQ(set->policy.logs_max_since, std::chrono::hours(2));

  auto unknown = load({"--logs-access=everyone"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_CONTAINS(unknown.status().message(),
                  "policy.logs.access must be podsLog or debugProfile, not \"everyone\"");
  auto default_above_max = load({"--logs-max-tail-lines=10"});
  ASSERT_FALSE(default_above_max.ok());
  EXPECT_CONTAINS(
      default_above_max.status().message(),
      "policy.logs.defaultTailLines must be between 1 and policy.logs.maxTailLines (10)");
  auto too_big = load({"--logs-max-limit-bytes=2097152"});
  ASSERT_FALSE(too_big.ok());
  EXPECT_CONTAINS(too_big.status().message(),
                  "policy.logs.maxLimitBytes must be between 1 and 1048576");
}

TEST(ControllerConfigTest, BudgetPolicyDefaultsAndLimits) {
  const auto load = [](std::vector<std::string> args) {
    args.insert(args.begin(), {"--snapshot-image=img:dev", "--allow-unpinned-image"});
    return LoadControllerConfig(Sources(args));
  };
  auto defaults = load({});
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->policy.budget_default_cpu, std::chrono::seconds(2));
  EXPECT_EQ(defaults->policy.budget_max_cpu, std::chrono::seconds(10));
  EXPECT_EQ(defaults->policy.budget_default_memory_bytes, 64 << 20);
  EXPECT_EQ(defaults->policy.budget_max_memory_bytes, 256 << 20);
  EXPECT_EQ(defaults->policy.budget_default_wall, std::chrono::seconds(20));
  EXPECT_EQ(defaults->policy.budget_max_wall, std::chrono::minutes(2));
  auto set = load({"--budget-default-cpu=1s", "--budget-max-cpu=30s",
                   "--budget-default-memory-bytes=33554432", "--budget-max-wall=5m"});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->policy.budget_default_cpu, std::chrono::seconds(1));
  EXPECT_EQ(set->policy.budget_max_cpu, std::chrono::seconds(30));
  EXPECT_EQ(set->policy.budget_default_memory_bytes, 32 << 20);
  EXPECT_EQ(set->policy.budget_max_wall, std::chrono::minutes(5));

  auto default_above_max = load({"--budget-max-cpu=1s"});
  ASSERT_FALSE(default_above_max.ok());
  EXPECT_CONTAINS(default_above_max.status().message(),
                  "policy.budget.defaultCpu must be between 1s and policy.budget.maxCpu (1s), "
                  "not 2s");
  auto too_long = load({"--budget-max-wall=2h"});
  ASSERT_FALSE(too_long.ok());
  EXPECT_CONTAINS(too_long.status().message(),
                  "policy.budget.maxWall must be between 1s and 1h, not 2h");
  auto too_small = load({"--budget-default-memory-bytes=1048576"});
  ASSERT_FALSE(too_small.ok());
  EXPECT_CONTAINS(too_small.status().message(),
                  "policy.budget.defaultMemoryBytes must be between 16777216 and "
                  "policy.budget.maxMemoryBytes (268435456), not 1048576");
  auto too_big = load({"--budget-max-memory-bytes=2147483647"});
  ASSERT_FALSE(too_big.ok());
  EXPECT_CONTAINS(too_big.status().message(),
                  "policy.budget.maxMemoryBytes must be between 16777216 and 1073741824");
  auto sub_second = load({"--budget-default-cpu=500ms"});
  ASSERT_FALSE(sub_second.ok());
  EXPECT_CONTAINS(sub_second.status().message(), "must be a whole number of seconds");
}

// The chart renders policy.budget into the file as helm's toYaml writes it.
TEST(ControllerConfigTest, BudgetPolicyFromTheFile) {
  const std::string path = ::testing::TempDir() + "/policy_budget.yaml";
  {
    std::ofstream out(path);
    out << "snapshotImage: img:dev\nallowUnpinnedImage: true\npolicy:\n  budget:\n"
           "    defaultCpu: 1s\n    defaultMemoryBytes: 33554432\n    defaultWall: 15s\n"
           "    maxCpu: 5s\n    maxMemoryBytes: 134217728\n    maxWall: 1m\n";
  }
  auto loaded = LoadControllerConfig(Sources({"--config=" + path}));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->policy.budget_default_cpu, std::chrono::seconds(1));
  EXPECT_EQ(loaded->policy.budget_max_cpu, std::chrono::seconds(5));
  EXPECT_EQ(loaded->policy.budget_default_memory_bytes, 32 << 20);
  EXPECT_EQ(loaded->policy.budget_max_memory_bytes, 128 << 20);
  EXPECT_EQ(loaded->policy.budget_default_wall, std::chrono::seconds(15));
  EXPECT_EQ(loaded->policy.budget_max_wall, std::chrono::minutes(1));
}

TEST(ControllerConfigTest, PiiPolicyFromTheFile) {
  const std::string path = ::testing::TempDir() + "/policy_pii.yaml";
  {
    std::ofstream out(path);
    out << "snapshotImage: img:dev\nallowUnpinnedImage: true\npolicy:\n  pii:\n"
           "    default: strict\n    minimum: standard\n";
  }
  const ConfigSources sources = Sources({"--config=" + path});
  auto loaded = LoadControllerConfig(sources);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->policy.pii_default, "strict");
  EXPECT_EQ(loaded->policy.pii_minimum, "standard");

  {
    std::ofstream out(path);
    out << "snapshotImage: img:dev\nallowUnpinnedImage: true\npolicy:\n  pii:\n    minimun: x\n";
  }
  auto typo = LoadControllerConfig(sources);
  ASSERT_FALSE(typo.ok());
  EXPECT_CONTAINS(typo.status().message(), "unknown key \"minimun\" in policy.pii");
  EXPECT_CONTAINS(typo.status().message(), "Did you mean \"minimum\"?");
}

}  // namespace
}  // namespace ephemera::config
