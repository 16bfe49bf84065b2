#include "controller/session/policy.h"

#include <gtest/gtest.h>

#include "api/debug_session.h"
#include "tests/controller/session/session_fixtures.h"

namespace ephemera::session {
namespace {

TEST(PolicyTest, AnUnsetTtlIsLeftToThePolicy) {
  nlohmann::json object = testing::SessionObject();
  object["spec"].erase("ttl");
  auto s = api::ParseDebugSession(object);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->spec.ttl, std::chrono::seconds(0));
  Policy policy;
  policy.default_ttl = std::chrono::minutes(7);
  EXPECT_EQ(EffectiveTtl(s->spec, policy), std::chrono::minutes(7));
  object["spec"]["ttl"] = "90s";
  EXPECT_EQ(EffectiveTtl(api::ParseDebugSession(object)->spec, policy), std::chrono::seconds(90));
}

}  // namespace
}  // namespace ephemera::session
