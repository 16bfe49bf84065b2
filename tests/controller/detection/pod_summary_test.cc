#include "controller/detection/pod_summary.h"

#include <gtest/gtest.h>

#include "controller/detection/container_mark.h"

namespace ephemera::detection {
namespace {

using nlohmann::json;

constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

json Container(const std::string& name, const std::string& mark = "") {
  json c = {{"name", name}, {"image", "busybox:1.36"}, {"command", {"sh"}}};
  if (!mark.empty()) c["env"] = {{{"name", kMarkEnvName}, {"value", mark}}};
  return c;
}

json Pod(const std::vector<json>& ephemeral, const std::vector<std::string>& running = {}) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata",
               {{"name", "shop-1"},
                {"namespace", "team-a"},
                {"uid", "uid-1"},
                {"labels", {{"app", "shop"}}},
                {"annotations", {{"big", std::string(4096, 'x')}}}}},
              {"spec", {{"containers", {Container("app")}}}},
              {"status", {{"phase", "Running"}}}};
  if (!ephemeral.empty()) pod["spec"]["ephemeralContainers"] = ephemeral;
  for (const std::string& name : running) {
    pod["status"]["ephemeralContainerStatuses"].push_back(
        {{"name", name}, {"state", {{"running", {{"startedAt", "2026-11-28T10:00:00Z"}}}}}});
  }
  return pod;
}

TEST(PodSummaryTest, ReduceKeepsOnlyWhatDetectionNeeds) {
  const json reduced = ReducePod(Pod({Container("debugger-1")}, {"debugger-1"}));
  EXPECT_EQ(reduced["metadata"],
            (json{{"name", "shop-1"}, {"namespace", "team-a"}, {"uid", "uid-1"}}));
  ASSERT_EQ(reduced["ephemeral"].size(), 1u);
  EXPECT_EQ(reduced["ephemeral"][0]["name"], "debugger-1");
  EXPECT_EQ(reduced["ephemeral"][0]["running"], true);
  EXPECT_FALSE(reduced.contains("spec"));
  EXPECT_LT(reduced.dump().size(), 200u) << "annotations, labels and containers are dropped";
  EXPECT_EQ(ReducePod(reduced), reduced) << "reducing twice changes nothing";
}

TEST(PodSummaryTest, FindsUnmarkedContainersOnFirstSight) {
  const std::string good = ContainerMark(kKey, "uid-1", "ephemera-aa");
  const json pod = ReducePod(Pod({Container("ephemera-aa", good), Container("debugger-1")}));
  const auto found = FindUnsanctioned(nullptr, pod, kKey);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].container, "debugger-1");
  EXPECT_EQ(found[0].namespace_name, "team-a");
  EXPECT_EQ(found[0].pod, "shop-1");
  EXPECT_EQ(found[0].pod_uid, "uid-1");
  EXPECT_EQ(found[0].image, "busybox:1.36");
}

TEST(PodSummaryTest, ReportsOnlyContainersThatAreNew) {
  const json before = ReducePod(Pod({Container("debugger-1")}));
  const json after = ReducePod(Pod({Container("debugger-1"), Container("debugger-2")}));
  const auto found = FindUnsanctioned(&before, after, kKey);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].container, "debugger-2");
  EXPECT_TRUE(FindUnsanctioned(&after, after, kKey).empty());
}

TEST(PodSummaryTest, AForgedOrCopiedMarkIsUnsanctioned) {
  const std::string other_pod = ContainerMark(kKey, "uid-2", "ephemera-aa");
  const json pod = ReducePod(Pod({Container("ephemera-aa", other_pod)}));
  EXPECT_EQ(FindUnsanctioned(nullptr, pod, kKey).size(), 1u);
}

TEST(PodSummaryTest, WithoutAKeyEveryContainerIsReported) {
  const std::string good = ContainerMark(kKey, "uid-1", "ephemera-aa");
  EXPECT_EQ(FindUnsanctioned(nullptr, ReducePod(Pod({Container("ephemera-aa", good)})), "").size(),
            1u);
}

TEST(PodSummaryTest, MalformedPodsAreTolerated) {
  EXPECT_TRUE(FindUnsanctioned(nullptr, ReducePod(json("not a pod")), kKey).empty());
  json odd = Pod({});
  odd["spec"]["ephemeralContainers"] = json::array({42, json::object()});
  const auto found = FindUnsanctioned(nullptr, ReducePod(odd), kKey);
  EXPECT_EQ(found.size(), 2u) << "entries without a mark are never sanctioned";
}

TEST(PodSummaryTest, StatesFollowTheKubeletsViewOfEachContainer) {
  json pod = Pod({Container("ephemera-aa")});
  const auto added = EphemeralStates(ReducePod(pod));
  EXPECT_EQ(added, std::vector<std::string>{"ephemera-aa="});
  const auto running = EphemeralStates(ReducePod(Pod({Container("ephemera-aa")}, {"ephemera-aa"})));
  EXPECT_EQ(running, std::vector<std::string>{"ephemera-aa=running"});
  pod["status"]["ephemeralContainerStatuses"] = {
      {{"name", "ephemera-aa"}, {"state", {{"terminated", {{"exitCode", 0}}}}}}};
  const json ended = ReducePod(pod);
  EXPECT_EQ(EphemeralStates(ended), std::vector<std::string>{"ephemera-aa=terminated"});
  EXPECT_EQ(ended["ephemeral"][0]["running"], false);
  EXPECT_NE(added, EphemeralStates(ended)) << "waiting or absent to terminated is a change";
  EXPECT_TRUE(EphemeralStates(ReducePod(Pod({}))).empty());
}

}  // namespace
}  // namespace ephemera::detection
