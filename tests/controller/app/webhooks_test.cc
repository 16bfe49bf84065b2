#include "controller/app/webhooks.h"

#include <gtest/gtest.h>

#include "controller/detection/container_mark.h"
#include "tests/controller/app/app_fixture.h"

namespace ephemera::app {
namespace {

using nlohmann::json;

constexpr char kMarkKey[] = "0123456789abcdef0123456789abcdef";
constexpr char kRecipient[] = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

// A DebugSession review as the validating webhook sees it, after the mutating webhook stamped
// spec.requestedBy from the request's user.
json SessionReview(const std::string& ns = "team-a", const std::string& operation = "CREATE") {
  json user = {{"username", "alice"}, {"uid", "u-1"}, {"groups", {"devs"}}};
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "req-1"},
            {"operation", operation},
            {"namespace", ns},
            {"userInfo", user},
            {"object",
             {{"metadata", {{"name", "s"}, {"namespace", ns}}},
              {"spec",
               {{"target", {{"pod", "shop-1"}}},
                {"reason", "INC-1 checkout 500s"},
                {"ttl", "5m"},
                {"recipients", {kRecipient}},
                {"requestedBy", user}}}}}}}};
}

// The review as the mutating webhook sees it: requestedBy not stamped yet.
json UnstampedSessionReview() {
  json review = SessionReview();
  review["request"]["object"]["spec"].erase("requestedBy");
  return review;
}

json PodWith(std::vector<json> ephemeral) {
  json pod = {{"metadata", {{"name", "shop-1"}, {"namespace", "team-a"}, {"uid", "uid-1"}}},
              {"spec", {{"containers", {{{"name", "app"}}}}}}};
  if (!ephemeral.empty()) pod["spec"]["ephemeralContainers"] = std::move(ephemeral);
  return pod;
}

json EphemeralReview(json added) {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "req-9"},
            {"operation", "UPDATE"},
            {"subResource", "ephemeralcontainers"},
            {"namespace", "team-a"},
            {"userInfo", {{"username", "mallory"}}},
            {"oldObject", PodWith({})},
            {"object", PodWith({std::move(added)})}}}};
}

json Debugger() { return {{"name", "debugger-x7k"}, {"image", "busybox:1.36"}}; }

httpserver::HttpRequest Request(std::string method, std::string path, std::string body = "") {
  httpserver::HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.body = std::move(body);
  return request;
}

// As the API server sends it (a verified client certificate), or as anyone else could.
httpserver::HttpRequest Post(const std::string& path, const json& body, bool verified = true) {
  httpserver::HttpRequest request = Request("POST", path, body.dump());
  request.client_verified = verified;
  request.client_common_name = verified ? "kube-apiserver" : "";
  return request;
}

const admission::AdmissionCaller kApiServer{true, "kube-apiserver"};

bool Allowed(const httpserver::HttpResponse& response) {
  return json::parse(response.body)["response"].value("allowed", false);
}

struct WebhooksFixture : AppFixture {
  explicit WebhooksFixture(session::Policy p = {}, WebhookCallers callers = {})
      : AppFixture(p.strict_audit),
        webhooks(std::move(p), kMarkKey, std::move(callers), replica, unsanctioned),
        routes(webhooks.Routes()) {}

  httpserver::HttpResponse Send(const httpserver::HttpRequest& request) {
    return httpserver::RouteRequest(routes, request);
  }

  AdmissionWebhooks webhooks;
  httpserver::Routes routes;
};

TEST(WebhookCallersTest, VerifiedOnlyWithAnAllowedCommonName) {
  const WebhookCallers any{};
  const WebhookCallers named{.names = {"kube-apiserver"}};
  httpserver::HttpRequest request;
  request.client_verified = true;
  request.client_common_name = "kube-apiserver";
  EXPECT_TRUE(any.Of(request).verified);
  EXPECT_EQ(any.Of(request).common_name, "kube-apiserver");
  EXPECT_TRUE(named.Of(request).verified);
  request.client_common_name = "some-pod";
  EXPECT_TRUE(any.Of(request).verified);
  EXPECT_FALSE(named.Of(request).verified);
  EXPECT_EQ(named.Of(request).common_name, "") << "an unverified caller has no name";
  request.client_verified = false;
  request.client_common_name = "kube-apiserver";
  EXPECT_FALSE(any.Of(request).verified);
}

TEST(WebhookCallersTest, FromTheConfiguration) {
  config::ControllerConfig config;
  EXPECT_FALSE(WebhookCallersFrom(config).required);
  config.webhook_client_auth = "require";
  config.webhook_client_names = {"kube-apiserver"};
  const WebhookCallers callers = WebhookCallersFrom(config);
  EXPECT_TRUE(callers.required);
  EXPECT_EQ(callers.names, std::vector<std::string>{"kube-apiserver"});
}

TEST(WebhookServerOptionsTest, HttpsWithClientCertificatesAsConfigured) {
  config::ControllerConfig config;
  config.webhook_address = ":9443";
  config.webhook_cert_dir = "/certs";
  httpserver::HttpServerOptions options = WebhookServerOptions(config);
  EXPECT_EQ(options.address, ":9443");
  ASSERT_TRUE(options.tls.has_value());
  EXPECT_EQ(options.tls->cert_file, "/certs/tls.crt");
  EXPECT_EQ(options.tls->key_file, "/certs/tls.key");
  EXPECT_EQ(options.client_cert_mode, httpserver::ClientCertMode::kNone);

  config.webhook_client_ca_file = "/ca/ca.crt";
  options = WebhookServerOptions(config);
  EXPECT_EQ(options.client_ca_file, "/ca/ca.crt");
  EXPECT_EQ(options.client_cert_mode, httpserver::ClientCertMode::kRequest);
  config.webhook_client_auth = "require";
  EXPECT_EQ(WebhookServerOptions(config).client_cert_mode, httpserver::ClientCertMode::kRequire);
}

TEST(AdmissionWebhooksTest, ServesTheThreePaths) {
  WebhooksFixture app;
  EXPECT_EQ(app.routes.size(), 3u);
  for (const char* path :
       {"/mutate-debugsession", "/validate-debugsession", "/validate-ephemeralcontainers"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(app.Send(Request("GET", path)).status, 405);
    EXPECT_EQ(app.Send(Request("POST", path, "{not json")).status, 400);
  }
  EXPECT_EQ(app.Send(Post("/validate-pods", SessionReview())).status, 404);
}

TEST(AdmissionWebhooksTest, RequiredClientAuthRefusesOtherCallersUnread) {
  WebhooksFixture app({}, {.required = true});
  const httpserver::HttpResponse refused =
      app.Send(Post("/validate-debugsession", SessionReview(), /*verified=*/false));
  EXPECT_EQ(refused.status, 403);
  EXPECT_TRUE(app.sink.Records().empty()) << "the review was not looked at";
  EXPECT_EQ(app.Send(Post("/validate-debugsession", SessionReview())).status, 200);
}

TEST(AdmissionWebhooksTest, ValidatingACreateIsAuditedWithItsCaller) {
  WebhooksFixture app;
  const httpserver::HttpResponse response =
      app.Send(Post("/validate-debugsession", SessionReview()));
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_TRUE(Allowed(response)) << response.body;
  const auto records = app.sink.Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].record.action, "admitted");
  EXPECT_EQ(records[0].record.chain, app.replica.Chain());
  EXPECT_EQ(records[0].record.details["caller"], "apiserver");
}

TEST(AdmissionWebhooksTest, AnUnverifiedCallersRecordIsMarked) {
  WebhooksFixture app;
  app.Send(Post("/validate-debugsession", SessionReview(), /*verified=*/false));
  ASSERT_EQ(app.sink.Records().size(), 1u);
  EXPECT_EQ(app.sink.Records()[0].record.action, "admitted-unverified");
}

TEST(AdmissionWebhooksTest, OnlyCreatesAreAudited) {
  WebhooksFixture app;
  const httpserver::HttpResponse response =
      app.Send(Post("/validate-debugsession", SessionReview("team-a", "DELETE")));
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(app.sink.Records().empty());
}

TEST(AdmissionWebhooksTest, StrictAuditDeniesACreateItCannotRecord) {
  session::Policy policy;
  policy.strict_audit = true;
  WebhooksFixture app(policy);
  app.sink.FailWith(UnavailableError("stdout closed"));

  const json answer = app.webhooks.ValidateDebugSession(SessionReview(), kApiServer);
  EXPECT_EQ(answer["response"]["allowed"], false);
  EXPECT_EQ(answer["response"]["status"]["message"], admission::kAuditUnavailableMessage);
}

TEST(AdmissionWebhooksTest, WithoutStrictAuditALostRecordDeniesNothing) {
  WebhooksFixture app;
  app.sink.FailWith(UnavailableError("stdout closed"));
  const json answer = app.webhooks.ValidateDebugSession(SessionReview(), kApiServer);
  EXPECT_EQ(answer["response"]["allowed"], true) << answer.dump();
}

TEST(AdmissionWebhooksTest, MutatingRecordsOnlyDenials) {
  WebhooksFixture app;
  EXPECT_TRUE(Allowed(app.Send(Post("/mutate-debugsession", UnstampedSessionReview()))));
  EXPECT_TRUE(app.sink.Records().empty()) << "admissions are recorded by the validating webhook";

  // A creator who names the requester is denied: Ephemera sets it.
  EXPECT_FALSE(Allowed(app.Send(Post("/mutate-debugsession", SessionReview()))));
  ASSERT_EQ(app.sink.Records().size(), 1u);
  EXPECT_EQ(app.sink.Records()[0].record.action.rfind("denied", 0), 0u)
      << app.sink.Records()[0].record.action;
}

TEST(AdmissionWebhooksTest, AnUnmarkedEphemeralContainerIsReportedBySource) {
  session::Policy policy;
  policy.unsanctioned_containers = session::UnsanctionedContainers::kEnforce;
  WebhooksFixture app(policy);

  EXPECT_FALSE(
      Allowed(app.Send(Post("/validate-ephemeralcontainers", EphemeralReview(Debugger())))));
  EXPECT_EQ(app.Unsanctioned("admission", "denied"), 1);
  app.Send(Post("/validate-ephemeralcontainers", EphemeralReview(Debugger()), /*verified=*/false));
  EXPECT_EQ(app.Unsanctioned("admission-unverified", "denied"), 1)
      << "a forged review counts apart from the API server's";
  EXPECT_EQ(app.Unsanctioned("admission", "denied"), 1);

  const auto records = app.sink.Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].record.action, "unsanctioned-container-seen");
  EXPECT_EQ(records[0].record.requester, "mallory");
  EXPECT_EQ(records[1].record.action, "unsanctioned-container-seen-unverified");
  EXPECT_EQ(app.events.Stats().queued, 0u);
}

TEST(AdmissionWebhooksTest, AuditModeAllowsAndStillReports) {
  WebhooksFixture app;
  EXPECT_TRUE(
      Allowed(app.Send(Post("/validate-ephemeralcontainers", EphemeralReview(Debugger())))));
  EXPECT_EQ(app.Unsanctioned("admission", "allowed"), 1);
}

TEST(AdmissionWebhooksTest, EphemerasOwnContainerIsNotReported) {
  WebhooksFixture app;
  json marked = {{"name", "ephemera-aa"}, {"image", "ephemera.local/snapshot@sha256:00"}};
  detection::AddMark(marked, kMarkKey, "uid-1");
  EXPECT_TRUE(Allowed(app.Send(Post("/validate-ephemeralcontainers", EphemeralReview(marked)))));
  EXPECT_TRUE(app.sink.Records().empty());
  EXPECT_EQ(app.Unsanctioned("admission", "allowed"), 0);
}

}  // namespace
}  // namespace ephemera::app
