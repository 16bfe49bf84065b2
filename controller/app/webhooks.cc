#include "controller/app/webhooks.h"

#include <algorithm>
#include <utility>

#include "base/json_depth.h"
#include "controller/admission/debug_session_admission.h"
#include "controller/admission/ephemeral_container_admission.h"

namespace ephemera::app {

admission::AdmissionCaller WebhookCallers::Of(const httpserver::HttpRequest& request) const {
  admission::AdmissionCaller caller;
  caller.verified = request.client_verified &&
                    (names.empty() || std::find(names.begin(), names.end(),
                                                request.client_common_name) != names.end());
  if (caller.verified) caller.common_name = request.client_common_name;
  return caller;
}

WebhookCallers WebhookCallersFrom(const config::ControllerConfig& config) {
  return {.required = config.webhook_client_auth == "require",
          .names = config.webhook_client_names};
}

httpserver::HttpServerOptions WebhookServerOptions(const config::ControllerConfig& config) {
  httpserver::HttpServerOptions options;
  options.address = config.webhook_address;
  options.tls = httpserver::TlsFiles{config.webhook_cert_dir + "/tls.crt",
                                     config.webhook_cert_dir + "/tls.key"};
  if (!config.webhook_client_ca_file.empty()) {
    options.client_ca_file = config.webhook_client_ca_file;
    options.client_cert_mode = WebhookCallersFrom(config).required
                                   ? httpserver::ClientCertMode::kRequire
                                   : httpserver::ClientCertMode::kRequest;
  }
  return options;
}

httpserver::HttpHandler AdmissionHandler(WebhookCallers callers, AdmissionReviewer review) {
  return [callers = std::move(callers),
          review = std::move(review)](const httpserver::HttpRequest& request) {
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
    return httpserver::HttpResponse{200, "application/json", review(body, caller).dump()};
  };
}

AdmissionWebhooks::AdmissionWebhooks(session::Policy policy, std::string mark_key,
                                     WebhookCallers callers, ReplicaAudit& audit,
                                     UnsanctionedReporter& unsanctioned)
    : policy_(std::move(policy)),
      mark_key_(std::move(mark_key)),
      callers_(std::move(callers)),
      audit_(audit),
      unsanctioned_(unsanctioned) {}

Status AdmissionWebhooks::Record(const nlohmann::json& review, const nlohmann::json& answer,
                                 const admission::AdmissionCaller& caller) {
  audit::AuditRecord record = admission::BuildAdmissionRecord(review, answer);
  admission::MarkCaller(record, caller);
  return audit_.Append(std::move(record));
}

nlohmann::json AdmissionWebhooks::MutateDebugSession(const nlohmann::json& review,
                                                     const admission::AdmissionCaller& caller) {
  nlohmann::json answer = admission::MutateDebugSession(review, policy_);
  // Only a denial is recorded here: what is admitted is recorded by the validating webhook.
  if (!answer["response"].value("allowed", false)) (void)Record(review, answer, caller);
  return answer;
}

nlohmann::json AdmissionWebhooks::ValidateDebugSession(const nlohmann::json& review,
                                                       const admission::AdmissionCaller& caller) {
  nlohmann::json answer = admission::ValidateDebugSession(review, policy_);
  if (!admission::IsCreate(review)) return answer;
  // Strict audit: a session whose admission is not on record is not created.
  const Status audited = Record(review, answer, caller);
  return admission::ApplyStrictAudit(review, std::move(answer), audited, policy_.strict_audit);
}

nlohmann::json AdmissionWebhooks::ValidateEphemeralContainers(
    const nlohmann::json& review, const admission::AdmissionCaller& caller) {
  auto decision =
      admission::ReviewEphemeralContainers(review, mark_key_, policy_.unsanctioned_containers);
  const bool allowed = decision.response["response"].value("allowed", false);
  // A forged review can say anything: it counts under its own source label, so an alert on the
  // verified sources cannot be set off or drowned by any pod.
  const Sighting sighting{.source = caller.verified ? "admission" : "admission-unverified",
                          .decision = allowed ? "allowed" : "denied",
                          .username = decision.username,
                          .caller = &caller};
  for (const auto& c : decision.unsanctioned) unsanctioned_.Report(c, sighting);
  return decision.response;
}

httpserver::Routes AdmissionWebhooks::Routes() {
  httpserver::Routes routes;
  routes["/mutate-debugsession"] = AdmissionHandler(
      callers_, [this](const nlohmann::json& r, const admission::AdmissionCaller& c) {
        return MutateDebugSession(r, c);
      });
  routes["/validate-debugsession"] = AdmissionHandler(
      callers_, [this](const nlohmann::json& r, const admission::AdmissionCaller& c) {
        return ValidateDebugSession(r, c);
      });
  routes["/validate-ephemeralcontainers"] = AdmissionHandler(
      callers_, [this](const nlohmann::json& r, const admission::AdmissionCaller& c) {
        return ValidateEphemeralContainers(r, c);
      });
  return routes;
}

}  // namespace ephemera::app
