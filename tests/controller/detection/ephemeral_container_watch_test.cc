#include "controller/detection/ephemeral_container_watch.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "controller/detection/container_mark.h"
#include "kube/object/resource.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::detection {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

json Pod(const std::string& name, const std::string& uid, const std::vector<json>& ephemeral = {}) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", "team-a"}, {"uid", uid}}},
              {"spec", {{"containers", {{{"name", "app"}, {"image", "shop:1"}}}}}}};
  if (!ephemeral.empty()) pod["spec"]["ephemeralContainers"] = ephemeral;
  return pod;
}

json Ephemeral(const std::string& name, const std::string& pod_uid = "", bool marked = false) {
  json c = {{"name", name}, {"image", "busybox:1.36"}};
  if (marked) AddMark(c, kKey, pod_uid);
  return c;
}

// Collects reports; Wait blocks (bounded) until `count` have arrived.
class Reports {
 public:
  void Add(const UnsanctionedContainer& c) {
    std::lock_guard lock(mu_);
    seen_.push_back(c);
    cv_.notify_all();
  }
  std::vector<UnsanctionedContainer> Wait(std::size_t count) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 10s, [&] { return seen_.size() >= count; });
    return seen_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<UnsanctionedContainer> seen_;
};

TEST(EphemeralContainerWatchTest, ReportsEachUnsanctionedContainerOnce) {
  kube::FakeKubeClient client;
  base::FakeClock clock;
  // Listed: a pod debugged by Ephemera (marked) and one debugged by someone else.
  client.PutObject(kube::PodsResource(),
                   Pod("ours", "uid-1", {Ephemeral("ephemera-aa", "uid-1", true)}));
  client.PutObject(kube::PodsResource(), Pod("theirs", "uid-2", {Ephemeral("debugger-1")}));
  client.PutObject(kube::PodsResource(), Pod("plain", "uid-3"));
  // Watched: a second unsanctioned container on "theirs", the first one again (no new report),
  // and a marked one on "plain".
  client.PushWatch(kube::WatchScript::Closed(
      {kube::ModifiedEvent(
           Pod("theirs", "uid-2", {Ephemeral("debugger-1"), Ephemeral("debugger-2")})),
       kube::ModifiedEvent(
           Pod("theirs", "uid-2", {Ephemeral("debugger-1"), Ephemeral("debugger-2")})),
       kube::ModifiedEvent(Pod("plain", "uid-3", {Ephemeral("ephemera-bb", "uid-3", true)}))}));

  Reports reports;
  std::mutex changed_mu;
  std::vector<std::string> changed;
  EphemeralContainerWatch watch(
      client, clock, kKey, [&](const UnsanctionedContainer& c) { reports.Add(c); },
      [&](const kube::ObjectKey& pod) {
        std::lock_guard lock(changed_mu);
        changed.push_back(pod.name);
      });
  std::stop_source stop;
  std::jthread runner([&] { watch.Run(stop.get_token()); });
  const auto seen = reports.Wait(2);
  ASSERT_TRUE(client.WaitForWatchCalls(2, 10s)) << "the scripted watch was consumed";
  stop.request_stop();
  runner.join();

  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].pod, "theirs");
  EXPECT_EQ(seen[0].container, "debugger-1");
  EXPECT_EQ(seen[1].container, "debugger-2");
  EXPECT_EQ(watch.Reported(), 2u);
  EXPECT_EQ(watch.CachedPods(), 3u);
  std::lock_guard lock(changed_mu);
  // "theirs" gained a container; the same pod again changed nothing; "plain" gained one.
  EXPECT_EQ(changed, (std::vector<std::string>{"theirs", "plain"}));
}

// The control loop learns of a snapshot container's start and end from this watch (no poll): each
// change of an ephemeral container's state is told, once; changes that are not one are not.
TEST(EphemeralContainerWatchTest, TellsEachStateChangeOfAnEphemeralContainerOnce) {
  kube::FakeKubeClient client;
  base::FakeClock clock;
  const json container = Ephemeral("ephemera-aa", "uid-1", true);
  auto with_state = [&](const json& state) {
    json pod = Pod("shop-1", "uid-1", {container});
    if (!state.is_null()) {
      pod["status"]["ephemeralContainerStatuses"] = {{{"name", "ephemera-aa"}, {"state", state}}};
    }
    return pod;
  };
  client.PutObject(kube::PodsResource(), Pod("shop-1", "uid-1"));
  json labelled = with_state({{"terminated", {{"exitCode", 0}}}});
  labelled["metadata"]["labels"] = {{"team", "checkout"}};
  client.PushWatch(kube::WatchScript::Closed({
      kube::ModifiedEvent(with_state(nullptr)),  // added: no state yet
      kube::ModifiedEvent(with_state({{"waiting", {{"reason", "ContainerCreating"}}}})),
      kube::ModifiedEvent(with_state({{"waiting", {{"reason", "ContainerCreating"}}}})),  // same
      kube::ModifiedEvent(with_state({{"running", json::object()}})),
      kube::ModifiedEvent(with_state({{"terminated", {{"exitCode", 0}}}})),
      kube::ModifiedEvent(labelled),  // a label: not a state change
  }));

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> changed;
  EphemeralContainerWatch watch(
      client, clock, kKey, [](const UnsanctionedContainer&) {},
      [&](const kube::ObjectKey& pod) {
        std::lock_guard lock(mu);
        changed.push_back(pod.namespace_name + "/" + pod.name);
        cv.notify_all();
      });
  std::stop_source stop;
  std::jthread runner([&] { watch.Run(stop.get_token()); });
  ASSERT_TRUE(client.WaitForWatchCalls(2, 10s)) << "the scripted watch was consumed";
  stop.request_stop();
  runner.join();

  std::lock_guard lock(mu);
  // The container appeared, then waiting, running and terminated: four changes.
  EXPECT_EQ(changed, std::vector<std::string>(4, "team-a/shop-1"));
}

}  // namespace
}  // namespace ephemera::detection
