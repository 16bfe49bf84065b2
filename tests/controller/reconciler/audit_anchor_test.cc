// The reconciler keeps each session chain's head in a ConfigMap of the controller's namespace
// (audit/anchor_store.h) beside status.audit: the requester can delete the session, not the anchor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "audit/anchor.h"
#include "audit/audit_verifier.h"
#include "controller/audit/anchor_store.h"
#include "controller/reconciler/debug_session_reconciler.h"
#include "envelope/envelope.h"
#include "tests/audit/fake_audit_sink.h"
#include "tests/controller/reconciler/reconciler_fixture.h"
#include "tests/controller/session/session_fixtures.h"

namespace ephemera::reconciler {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

using testing::kControllerNamespace;
using testing::kSessionKey;
const kube::GroupVersionResource kConfigMaps{"", "v1", "configmaps", true, ""};

class AuditAnchorTest : public testing::ReconcilerFixture {
 protected:
  void SetUp() override {
    PutSessionAndPod(/*keep_finalizers=*/false, /*replica_set_pod=*/false);
    uid_ = session::testing::SessionObject()["metadata"]["uid"].get<std::string>();
  }

  audit::AnchorStoreOptions StoreOptions() {
    audit::AnchorStoreOptions options;
    options.namespace_name = kControllerNamespace;
    options.on_error = [this](std::string_view what, const Status& s) {
      anchor_errors_.push_back(std::string(what) + ": " + s.message());
    };
    return options;
  }

  DebugSessionReconciler MakeReconciler(audit::AuditLog& log, audit::ConfigMapAnchorStore& anchors,
                                        bool strict = false) {
    ReconcilerOptions options = testing::BaseOptions(log);
    options.policy.strict_audit = strict;
    options.anchors = &anchors;
    return DebugSessionReconciler(client_, clock_, options);
  }

  // The session chain's anchor as the controller's namespace holds it.
  std::optional<audit::ChainAnchor> Anchor() {
    auto object = client_.GetObject(
        kConfigMaps, {kControllerNamespace, audit::AnchorConfigMapName(audit::SessionChain(uid_))});
    if (!object) return std::nullopt;
    auto anchor = audit::ParseAnchorConfigMap(*object);
    EXPECT_TRUE(anchor.ok()) << anchor.status().ToString();
    return anchor.ok() ? std::optional<audit::ChainAnchor>(*anchor) : std::nullopt;
  }
  audit::ChainHead StatusHead() {
    const api::DebugSession s = Session();
    EXPECT_TRUE(s.status.audit.has_value());
    if (!s.status.audit) return {};
    return {static_cast<std::uint64_t>(s.status.audit->records), s.status.audit->head};
  }

  void FinishSnapshotContainer() {
    const std::string recipient = SessionRecipient(uid_);
    ASSERT_FALSE(recipient.empty());
    json document = {{"apiVersion", "ephemera.dev/snapshot/v1"},
                     {"kind", "Snapshot"},
                     {"targets", {{"mainPid", 1}, {"pids", {1}}}},
                     {"sections", {"process"}},
                     {"processes", json::array()},
                     {"redaction", json::object()},
                     {"degraded", json::array()},
                     {"overhead", json::object()}};
    auto sealed = envelope::Seal(document.dump(), {recipient});
    ASSERT_TRUE(sealed.ok());
    FinishSnapshotContainerWithLog(Session().status.ephemeral_container, *sealed);
  }

  // An anchor further along than anything this session will write: an anchor never moves back,
  // so every anchor write fails.
  void BlockTheAnchor() {
    client_.PutObject(
        kConfigMaps,
        audit::BuildAnchorConfigMap(
            {audit::SessionChain(uid_), {1000, "sha256:" + std::string(64, 'f')}, "", ""},
            kControllerNamespace));
  }
  void UnblockTheAnchor() {
    client_.RemoveObject(
        kConfigMaps, {kControllerNamespace, audit::AnchorConfigMapName(audit::SessionChain(uid_))});
  }

  std::string uid_;
  std::vector<std::string> anchor_errors_;
};

// Every status write carries the head to the anchor; at the end the requester deletes the session
// (its status.audit with it) and cuts the chain's last records from the log: the anchor still
// catches it.
TEST_F(AuditAnchorTest, TheAnchorFollowsTheStatusAndOutlivesTheSession) {
  audit::FakeAuditSink sink;
  audit::AuditLog log(sink);
  audit::ConfigMapAnchorStore anchors(client_, clock_, StoreOptions());
  DebugSessionReconciler reconciler = MakeReconciler(log, anchors);
  ASSERT_TRUE(Settle(reconciler).ok());
  ASSERT_EQ(Session().status.phase, api::Phase::kCapturing);
  ASSERT_TRUE(Anchor().has_value());
  EXPECT_EQ(Anchor()->head, StatusHead());
  EXPECT_EQ(Anchor()->session, kSessionKey.ToString());

  FinishSnapshotContainer();
  ASSERT_TRUE(Settle(reconciler).ok());
  ASSERT_EQ(Session().status.phase, api::Phase::kCompleted);
  clock_.Advance(6min);
  ASSERT_TRUE(Settle(reconciler).ok());
  ASSERT_EQ(Session().status.phase, api::Phase::kExpired);
  const audit::ChainHead final_head = StatusHead();
  EXPECT_EQ(Anchor()->head, final_head);
  EXPECT_EQ(final_head.hash, sink.Records().back().hash);
  EXPECT_TRUE(anchor_errors_.empty());

  client_.RemoveObject(kube::DebugSessionsResource(), kSessionKey);  // the requester deletes it
  std::vector<audit::SealedRecord> records = sink.Records();
  records.pop_back();  // and the log loses "wiped"
  std::ostringstream lines;
  for (const auto& r : records) lines << audit::ToJson(r).dump() << "\n";
  auto listed = client_.List(kConfigMaps, kControllerNamespace,
                             {.label_selector = std::string(audit::kAnchorSelector)});
  ASSERT_TRUE(listed.ok());
  auto kept = audit::AnchorsFromJson(json{{"items", listed->items}});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  std::istringstream in(lines.str());
  const audit::VerifyReport report = audit::VerifyAuditStream(in, *kept);
  EXPECT_FALSE(report.Verified());
  EXPECT_THAT(audit::FormatVerifyReport(report), HasSubstr("missing at the end"));
}

// Strict audit: a step whose anchor cannot be written fails and is retried; once the anchor can be
// written, it catches up with the status.
TEST_F(AuditAnchorTest, UnderStrictAuditAFailedAnchorWriteFailsTheStepUntilItIsWritten) {
  audit::FakeAuditSink sink;
  audit::AuditLog log(sink, {.strict = true});
  audit::ConfigMapAnchorStore anchors(client_, clock_, StoreOptions());
  DebugSessionReconciler reconciler = MakeReconciler(log, anchors, /*strict=*/true);
  BlockTheAnchor();
  const Status failed = Settle(reconciler);
  EXPECT_EQ(failed.code(), StatusCode::kFailedPrecondition) << failed.ToString();
  EXPECT_THAT(failed.message(), HasSubstr("audit anchor"));
  EXPECT_FALSE(Session().status.phase == api::Phase::kCapturing) << "no further step";
  EXPECT_EQ(Settle(reconciler).code(), StatusCode::kFailedPrecondition) << "still refused";

  UnblockTheAnchor();
  ASSERT_TRUE(Settle(reconciler).ok());
  ASSERT_EQ(Session().status.phase, api::Phase::kCapturing);
  ASSERT_TRUE(Anchor().has_value());
  EXPECT_EQ(Anchor()->head, StatusHead());
  EXPECT_TRUE(anchor_errors_.empty()) << "strict mode returns the error instead";
}

// Without strict audit the session goes on, the failure is reported, and the anchor is written at
// the next reconcile.
TEST_F(AuditAnchorTest, WithoutStrictAuditAFailedAnchorWriteIsReportedAndMadeGoodLater) {
  audit::FakeAuditSink sink;
  audit::AuditLog log(sink);
  audit::ConfigMapAnchorStore anchors(client_, clock_, StoreOptions());
  DebugSessionReconciler reconciler = MakeReconciler(log, anchors);
  BlockTheAnchor();
  ASSERT_TRUE(Settle(reconciler).ok());
  ASSERT_EQ(Session().status.phase, api::Phase::kCapturing);
  ASSERT_FALSE(anchor_errors_.empty());
  EXPECT_THAT(anchor_errors_[0], HasSubstr("DebugSession team-a/checkout-500s"));
  UnblockTheAnchor();
  ASSERT_TRUE(reconciler.Reconcile(kSessionKey).ok());
  ASSERT_TRUE(Anchor().has_value());
  EXPECT_EQ(Anchor()->head, StatusHead());
}

}  // namespace
}  // namespace ephemera::reconciler
