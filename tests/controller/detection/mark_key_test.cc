#include "controller/detection/mark_key.h"

#include <gtest/gtest.h>

#include "base/base64.h"
#include "kube/object/resource.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::detection {
namespace {

TEST(MarkKeyTest, CreatesTheSecretOnceAndReadsItAfterwards) {
  kube::FakeKubeClient client;
  auto first = EnsureMarkKey(client, "ephemera-system");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 32u);
  auto second = EnsureMarkKey(client, "ephemera-system");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, *first) << "a second replica (or a restart) uses the same key";
  EXPECT_EQ(client.CallCount(kube::FakeMethod::kCreate), 1);
  auto secret = client.GetObject(kube::SecretsResource(), {"ephemera-system", kMarkKeySecretName});
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ((*secret)["type"], "ephemera.dev/mark-key");
}

TEST(MarkKeyTest, LosingTheCreationRaceReadsTheWinnersKey) {
  kube::FakeKubeClient client;
  client.PutObject(kube::SecretsResource(),
                   {{"apiVersion", "v1"},
                    {"kind", "Secret"},
                    {"metadata", {{"name", kMarkKeySecretName}, {"namespace", "ns"}}},
                    {"data", {{"key", base::Base64Encode(std::string(32, 'w'))}}}});
  client.FailNext(kube::FakeMethod::kGet, kube::ApiError(404, "NotFound"));
  auto key = EnsureMarkKey(client, "ns");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, std::string(32, 'w'));
}

TEST(MarkKeyTest, AnUnusableSecretSaysHowToRecover) {
  kube::FakeKubeClient client;
  client.PutObject(kube::SecretsResource(),
                   {{"apiVersion", "v1"},
                    {"kind", "Secret"},
                    {"metadata", {{"name", kMarkKeySecretName}, {"namespace", "ns"}}},
                    {"data", {{"key", base::Base64Encode("short")}}}});
  auto key = EnsureMarkKey(client, "ns");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(key.status().message().find("delete it"), std::string::npos);
}

TEST(MarkKeyTest, ApiErrorsArePassedOnForRetry) {
  kube::FakeKubeClient client;
  client.FailNext(kube::FakeMethod::kGet, kube::ApiError(503, "ServiceUnavailable"));
  auto key = EnsureMarkKey(client, "ns");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace ephemera::detection
