// ephemera-controller: wires the production implementations together and runs until SIGTERM.
//
// Config (flags + optional YAML) → JSON logs → Kubernetes connection (kubeconfig or in-cluster) →
// /metrics, /healthz, /readyz → admission webhooks over HTTPS (all replicas) → leader election →
// the DebugSession control loop (leader only).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "audit/audit_log.h"
#include "audit/json_lines_audit_sink.h"
#include "audit/verify_command.h"
#include "base/clock.h"
#include "base/json_depth.h"
#include "controller/admission/admission_audit.h"
#include "controller/admission/admission_review.h"
#include "controller/admission/debug_session_admission.h"
#include "controller/admission/ephemeral_container_admission.h"
#include "controller/audit/anchor_store.h"
#include "controller/config/load_config.h"
#include "controller/detection/ephemeral_container_watch.h"
#include "controller/detection/mark_key.h"
#include "controller/httpserver/http_server.h"
#include "controller/leader/leader_elector.h"
#include "controller/logging/logger.h"
#include "controller/metrics/registry.h"
#include "controller/metrics/scrape_authorizer.h"
#include "controller/metrics/self_signed_certificate.h"
#include "controller/reconciler/debug_session_controller.h"
#include "controller/reconciler/debug_session_reconciler.h"
#include "controller/session/step_events.h"
#include "kube/auth/kube_config.h"
#include "kube/client/event_recorder.h"
#include "kube/client/rest_kube_client.h"
#include "kube/object/event.h"
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

httpserver::HttpResponse JsonResponse(const nlohmann::json& body) {
  return {200, "application/json", body.dump()};
}

// Who may call the webhooks: the API server proves itself with a client certificate from
// --webhook-client-ca-file (with a common name from --webhook-client-names when given).
struct WebhookCallers {
  bool required = false;  // --webhook-client-auth=require
  std::vector<std::string> names;

  admission::AdmissionCaller Of(const httpserver::HttpRequest& request) const {
    admission::AdmissionCaller caller;
    caller.verified = request.client_verified &&
                      (names.empty() || std::find(names.begin(), names.end(),
                                                  request.client_common_name) != names.end());
    if (caller.verified) caller.common_name = request.client_common_name;
    return caller;
  }
};

// POSTed AdmissionReview → handler; anything unreadable is answered 400 (the API server then
// applies the webhook's failurePolicy, which is Fail). With client authentication required, a
// caller that is not the API server is answered 403 before its body is looked at; otherwise the
// handler learns who called, so that its audit records can say whether the API server asked.
httpserver::HttpHandler AdmissionHandler(
    const WebhookCallers& callers,
    std::function<nlohmann::json(const nlohmann::json&, const admission::AdmissionCaller&)>
        review) {
  return [&callers, review = std::move(review)](const httpserver::HttpRequest& request) {
    if (request.method != "POST") return httpserver::HttpResponse{405, "text/plain", "POST only\n"};
    const admission::AdmissionCaller caller = callers.Of(request);
    if (callers.required && !caller.verified) {
      return httpserver::HttpResponse{
          403, "text/plain", "only the API server may call this webhook (client certificate)\n"};
    }
    // Depth-limited: the answer copies parts of the request, which recurses once per level.
    nlohmann::json body = base::ParseJsonWithinDepth(request.body);
    if (body.is_discarded()) {
      return httpserver::HttpResponse{400, "text/plain", "body is not an AdmissionReview\n"};
    }
    return JsonResponse(review(body, caller));
  };
}

session::Policy PolicyFrom(const config::ControllerConfig& cfg) {
  const config::PolicySettings& settings = cfg.policy;
  session::Policy policy;
  policy.allowed_namespaces = settings.allowed_namespaces;
  policy.forbidden_namespaces = settings.forbidden_namespaces;
  policy.default_ttl = settings.default_ttl;
  policy.max_ttl = settings.max_ttl;
  policy.allowed_profiles.clear();
  for (const std::string& profile : settings.allowed_profiles) {
    policy.allowed_profiles.push_back(profile == "ptrace" ? api::Profile::kPtrace
                                                          : api::Profile::kRestricted);
  }
  policy.snapshot_image = cfg.snapshot_image;
  policy.strict_audit = settings.strict_audit;
  policy.annotate_debugged_pods = settings.annotate_debugged_pods;
  policy.recycle_debugged_pods = settings.recycle_debugged_pods;
  policy.unsanctioned_containers = settings.ephemeral_containers == "enforce"
                                       ? session::UnsanctionedContainers::kEnforce
                                       : session::UnsanctionedContainers::kAudit;
  policy.allow_host_namespaces = settings.host_namespaces == "allow";
  // Validated by the configuration: each is none, standard or strict.
  policy.default_pii = api::ParsePiiMode(settings.pii_default).value_or(api::PiiMode::kStrict);
  policy.minimum_pii = api::ParsePiiMode(settings.pii_minimum).value_or(api::PiiMode::kStrict);
  return policy;
}

int Run(int argc, char** argv) {
  if (argc >= 3 && std::string_view(argv[1]) == "audit" && std::string_view(argv[2]) == "verify") {
    return audit::RunAuditVerify({argv + 3, argv + argc}, std::cin, std::cout, std::cerr);
  }
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
  base::SystemClock clock;

  auto kube_config = cfg->kubeconfig.empty() ? kube::KubeConfig::InCluster()
                                             : kube::KubeConfig::FromFile(cfg->kubeconfig);
  if (!kube_config.ok()) {
    if (cfg->kubeconfig.empty()) {
      log.Error("Cannot configure the Kubernetes client",
                {{"error", kube_config.status()},
                 {"hint", "outside a cluster, give a kubeconfig with --kubeconfig=FILE"}});
    } else {
      log.Error("Cannot configure the Kubernetes client", {{"error", kube_config.status()}});
    }
    return 1;
  }
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
  auto& kube_requests = registry.AddCounter(
      "kube_requests_total",
      "Requests sent to the Kubernetes API, by HTTP method and status (0: no answer).",
      {"method", "code"});
  kube::RestKubeClientOptions client_options;
  client_options.qps = cfg->kube_api_qps;
  client_options.burst = cfg->kube_api_burst;
  client_options.on_response = [&kube_requests](const std::string& method, int status) {
    kube_requests.WithLabels({method, std::to_string(status)}).Increment();
  };
  auto connection = kube::KubeConnection::Open(*kube_config, clock, client_options);
  if (!connection.ok()) {
    log.Error("Cannot connect to the Kubernetes API", {{"error", connection.status()}});
    return 1;
  }
  kube::KubeClient& client = (*connection)->Client();
  const session::Policy policy = PolicyFrom(*cfg);
  const std::string identity = Identity();

  // The audit trail: JSON lines on stdout (logs go to stderr), one hash chain per session and one
  // for this replica's own decisions (admission, unsanctioned containers).
  audit::JsonLinesAuditSink audit_sink(STDOUT_FILENO);
  audit::AuditLog audit_log(audit_sink, {.strict = policy.strict_audit});
  // One chain per process: a restarted container keeps its pod name but starts a new chain.
  const std::string replica_chain =
      audit::ControllerChain(identity + "@" + audit::FormatAuditTime(clock.Now()));
  // Returns what the append returned: an error only in strict mode (or for a malformed record).
  auto audit_replica = [&](audit::AuditRecord record) -> Status {
    record.time = audit::FormatAuditTime(clock.Now());
    record.chain = replica_chain;
    auto head = audit_log.Append(record);
    if (!head.ok()) {
      log.Error("Cannot write an audit record",
                {{"action", record.action}, {"error", head.status()}});
      return head.status();
    }
    return OkStatus();
  };
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
    anchors.KeepAnchored(audit_log, replica_chain, stopping);
  });

  // Every replica needs the mark key: the leader marks what it injects, and all replicas answer
  // the pods/ephemeralcontainers webhook. The API server may still be starting: keep trying.
  std::string mark_key;
  for (int attempt = 1; !stop.stop_requested(); ++attempt) {
    auto key = detection::EnsureMarkKey(client, cfg->namespace_name);
    if (key.ok()) {
      mark_key = std::move(*key);
      break;
    }
    log.Warn("Cannot load the mark key; retrying",
             {{"secret", cfg->namespace_name + "/" + detection::kMarkKeySecretName},
              {"attempt", attempt},
              {"error", key.status()}});
    clock.SleepFor(std::chrono::seconds(std::min(attempt, 10)), stop.get_token());
  }
  if (mark_key.empty()) return 0;  // stopped while waiting

  auto& steps = registry.AddCounter("session_steps_total",
                                    "Steps taken for DebugSessions, by action and outcome.",
                                    {"action", "outcome"});
  auto& reconcile_errors =
      registry.AddCounter("reconcile_errors_total", "Reconciles that failed and were retried.");
  auto& leader = registry.AddGauge("leader", "1 while this replica leads and reconciles.");
  auto& still_running = registry.AddCounter(
      "snapshot_containers_running_after_ttl_total",
      "Snapshot containers found still running when their session ended (never expected).");

  // Events go out in the background, on the API budget the control loop leaves over: they never
  // hold up a session (kube/event_recorder.h).
  kube::EventRecorderOptions event_options;
  event_options.reporting_controller = "ephemera.dev/ephemera-controller";
  event_options.reporting_instance = identity.substr(0, 128);
  event_options.on_error = [&log](const kube::EventRecord& event, const Status& error) {
    log.Warn("Cannot record event",
             {{"regarding", event.regarding.namespace_name + "/" + event.regarding.name},
              {"reason", event.reason},
              {"error", error}});
  };
  kube::EventRecorder events(client, clock, event_options);
  registry.AddGaugeFunc("events_queued", "Kubernetes Events waiting for spare API budget.", {}, {},
                        [&] { return static_cast<double>(events.Stats().queued); });
  registry.AddCounterFunc(
      "events_dropped_total",
      "Kubernetes Events not sent: queue full, refused by the API server, or queued at shutdown.",
      {}, {}, [&] { return static_cast<double>(events.Stats().dropped); });
  std::jthread event_sender([&events](const std::stop_token& s) { events.Run(s); });

  reconciler::ReconcilerOptions options;
  options.controller_namespace = cfg->namespace_name;
  options.policy = policy;
  options.mark_key = mark_key;
  options.audit = &audit_log;
  options.anchors = &anchors;
  options.on_step = [&](const session::StepRecord& step) {
    steps.WithLabels({std::string(session::ActionName(step.action)), step.outcome}).Increment();
    if (auto on_pod = session::BuildPodEvent(step)) {
      still_running.Get().Increment();
      events.Record(std::move(*on_pod));
    }
    if (auto on_session = session::BuildSessionEvent(step)) {
      events.Record(std::move(*on_session));
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

  // /healthz and /readyz for the kubelet: plain HTTP, open.
  httpserver::HttpServerOptions probe_options;
  probe_options.address = cfg->health_probe_address;
  // Probes carry no body and come from the kubelet: any larger request is an attack.
  probe_options.max_body_bytes = 4 << 10;
  probe_options.max_connections = 16;
  httpserver::HttpServer probes(probe_options);
  probes.Handle("/healthz", [](const httpserver::HttpRequest&) {
    return httpserver::HttpResponse{200, "text/plain", "ok\n"};
  });
  std::atomic<bool> serving_webhooks{cfg->webhook_cert_dir.empty()};
  probes.Handle("/readyz", [&](const httpserver::HttpRequest&) {
    // Ready when webhooks can be answered; the leader must also have synced its cache.
    // Strict audit: not ready while the audit sink fails, so admission (failurePolicy Fail)
    // refuses new sessions too.
    const bool ready = serving_webhooks.load() &&
                       (leader.Get().Value() == 0 || controller.HasSynced()) &&
                       (!policy.strict_audit || audit_log.Healthy());
    return ready ? httpserver::HttpResponse{200, "text/plain", "ok\n"}
                 : httpserver::HttpResponse{503, "text/plain", "not ready\n"};
  });
  if (Status s = probes.Start(); !s.ok()) {
    log.Error("Cannot serve health probes", {{"address", cfg->health_probe_address}, {"error", s}});
    return 1;
  }

  // /metrics: HTTPS, and only for bearer tokens whose identity the API server allows to get
  // /metrics (metrics/scrape_authorizer.h). Without --metrics-cert-dir the certificate is made now.
  httpserver::TlsFiles metrics_tls{cfg->metrics_cert_dir + "/tls.crt",
                                   cfg->metrics_cert_dir + "/tls.key"};
  // A made certificate lives in a private temporary directory, removed however Run returns.
  struct RemovedAtExit {
    std::string dir;
    ~RemovedAtExit() {
      std::error_code ignored;
      if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
    }
  } self_signed;
  if (cfg->metrics_cert_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    auto made = metrics::WriteSelfSignedCertificate(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                                                    {}, std::chrono::hours(24 * 365));
    if (!made.ok()) {
      log.Error("Cannot make a certificate for /metrics",
                {{"error", made.status()},
                 {"hint", "give one with --metrics-cert-dir=DIR (tls.crt, tls.key)"}});
      return 1;
    }
    self_signed.dir = made->dir;
    metrics_tls = {made->cert_file, made->key_file};
  }
  auto scrape_authorizer = std::make_shared<metrics::ScrapeAuthorizer>(
      client, clock,
      metrics::ScrapeAuthorizerOptions{
          .on_api_error = [&log](std::string_view review, const Status& error) {
            log.Warn("Cannot check a /metrics scrape with the API server",
                     {{"review", review}, {"error", error}});
          }});
  httpserver::HttpServerOptions metrics_options;
  metrics_options.address = cfg->metrics_address;
  metrics_options.tls = metrics_tls;
  // GET only, with a bearer token: a body is never needed, and one is read before the token is
  // checked.
  metrics_options.max_body_bytes = 4 << 10;
  httpserver::HttpServer metrics_server(metrics_options);
  metrics_server.Handle(
      "/metrics",
      metrics::RequireScrapeAuthorization(scrape_authorizer, [&](const httpserver::HttpRequest&) {
        return httpserver::HttpResponse{200, std::string(metrics::Registry::kContentType),
                                        registry.RenderPrometheusText()};
      }));
  if (Status s = metrics_server.Start(); !s.ok()) {
    log.Error("Cannot serve metrics", {{"address", cfg->metrics_address}, {"error", s}});
    return 1;
  }
  log.Info("Serving metrics over HTTPS to authorized scrapers",
           {{"address", cfg->metrics_address},
            {"certificate", self_signed.dir.empty() ? metrics_tls.cert_file : "self-signed"}});

  auto& unsanctioned = registry.AddCounter(
      "unsanctioned_ephemeral_containers_total",
      "Ephemeral containers Ephemera did not add, by where they were seen and the decision.",
      {"source", "decision"});
  auto report_unsanctioned = [&](const detection::UnsanctionedContainer& c, std::string_view source,
                                 std::string_view decision, const std::string& username,
                                 const admission::AdmissionCaller* caller) {
    unsanctioned.WithLabels({std::string(source), std::string(decision)}).Increment();
    audit::AuditRecord record;
    record.requester = username;
    record.target = c.namespace_name + "/" + c.pod + "/" + c.container;
    record.action = "unsanctioned-container-seen";
    record.outcome = decision == "denied" ? "Denied" : "Allowed";
    record.message = "ephemeral container " + c.container + " (image " + c.image +
                     ") was not added by Ephemera; seen by " + std::string(source);
    record.details = {{"image", c.image}, {"podUid", c.pod_uid}, {"running", c.running}};
    if (caller != nullptr) admission::MarkCaller(record, *caller);
    (void)audit_replica(std::move(record));  // a lost record is logged; detection goes on
    log.Warn("Unsanctioned ephemeral container", {{"pod", c.namespace_name + "/" + c.pod},
                                                  {"container", c.container},
                                                  {"image", c.image},
                                                  {"source", source},
                                                  {"decision", decision},
                                                  {"user", username}});
  };

  const WebhookCallers webhook_callers{.required = cfg->webhook_client_auth == "require",
                                       .names = cfg->webhook_client_names};
  // Lives as long as the webhook server, whose handlers call it.
  auto admission_record = [&](const nlohmann::json& r, const nlohmann::json& answer,
                              const admission::AdmissionCaller& caller) {
    audit::AuditRecord record = admission::BuildAdmissionRecord(r, answer);
    admission::MarkCaller(record, caller);
    return audit_replica(std::move(record));
  };
  std::unique_ptr<httpserver::HttpServer> webhooks;
  if (!cfg->webhook_cert_dir.empty()) {
    httpserver::HttpServerOptions webhook_options;
    webhook_options.address = cfg->webhook_address;
    webhook_options.tls = httpserver::TlsFiles{cfg->webhook_cert_dir + "/tls.crt",
                                               cfg->webhook_cert_dir + "/tls.key"};
    if (!cfg->webhook_client_ca_file.empty()) {
      webhook_options.client_ca_file = cfg->webhook_client_ca_file;
      webhook_options.client_cert_mode = webhook_callers.required
                                             ? httpserver::ClientCertMode::kRequire
                                             : httpserver::ClientCertMode::kRequest;
    }
    webhooks = std::make_unique<httpserver::HttpServer>(std::move(webhook_options));
    webhooks->Handle("/mutate-debugsession",
                     AdmissionHandler(webhook_callers, [&](const nlohmann::json& r,
                                                           const admission::AdmissionCaller& c) {
                       nlohmann::json answer = admission::MutateDebugSession(r, policy);
                       if (!answer["response"].value("allowed", false)) {
                         (void)admission_record(r, answer, c);
                       }
                       return answer;
                     }));
    webhooks->Handle("/validate-debugsession",
                     AdmissionHandler(webhook_callers, [&](const nlohmann::json& r,
                                                           const admission::AdmissionCaller& c) {
                       nlohmann::json answer = admission::ValidateDebugSession(r, policy);
                       if (!admission::IsCreate(r)) return answer;
                       // Strict audit: a session whose admission is not on record is not
                       // created.
                       const Status audited = admission_record(r, answer, c);
                       return admission::ApplyStrictAudit(r, std::move(answer), audited,
                                                          policy.strict_audit);
                     }));
    webhooks->Handle(
        "/validate-ephemeralcontainers",
        AdmissionHandler(webhook_callers, [&](const nlohmann::json& r,
                                              const admission::AdmissionCaller& caller) {
          auto review =
              admission::ReviewEphemeralContainers(r, mark_key, policy.unsanctioned_containers);
          const bool allowed = review.response["response"].value("allowed", false);
          // A forged review can say anything: it counts under its own source label, so an alert
          // on the verified sources cannot be set off or drowned by any pod.
          const std::string source = caller.verified ? "admission" : "admission-unverified";
          for (const auto& c : review.unsanctioned) {
            report_unsanctioned(c, source, allowed ? "allowed" : "denied", review.username,
                                &caller);
          }
          return review.response;
        }));
    if (Status s = webhooks->Start(); !s.ok()) {
      log.Error("Cannot serve admission webhooks",
                {{"address", cfg->webhook_address}, {"error", s}});
      return 1;
    }
    serving_webhooks = true;
    log.Info("Serving admission webhooks", {{"address", cfg->webhook_address}});
  } else {
    log.Error(
        "No --webhook-cert-dir and --insecure-no-admission: admission webhooks are not served, so "
        "spec.requestedBy is whatever the creator wrote; never do this on a shared cluster");
  }

  // The leader watches pods for ephemeral containers Ephemera did not add: an Event on the pod,
  // a metric, a log line and an audit record for each, once per container and process.
  auto report_from_watch = [&](const detection::UnsanctionedContainer& c) {
    report_unsanctioned(c, "watch", "allowed", "", nullptr);
    kube::EventRecord event;
    event.regarding = {"v1", "Pod", c.namespace_name, c.pod, c.pod_uid};
    event.type = "Warning";
    event.reason = "UnsanctionedEphemeralContainer";
    event.action = "DetectEphemeralContainer";
    event.note =
        "Ephemeral container " + c.container + " (image " + c.image + ") was not added by Ephemera";
    events.Record(std::move(event));
  };
  // The same watch tells the control loop when a snapshot container starts or ends, so a capture
  // is collected as soon as the kubelet reports it instead of at the next poll.
  detection::EphemeralContainerWatch container_watch(
      client, clock, mark_key, report_from_watch,
      [&](const kube::ObjectKey& pod) { controller.EnqueueSessionsForPod(pod); });
  registry.AddGaugeFunc("watched_pods", "Pods in the detection cache (a few fields each).", {}, {},
                        [&] { return static_cast<double>(container_watch.CachedPods()); });

  auto on_error = [&](const kube::ObjectKey& key, const Status& status) {
    reconcile_errors.Get().Increment();
    log.Warn("Reconcile failed; will retry", {{"debugsession", key.ToString()}, {"error", status}});
  };
  auto lead = [&](const std::stop_token& leading) {
    reconciler.StartedLeading(clock.Now());
    std::jthread watch([&](const std::stop_token&) { container_watch.Run(leading); });
    std::jthread sweep([&](const std::stop_token&) { anchors.SweepPeriodically(leading); });
    controller.Run(leading, on_error);
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
          lead(leading);
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
    lead(stop.get_token());
  }
  if (webhooks) webhooks->Stop();
  metrics_server.Stop();
  probes.Stop();
  log.Info("Stopped", {{"signal", signals.Received()}});
  return 0;
}

}  // namespace
}  // namespace ephemera

int main(int argc, char** argv) { return ephemera::Run(argc, argv); }
