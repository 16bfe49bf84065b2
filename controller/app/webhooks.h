// The admission webhooks: which handler answers which path, who may call them, and the audit
// records of their decisions (with strict audit, an allowed DebugSession create whose record could
// not be written is denied).
//
//   /mutate-debugsession            stamps spec.requestedBy; a denial is recorded
//   /validate-debugsession          the cluster policy; every CREATE is recorded, strict audit
//                                   applies
//   /validate-ephemeralcontainers   marks; each unsanctioned container is reported
//
// No network here: the routes are plain handlers that an httpserver::HttpServer serves and tests
// call directly.
#ifndef EPHEMERA_CONTROLLER_APP_WEBHOOKS_H_
#define EPHEMERA_CONTROLLER_APP_WEBHOOKS_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controller/admission/admission_audit.h"
#include "controller/app/replica_audit.h"
#include "controller/app/unsanctioned.h"
#include "controller/config/controller_config.h"
#include "controller/httpserver/http_handler.h"
#include "controller/httpserver/http_server.h"
#include "controller/session/policy.h"

namespace ephemera::app {

// Who may call the webhooks: the API server proves itself with a client certificate from
// webhookClientCaFile (with a common name from webhookClientNames when given).
struct WebhookCallers {
  bool required = false;             // webhookClientAuth: require
  std::vector<std::string> names{};  // webhookClientNames: [] = any common name

  // Verified when the request's certificate verified and its common name is allowed.
  admission::AdmissionCaller Of(const httpserver::HttpRequest& request) const;
};

// The callers of `config` (webhookClientAuth, webhookClientNames).
WebhookCallers WebhookCallersFrom(const config::ControllerConfig& config);

// The webhook server's options: HTTPS on webhookAddress with tls.crt and tls.key from
// webhookCertDir; with webhookClientCaFile, client certificates are requested (or required, see
// WebhookCallers::required).
httpserver::HttpServerOptions WebhookServerOptions(const config::ControllerConfig& config);

// Answers one AdmissionReview for a known caller.
using AdmissionReviewer =
    std::function<nlohmann::json(const nlohmann::json& review, const admission::AdmissionCaller&)>;

// POSTed AdmissionReview → `review`; anything else is answered 405, an unreadable body 400 (the
// API server then applies the webhook's failurePolicy, which is Fail). With client authentication
// required, a caller that is not the API server is answered 403 before its body is looked at;
// otherwise the reviewer learns who called, so that its audit records can say whether the API
// server asked. Bodies are parsed depth-limited.
httpserver::HttpHandler AdmissionHandler(WebhookCallers callers, AdmissionReviewer review);

class AdmissionWebhooks {
 public:
  // Borrows `audit` and `unsanctioned`, which must outlive this and its routes.
  AdmissionWebhooks(session::Policy policy, std::string mark_key, WebhookCallers callers,
                    ReplicaAudit& audit, UnsanctionedReporter& unsanctioned);

  // The three handlers, by the caller that sent the review.
  nlohmann::json MutateDebugSession(const nlohmann::json& review,
                                    const admission::AdmissionCaller& caller);
  nlohmann::json ValidateDebugSession(const nlohmann::json& review,
                                      const admission::AdmissionCaller& caller);
  nlohmann::json ValidateEphemeralContainers(const nlohmann::json& review,
                                             const admission::AdmissionCaller& caller);

  // The paths above, each through AdmissionHandler. The routes borrow this object.
  httpserver::Routes Routes();

 private:
  // The decision's audit record, marked with its caller; what the append returned.
  Status Record(const nlohmann::json& review, const nlohmann::json& answer,
                const admission::AdmissionCaller& caller);

  const session::Policy policy_;
  const std::string mark_key_;
  const WebhookCallers callers_;
  ReplicaAudit& audit_;
  UnsanctionedReporter& unsanctioned_;
};

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_WEBHOOKS_H_
