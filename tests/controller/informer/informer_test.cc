#include "controller/informer/informer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "kube/client/api_error.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::informer {
namespace {

using kube::FakeKubeClient;
using kube::ObjectKey;
using kube::WatchScript;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Generous bound for cross-thread hand-offs; tests wait on conditions, never on time.
constexpr milliseconds kTimeout(10000);

nlohmann::json Pod(const std::string& namespace_name, const std::string& name,
                   const std::string& phase = "Running", const std::string& resource_version = "") {
  nlohmann::json pod = {{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata", {{"namespace", namespace_name}, {"name", name}}},
                        {"spec", {{"containers", {{{"name", "app"}, {"image", "app:1"}}}}}},
                        {"status", {{"phase", phase}}}};
  if (!resource_version.empty()) pod["metadata"]["resourceVersion"] = resource_version;
  return pod;
}

struct Recorded {
  EventType type;
  ObjectKey key;
  std::optional<nlohmann::json> old_object;
  std::optional<nlohmann::json> new_object;
};

class Recorder {
 public:
  EventHandler Handler() {
    return [this](EventType type, const ObjectKey& key, const nlohmann::json* old_object,
                  const nlohmann::json* new_object) {
      std::lock_guard lock(mu_);
      events_.push_back({type, key, old_object ? std::optional(*old_object) : std::nullopt,
                         new_object ? std::optional(*new_object) : std::nullopt});
    };
  }
  std::vector<Recorded> Take() {
    std::lock_guard lock(mu_);
    return std::exchange(events_, {});
  }

 private:
  std::mutex mu_;
  std::vector<Recorded> events_;
};

std::vector<ObjectKey> Keys(std::initializer_list<ObjectKey> keys) { return keys; }

class InformerTest : public ::testing::Test {
 protected:
  InformerOptions PodOptions() {
    InformerOptions options;
    options.resource = kube::PodsResource();
    return options;
  }
  void Start(InformerOptions options) {
    informer_ = std::make_unique<Informer>(client_, clock_, std::move(options));
    informer_->AddEventHandler(recorder_.Handler());
    runner_ = std::jthread([this](const std::stop_token& stop) { informer_->Run(stop); });
  }
  // Waits until the informer has started its `n`th watch: everything before it has been applied.
  void AwaitWatch(std::size_t n) { ASSERT_TRUE(client_.WaitForWatchCalls(n, kTimeout)); }
  void TearDown() override {
    runner_.request_stop();
    if (runner_.joinable()) runner_.join();
  }

  FakeKubeClient client_;
  base::FakeClock clock_;
  Recorder recorder_;
  std::unique_ptr<Informer> informer_;
  std::jthread runner_;
};

TEST_F(InformerTest, ListsThenWatchesFromTheListsResourceVersion) {
  client_.PutObject(kube::PodsResource(), Pod("team-a", "a"));
  client_.PutObject(kube::PodsResource(), Pod("team-b", "b"));
  const std::string list_version = client_.CurrentResourceVersion();
  Start(PodOptions());
  AwaitWatch(1);

  EXPECT_TRUE(informer_->HasSynced());
  EXPECT_EQ(informer_->Keys(), Keys({{"team-a", "a"}, {"team-b", "b"}}));
  ASSERT_NE(informer_->Get({"team-a", "a"}), nullptr);
  EXPECT_EQ((*informer_->Get({"team-a", "a"}))["status"]["phase"], "Running");
  EXPECT_EQ(informer_->Get({"team-a", "missing"}), nullptr);

  auto lists = client_.ListCalls();
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].resource_version, "0") << "first list served from the watch cache";
  EXPECT_EQ(client_.WatchCalls()[0].resource_version, list_version);
  EXPECT_TRUE(client_.WatchCalls()[0].allow_bookmarks);

  auto events = recorder_.Take();
  ASSERT_EQ(events.size(), 2u);
  for (const Recorded& event : events) {
    EXPECT_EQ(event.type, EventType::kAdded);
    EXPECT_FALSE(event.old_object.has_value());
    EXPECT_TRUE(event.new_object.has_value());
  }
}

TEST_F(InformerTest, WatchEventsUpdateCacheAndReachHandlers) {
  client_.PutObject(kube::PodsResource(), Pod("ns", "a", "Pending"));
  client_.PutObject(kube::PodsResource(), Pod("ns", "b"));
  Start(PodOptions());
  AwaitWatch(1);
  recorder_.Take();

  client_.PushWatch(WatchScript::Closed({kube::AddedEvent(Pod("ns", "c", "Pending", "2001")),
                                         kube::ModifiedEvent(Pod("ns", "a", "Running", "2002")),
                                         kube::DeletedEvent(Pod("ns", "b", "Failed", "2003"))}));
  AwaitWatch(2);

  EXPECT_EQ(informer_->Keys(), Keys({{"ns", "a"}, {"ns", "c"}}));
  EXPECT_EQ((*informer_->Get({"ns", "a"}))["status"]["phase"], "Running");
  EXPECT_EQ(informer_->LastSyncResourceVersion(), "2003");

  auto events = recorder_.Take();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, EventType::kAdded);
  EXPECT_EQ(events[0].key, (ObjectKey{"ns", "c"}));
  EXPECT_EQ(events[1].type, EventType::kModified);
  EXPECT_EQ((*events[1].old_object)["status"]["phase"], "Pending");
  EXPECT_EQ((*events[1].new_object)["status"]["phase"], "Running");
  EXPECT_EQ(events[2].type, EventType::kDeleted);
  EXPECT_EQ((*events[2].old_object)["status"]["phase"], "Failed") << "the final state";
  EXPECT_FALSE(events[2].new_object.has_value());
}

TEST_F(InformerTest, NormalCloseRewatchesFromNewestVersionWithoutRelisting) {
  Start(PodOptions());
  AwaitWatch(1);
  client_.PushWatch(WatchScript::Closed(
      {kube::AddedEvent(Pod("ns", "a", "Running", "3001")), kube::BookmarkEvent("3050")}));
  AwaitWatch(2);
  EXPECT_EQ(client_.WatchCalls()[1].resource_version, "3050");
  EXPECT_EQ(client_.ListCalls().size(), 1u);
  EXPECT_TRUE(clock_.sleeps().empty()) << "a productive watch is renewed without backoff";
}

TEST_F(InformerTest, GoneRelistsWithConsistentReadAndSynthesizesMissedChanges) {
  client_.PutObject(kube::PodsResource(), Pod("ns", "a", "Pending"));
  client_.PutObject(kube::PodsResource(), Pod("ns", "b"));
  Start(PodOptions());
  AwaitWatch(1);
  recorder_.Take();

  // While the watch was broken: b deleted, c created, a changed.
  client_.RemoveObject(kube::PodsResource(), {"ns", "b"});
  client_.PutObject(kube::PodsResource(), Pod("ns", "c"));
  client_.PutObject(kube::PodsResource(), Pod("ns", "a", "Running"));
  client_.PushWatch(WatchScript::Gone());
  AwaitWatch(2);

  auto lists = client_.ListCalls();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[1].resource_version, "") << "after 410 the relist must be a consistent read";
  EXPECT_EQ(client_.WatchCalls()[1].resource_version, client_.CurrentResourceVersion());
  EXPECT_EQ(informer_->Keys(), Keys({{"ns", "a"}, {"ns", "c"}}));

  auto events = recorder_.Take();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, EventType::kModified);
  EXPECT_EQ(events[0].key, (ObjectKey{"ns", "a"}));
  EXPECT_EQ(events[1].type, EventType::kAdded);
  EXPECT_EQ(events[1].key, (ObjectKey{"ns", "c"}));
  EXPECT_EQ(events[2].type, EventType::kDeleted);
  EXPECT_EQ(events[2].key, (ObjectKey{"ns", "b"}));
  ASSERT_TRUE(events[2].old_object.has_value()) << "the cached object is handed to the handler";
  EXPECT_EQ((*events[2].old_object)["metadata"]["name"], "b");
}

TEST_F(InformerTest, RelistOfUnchangedObjectsCallsNoHandler) {
  client_.PutObject(kube::PodsResource(), Pod("ns", "a"));
  Start(PodOptions());
  AwaitWatch(1);
  recorder_.Take();
  client_.PushWatch(WatchScript::Gone());
  AwaitWatch(2);
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_EQ(client_.ListCalls().size(), 2u);
}

TEST_F(InformerTest, InStreamGoneAfterEventsKeepsThoseEventsThenRelists) {
  Start(PodOptions());
  AwaitWatch(1);
  client_.PutObject(kube::PodsResource(), Pod("ns", "a"));
  auto stored = client_.GetObject(kube::PodsResource(), {"ns", "a"});
  client_.PushWatch(WatchScript::Gone({kube::AddedEvent(*stored)}));
  AwaitWatch(2);
  auto events = recorder_.Take();
  ASSERT_EQ(events.size(), 1u) << "the relist finds a unchanged: no second event";
  EXPECT_EQ(events[0].type, EventType::kAdded);
  EXPECT_EQ(client_.ListCalls().size(), 2u);
}

TEST_F(InformerTest, ListErrorsBackOffWithCappedDelaysThenSucceed) {
  for (int i = 0; i < 8; ++i) client_.FailNext(kube::FakeMethod::kList, kube::ApiError(503, ""));
  Start(PodOptions());
  AwaitWatch(1);
  EXPECT_TRUE(informer_->HasSynced());
  EXPECT_EQ(client_.ListCalls().size(), 9u);
  auto sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 8u);
  for (auto sleep : sleeps) EXPECT_LE(sleep, seconds(30));
}

TEST_F(InformerTest, TransientWatchErrorBacksOffAndRewatchesWithoutRelist) {
  Start(PodOptions());
  AwaitWatch(1);
  const std::string version = client_.WatchCalls()[0].resource_version;
  client_.PushWatch(WatchScript::Failed(UnavailableError("connection reset")));
  AwaitWatch(2);
  EXPECT_EQ(client_.ListCalls().size(), 1u);
  EXPECT_EQ(client_.WatchCalls()[1].resource_version, version);
  EXPECT_EQ(clock_.sleeps().size(), 1u);
}

TEST_F(InformerTest, WatchHonoursRetryAfter) {
  Start(PodOptions());
  AwaitWatch(1);
  nlohmann::json body = {{"kind", "Status"}, {"reason", "TooManyRequests"}, {"code", 429}};
  client_.PushWatch(WatchScript::Failed(kube::ParseApiError(429, body.dump(), seconds(7))));
  AwaitWatch(2);
  ASSERT_EQ(clock_.sleeps().size(), 1u);
  EXPECT_GE(clock_.sleeps()[0], seconds(7));
}

TEST_F(InformerTest, ForbiddenWatchBacksOffAndRelists) {
  Start(PodOptions());
  AwaitWatch(1);
  client_.PushWatch(WatchScript::Failed(kube::ApiError(403, "Forbidden")));
  AwaitWatch(2);
  EXPECT_EQ(client_.ListCalls().size(), 2u);
  EXPECT_EQ(clock_.sleeps().size(), 1u);
}

TEST_F(InformerTest, RelistWhoseVersionExpiredFallsBackToConsistentRead) {
  client_.PutObject(kube::PodsResource(), Pod("ns", "a"));
  Start(PodOptions());
  AwaitWatch(1);
  client_.FailNext(kube::FakeMethod::kList, kube::ApiError(410, "Expired"));
  client_.PushWatch(WatchScript::Failed(kube::ApiError(403, "Forbidden")));
  AwaitWatch(2);
  auto lists = client_.ListCalls();
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_EQ(lists[1].resource_version, client_.WatchCalls()[0].resource_version);
  EXPECT_EQ(lists[1].resource_version_match, "NotOlderThan");
  EXPECT_EQ(lists[2].resource_version, "");
  EXPECT_EQ(informer_->Keys(), Keys({{"ns", "a"}}));
}

TEST_F(InformerTest, EmptyClosedWatchBacksOff) {
  Start(PodOptions());
  AwaitWatch(1);
  client_.PushWatch(WatchScript::Closed());
  AwaitWatch(2);
  EXPECT_EQ(clock_.sleeps().size(), 1u);
  EXPECT_EQ(client_.ListCalls().size(), 1u);
}

TEST_F(InformerTest, TransformShapesCachedObjectsAndHandlerArguments) {
  client_.PutObject(kube::PodsResource(), Pod("ns", "a"));
  InformerOptions options = PodOptions();
  options.transform = [](nlohmann::json pod) {
    return nlohmann::json{
        {"metadata",
         {{"namespace", pod["metadata"]["namespace"]}, {"name", pod["metadata"]["name"]}}},
        {"status", {{"phase", pod["status"]["phase"]}}}};
  };
  Start(std::move(options));
  AwaitWatch(1);
  client_.PushWatch(WatchScript::Closed({kube::ModifiedEvent(Pod("ns", "a", "Succeeded", "9"))}));
  AwaitWatch(2);
  auto cached = informer_->Get({"ns", "a"});
  ASSERT_NE(cached, nullptr);
  EXPECT_FALSE(cached->contains("spec"));
  EXPECT_EQ((*cached)["status"]["phase"], "Succeeded");
  EXPECT_EQ(informer_->LastSyncResourceVersion(), "9")
      << "the version is read before the transform drops it";
  for (const Recorded& event : recorder_.Take()) {
    ASSERT_TRUE(event.new_object.has_value());
    EXPECT_FALSE(event.new_object->contains("spec"));
  }
}

TEST_F(InformerTest, NamespaceAndSelectorsReachListAndWatch) {
  nlohmann::json match = Pod("team-a", "p1");
  match["metadata"]["labels"] = {{"app", "x"}};
  nlohmann::json other_namespace = Pod("team-b", "p2");
  other_namespace["metadata"]["labels"] = {{"app", "x"}};
  nlohmann::json other_label = Pod("team-a", "p3");
  other_label["metadata"]["labels"] = {{"app", "y"}};
  client_.PutObject(kube::PodsResource(), match);
  client_.PutObject(kube::PodsResource(), other_namespace);
  client_.PutObject(kube::PodsResource(), other_label);
  InformerOptions options = PodOptions();
  options.namespace_name = "team-a";
  options.label_selector = "app=x";
  options.field_selector = "status.phase!=Succeeded";
  Start(std::move(options));
  AwaitWatch(1);
  EXPECT_EQ(informer_->Keys(), Keys({{"team-a", "p1"}}));
  EXPECT_EQ(client_.ListCalls()[0].label_selector, "app=x");
  EXPECT_EQ(client_.WatchCalls()[0].label_selector, "app=x");
  EXPECT_EQ(client_.WatchCalls()[0].field_selector, "status.phase!=Succeeded");
}

TEST_F(InformerTest, WaitForSyncAndStop) {
  Start(PodOptions());
  std::stop_source never;
  EXPECT_TRUE(informer_->WaitForSync(never.get_token()));
  runner_.request_stop();
  runner_.join();  // Run returns once stopped, even while blocked in a watch
  std::stop_source stopped;
  stopped.request_stop();
  Informer unsynced(client_, clock_, PodOptions());
  EXPECT_FALSE(unsynced.WaitForSync(stopped.get_token()));
  EXPECT_FALSE(unsynced.HasSynced());
}

TEST(InformerKeyTest, KeyOfReadsNamespaceAndName) {
  EXPECT_EQ(KeyOf(Pod("ns", "a")), (ObjectKey{"ns", "a"}));
  EXPECT_EQ(KeyOf({{"metadata", {{"name", "node-1"}}}}), (ObjectKey{"", "node-1"}));
  EXPECT_EQ(KeyOf({{"metadata", {{"namespace", "ns"}}}}), std::nullopt);
  EXPECT_EQ(KeyOf(nlohmann::json::array()), std::nullopt);
  EXPECT_EQ(KeyOf({{"metadata", {{"name", 5}}}}), std::nullopt);
}

}  // namespace
}  // namespace ephemera::informer
