#include "controller/httpserver/http_handler.h"

#include <gtest/gtest.h>

namespace ephemera::httpserver {
namespace {

TEST(RouteRequestTest, DispatchesByExactPath) {
  Routes routes;
  routes["/healthz"] = [](const HttpRequest&) { return HttpResponse{.body = "ok"}; };
  routes["/echo"] = [](const HttpRequest& request) {
    return HttpResponse{.status = 201, .content_type = "application/json", .body = request.body};
  };
  HttpRequest request;
  request.path = "/healthz";
  EXPECT_EQ(RouteRequest(routes, request).body, "ok");
  request.path = "/echo";
  request.body = "{}";
  HttpResponse echoed = RouteRequest(routes, request);
  EXPECT_EQ(echoed.status, 201);
  EXPECT_EQ(echoed.content_type, "application/json");
  EXPECT_EQ(echoed.body, "{}");
  request.path = "/healthz/";
  EXPECT_EQ(RouteRequest(routes, request).status, 404);
  request.path = "/";
  EXPECT_EQ(RouteRequest(routes, request).status, 404);
}

TEST(HttpRequestTest, HeaderLookupIgnoresCase) {
  HttpRequest request;
  request.headers["content-type"] = "application/json";
  EXPECT_EQ(request.Header("Content-Type"), "application/json");
  EXPECT_EQ(request.Header("X-Missing"), "");
}

TEST(ParseBindAddressTest, HostAndPort) {
  auto all = ParseBindAddress(":8080");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->host, "0.0.0.0");
  EXPECT_EQ(all->port, 8080);
  auto loopback = ParseBindAddress("127.0.0.1:0");
  ASSERT_TRUE(loopback.ok());
  EXPECT_EQ(loopback->host, "127.0.0.1");
  EXPECT_EQ(loopback->port, 0);
  auto v6 = ParseBindAddress("[::1]:8443");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8443);
  for (std::string_view bad : {"8080", "", "host:", "h:70000", "::1:80", "h:-1", "h:+1", "[::1]"}) {
    auto parsed = ParseBindAddress(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace ephemera::httpserver
