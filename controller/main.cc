// ephemera-controller: wires the production implementations together and runs until SIGTERM.
//
// Config (flags + optional YAML) → JSON logs → Kubernetes connection (kubeconfig or in-cluster) →
// /metrics, /healthz, /readyz → admission webhooks over HTTPS (all replicas) → leader election →
// the DebugSession control loop (leader only). What the objects do between them (policy, readiness,
// webhook routing, reports, metrics) is in controller/app/, where it is tested.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/audit_log.h"
#include "audit/json_lines_audit_sink.h"
#include "audit/verify_command.h"
#include "base/clock.h"
#include "controller/app/endpoints.h"
#include "controller/app/events.h"
#include "controller/app/install_check.h"
#include "controller/app/leadership.h"
#include "controller/app/mark_key.h"
#include "controller/app/metrics.h"
#include "controller/app/policy.h"
#include "controller/app/readiness.h"
#include "controller/app/replica_audit.h"
#include "controller/app/serving_certificates.h"
#include "controller/app/step_reporter.h"
#include "controller/app/unsanctioned.h"
#include "controller/app/webhooks.h"
#include "controller/audit/anchor_store.h"
#include "controller/config/load_config.h"
#include "controller/detection/ephemeral_container_watch.h"
#include "controller/httpserver/http_server.h"
#include "controller/logging/logger.h"
#include "controller/metrics/registry.h"
#include "controller/reconciler/debug_session_controller.h"
#include "controller/reconciler/debug_session_reconciler.h"
#include "kube/auth/kube_config.h"
#include "kube/client/event_recorder.h"
#include "kube/client/rest_kube_client.h"
#include "kube/transport/kube_connection.h"

namespace ephemera {
namespace {

// Blocks SIGTERM/SIGINT in every thread; one thread waits for them and requests a stop.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::stop_source& stop) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this, &stop] {
      int signo = 0;
      sigwait(&set_, &signo);
      received_ = signo;
      stop.request_stop();
    });
    thread_.detach();
  }
  int Received() const { return received_.load(); }

 private:
  sigset_t set_{};
  std::thread thread_;
  std::atomic<int> received_{0};
};

std::string Identity() {
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') return pod;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::random_device random;
  return std::string(host) + "_" + std::to_string(random() % 100000);
}

// The Kubernetes client's configuration: --kubeconfig, else the in-cluster service account.
// Errors are logged here.
StatusOr<kube::KubeConfig> ReadKubeConfig(const config::ControllerConfig& cfg,
                                          const logging::Logger& log) {
  auto kube_config = cfg.kubeconfig.empty() ? kube::KubeConfig::InCluster()
                                            : kube::KubeConfig::FromFile(cfg.kubeconfig);
  if (kube_config.ok()) return kube_config;
  if (cfg.kubeconfig.empty()) {
    log.Error("Cannot configure the Kubernetes client",
              {{"error", kube_config.status()},
               {"hint", "outside a cluster, give a kubeconfig with --kubeconfig=FILE"}});
  } else {
    log.Error("Cannot configure the Kubernetes client", {{"error", kube_config.status()}});
  }
  return kube_config;
}

// The connection to the API server, every response counted in `metrics`. Errors are logged here.
StatusOr<std::unique_ptr<kube::KubeConnection>> ConnectToKube(const config::ControllerConfig& cfg,
                                                              const kube::KubeConfig& kube_config,
                                                              base::Clock& clock,
                                                              const app::ControllerMetrics& metrics,
                                                              const logging::Logger& log) {
  kube::RestKubeClientOptions client_options;
  client_options.qps = cfg.kube_api_qps;
  client_options.burst = cfg.kube_api_burst;
  client_options.on_response = metrics.CountKubeResponse();
  client_options.on_latency = metrics.TimeKubeRequest();
  auto connection = kube::KubeConnection::Open(kube_config, clock, client_options);
  if (!connection.ok()) {
    log.Error("Cannot connect to the Kubernetes API", {{"error", connection.status()}});
  }
  return connection;
}

// /metrics over HTTPS, with the configured certificate or one made now (removed with this).
struct MetricsEndpoint {
  std::unique_ptr<app::MetricsCertificate> certificate;
  std::unique_ptr<httpserver::HttpServer> server;
};

// Starts /metrics. Errors are logged here.
StatusOr<MetricsEndpoint> ServeMetrics(const config::ControllerConfig& cfg,
                                       const metrics::Registry& registry, kube::KubeClient& client,
                                       base::Clock& clock, const logging::Logger& log) {
  const char* tmp = std::getenv("TMPDIR");
  auto certificate = app::MetricsCertificate::For(cfg.metrics_cert_dir,
                                                  tmp != nullptr && *tmp != '\0' ? tmp : "/tmp");
  if (!certificate.ok()) {
    log.Error("Cannot make a certificate for /metrics",
              {{"error", certificate.status()},
               {"hint", "give one with --metrics-cert-dir=DIR (tls.crt, tls.key)"}});
    return certificate.status();
  }
  auto server = app::Serve(app::MetricsServerOptions(cfg.metrics_address, (*certificate)->Files()),
                           app::MetricsRoutes(registry, client, clock, log));
  if (!server.ok()) {
    log.Error("Cannot serve metrics",
              {{"address", cfg.metrics_address}, {"error", server.status()}});
    return server.status();
  }
  log.Info("Serving metrics over HTTPS to authorized scrapers",
           {{"address", cfg.metrics_address},
            {"certificate",
             (*certificate)->IsSelfSigned() ? "self-signed" : (*certificate)->Files().cert_file}});
  return MetricsEndpoint{std::move(*certificate), std::move(*server)};
}

// The admission webhooks over HTTPS; nullptr without --webhook-cert-dir (allowed only with
// --insecure-no-admission, and logged as the danger it is). Errors are logged here.
StatusOr<std::unique_ptr<httpserver::HttpServer>> ServeWebhooks(const config::ControllerConfig& cfg,
                                                                app::AdmissionWebhooks& webhooks,
                                                                const logging::Logger& log) {
  if (cfg.webhook_cert_dir.empty()) {
    log.Error(
        "No --webhook-cert-dir and --insecure-no-admission: admission webhooks are not served, so "
        "spec.requestedBy is whatever the creator wrote; never do this on a shared cluster");
    return std::unique_ptr<httpserver::HttpServer>();
  }
  auto served = app::Serve(app::WebhookServerOptions(cfg), webhooks.Routes());
  if (!served.ok()) {
    log.Error("Cannot serve admission webhooks",
              {{"address", cfg.webhook_address}, {"error", served.status()}});
    return served.status();
  }
  log.Info("Serving admission webhooks", {{"address", cfg.webhook_address}});
  return served;
}

// `check-install` (what `helm test` runs): exit 0 passed, 1 a check failed, 2 could not run.
int CheckInstallCommand(const std::vector<std::string>& args) {
  const auto parsed = app::ParseInstallCheckArgs(args);
  if (!parsed.ok()) {
    std::cerr << "ephemera-controller check-install: " << parsed.status().message() << "\n"
              << app::kInstallCheckUsage << "\n";
    return 2;
  }
  config::ControllerConfig cfg;
  cfg.kubeconfig = parsed->kubeconfig;
  const logging::Logger log = logging::Logger::Stderr(logging::LogLevel::kInfo);
  const auto kube_config = ReadKubeConfig(cfg, log);
  if (!kube_config.ok()) return 2;
  base::SystemClock clock;
  auto connection = kube::KubeConnection::Open(*kube_config, clock);
  if (!connection.ok()) {
    log.Error("Cannot connect to the Kubernetes API", {{"error", connection.status()}});
    return 2;
  }
  const std::string namespace_name =
      parsed->namespace_name.empty() ? (*connection)->NamespaceName() : parsed->namespace_name;
  if (namespace_name.empty()) {
    std::cerr << "ephemera-controller check-install: no namespace; give --namespace NS\n";
    return 2;
  }
  return app::RunInstallCheck((*connection)->Client(), namespace_name, std::cout);
}

int Run(int argc, char** argv) {
  if (argc >= 3 && std::string_view(argv[1]) == "audit" && std::string_view(argv[2]) == "verify") {
    return audit::RunAuditVerify({argv + 3, argv + argc}, std::cin, std::cout, std::cerr);
  }
  if (argc >= 2 && std::string_view(argv[1]) == "check-install") {
    return CheckInstallCommand({argv + 2, argv + argc});
  }
  config::ConfigSources sources;
  sources.args.assign(argv + 1, argv + argc);
  auto cfg = config::LoadControllerConfig(sources);
  if (cfg.ok() && cfg->help_requested) {
    std::cout << config::UsageText();
    return 0;
  }
  StatusOr<session::Policy> policy = cfg.ok() ? app::PolicyFrom(*cfg) : cfg.status();
  if (!policy.ok()) {
    std::cerr << "ephemera-controller: " << policy.status().message() << "\n";
    return 2;
  }
  auto level = logging::ParseLogLevel(cfg->log_level);
  const logging::Logger log =
      logging::Logger::Stderr(level.ok() ? *level : logging::LogLevel::kInfo);

  std::stop_source stop;
  SignalWatcher signals(stop);
  base::SystemClock clock;

  const auto kube_config = ReadKubeConfig(*cfg, log);
  if (!kube_config.ok()) return 1;
  if (cfg->webhook_cert_dir.empty() && !cfg->insecure_no_admission) {
    // Without the webhooks nothing binds spec.requestedBy to who created a session: anyone who
    // may create one could name someone else as its requester (security review M1, scenario B).
    log.Error("Cannot reconcile without serving the admission webhooks",
              {{"hint",
                "give --webhook-cert-dir=DIR (tls.crt, tls.key); for development only, "
                "--insecure-no-admission reconciles anyway"}});
    return 1;
  }
  metrics::Registry registry;
  const app::ControllerMetrics metrics = app::RegisterControllerMetrics(registry);
  app::RegisterBuildAndProcessMetrics(registry, EPHEMERA_VERSION);
  auto connection = ConnectToKube(*cfg, *kube_config, clock, metrics, log);
  if (!connection.ok()) return 1;
  kube::KubeClient& client = (*connection)->Client();
  const std::string identity = Identity();

  // The audit trail: JSON lines on stdout (logs go to stderr), one hash chain per session and one
  // for this replica's own decisions (admission, unsanctioned containers).
  audit::JsonLinesAuditSink audit_sink(STDOUT_FILENO);
  audit::AuditLog audit_log(audit_sink, {.strict = policy->strict_audit});
  app::ReplicaAudit replica_audit(audit_log, clock, identity, log);
  // The chains' heads, kept in the controller's namespace where requesters have no rights, so
  // that `audit verify` can tell a cut tail (docs/audit.md). This replica's own chain is saved
  // every few seconds and once more when it stops.
  audit::ConfigMapAnchorStore anchors(
      client, clock,
      {.namespace_name = cfg->namespace_name,
       .on_error = [&log](std::string_view what, const Status& s) {
         log.Warn("Cannot write an audit anchor", {{"what", std::string(what)}, {"error", s}});
       }});
  std::jthread replica_anchor([&](const std::stop_token& stopping) {
    anchors.KeepAnchored(audit_log, replica_audit.Chain(), stopping);
  });

  // certificates.mode controller: the serving certificates are in place before the servers start,
  // then kept up to date in the background.
  app::CertificateKeeper certificate_keeper(client, clock, *cfg, log);
  std::jthread certificate_upkeep;
  if (certificate_keeper.Enabled()) {
    if (!certificate_keeper.WaitUntilSynced(stop.get_token())) return 0;  // stopped while waiting
    log.Info("Serving certificates ready", {{"webhookSecret", cfg->certificates.webhook_secret},
                                            {"metricsSecret", cfg->certificates.metrics_secret}});
    certificate_upkeep = std::jthread(
        [&certificate_keeper](const std::stop_token& s) { certificate_keeper.Run(s); });
  }

  const std::optional<std::string> mark_key =
      app::WaitForMarkKey(client, clock, cfg->namespace_name, log, stop.get_token());
  if (!mark_key) return 0;  // stopped while waiting

  // Events go out in the background, on the API budget the control loop leaves over.
  kube::EventRecorder events(client, clock, app::EventRecorderOptionsFor(identity, log));
  std::jthread event_sender([&events](const std::stop_token& s) { events.Run(s); });

  app::StepReporter step_reporter(metrics, events, log);
  reconciler::DebugSessionReconciler reconciler(
      client, clock,
      {.controller_namespace = cfg->namespace_name,
       .mark_key = *mark_key,
       .policy = *policy,
       .on_step = [&](const session::StepRecord& step) { step_reporter.OnStep(step); },
       .audit = &audit_log,
       .anchors = &anchors});
  reconciler::DebugSessionController controller(client, clock, reconciler, cfg->workers);

  // /healthz and /readyz for the kubelet.
  std::atomic<bool> serving_webhooks{cfg->webhook_cert_dir.empty()};
  auto probes =
      app::Serve(app::ProbeServerOptions(cfg->health_probe_address), app::ProbeRoutes([&] {
                   return app::ReadinessSignals{.serving_webhooks = serving_webhooks.load(),
                                                .leading = metrics.leader.Get().Value() != 0,
                                                .cache_synced = controller.HasSynced(),
                                                .strict_audit = policy->strict_audit,
                                                .audit_healthy = audit_log.Healthy()};
                 }));
  if (!probes.ok()) {
    log.Error("Cannot serve health probes",
              {{"address", cfg->health_probe_address}, {"error", probes.status()}});
    return 1;
  }
  auto metrics_endpoint = ServeMetrics(*cfg, registry, client, clock, log);
  if (!metrics_endpoint.ok()) return 1;

  app::UnsanctionedReporter unsanctioned(replica_audit, metrics.unsanctioned, events, log);
  // Lives as long as the webhook server, whose handlers call it.
  app::AdmissionWebhooks admission_webhooks(*policy, *mark_key, app::WebhookCallersFrom(*cfg),
                                            replica_audit, unsanctioned);
  auto webhooks = ServeWebhooks(*cfg, admission_webhooks, log);
  if (!webhooks.ok()) return 1;
  if (*webhooks) serving_webhooks = true;

  // The leader watches pods for ephemeral containers Ephemera did not add (an Event on the pod, a
  // metric, a log line and an audit record for each, once per container and process). The same
  // watch tells the control loop when a snapshot container starts or ends, so a capture is
  // collected as soon as the kubelet reports it instead of at the next poll.
  detection::EphemeralContainerWatch container_watch(
      client, clock, *mark_key,
      [&](const detection::UnsanctionedContainer& c) { unsanctioned.ReportFromWatch(c); },
      [&](const kube::ObjectKey& pod) { controller.EnqueueSessionsForPod(pod); });
  app::RegisterObservedMetrics(registry,
                               {.events = [&] { return events.Stats(); },
                                .control_loop = [&] { return controller.Stats(); },
                                .watched_pods = [&] { return container_watch.CachedPods(); }});

  log.Info("Starting ephemera-controller", {{"namespace", cfg->namespace_name},
                                            {"workers", cfg->workers},
                                            {"snapshotImage", cfg->snapshot_image},
                                            {"leaderElection", cfg->leader_election.enabled}});
  const Status led = app::RunLeadership(
      client, clock, cfg->leader_election, cfg->namespace_name, identity, metrics.leader.Get(), log,
      stop.get_token(), [&](const std::stop_token& leading) {
        reconciler.StartedLeading(clock.Now());
        std::jthread watch([&](const std::stop_token&) { container_watch.Run(leading); });
        std::jthread sweep([&](const std::stop_token&) { anchors.SweepPeriodically(leading); });
        controller.Run(leading, [&](const kube::ObjectKey& key, const Status& status) {
          step_reporter.OnReconcileError(key, status);
        });
      });
  if (!led.ok() && !stop.stop_requested()) {
    log.Error("Leader election failed", {{"error", led}});
    return 1;
  }
  if (*webhooks) (*webhooks)->Stop();
  metrics_endpoint->server->Stop();
  (*probes)->Stop();
  log.Info("Stopped", {{"signal", signals.Received()}});
  return 0;
}

}  // namespace
}  // namespace ephemera

int main(int argc, char** argv) { return ephemera::Run(argc, argv); }
