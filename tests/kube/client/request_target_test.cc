#include <gtest/gtest.h>

#include "kube/client/rest_kube_client.h"
#include "kube/object/url.h"

namespace ephemera::kube {
namespace {

TEST(UrlTest, PercentEncodesAllButUnreserved) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("app=web,tier!=db"), "app%3Dweb%2Ctier%21%3Ddb");
  EXPECT_EQ(PercentEncode("a b/c?d&e#f+g%"), "a%20b%2Fc%3Fd%26e%23f%2Bg%25");
  EXPECT_EQ(PercentEncode("é"), "%C3%A9");
}

TEST(UrlTest, QueryKeepsOrderAndSkipsEmptyOptionals) {
  Query query;
  query.Add("watch", "1")
      .AddIfNotEmpty("labelSelector", "")
      .AddInt("limit", 500)
      .AddBool("x", true);
  EXPECT_EQ(query.Encode(), "?watch=1&limit=500&x=true");
  EXPECT_EQ(Query().Encode(), "");
}

TEST(ResourcePathTest, CoreAndGroupPaths) {
  EXPECT_EQ(*ObjectPath(PodsResource(), {"team-a", "web-0"}),
            "/api/v1/namespaces/team-a/pods/web-0");
  EXPECT_EQ(*CollectionPath(PodsResource(), ""), "/api/v1/pods");
  EXPECT_EQ(*CollectionPath(DebugSessionsResource(), "shop"),
            "/apis/ephemera.dev/v1alpha1/namespaces/shop/debugsessions");
  EXPECT_EQ(*ObjectPath(DebugSessionsResource().WithSubresource("status"), {"shop", "s1"}),
            "/apis/ephemera.dev/v1alpha1/namespaces/shop/debugsessions/s1/status");
  EXPECT_EQ(*CollectionPath(SubjectAccessReviewsResource(), "ignored"),
            "/apis/authorization.k8s.io/v1/subjectaccessreviews");
  EXPECT_EQ(*ObjectPath(PodsResource().WithSubresource("ephemeralcontainers"), {"ns", "p"}),
            "/api/v1/namespaces/ns/pods/p/ephemeralcontainers");
}

TEST(ResourcePathTest, RejectsNamesThatAreNotPathSegments) {
  for (const char* bad : {"", ".", "..", "a/b"}) {
    auto path = ObjectPath(PodsResource(), {"ns", bad});
    EXPECT_EQ(path.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ObjectPath(PodsResource(), {"", "p"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CollectionPath(PodsResource(), "../kube-system").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(*ObjectPath(PodsResource(), {"ns", "we:ird name"}),
            "/api/v1/namespaces/ns/pods/we%3Aird%20name");
}

TEST(RequestTargetTest, ListWithSelectorsAndPagination) {
  ListOptions options{.label_selector = "app=web,tier in (a,b)",
                      .field_selector = "metadata.name=x",
                      .resource_version = "100",
                      .resource_version_match = "NotOlderThan",
                      .limit = 50};
  EXPECT_EQ(*ListTarget(PodsResource(), "ns", options, ""),
            "/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29"
            "&fieldSelector=metadata.name%3Dx&limit=50&resourceVersion=100"
            "&resourceVersionMatch=NotOlderThan");
  // With a continue token the resourceVersion is left out (the server rejects both).
  EXPECT_EQ(*ListTarget(PodsResource(), "ns", {.limit = 50}, "tok/=+"),
            "/api/v1/namespaces/ns/pods?limit=50&continue=tok%2F%3D%2B");
}

TEST(RequestTargetTest, WatchParameters) {
  WatchOptions options{.resource_version = "12", .label_selector = "a=b"};
  EXPECT_EQ(*WatchTarget(DebugSessionsResource(), "", options, std::chrono::seconds(321)),
            "/apis/ephemera.dev/v1alpha1/debugsessions?watch=1&resourceVersion=12"
            "&allowWatchBookmarks=true&labelSelector=a%3Db&timeoutSeconds=321");
  options.allow_bookmarks = false;
  EXPECT_EQ(WatchTarget(PodsResource(), "ns", options, std::chrono::seconds(5))
                ->find("allowWatchBookmarks"),
            std::string::npos);
}

TEST(RequestTargetTest, PatchVariants) {
  EXPECT_EQ(*PatchTarget(DebugSessionsResource(), {"ns", "s"}, PatchType::kApply,
                         {.field_manager = "ephemera-controller", .force = true}),
            "/apis/ephemera.dev/v1alpha1/namespaces/ns/debugsessions/s"
            "?fieldManager=ephemera-controller&force=true");
  EXPECT_EQ(PatchTarget(PodsResource(), {"ns", "p"}, PatchType::kApply, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      PatchTarget(PodsResource(), {"ns", "p"}, PatchType::kMerge, {.force = true}).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(*PatchTarget(PodsResource(), {"ns", "p"}, PatchType::kMerge, {.dry_run = true}),
            "/api/v1/namespaces/ns/pods/p?dryRun=All");
  EXPECT_EQ(PatchContentType(PatchType::kStrategicMerge), "application/strategic-merge-patch+json");
  EXPECT_EQ(PatchContentType(PatchType::kJsonPatch), "application/json-patch+json");
  EXPECT_EQ(PatchContentType(PatchType::kApply), "application/apply-patch+yaml");
}

TEST(RequestTargetTest, PodLogAndCreate) {
  EXPECT_EQ(
      *PodLogTarget({"ns", "p"},
                    {.container = "ephemera-3f9a", .limit_bytes = 1048576, .tail_lines = 100}),
      "/api/v1/namespaces/ns/pods/p/log?container=ephemera-3f9a&limitBytes=1048576"
      "&tailLines=100");
  EXPECT_EQ(*CreateTarget(EventsResource(), "ns", {.field_manager = "m"}),
            "/apis/events.k8s.io/v1/namespaces/ns/events?fieldManager=m");
  EXPECT_EQ(CreateTarget(EventsResource(), "", {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(RequestTargetTest, DeleteBodyCarriesPreconditionsAndPolicy) {
  const auto body = DeleteBody({.precondition_uid = "u-1",
                                .precondition_resource_version = "77",
                                .propagation = PropagationPolicy::kForeground,
                                .grace_period = std::chrono::seconds(0),
                                .dry_run = true});
  EXPECT_EQ(body, nlohmann::json::parse(R"({"apiVersion":"v1","kind":"DeleteOptions",
      "preconditions":{"uid":"u-1","resourceVersion":"77"},"propagationPolicy":"Foreground",
      "gracePeriodSeconds":0,"dryRun":["All"]})"));
  EXPECT_EQ(DeleteBody({}), nlohmann::json::parse(R"({"apiVersion":"v1","kind":"DeleteOptions"})"));
}

}  // namespace
}  // namespace ephemera::kube
