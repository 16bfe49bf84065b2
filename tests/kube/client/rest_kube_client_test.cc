// RestKubeClient over scripted HTTP: faults (409, 410, 429, 5xx, dropped streams) and the state
// the caller ends up with.
#include "kube/client/rest_kube_client.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "kube/client/api_error.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_http_transport.h"

namespace ephemera::kube {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json Pod(const std::string& name, const std::string& rv) {
  return {{"kind", "Pod"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", name}, {"namespace", "ns"}, {"resourceVersion", rv}}}};
}

std::string Event(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

class RestKubeClientTest : public ::testing::Test {
 protected:
  RestKubeClientTest() : client_(fake_, clock_, Options()) {}
  static RestKubeClientOptions Options() {
    RestKubeClientOptions options;
    options.qps = 0;  // unlimited unless a test says otherwise
    options.random_seed = 1;
    return options;
  }
  base::FakeClock clock_;
  FakeHttpTransport fake_;
  RestKubeClient client_;
};

TEST_F(RestKubeClientTest, GetSendsJsonRequestAndReturnsObject) {
  fake_.Enqueue(FakeReply::Json(200, Pod("web-0", "5")));
  auto pod = client_.Get(PodsResource(), {"ns", "web-0"});
  ASSERT_TRUE(pod.ok()) << pod.status().ToString();
  EXPECT_EQ((*pod)["metadata"]["resourceVersion"], "5");
  const auto request = fake_.Requests().at(0);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/api/v1/namespaces/ns/pods/web-0");
  EXPECT_EQ(FindHeader(request.headers, "Accept"), "application/json");
  EXPECT_EQ(FindHeader(request.headers, "User-Agent"), "ephemera-controller");
}

TEST_F(RestKubeClientTest, NotFoundKeepsServerMessage) {
  fake_.Enqueue(FakeReply::ApiStatus(404, "NotFound", "pods \"web-0\" not found"));
  auto pod = client_.Get(PodsResource(), {"ns", "web-0"});
  EXPECT_EQ(pod.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(pod.status().message(), "pods \"web-0\" not found (HTTP 404 NotFound)");
}

TEST_F(RestKubeClientTest, ConflictOnUpdateAdvisesReReadThenSucceeds) {
  // A reconciler's loop: PUT → 409 → re-GET → PUT with the fresh resourceVersion.
  fake_.Enqueue(FakeReply::ApiStatus(409, "Conflict", "the object has been modified"));
  fake_.Enqueue(FakeReply::Json(200, Pod("p", "8")));
  fake_.Enqueue(FakeReply::Json(200, Pod("p", "9")));
  json desired = Pod("p", "7");
  auto updated = client_.Update(PodsResource(), {"ns", "p"}, desired);
  ASSERT_EQ(updated.status().code(), StatusCode::kAborted);
  ASSERT_EQ(AdviseRetry(updated.status()), RetryAdvice::kReReadAndRetry);
  auto fresh = client_.Get(PodsResource(), {"ns", "p"});
  ASSERT_TRUE(fresh.ok());
  desired["metadata"]["resourceVersion"] = (*fresh)["metadata"]["resourceVersion"];
  updated = client_.Update(PodsResource(), {"ns", "p"}, desired);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ((*updated)["metadata"]["resourceVersion"], "9");
  const auto requests = fake_.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(json::parse(requests[2].body)["metadata"]["resourceVersion"], "8");
  EXPECT_EQ(requests[2].method, "PUT");
  EXPECT_EQ(FindHeader(requests[2].headers, "Content-Type"), "application/json");
}

TEST_F(RestKubeClientTest, CreateAlreadyExists) {
  fake_.Enqueue(FakeReply::ApiStatus(409, "AlreadyExists", "secrets \"k\" already exists"));
  auto created = client_.Create(SecretsResource(), "ns", {{"metadata", {{"name", "k"}}}},
                                {.field_manager = "ephemera-controller"});
  EXPECT_EQ(created.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(fake_.Requests().at(0).target,
            "/api/v1/namespaces/ns/secrets?fieldManager=ephemera-controller");
  EXPECT_EQ(fake_.Requests().at(0).method, "POST");
}

TEST_F(RestKubeClientTest, TooManyRequestsIsRetriedAfterRetryAfter) {
  fake_.Enqueue(FakeReply::ApiStatus(429, "TooManyRequests", "slow down", {{"Retry-After", "7"}}));
  fake_.Enqueue(FakeReply::Json(200, Pod("p", "1")));
  auto pod = client_.Get(PodsResource(), {"ns", "p"});
  ASSERT_TRUE(pod.ok()) << pod.status().ToString();
  EXPECT_EQ(fake_.Requests().size(), 2u);
  EXPECT_EQ(clock_.Slept(), 7s);
}

TEST_F(RestKubeClientTest, PersistentThrottlingReturnsUnavailableWithRetryAfter) {
  fake_.SetHandler([](const HttpRequest&) {
    return FakeReply::ApiStatus(429, "TooManyRequests", "slow down", {{"Retry-After", "2"}});
  });
  auto pod = client_.Get(PodsResource(), {"ns", "p"});
  EXPECT_EQ(pod.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(RetryAfterOf(pod.status()), 2s);
  EXPECT_EQ(AdviseRetry(pod.status()), RetryAdvice::kRetryLater);
  EXPECT_EQ(fake_.Requests().size(), 4u);  // first try + max_retries (3)
  EXPECT_EQ(clock_.Slept(), 6s);
}

TEST_F(RestKubeClientTest, ServerErrorWithoutRetryAfterReturnsAtOnce) {
  fake_.Enqueue(FakeReply::ApiStatus(503, "ServiceUnavailable", "apiserver is shutting down"));
  auto pod = client_.Get(PodsResource(), {"ns", "p"});
  EXPECT_EQ(pod.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(fake_.Requests().size(), 1u);
  EXPECT_EQ(clock_.Slept(), 0s);
}

TEST_F(RestKubeClientTest, ServerErrorWithRetryAfterIsRetried) {
  fake_.Enqueue(
      FakeReply::ApiStatus(500, "InternalError", "etcd leader changed", {{"Retry-After", "1"}}));
  fake_.Enqueue(FakeReply::Json(201, Pod("p", "1")));
  auto created = client_.Create(PodsResource(), "ns", Pod("p", ""));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(fake_.Requests().size(), 2u);
}

TEST_F(RestKubeClientTest, TransportFailureIsUnavailable) {
  fake_.Enqueue(FakeReply{.error = UnavailableError("connection refused")});
  auto pod = client_.Get(PodsResource(), {"ns", "p"});
  EXPECT_EQ(pod.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(AdviseRetry(pod.status()), RetryAdvice::kRetryLater);
}

// No rate limit and a fixed jitter seed: the observer tests see every request at once.
RestKubeClientOptions Unthrottled() {
  RestKubeClientOptions options;
  options.qps = 0;
  options.random_seed = 1;
  return options;
}

// Every request sent is reported once, retries and failures included, for the request metric.
TEST(RestKubeClientObserverTest, ReportsEveryRequestWithItsStatus) {
  base::FakeClock clock;
  FakeHttpTransport fake;
  std::vector<std::pair<std::string, int>> seen;
  RestKubeClientOptions options = Unthrottled();
  options.on_response = [&seen](const std::string& method, int status) {
    seen.emplace_back(method, status);
  };
  RestKubeClient client(fake, clock, options);
  fake.Enqueue(FakeReply::ApiStatus(429, "TooManyRequests", "slow down", {{"Retry-After", "1"}}));
  fake.Enqueue(FakeReply::Json(200, Pod("p", "1")));
  fake.Enqueue(FakeReply::ApiStatus(404, "NotFound", "pods \"q\" not found"));
  fake.Enqueue(FakeReply{.error = UnavailableError("connection refused")});
  EXPECT_TRUE(client.Get(PodsResource(), {"ns", "p"}).ok());
  EXPECT_FALSE(client.Get(PodsResource(), {"ns", "q"}).ok());
  EXPECT_FALSE(client.Delete(PodsResource(), {"ns", "p"}).ok());
  const std::vector<std::pair<std::string, int>> want = {
      {"GET", 429}, {"GET", 200}, {"GET", 404}, {"DELETE", 0}};
  EXPECT_EQ(seen, want);
}

// Each request's time to its answer (or failure), for the latency histogram.
TEST(RestKubeClientObserverTest, ReportsHowLongEachRequestTook) {
  base::FakeClock clock;
  FakeHttpTransport fake;
  std::vector<std::pair<std::string, double>> seen;
  RestKubeClientOptions options = Unthrottled();
  options.on_latency = [&seen](const std::string& method, double seconds) {
    seen.emplace_back(method, seconds);
  };
  RestKubeClient client(fake, clock, options);
  // The server takes 250 ms to answer, or to fail.
  fake.SetHandler([&clock](const HttpRequest& request) {
    clock.Advance(std::chrono::milliseconds(250));
    return request.method == "GET" ? FakeReply::Json(200, Pod("p", "1"))
                                   : FakeReply{.error = UnavailableError("connection refused")};
  });
  EXPECT_TRUE(client.Get(PodsResource(), {"ns", "p"}).ok());
  EXPECT_FALSE(client.Delete(PodsResource(), {"ns", "p"}).ok());
  const std::vector<std::pair<std::string, double>> want = {{"GET", 0.25}, {"DELETE", 0.25}};
  EXPECT_EQ(seen, want);
}

TEST_F(RestKubeClientTest, ListFollowsContinueTokens) {
  fake_.Enqueue(FakeReply::Json(
      200, {{"kind", "PodList"},
            {"apiVersion", "v1"},
            {"metadata", {{"resourceVersion", "100"}, {"continue", "page2"}}},
            {"items", {{{"metadata", {{"name", "a"}}}}, {{"metadata", {{"name", "b"}}}}}}}));
  fake_.Enqueue(
      FakeReply::Json(200, {{"kind", "PodList"},
                            {"apiVersion", "v1"},
                            {"metadata", {{"resourceVersion", "100"}, {"continue", "page3"}}},
                            {"items", {{{"metadata", {{"name", "c"}}}}}}}));
  fake_.Enqueue(FakeReply::Json(200, {{"kind", "PodList"},
                                      {"apiVersion", "v1"},
                                      {"metadata", {{"resourceVersion", "100"}}},
                                      {"items", nullptr}}));
  auto list = client_.List(PodsResource(), "ns", {.label_selector = "app=web", .limit = 2});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->items.size(), 3u);
  EXPECT_EQ(list->items[2]["metadata"]["name"], "c");
  EXPECT_EQ(list->items[0]["kind"], "Pod");  // restored from the list kind
  EXPECT_EQ(list->items[0]["apiVersion"], "v1");
  EXPECT_EQ(list->resource_version, "100");
  const auto requests = fake_.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb&limit=2");
  EXPECT_EQ(requests[1].target,
            "/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb&limit=2&continue=page2");
  EXPECT_EQ(requests[2].target,
            "/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb&limit=2&continue=page3");
}

TEST_F(RestKubeClientTest, ListRestartsWhenContinueTokenExpires) {
  fake_.Enqueue(
      FakeReply::Json(200, {{"kind", "PodList"},
                            {"metadata", {{"resourceVersion", "100"}, {"continue", "stale"}}},
                            {"items", {Pod("old", "90")}}}));
  fake_.Enqueue(FakeReply::ApiStatus(
      410, "Expired", "The provided continue parameter is too old to display a consistent list"));
  fake_.Enqueue(FakeReply::Json(200, {{"kind", "PodList"},
                                      {"metadata", {{"resourceVersion", "200"}}},
                                      {"items", {Pod("new-1", "150"), Pod("new-2", "160")}}}));
  auto list = client_.List(PodsResource(), "ns", {.resource_version = "0", .limit = 1});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->items.size(), 2u);  // only the fresh listing, no duplicate of "old"
  EXPECT_EQ(list->items[0]["metadata"]["name"], "new-1");
  EXPECT_EQ(list->resource_version, "200");
  const auto requests = fake_.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].target, "/api/v1/namespaces/ns/pods?limit=1");  // consistent read
}

TEST_F(RestKubeClientTest, ListGivesUpAfterRepeatedExpiry) {
  fake_.SetHandler([](const HttpRequest& request) {
    if (request.target.find("continue=") != std::string::npos) {
      return FakeReply::ApiStatus(410, "Expired", "too old");
    }
    return FakeReply::Json(200, {{"metadata", {{"continue", "c"}}}, {"items", json::array()}});
  });
  auto list = client_.List(PodsResource(), "ns");
  EXPECT_TRUE(IsGone(list.status()));
  EXPECT_EQ(fake_.Requests().size(), 6u);  // 3 listings × (first page + expired continue)
}

TEST_F(RestKubeClientTest, WatchDeliversEventsSplitAcrossChunks) {
  const std::string stream =
      Event("ADDED", Pod("a", "11")) + Event("MODIFIED", Pod("a", "12")) +
      Event("BOOKMARK", {{"kind", "Pod"}, {"metadata", {{"resourceVersion", "15"}}}});
  std::vector<std::string> chunks;
  for (std::size_t i = 0; i < stream.size(); i += 7) chunks.push_back(stream.substr(i, 7));
  fake_.Enqueue(FakeReply::Stream(chunks));
  std::vector<WatchEvent> seen;
  const WatchResult result =
      client_.Watch(PodsResource(), "ns", {.resource_version = "10", .timeout = 42s},
                    [&](const WatchEvent& e) { seen.push_back(e); }, {});
  EXPECT_EQ(result.end, WatchEnd::kClosed);
  EXPECT_TRUE(result.error.ok());
  EXPECT_EQ(result.resource_version, "15");
  EXPECT_EQ(result.events, 3u);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].type, WatchEventType::kModified);
  EXPECT_EQ(seen[2].type, WatchEventType::kBookmark);
  const auto request = fake_.Requests().at(0);
  EXPECT_EQ(request.target,
            "/api/v1/namespaces/ns/pods?watch=1&resourceVersion=10&allowWatchBookmarks=true"
            "&timeoutSeconds=42");
  EXPECT_EQ(request.timeout, 72s);  // timeoutSeconds + 30s of tolerated silence
}

TEST_F(RestKubeClientTest, WatchErrorExpiredInStreamIsGone) {
  fake_.Enqueue(FakeReply::Stream({Event("ADDED", Pod("a", "11")),
                                   Event("ERROR", {{"kind", "Status"},
                                                   {"apiVersion", "v1"},
                                                   {"status", "Failure"},
                                                   {"message", "too old resource version: 10 (20)"},
                                                   {"reason", "Expired"},
                                                   {"code", 410}}),
                                   Event("ADDED", Pod("never", "30"))}));
  std::vector<std::string> names;
  const WatchResult result = client_.Watch(
      PodsResource(), "ns", {.resource_version = "10"},
      [&](const WatchEvent& e) { names.push_back(e.object["metadata"]["name"]); }, {});
  EXPECT_EQ(result.end, WatchEnd::kGone);
  EXPECT_TRUE(IsGone(result.error));
  EXPECT_EQ(names, std::vector<std::string>{"a"});
  EXPECT_EQ(result.resource_version, "11");
}

TEST_F(RestKubeClientTest, WatchHttp410IsGone) {
  fake_.Enqueue(FakeReply::ApiStatus(410, "Gone", "too old resource version"));
  const WatchResult result =
      client_.Watch(PodsResource(), "ns", {.resource_version = "1"}, [](const WatchEvent&) {}, {});
  EXPECT_EQ(result.end, WatchEnd::kGone);
  EXPECT_EQ(result.resource_version, "1");
}

TEST_F(RestKubeClientTest, WatchOtherErrorEventIsError) {
  fake_.Enqueue(FakeReply::Stream(
      {Event("ERROR", {{"kind", "Status"}, {"message", "internal"}, {"code", 500}})}));
  const WatchResult result = client_.Watch(PodsResource(), "ns", {}, [](const WatchEvent&) {}, {});
  EXPECT_EQ(result.end, WatchEnd::kError);
  EXPECT_EQ(result.error.code(), StatusCode::kUnavailable);
}

TEST_F(RestKubeClientTest, WatchDroppedMidEventKeepsLastCompleteVersion) {
  const std::string second = Event("MODIFIED", Pod("a", "12"));
  FakeReply reply = FakeReply::Stream({Event("ADDED", Pod("a", "11")), second.substr(0, 20)});
  reply.error = UnavailableError("connection reset by peer");
  reply.fail_after_chunks = true;
  fake_.Enqueue(reply);
  int events = 0;
  const WatchResult result = client_.Watch(PodsResource(), "ns", {.resource_version = "10"},
                                           [&](const WatchEvent&) { ++events; }, {});
  EXPECT_EQ(result.end, WatchEnd::kError);
  EXPECT_EQ(result.error.code(), StatusCode::kUnavailable);
  EXPECT_EQ(AdviseRetry(result.error), RetryAdvice::kRetryLater);
  EXPECT_EQ(result.resource_version, "11");  // resume from here
  EXPECT_EQ(events, 1);
}

TEST_F(RestKubeClientTest, WatchStreamEndingInsideEventIsError) {
  fake_.Enqueue(FakeReply::Stream({Event("ADDED", Pod("a", "11")), R"({"type":"MODI)"}));
  const WatchResult result = client_.Watch(PodsResource(), "ns", {}, [](const WatchEvent&) {}, {});
  EXPECT_EQ(result.end, WatchEnd::kError);
  EXPECT_NE(result.error.message().find("inside an event"), std::string::npos);
  EXPECT_EQ(result.resource_version, "11");
}

TEST_F(RestKubeClientTest, WatchOversizeEventIsError) {
  RestKubeClientOptions options = Options();
  options.watch_limits.max_event_bytes = 64;
  RestKubeClient small(fake_, clock_, options);
  fake_.Enqueue(FakeReply::Stream({Event("ADDED", Pod(std::string(100, 'x'), "1"))}));
  const WatchResult result = small.Watch(PodsResource(), "ns", {}, [](const WatchEvent&) {}, {});
  EXPECT_EQ(result.end, WatchEnd::kError);
  EXPECT_EQ(result.error.code(), StatusCode::kResourceExhausted);
}

TEST_F(RestKubeClientTest, WatchStopsWhenRequested) {
  fake_.Enqueue(FakeReply::Stream({Event("ADDED", Pod("a", "1")), Event("ADDED", Pod("b", "2"))}));
  std::stop_source stop;
  int events = 0;
  const WatchResult result = client_.Watch(
      PodsResource(), "ns", {},
      [&](const WatchEvent&) {
        ++events;
        stop.request_stop();
      },
      stop.get_token());
  EXPECT_EQ(result.end, WatchEnd::kStopped);
  EXPECT_EQ(events, 1);
}

TEST_F(RestKubeClientTest, WatchTimeoutIsJitteredWithinBounds) {
  std::set<std::string> timeouts;
  for (int i = 0; i < 20; ++i) {
    fake_.Enqueue(FakeReply::Stream({}));
    (void)client_.Watch(PodsResource(), "ns", {}, [](const WatchEvent&) {}, {});
  }
  for (const auto& request : fake_.Requests()) {
    const auto pos = request.target.find("timeoutSeconds=");
    ASSERT_NE(pos, std::string::npos);
    const int seconds = std::stoi(request.target.substr(pos + 15));
    EXPECT_GE(seconds, 300);
    EXPECT_LE(seconds, 600);
    timeouts.insert(request.target.substr(pos));
  }
  EXPECT_GT(timeouts.size(), 5u);  // actually random, not a constant
}

TEST_F(RestKubeClientTest, PatchKindsSendTheirContentTypes) {
  for (int i = 0; i < 3; ++i) fake_.Enqueue(FakeReply::Json(200, Pod("p", "2")));
  ASSERT_TRUE(client_
                  .Patch(DebugSessionsResource(), {"ns", "s"}, PatchType::kApply,
                         {{"apiVersion", "ephemera.dev/v1alpha1"}, {"kind", "DebugSession"}},
                         {.field_manager = "ephemera-controller", .force = true})
                  .ok());
  ASSERT_TRUE(client_
                  .PatchStatus(DebugSessionsResource(), {"ns", "s"}, PatchType::kMerge,
                               {{"status", {{"phase", "Injecting"}}}})
                  .ok());
  ASSERT_TRUE(client_
                  .PatchEphemeralContainers(
                      {"ns", "p"},
                      {{"spec", {{"ephemeralContainers", {{{"name", "ephemera-3f9a1c0b7e"}}}}}}})
                  .ok());
  const auto requests = fake_.Requests();
  EXPECT_EQ(requests[0].target,
            "/apis/ephemera.dev/v1alpha1/namespaces/ns/debugsessions/s"
            "?fieldManager=ephemera-controller&force=true");
  EXPECT_EQ(FindHeader(requests[0].headers, "Content-Type"), "application/apply-patch+yaml");
  EXPECT_EQ(requests[1].target, "/apis/ephemera.dev/v1alpha1/namespaces/ns/debugsessions/s/status");
  EXPECT_EQ(FindHeader(requests[1].headers, "Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(requests[2].target, "/api/v1/namespaces/ns/pods/p/ephemeralcontainers");
  EXPECT_EQ(FindHeader(requests[2].headers, "Content-Type"),
            "application/strategic-merge-patch+json");
  EXPECT_EQ(json::parse(requests[2].body)["spec"]["ephemeralContainers"][0]["name"],
            "ephemera-3f9a1c0b7e");
  for (const auto& r : requests) EXPECT_EQ(r.method, "PATCH");
}

TEST_F(RestKubeClientTest, JsonPatchMustBeAnArray) {
  auto patched = client_.Patch(PodsResource(), {"ns", "p"}, PatchType::kJsonPatch, {{"op", "x"}});
  EXPECT_EQ(patched.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(fake_.Requests().empty());
}

TEST_F(RestKubeClientTest, DeleteWithPreconditions) {
  fake_.Enqueue(FakeReply::Json(200, {{"kind", "Status"}, {"status", "Success"}}));
  fake_.Enqueue(FakeReply::ApiStatus(409, "Conflict", "Precondition failed: UID in precondition"));
  fake_.Enqueue(FakeReply::ApiStatus(404, "NotFound", "secrets \"k\" not found"));
  DeleteOptions options{.precondition_uid = "uid-1", .propagation = PropagationPolicy::kBackground};
  EXPECT_TRUE(client_.Delete(SecretsResource(), {"sys", "k"}, options).ok());
  EXPECT_EQ(client_.Delete(SecretsResource(), {"sys", "k"}, options).code(), StatusCode::kAborted);
  EXPECT_EQ(client_.Delete(SecretsResource(), {"sys", "k"}, options).code(), StatusCode::kNotFound);
  const auto request = fake_.Requests().at(0);
  EXPECT_EQ(request.method, "DELETE");
  EXPECT_EQ(request.target, "/api/v1/namespaces/sys/secrets/k");
  const json body = json::parse(request.body);
  EXPECT_EQ(body["preconditions"]["uid"], "uid-1");
  EXPECT_EQ(body["propagationPolicy"], "Background");
}

TEST_F(RestKubeClientTest, GetPodLogReturnsRawText) {
  FakeReply reply;
  reply.body = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n";
  fake_.Enqueue(reply);
  auto log = client_.GetPodLog({"ns", "p"}, {.container = "ephemera-1", .limit_bytes = 4096});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(*log, reply.body);
  EXPECT_EQ(fake_.Requests().at(0).target,
            "/api/v1/namespaces/ns/pods/p/log?container=ephemera-1&limitBytes=4096");
  fake_.Enqueue(
      FakeReply::ApiStatus(400, "BadRequest", "container \"x\" in pod \"p\" is waiting to start"));
  EXPECT_EQ(client_.GetPodLog({"ns", "p"}, {.container = "x"}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RestKubeClientTest, CreateEventPostsToRegardingNamespace) {
  fake_.SetHandler([](const HttpRequest& request) {
    json created = json::parse(request.body);
    created["metadata"]["name"] = "checkout.abc";
    return FakeReply::Json(201, created);
  });
  auto event = client_.CreateEvent(
      {.regarding = {"ephemera.dev/v1alpha1", "DebugSession", "shop", "checkout", "u"},
       .reason = "Injected",
       .action = "InjectEphemeralContainer",
       .note = "injected ephemera-3f9a1c0b7e",
       .reporting_controller = "ephemera.dev/ephemera-controller",
       .reporting_instance = "ephemera-controller-0"},
      clock_.Now());
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ((*event)["metadata"]["name"], "checkout.abc");
  EXPECT_EQ(fake_.Requests().at(0).target, "/apis/events.k8s.io/v1/namespaces/shop/events");
  EXPECT_EQ(json::parse(fake_.Requests().at(0).body)["eventTime"], "2026-01-01T00:00:00.000000Z");
}

TEST_F(RestKubeClientTest, LeaseHelpersUseOptimisticConcurrency) {
  const ObjectKey key{"ephemera-system", "ephemera-controller"};
  fake_.Enqueue(FakeReply::ApiStatus(404, "NotFound", "leases not found"));
  fake_.SetHandler([](const HttpRequest& request) {
    json lease = json::parse(request.body);
    if (request.method == "PUT" && lease["metadata"]["resourceVersion"] != "1") {
      return FakeReply::ApiStatus(409, "Conflict", "the object has been modified");
    }
    lease["metadata"]["resourceVersion"] = request.method == "POST" ? "1" : "2";
    return FakeReply::Json(200, lease);
  });
  EXPECT_EQ(client_.GetLease(key).status().code(), StatusCode::kNotFound);
  LeaseRecord mine{.holder_identity = "replica-a",
                   .lease_duration = 15s,
                   .acquire_time = clock_.Now(),
                   .renew_time = clock_.Now()};
  auto created = client_.CreateLease(key, mine);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->resource_version, "1");
  EXPECT_EQ(fake_.Requests().at(1).target,
            "/apis/coordination.k8s.io/v1/namespaces/ephemera-system/leases");

  LeaseRecord renewed = *created;
  renewed.renew_time = clock_.Now() + 2s;
  auto updated = client_.UpdateLease(key, renewed);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->resource_version, "2");
  EXPECT_EQ(updated->renew_time, clock_.Now() + 2s);

  renewed.resource_version = "stale";
  EXPECT_EQ(client_.UpdateLease(key, renewed).status().code(), StatusCode::kAborted);
  renewed.resource_version.clear();
  EXPECT_EQ(client_.UpdateLease(key, renewed).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RestKubeClientTest, SubjectAccessReviewAnswers) {
  fake_.Enqueue(FakeReply::Json(
      201, {{"status", {{"allowed", false}, {"denied", true}, {"reason", "no RBAC rule"}}}}));
  auto result = client_.CreateSubjectAccessReview(
      {.user = "bob", .resource = {.namespace_name = "shop", .verb = "get", .resource = "pods"}});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(result->allowed);
  EXPECT_TRUE(result->denied);
  EXPECT_EQ(result->reason, "no RBAC rule");
  EXPECT_EQ(fake_.Requests().at(0).target, "/apis/authorization.k8s.io/v1/subjectaccessreviews");
}

TEST_F(RestKubeClientTest, NonJsonSuccessBodyIsDataLoss) {
  FakeReply reply;
  reply.body = "<html>proxy page</html>";
  fake_.Enqueue(reply);
  EXPECT_EQ(client_.Get(PodsResource(), {"ns", "p"}).status().code(), StatusCode::kDataLoss);
}

TEST(RestKubeClientRateLimitTest, RequestsAreSpacedByQps) {
  base::FakeClock clock;
  FakeHttpTransport fake;
  fake.SetHandler([](const HttpRequest&) { return FakeReply::Json(200, json::object()); });
  RestKubeClientOptions options;
  options.qps = 2;
  options.burst = 1;
  RestKubeClient client(fake, clock, options);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.Get(PodsResource(), {"ns", "p"}).ok());
  EXPECT_EQ(clock.Slept(), 2s);  // 4 waits of 500ms after the first (burst) request
  EXPECT_EQ(fake.Requests().size(), 5u);
}

// A best-effort write takes only a request the budget has to spare: never waits, never goes
// ahead of requests already waiting for a token.
TEST(RestKubeClientRateLimitTest, SpareBudgetOnlyWritesNeverWait) {
  base::FakeClock clock;
  FakeHttpTransport fake;
  fake.SetHandler([](const HttpRequest&) { return FakeReply::Json(201, json::object()); });
  RestKubeClientOptions options;
  options.qps = 2;
  options.burst = 1;
  RestKubeClient client(fake, clock, options);
  WriteOptions best_effort;
  best_effort.spare_budget_only = true;
  const json event = {{"metadata", {{"generateName", "e-"}}}};

  ASSERT_TRUE(client.Create(EventsResource(), "ns", event, best_effort).ok()) << "a token to spare";
  auto refused = client.Create(EventsResource(), "ns", event, best_effort);
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fake.Requests().size(), 1u) << "nothing sent without a spare token";
  EXPECT_EQ(clock.Slept(), 0s);

  // An ordinary request waits for its token as always; once the bucket refills, a best-effort one
  // goes through again.
  ASSERT_TRUE(client.Get(PodsResource(), {"ns", "p"}).ok());
  EXPECT_EQ(clock.Slept(), 500ms);
  clock.Advance(500ms);
  EXPECT_TRUE(client.Create(EventsResource(), "ns", event, best_effort).ok());
  EXPECT_EQ(fake.Requests().size(), 3u);
}

TEST(RestKubeClientRateLimitTest, SpareBudgetOnlyWritesAreNotRetried) {
  base::FakeClock clock;
  FakeHttpTransport fake;
  fake.SetHandler([](const HttpRequest&) {
    FakeReply reply = FakeReply::ApiStatus(429, "TooManyRequests", "slow down");
    reply.headers.emplace_back("Retry-After", "1");
    return reply;
  });
  RestKubeClient client(fake, clock, {});
  WriteOptions best_effort;
  best_effort.spare_budget_only = true;
  auto created =
      client.Create(EventsResource(), "ns", {{"metadata", {{"generateName", "e-"}}}}, best_effort);
  EXPECT_FALSE(created.ok());
  EXPECT_EQ(fake.Requests().size(), 1u) << "one attempt: a retry would wait for a token";
  EXPECT_EQ(clock.Slept(), 0s);
}

}  // namespace
}  // namespace ephemera::kube
