// ephemera-controller: wires the production implementations together and runs until SIGTERM.
//
// Config (flags + optional YAML) → JSON logs → Kubernetes connection (kubeconfig or in-cluster) →
// /metrics, /healthz, /readyz → admission webhooks over HTTPS (all replicas) → leader election →
// the DebugSession control loop (leader only).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "controller/admission/debug_session_admission.h"
#include "controller/config/load_config.h"
#include "controller/httpserver/http_server.h"
#include "controller/kube/clock.h"
#include "controller/kube/event.h"
#include "controller/kube/kube_config.h"
#include "controller/kube/kube_connection.h"
#include "controller/leader/leader_elector.h"
#include "controller/logging/logger.h"
#include "controller/metrics/registry.h"
#include "controller/reconciler/debug_session_controller.h"
#include "controller/reconciler/debug_session_reconciler.h"

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

httpserver::HttpResponse JsonResponse(const nlohmann::json& body) {
  return {200, "application/json", body.dump()};
}

// POSTed AdmissionReview → handler; anything unreadable is answered 400 (the API server then
// applies the webhook's failurePolicy, which is Fail).
httpserver::HttpHandler AdmissionHandler(
    std::function<nlohmann::json(const nlohmann::json&)> review) {
  return [review = std::move(review)](const httpserver::HttpRequest& request) {
    if (request.method != "POST") return httpserver::HttpResponse{405, "text/plain", "POST only\n"};
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded()) {
      return httpserver::HttpResponse{400, "text/plain", "body is not an AdmissionReview\n"};
    }
    return JsonResponse(review(body));
  };
}

session::Policy PolicyFrom(const config::ControllerConfig& cfg) {
  session::Policy policy;
  policy.max_ttl = cfg.max_ttl;
  policy.snapshot_image = cfg.snapshot_image;
  return policy;
}

int Run(int argc, char** argv) {
  config::ConfigSources sources;
  sources.args.assign(argv + 1, argv + argc);
  auto cfg = config::LoadControllerConfig(sources);
  if (!cfg.ok()) {
    std::cerr << "ephemera-controller: " << cfg.status().message() << "\n";
    return 2;
  }
  if (cfg->help_requested) {
    std::cout << config::UsageText();
    return 0;
  }
  auto level = logging::ParseLogLevel(cfg->log_level);
  const logging::Logger log =
      logging::Logger::Stderr(level.ok() ? *level : logging::LogLevel::kInfo);

  std::stop_source stop;
  SignalWatcher signals(stop);
  kube::SystemClock clock;

  auto kube_config = cfg->kubeconfig.empty() ? kube::KubeConfig::InCluster()
                                             : kube::KubeConfig::FromFile(cfg->kubeconfig);
  if (!kube_config.ok()) {
    log.Error("Cannot configure the Kubernetes client", {{"error", kube_config.status()}});
    return 1;
  }
  auto connection = kube::KubeConnection::Open(*kube_config, clock);
  if (!connection.ok()) {
    log.Error("Cannot connect to the Kubernetes API", {{"error", connection.status()}});
    return 1;
  }
  kube::KubeClient& client = (*connection)->Client();
  const session::Policy policy = PolicyFrom(*cfg);

  metrics::Registry registry;
  auto& steps = registry.AddCounter("session_steps_total",
                                    "Steps taken for DebugSessions, by action and outcome.",
                                    {"action", "outcome"});
  auto& reconcile_errors =
      registry.AddCounter("reconcile_errors_total", "Reconciles that failed and were retried.");
  auto& leader = registry.AddGauge("leader", "1 while this replica leads and reconciles.");
  auto& still_running = registry.AddCounter(
      "snapshot_containers_running_after_ttl_total",
      "Snapshot containers found still running when their session ended (never expected).");

  reconciler::ReconcilerOptions options;
  options.controller_namespace = cfg->namespace_name;
  options.policy = policy;
  const std::string identity = Identity();
  options.on_step = [&](const reconciler::StepRecord& step) {
    steps.WithLabels({std::string(session::ActionName(step.action)), step.outcome}).Increment();
    if (step.outcome == "SnapshotContainerStillRunning") still_running.Get().Increment();
    kube::EventRecord event;
    event.regarding = {"ephemera.dev/v1alpha1", "DebugSession", step.session.namespace_name,
                       step.session.name, step.session_uid};
    event.type = step.outcome == "ok" ? "Normal" : "Warning";
    event.reason =
        step.outcome == "ok" ? std::string(session::ActionName(step.action)) : step.outcome;
    event.action = std::string(session::ActionName(step.action));
    event.note = step.message;
    event.reporting_controller = "ephemera.dev/ephemera-controller";
    event.reporting_instance = identity.substr(0, 128);
    if (auto created = client.CreateEvent(event, clock.Now()); !created.ok()) {
      log.Warn("Cannot record event",
               {{"debugsession", step.session.ToString()}, {"error", created.status()}});
    }
    log.Info("Session step", {{"debugsession", step.session.ToString()},
                              {"action", session::ActionName(step.action)},
                              {"outcome", step.outcome},
                              {"requester", step.requester},
                              {"target", step.target},
                              {"message", step.message}});
  };
  reconciler::DebugSessionReconciler reconciler(client, clock, options);
  reconciler::DebugSessionController controller(client, clock, reconciler, cfg->workers);
  registry.AddGaugeFunc("sessions", "DebugSessions in the controller's cache.", {}, {},
                        [&] { return static_cast<double>(controller.Stats().sessions_cached); });
  registry.AddGaugeFunc("workqueue_depth", "Keys waiting for a worker.", {}, {},
                        [&] { return static_cast<double>(controller.Stats().queue_depth); });

  httpserver::HttpServer probes({.address = cfg->metrics_address, .tls = std::nullopt});
  probes.Handle("/metrics", [&](const httpserver::HttpRequest&) {
    return httpserver::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                                    registry.RenderPrometheusText()};
  });
  probes.Handle("/healthz", [](const httpserver::HttpRequest&) {
    return httpserver::HttpResponse{200, "text/plain", "ok\n"};
  });
  std::atomic<bool> serving_webhooks{cfg->webhook_cert_dir.empty()};
  probes.Handle("/readyz", [&](const httpserver::HttpRequest&) {
    // Ready when webhooks can be answered; the leader must also have synced its cache.
    const bool ready =
        serving_webhooks.load() && (leader.Get().Value() == 0 || controller.HasSynced());
    return ready ? httpserver::HttpResponse{200, "text/plain", "ok\n"}
                 : httpserver::HttpResponse{503, "text/plain", "not ready\n"};
  });
  if (Status s = probes.Start(); !s.ok()) {
    log.Error("Cannot serve metrics and probes", {{"address", cfg->metrics_address}, {"error", s}});
    return 1;
  }

  std::unique_ptr<httpserver::HttpServer> webhooks;
  if (!cfg->webhook_cert_dir.empty()) {
    webhooks = std::make_unique<httpserver::HttpServer>(httpserver::HttpServerOptions{
        .address = cfg->webhook_address,
        .tls = httpserver::TlsFiles{cfg->webhook_cert_dir + "/tls.crt",
                                    cfg->webhook_cert_dir + "/tls.key"}});
    webhooks->Handle("/mutate-debugsession", AdmissionHandler(admission::MutateDebugSession));
    webhooks->Handle("/validate-debugsession", AdmissionHandler([&policy](const nlohmann::json& r) {
                       return admission::ValidateDebugSession(r, policy);
                     }));
    if (Status s = webhooks->Start(); !s.ok()) {
      log.Error("Cannot serve admission webhooks",
                {{"address", cfg->webhook_address}, {"error", s}});
      return 1;
    }
    serving_webhooks = true;
    log.Info("Serving admission webhooks", {{"address", cfg->webhook_address}});
  } else {
    log.Warn(
        "No --webhook-cert-dir: admission webhooks are not served; sessions are only "
        "authorized if something else sets spec.requestedBy");
  }

  auto on_error = [&](const kube::ObjectKey& key, const Status& status) {
    reconcile_errors.Get().Increment();
    log.Warn("Reconcile failed; will retry", {{"debugsession", key.ToString()}, {"error", status}});
  };
  log.Info("Starting ephemera-controller", {{"namespace", cfg->namespace_name},
                                            {"workers", cfg->workers},
                                            {"snapshotImage", cfg->snapshot_image},
                                            {"leaderElection", cfg->leader_election.enabled}});
  if (cfg->leader_election.enabled) {
    leader::LeaderElectionConfig election{{cfg->namespace_name, cfg->leader_election.lease_name},
                                          identity,
                                          cfg->leader_election.lease_duration,
                                          cfg->leader_election.renew_deadline,
                                          cfg->leader_election.retry_period};
    leader::LeaderElector elector(client, clock, election);
    Status s = elector.Run(
        stop.get_token(),
        [&](const std::stop_token& leading) {
          leader.Get().Set(1);
          log.Info("Became leader", {{"identity", election.identity}});
          controller.Run(leading, on_error);
        },
        [&] {
          leader.Get().Set(0);
          log.Info("Stopped leading", {{"identity", election.identity}});
        });
    if (!s.ok() && !stop.stop_requested()) {
      log.Error("Leader election failed", {{"error", s}});
      return 1;
    }
  } else {
    leader.Get().Set(1);
    controller.Run(stop.get_token(), on_error);
  }
  if (webhooks) webhooks->Stop();
  probes.Stop();
  log.Info("Stopped", {{"signal", signals.Received()}});
  return 0;
}

}  // namespace
}  // namespace ephemera

int main(int argc, char** argv) { return ephemera::Run(argc, argv); }
