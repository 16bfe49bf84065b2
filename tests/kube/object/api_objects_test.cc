#include <gtest/gtest.h>

#include "base/base64.h"
#include "base/rfc3339.h"
#include "kube/auth/exec_credential.h"
#include "kube/object/access_review.h"
#include "kube/object/event.h"
#include "kube/object/lease.h"

namespace ephemera::kube {
namespace {

using namespace std::chrono_literals;

std::chrono::system_clock::time_point At(int y, unsigned m, unsigned d) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
}

TEST(Rfc3339Test, FormatsAndParses) {
  const auto t = At(2026, 3, 1) + 13h + 4min + 5s + 123456us;
  EXPECT_EQ(base::FormatRfc3339(t), "2026-03-01T13:04:05Z");
  EXPECT_EQ(base::FormatRfc3339Micro(t), "2026-03-01T13:04:05.123456Z");
  EXPECT_EQ(*base::ParseRfc3339("2026-03-01T13:04:05.123456Z"), t);
  EXPECT_EQ(*base::ParseRfc3339("2026-03-01T15:04:05.123456+02:00"), t);
  EXPECT_EQ(*base::ParseRfc3339("2026-03-01T13:04:05Z"), t - 123456us);
  EXPECT_EQ(*base::ParseRfc3339("1969-12-31T23:59:59Z"),
            std::chrono::system_clock::time_point(-1s));
  for (const char* bad : {"", "2026-03-01", "2026-13-01T00:00:00Z", "2026-03-01T00:00:00",
                          "2026-03-01T00:00:00Zjunk", "2026-03-01T00:00:00.Z"}) {
    EXPECT_FALSE(base::ParseRfc3339(bad).ok()) << bad;
  }
}

TEST(Base64Test, RoundTripsAndRejectsGarbage) {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\x00\xff\x10"}) {
    EXPECT_EQ(*base::Base64Decode(base::Base64Encode(s)), s);
  }
  EXPECT_EQ(base::Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*base::Base64Decode("Zm9v\nYmE="), "fooba");
  EXPECT_EQ(*base::Base64Decode("Zm9vYmE"), "fooba");
  EXPECT_FALSE(base::Base64Decode("Zm9v!mE=").ok());
  EXPECT_FALSE(base::Base64Decode("Zm=9v").ok());
}

TEST(ExecCredentialTest, ParsesTokenWithExpiry) {
  auto credential = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{"token":"tok","expirationTimestamp":"2026-01-01T01:00:00Z"}})",
      kExecCredentialApiVersion);
  ASSERT_TRUE(credential.ok()) << credential.status().ToString();
  EXPECT_EQ(credential->credentials.bearer_token, "tok");
  EXPECT_EQ(credential->expiration, At(2026, 1, 1) + 1h);
}

TEST(ExecCredentialTest, ParsesClientCertificate) {
  auto credential = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}})",
      kExecCredentialApiVersion);
  ASSERT_TRUE(credential.ok());
  EXPECT_EQ(credential->credentials.client_certificate_pem, "CERT");
  EXPECT_EQ(credential->credentials.client_key_pem, "KEY");
  EXPECT_FALSE(credential->expiration.has_value());
}

TEST(ExecCredentialTest, RejectsBadOutputWithoutEchoingSecrets) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not a JSON object"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",
           "status":{"token":"secret-1"}})",
       "apiVersion"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}})",
       "neither status.token"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
           "status":{"clientKeyData":"secret-2"}})",
       "both status.clientCertificateData"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
           "status":{"token":"secret-3","expirationTimestamp":"soon"}})",
       "status.expirationTimestamp"},
  };
  for (const auto& [output, expected] : cases) {
    auto credential = ParseExecCredential(output, kExecCredentialApiVersion);
    ASSERT_FALSE(credential.ok()) << output;
    EXPECT_NE(credential.status().message().find(expected), std::string::npos)
        << credential.status().message();
    EXPECT_EQ(credential.status().message().find("secret-"), std::string::npos);
  }
}

TEST(ExecCredentialTest, ExecInfoCarriesClusterOnlyWhenAsked) {
  ExecConfig config{.api_version = std::string(kExecCredentialApiVersion), .command = "x"};
  const ExecClusterInfo cluster{"https://k:6443", "kube.test", "PEM"};
  auto info = nlohmann::json::parse(BuildExecInfo(config, cluster));
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_FALSE(info["spec"].contains("cluster"));
  config.provide_cluster_info = true;
  info = nlohmann::json::parse(BuildExecInfo(config, cluster));
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://k:6443");
  EXPECT_EQ(info["spec"]["cluster"]["tls-server-name"], "kube.test");
  EXPECT_EQ(info["spec"]["cluster"]["certificate-authority-data"], base::Base64Encode("PEM"));
}

TEST(LeaseTest, RoundTripsThroughJson) {
  LeaseRecord lease{.holder_identity = "ephemera-controller-abc",
                    .lease_duration = 15s,
                    .acquire_time = At(2026, 1, 1) + 1s,
                    .renew_time = At(2026, 1, 1) + 5s + 250ms,
                    .lease_transitions = 3,
                    .resource_version = "999"};
  const auto object = LeaseToJson({"ephemera-system", "ephemera-controller"}, lease);
  EXPECT_EQ(object["spec"]["renewTime"], "2026-01-01T00:00:05.250000Z");
  EXPECT_EQ(object["metadata"]["resourceVersion"], "999");
  auto back = LeaseFromJson(object);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->holder_identity, lease.holder_identity);
  EXPECT_EQ(back->lease_duration, 15s);
  EXPECT_EQ(back->acquire_time, lease.acquire_time);
  EXPECT_EQ(back->renew_time, lease.renew_time);
  EXPECT_EQ(back->lease_transitions, 3);
  EXPECT_EQ(back->resource_version, "999");
  EXPECT_FALSE(LeaseFromJson(nlohmann::json::parse(R"({"spec":{"renewTime":"yesterday"}})")).ok());
}

TEST(EventTest, BuildsEventsV1Object) {
  EventRecord record{
      .regarding = {"ephemera.dev/v1alpha1", "DebugSession", "shop", "checkout-500s", "uid-1"},
      .related = ObjectReference{"v1", "Pod", "shop", "checkout-7d9f", "uid-2"},
      .type = "Normal",
      .reason = "Injected",
      .action = "InjectEphemeralContainer",
      .note = std::string(2000, 'n'),
      .reporting_controller = "ephemera.dev/ephemera-controller",
      .reporting_instance = "ephemera-controller-0"};
  auto event = BuildEventObject(record, At(2026, 1, 1));
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ((*event)["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ((*event)["metadata"]["generateName"], "checkout-500s-");
  EXPECT_EQ((*event)["metadata"]["namespace"], "shop");
  EXPECT_EQ((*event)["eventTime"], "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ((*event)["regarding"]["uid"], "uid-1");
  EXPECT_EQ((*event)["related"]["kind"], "Pod");
  EXPECT_EQ((*event)["note"].get<std::string>().size(), 1024u);
  record.reason.clear();
  EXPECT_EQ(BuildEventObject(record, At(2026, 1, 1)).status().code(), StatusCode::kInvalidArgument);
  record.reason = "Injected";
  record.type = "Info";
  EXPECT_FALSE(BuildEventObject(record, At(2026, 1, 1)).ok());
}

TEST(AccessReviewTest, BuildsRequestAndParsesAnswer) {
  AccessReviewRequest request{.user = "alice@example.com",
                              .uid = "u1",
                              .groups = {"devs", "system:authenticated"},
                              .extra = {{"scopes", {"a"}}},
                              .resource = {.namespace_name = "shop",
                                           .verb = "patch",
                                           .resource = "pods",
                                           .subresource = "ephemeralcontainers",
                                           .name = "checkout-7d9f"}};
  auto review = BuildSubjectAccessReview(request);
  ASSERT_TRUE(review.ok());
  EXPECT_EQ((*review)["spec"]["user"], "alice@example.com");
  EXPECT_EQ((*review)["spec"]["groups"][1], "system:authenticated");
  EXPECT_EQ((*review)["spec"]["extra"]["scopes"][0], "a");
  EXPECT_EQ((*review)["spec"]["resourceAttributes"]["subresource"], "ephemeralcontainers");
  EXPECT_EQ((*review)["spec"]["resourceAttributes"]["group"], "");

  auto allowed = ParseSubjectAccessReview(
      nlohmann::json::parse(R"({"status":{"allowed":true,"reason":"RBAC: allowed by role"}})"));
  ASSERT_TRUE(allowed.ok());
  EXPECT_TRUE(allowed->allowed);
  EXPECT_EQ(allowed->reason, "RBAC: allowed by role");
  auto denied = ParseSubjectAccessReview(
      nlohmann::json::parse(R"({"status":{"allowed":false,"denied":true,"reason":"no"}})"));
  ASSERT_TRUE(denied.ok());
  EXPECT_FALSE(denied->allowed);
  EXPECT_TRUE(denied->denied);
  EXPECT_FALSE(ParseSubjectAccessReview(nlohmann::json::parse(R"({"spec":{}})")).ok());
  EXPECT_FALSE(BuildSubjectAccessReview({}).ok());
}

}  // namespace
}  // namespace ephemera::kube
