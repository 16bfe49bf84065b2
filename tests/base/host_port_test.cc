#include "base/host_port.h"

#include <gtest/gtest.h>

namespace ephemera::base {
namespace {

TEST(HostPortTest, Parses) {
  auto all = ParseHostPort(":8080");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->host, "");
  EXPECT_EQ(all->port, 8080);
  auto v4 = ParseHostPort("127.0.0.1:0");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 0);
  auto v6 = ParseHostPort("[::1]:9443");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9443);
  for (std::string_view bad :
       {"8080", "host:", "host:65536", "::1:80", "h:8x", "[::1]8080", "h:-1", "h:+80"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace ephemera::base
