#include "controller/app/readiness.h"

#include <gtest/gtest.h>

namespace ephemera::app {
namespace {

ReadinessSignals AllGood() {
  return {.serving_webhooks = true,
          .leading = true,
          .cache_synced = true,
          .strict_audit = true,
          .audit_healthy = true};
}

TEST(ReadinessTest, ReadyWhenEverythingIsUp) { EXPECT_TRUE(IsReady(AllGood())); }

TEST(ReadinessTest, NotReadyBeforeTheWebhooksAreServed) {
  ReadinessSignals signals = AllGood();
  signals.serving_webhooks = false;
  EXPECT_FALSE(IsReady(signals));
}

TEST(ReadinessTest, ALeaderWaitsForItsCache) {
  ReadinessSignals signals = AllGood();
  signals.cache_synced = false;
  EXPECT_FALSE(IsReady(signals));
  signals.leading = false;
  EXPECT_TRUE(IsReady(signals)) << "a follower has no cache to wait for";
}

TEST(ReadinessTest, StrictAuditMakesAFailingSinkUnready) {
  ReadinessSignals signals = AllGood();
  signals.audit_healthy = false;
  EXPECT_FALSE(IsReady(signals));
  signals.strict_audit = false;
  EXPECT_TRUE(IsReady(signals)) << "without strict audit a lost record does not stop admission";
}

TEST(ReadinessTest, ProbeRoutesAnswerFromTheSignalsOfTheMoment) {
  ReadinessSignals now = AllGood();
  httpserver::Routes routes = ProbeRoutes([&] { return now; });
  httpserver::HttpRequest readyz;
  readyz.method = "GET";
  readyz.path = "/readyz";
  httpserver::HttpRequest healthz = readyz;
  healthz.path = "/healthz";

  EXPECT_EQ(httpserver::RouteRequest(routes, readyz).status, 200);
  EXPECT_EQ(httpserver::RouteRequest(routes, readyz).body, "ok\n");
  now.serving_webhooks = false;
  const httpserver::HttpResponse unready = httpserver::RouteRequest(routes, readyz);
  EXPECT_EQ(unready.status, 503);
  EXPECT_EQ(unready.body, "not ready\n");
  EXPECT_EQ(httpserver::RouteRequest(routes, healthz).status, 200) << "alive though not ready";
  EXPECT_EQ(routes.size(), 2u);
}

}  // namespace
}  // namespace ephemera::app
