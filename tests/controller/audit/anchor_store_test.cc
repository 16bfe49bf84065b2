#include "controller/audit/anchor_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stop_token>
#include <string>
#include <vector>

#include "tests/audit/fake_audit_sink.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::audit {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr char kNamespace[] = "ephemera-system";
const kube::GroupVersionResource kConfigMaps{"", "v1", "configmaps", true, ""};

ChainHead HeadAt(std::uint64_t records, char digit) {
  return ChainHead{records, "sha256:" + std::string(64, digit)};
}

class AnchorStoreTest : public ::testing::Test {
 protected:
  AnchorStoreOptions Options() {
    AnchorStoreOptions options;
    options.namespace_name = kNamespace;
    options.retention = 24h;
    options.on_error = [this](std::string_view what, const Status& s) {
      errors_.push_back(std::string(what) + ": " + s.ToString());
    };
    return options;
  }
  std::optional<ChainAnchor> Stored(const std::string& chain) {
    auto object = client_.GetObject(kConfigMaps, {kNamespace, AnchorConfigMapName(chain)});
    if (!object) return std::nullopt;
    auto anchor = ParseAnchorConfigMap(*object);
    EXPECT_TRUE(anchor.ok()) << anchor.status().ToString();
    return anchor.ok() ? std::optional<ChainAnchor>(*anchor) : std::nullopt;
  }

  kube::FakeKubeClient client_;
  base::FakeClock clock_;
  std::vector<std::string> errors_;
};

TEST_F(AnchorStoreTest, SavesCreatesThenMovesForwardAndSkipsWhatItSavedLast) {
  ConfigMapAnchorStore store(client_, clock_, Options());
  ASSERT_TRUE(store.Save("session/u1", HeadAt(3, 'a'), "team-a/s", "u1").ok());
  ASSERT_TRUE(Stored("session/u1").has_value());
  EXPECT_EQ(Stored("session/u1")->head, HeadAt(3, 'a'));
  EXPECT_EQ(Stored("session/u1")->session, "team-a/s");
  EXPECT_EQ(Stored("session/u1")->updated, "2026-01-01T00:00:00.000Z");
  const int writes = client_.CallCount(kube::FakeMethod::kCreate) +
                     client_.CallCount(kube::FakeMethod::kUpdate) +
                     client_.CallCount(kube::FakeMethod::kGet);
  ASSERT_TRUE(store.Save("session/u1", HeadAt(3, 'a')).ok());
  EXPECT_EQ(client_.CallCount(kube::FakeMethod::kCreate) +
                client_.CallCount(kube::FakeMethod::kUpdate) +
                client_.CallCount(kube::FakeMethod::kGet),
            writes)
      << "the same head again costs no request";
  ASSERT_TRUE(store.Save("session/u1", HeadAt(5, 'c')).ok());
  EXPECT_EQ(Stored("session/u1")->head, HeadAt(5, 'c'));
}

// A head that moves forward from the one this store wrote costs one request (an update
// conditional on the version written); the anchor is not read first.
TEST_F(AnchorStoreTest, MovingForwardFromItsOwnLastWriteIsOneConditionalUpdate) {
  ConfigMapAnchorStore store(client_, clock_, Options());
  ASSERT_TRUE(store.Save("session/u1", HeadAt(3, 'a'), "team-a/s", "u1").ok());
  const int gets = client_.CallCount(kube::FakeMethod::kGet);
  const int updates = client_.CallCount(kube::FakeMethod::kUpdate);
  ASSERT_TRUE(store.Save("session/u1", HeadAt(5, 'c'), "team-a/s", "u1").ok());
  ASSERT_TRUE(store.Save("session/u1", HeadAt(8, 'd'), "team-a/s", "u1").ok());
  EXPECT_EQ(client_.CallCount(kube::FakeMethod::kGet), gets);
  EXPECT_EQ(client_.CallCount(kube::FakeMethod::kUpdate), updates + 2);
  EXPECT_EQ(Stored("session/u1")->head, HeadAt(8, 'd'));
}

// Someone else wrote the anchor since this store did (another replica, a person): the conditional
// update is refused, the anchor is read and the never-back rule holds against what is stored.
TEST_F(AnchorStoreTest, AnAnchorWrittenByAnotherIsReadBeforeItIsMoved) {
  ConfigMapAnchorStore store(client_, clock_, Options());
  ASSERT_TRUE(store.Save("session/u1", HeadAt(3, 'a')).ok());
  ConfigMapAnchorStore other(client_, clock_, Options());
  ASSERT_TRUE(other.Save("session/u1", HeadAt(6, 'e')).ok());

  EXPECT_EQ(store.Save("session/u1", HeadAt(5, 'c')).code(), StatusCode::kFailedPrecondition)
      << "the stored anchor is further along";
  EXPECT_EQ(Stored("session/u1")->head, HeadAt(6, 'e'));
  ASSERT_TRUE(store.Save("session/u1", HeadAt(7, 'f')).ok());
  EXPECT_EQ(Stored("session/u1")->head, HeadAt(7, 'f'));

  // Deleted behind its back (a sweep elsewhere): created again.
  client_.RemoveObject(kConfigMaps, {kNamespace, AnchorConfigMapName("session/u1")});
  ASSERT_TRUE(store.Save("session/u1", HeadAt(9, 'a')).ok());
  EXPECT_EQ(Stored("session/u1")->head, HeadAt(9, 'a'));
}

TEST_F(AnchorStoreTest, AnAnchorNeverMovesBack) {
  ConfigMapAnchorStore store(client_, clock_, Options());
  ASSERT_TRUE(store.Save("session/u1", HeadAt(5, 'c')).ok());
  ConfigMapAnchorStore restarted(client_, clock_, Options());  // no cache
  EXPECT_EQ(restarted.Save("session/u1", HeadAt(4, 'd')).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(restarted.Save("session/u1", HeadAt(5, 'e')).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(restarted.Save("session/u1", HeadAt(5, 'c')).ok()) << "the same head is fine";
  EXPECT_EQ(Stored("session/u1")->head, HeadAt(5, 'c'));
}

TEST_F(AnchorStoreTest, ApiFailuresAreReturned) {
  ConfigMapAnchorStore store(client_, clock_, Options());
  client_.FailNext(kube::FakeMethod::kGet, kube::ApiError(403, "Forbidden"));
  EXPECT_EQ(store.Save("session/u1", HeadAt(1, 'a')).code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(Stored("session/u1").has_value());
  EXPECT_TRUE(store.Save("session/u1", HeadAt(1, 'a')).ok()) << "nothing cached after a failure";
}

TEST_F(AnchorStoreTest, SweepDeletesAnchorsPastTheirRetentionOnly) {
  ConfigMapAnchorStore store(client_, clock_, Options());
  ASSERT_TRUE(store.Save("session/old", HeadAt(8, 'a')).ok());
  clock_.Advance(20h);
  ASSERT_TRUE(store.Save("session/new", HeadAt(2, 'b')).ok());
  client_.PutObject(kConfigMaps, {{"apiVersion", "v1"},
                                  {"kind", "ConfigMap"},
                                  {"metadata", {{"name", "unrelated"}, {"namespace", kNamespace}}},
                                  {"data", {{"updated", "2000-01-01T00:00:00Z"}}}});
  clock_.Advance(5h);
  auto swept = store.Sweep();
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ(*swept, 1U);
  EXPECT_FALSE(Stored("session/old").has_value());
  EXPECT_TRUE(Stored("session/new").has_value());
  EXPECT_TRUE(client_.GetObject(kConfigMaps, {kNamespace, "unrelated"}).has_value())
      << "only labelled anchors are swept";
  // A swept anchor is written again when its chain moves (the cache forgot it).
  ASSERT_TRUE(store.Save("session/old", HeadAt(8, 'a')).ok());
  EXPECT_TRUE(Stored("session/old").has_value());
}

// A replica's own chain: saved when it moved, at most once per interval, and once more at stop.
TEST_F(AnchorStoreTest, KeepAnchoredSavesTheReplicaChainAndAgainAtStop) {
  FakeAuditSink sink;
  AuditLog log(sink);
  AuditRecord r;
  r.chain = "controller/replica-1@2026";
  r.action = "admitted";
  ASSERT_TRUE(log.Append(r).ok());
  ConfigMapAnchorStore store(client_, clock_, Options());
  std::stop_source stop;
  stop.request_stop();  // FakeClock's sleeps return at once: run the final save only
  store.KeepAnchored(log, r.chain, stop.get_token());
  ASSERT_TRUE(Stored(r.chain).has_value());
  EXPECT_EQ(Stored(r.chain)->head, log.Head(r.chain));
  EXPECT_TRUE(errors_.empty());

  ASSERT_TRUE(log.Append(r).ok());
  client_.FailNext(kube::FakeMethod::kUpdate, kube::ApiError(500, "InternalError"));
  store.KeepAnchored(log, r.chain, stop.get_token());
  ASSERT_EQ(errors_.size(), 1U);
  EXPECT_THAT(errors_[0], HasSubstr("anchoring chain controller/replica-1@2026"));
  EXPECT_EQ(Stored(r.chain)->head.records, 1U) << "not moved by the failed save";
}

}  // namespace
}  // namespace ephemera::audit
