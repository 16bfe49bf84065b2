#include "controller/reconciler/debug_session_reconciler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <sstream>

#include "api/debug_session.h"
#include "audit/audit_verifier.h"
#include "base/base64.h"
#include "base/rfc3339.h"
#include "controller/detection/container_mark.h"
#include "envelope/envelope.h"
#include "kube/object/resource.h"
#include "tests/audit/fake_audit_sink.h"
#include "tests/controller/reconciler/reconciler_fixture.h"

namespace ephemera::reconciler {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using testing::kControllerNamespace;
using testing::kMarkKey;
using testing::kPodKey;
using testing::kSessionKey;

// Stands for captured process state: it must never leave the controller unencrypted.
constexpr char kPlaintextMarker[] = "PLAINTEXT-c0ffee-must-not-leak";

// The actions of the records `sink` took, in order.
std::vector<std::string> ActionsOf(const audit::FakeAuditSink& sink) {
  std::vector<std::string> actions;
  for (const auto& r : sink.Records()) actions.push_back(r.record.action);
  return actions;
}

// A snapshot document as the tool writes it; `padding` adds that many bytes of hard-to-compress
// text to a process's (redacted) command line.
json SnapshotDocument(std::size_t padding = 0) {
  std::string cmdline = std::string("/app --token=") + kPlaintextMarker + " ";
  std::mt19937 random(7);
  while (cmdline.size() < padding) cmdline += "0123456789abcdef"[random() % 16];
  return {{"apiVersion", "ephemera.dev/snapshot/v1"},
          {"kind", "Snapshot"},
          {"targets", {{"mainPid", 1}, {"pids", {1, 7}}}},
          {"sections", {"process", "threads", "fds"}},
          {"processes", {{{"pid", 1}, {"cmdline", cmdline}}}},
          {"redaction", {{"envRedacted", 2}}},
          {"degraded", json::array()},
          {"overhead", {{"targetFreezeMicros", 0}}}};
}

class ReconcilerTest : public testing::ReconcilerFixture {
 protected:
  void SetUp() override { PutSessionAndPod(/*keep_finalizers=*/false, /*replica_set_pod=*/true); }

  DebugSessionReconciler MakeReconciler(
      audit::AuditLog& audit_log, const std::function<void(ReconcilerOptions&)>& adjust = nullptr) {
    ReconcilerOptions options = testing::BaseOptions(audit_log);
    options.policy.annotate_debugged_pods = true;
    options.policy.recycle_debugged_pods = true;
    options.on_step = [this](const session::StepRecord& step) { steps_.push_back(step); };
    if (adjust) adjust(options);
    return DebugSessionReconciler(client_, clock_, options);
  }

  // Plays the snapshot tool: a sealed document in the container's log, the container terminated.
  void FinishSnapshotContainer(const std::string& container, const std::string& session_uid) {
    const std::string recipient = SessionRecipient(session_uid);
    ASSERT_FALSE(recipient.empty());
    auto sealed = envelope::Seal(SnapshotDocument().dump(), {recipient});
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    FinishSnapshotContainerWithLog(container, *sealed);
  }

  // The session's reconciler over a hostPID target (MakeHostPidTarget), its audit trail in
  // `audit_log_`: debugprofiles/host granted or not, the policy's allowHostNamespaces on or off.
  DebugSessionReconciler HostPidReconciler(bool grant_host, bool allow_policy);
  Status SettleHostPidSession(bool grant_host, bool allow_policy);

  std::vector<session::StepRecord> steps_;  // what on_step reported (events, metrics, logs)
};

// The target pod and the key Secret are read once per Reconcile: a new session reaches Capturing in
// one Reconcile with 3 GETs (the session; pod and key). The key it just created is not read back
// for its recipient, and the pod is not read again after the injection: the patch answered with
// it, and the container just added cannot have finished, so the next look is the first poll.
// Before, pod and key were read before every step: 10.
TEST_F(ReconcilerTest, ReadsThePodAndKeyOnceAndNotAgainAfterInjecting) {
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  const int gets_before = client_.CallCount(kube::FakeMethod::kGet);
  auto result = reconciler.Reconcile(kSessionKey);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const int gets = client_.CallCount(kube::FakeMethod::kGet) - gets_before;
  const api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCapturing) << s.status.message;
  EXPECT_GE(result->steps, 5) << "finalizer, initialize, authorize, key, inject";
  EXPECT_EQ(gets, 3);
  ASSERT_TRUE(result->requeue_after.has_value());
  EXPECT_EQ(*result->requeue_after, session::kCaptureSafetyNetPoll);
}

// The informer's copy of the session replaces the GET only when it is the version the reconciler
// last saw as current; an older copy is never acted on (no step replayed, no audit record twice).
TEST_F(ReconcilerTest, UsesTheCachedSessionOnlyWhenItIsTheVersionLastSeen) {
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  const auto stale = std::make_shared<const json>(
      client_.GetObject(kube::DebugSessionsResource(), kSessionKey).value());
  ASSERT_TRUE(Settle(reconciler).ok());
  ASSERT_EQ(Session().status.phase, api::Phase::kCapturing);
  const auto current = std::make_shared<const json>(
      client_.GetObject(kube::DebugSessionsResource(), kSessionKey).value());
  const std::size_t records = sink_.Records().size();

  // A capturing session is waiting: only the pod is looked at (the key does not decide anything
  // now), the session is not read.
  int gets = client_.CallCount(kube::FakeMethod::kGet);
  ASSERT_TRUE(reconciler.Reconcile(kSessionKey, current).ok());
  EXPECT_EQ(client_.CallCount(kube::FakeMethod::kGet) - gets, 1) << "the pod only";

  // The copy from before the session was authorized: read again, nothing replayed.
  gets = client_.CallCount(kube::FakeMethod::kGet);
  ASSERT_TRUE(reconciler.Reconcile(kSessionKey, stale).ok());
  EXPECT_EQ(client_.CallCount(kube::FakeMethod::kGet) - gets, 2) << "the session and the pod";
  EXPECT_EQ(Session().status.phase, api::Phase::kCapturing);
  EXPECT_EQ(sink_.Records().size(), records);

  // Without a copy it reads, as before.
  gets = client_.CallCount(kube::FakeMethod::kGet);
  ASSERT_TRUE(reconciler.Reconcile(kSessionKey).ok());
  EXPECT_EQ(client_.CallCount(kube::FakeMethod::kGet) - gets, 2);
}

// Accepting a session and creating its key are written with the step that follows them: a new
// session reaches Capturing with three writes (the finalizer, the authorization, the injection),
// yet the audit chain has all four records and the status holds its head.
TEST_F(ReconcilerTest, StepsThatOnlyChangeTheStatusAreWrittenWithTheNextStep) {
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  const int writes_before = client_.CallCount(kube::FakeMethod::kUpdate);
  ASSERT_TRUE(reconciler.Reconcile(kSessionKey).ok());
  EXPECT_EQ(client_.CallCount(kube::FakeMethod::kUpdate) - writes_before, 3);
  const api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCapturing);
  ASSERT_TRUE(s.status.expires_at.has_value()) << "the accepted step's expiry was written";
  const auto records = sink_.Records();
  ASSERT_EQ(records.size(), 4u);
  ASSERT_TRUE(s.status.audit.has_value());
  EXPECT_EQ(s.status.audit->records, 4);
  EXPECT_EQ(s.status.audit->head, records.back().hash);
}

// When the step after an unwritten one fails, the progress before it is still written: a failed
// injection leaves the session Injecting with the key's record in its persisted chain head, and the
// retry continues that chain without a fork.
TEST_F(ReconcilerTest, AFailedStepStillWritesTheProgressBeforeIt) {
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  client_.FailNext(kube::FakeMethod::kPatch, kube::ApiError(500, "InternalError"));
  EXPECT_FALSE(reconciler.Reconcile(kSessionKey).ok());
  api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kInjecting);
  ASSERT_TRUE(s.status.audit.has_value());
  EXPECT_EQ(s.status.audit->records, 3) << "accepted, authorized, key-created";

  ASSERT_TRUE(Settle(reconciler).ok());
  s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCapturing);
  std::stringstream stream;
  for (const auto& r : sink_.Records()) stream << audit::ToJson(r).dump() << "\n";
  audit::VerifyOptions verify;
  verify.anchors[audit::SessionChain(s.uid)] =
      audit::ChainHead{static_cast<std::uint64_t>(s.status.audit->records), s.status.audit->head};
  const audit::VerifyReport report = audit::VerifyAuditStream(stream, verify);
  EXPECT_TRUE(report.Verified()) << audit::FormatVerifyReport(report);
  // accepted, authorized, key-created, then the retry: authorized again (the reconcile that injects
  // runs the reviews itself, whatever status says), injected.
  EXPECT_EQ(s.status.audit->records, 5);
}

// A run that created the key and appended its record but stopped before the write that would have
// carried it (the key step is written with the injection) left phase Pending and the key in place.
// The next run takes the key step again, so "key-created" is on the session's chain after all.
// The Authorized=True in status is not taken as the decision: the new run asks again first.
TEST_F(ReconcilerTest, AKeyStepNotOnRecordIsTakenAgainAfterARestart) {
  json object = client_.GetObject(kube::DebugSessionsResource(), kSessionKey).value();
  api::DebugSession s = Session();
  api::DebugSessionStatus status;
  status.phase = api::Phase::kPending;
  status.expires_at = clock_.Now() + 5min;
  status.SetCondition("Authorized", true, "Allowed", "alice may debug pod shop-1", clock_.Now());
  object["status"] = api::StatusToJson(status);
  object["metadata"]["finalizers"] = {std::string(api::kFinalizer)};
  client_.PutObject(kube::DebugSessionsResource(), object);
  auto identity = envelope::GenerateIdentity();
  ASSERT_TRUE(identity.ok());
  client_.PutObject(
      kube::SecretsResource(),
      {{"apiVersion", "v1"},
       {"kind", "Secret"},
       {"metadata",
        {{"name", session::SessionKeySecretNameFor(s.uid)}, {"namespace", kControllerNamespace}}},
       {"data",
        {{"identity", base::Base64Encode(identity->identity)},
         {"recipient", base::Base64Encode(identity->recipient)}}}});

  audit::FakeAuditSink sink;
  audit::AuditLog audit_log(sink);  // a new process: no chain heads in memory
  DebugSessionReconciler reconciler = MakeReconciler(audit_log);
  ASSERT_TRUE(Settle(reconciler).ok());
  ASSERT_EQ(Session().status.phase, api::Phase::kCapturing);
  EXPECT_EQ(ActionsOf(sink), (std::vector<std::string>{"authorized", "key-created", "injected"}));
  EXPECT_EQ(SessionRecipient(s.uid), identity->recipient) << "the existing key was kept";
}

// The watch events that echo the reconciler's own writes bring nothing new; the controller does not
// queue them. Any other version of the session is news.
TEST_F(ReconcilerTest, RecognizesTheEchoesOfItsOwnWritesOnly) {
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  const json created = client_.GetObject(kube::DebugSessionsResource(), kSessionKey).value();
  const int writes_before = client_.CallCount(kube::FakeMethod::kUpdate);
  ASSERT_TRUE(reconciler.Reconcile(kSessionKey).ok());
  ASSERT_GE(client_.CallCount(kube::FakeMethod::kUpdate) - writes_before, 3);
  const json written = client_.GetObject(kube::DebugSessionsResource(), kSessionKey).value();

  EXPECT_TRUE(reconciler.IsEchoOfOwnWrite(kSessionKey, written));
  EXPECT_FALSE(reconciler.IsEchoOfOwnWrite(kSessionKey, created)) << "read, not written by it";
  json someone_elses = written;
  someone_elses["metadata"]["resourceVersion"] = "999999";
  EXPECT_FALSE(reconciler.IsEchoOfOwnWrite(kSessionKey, someone_elses));
  EXPECT_FALSE(reconciler.IsEchoOfOwnWrite({"team-a", "another"}, written));
}

TEST_F(ReconcilerTest, AWholeLifeIsOneVerifiableAuditChainWithItsHeadInStatus) {
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);

  ASSERT_TRUE(Settle(reconciler).ok());
  api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCapturing) << s.status.message;
  const std::string container = s.status.ephemeral_container;

  // The container Ephemera added carries a valid mark; the pod is annotated (policy).
  json pod = *client_.GetObject(kube::PodsResource(), kPodKey);
  ASSERT_EQ(pod["spec"]["ephemeralContainers"].size(), 1u);
  std::string mark;
  for (const json& env : pod["spec"]["ephemeralContainers"][0]["env"]) {
    if (env["name"] == detection::kMarkEnvName) mark = env["value"];
  }
  EXPECT_TRUE(detection::IsValidMark(mark, kMarkKey, "pod-uid-1", container));
  EXPECT_NE(pod["metadata"]["annotations"]
                .value(std::string(kDebuggedByAnnotation), "")
                .find("team-a/checkout-500s by alice"),
            std::string::npos);

  FinishSnapshotContainer(container, s.uid);
  ASSERT_TRUE(Settle(reconciler).ok());
  s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCompleted) << s.status.message;
  EXPECT_TRUE(client_.GetObject(kube::DebugSnapshotsResource(), kSessionKey).has_value());

  clock_.Advance(6min);
  ASSERT_TRUE(Settle(reconciler).ok());
  s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kExpired) << s.status.message;
  EXPECT_FALSE(client_.GetObject(kube::DebugSnapshotsResource(), kSessionKey).has_value());
  EXPECT_FALSE(client_.GetObject(kube::PodsResource(), kPodKey).has_value())
      << "the debugged pod is recycled through its owner (policy)";

  // Every step is a record of the session's chain, in order; the status holds the head.
  const auto records = sink_.Records();
  std::vector<std::string> actions;
  for (const auto& r : records) {
    EXPECT_EQ(r.record.chain, audit::SessionChain(s.uid));
    EXPECT_EQ(r.record.requester, "alice");
    EXPECT_EQ(r.record.reason, "INC-1234 checkout returns 500");
    actions.push_back(r.record.action);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"accepted", "authorized", "key-created", "injected",
                                               "collected", "delivered", "expired", "wiped"}));
  // Events summarize: the injection, the delivery and the wipe (the rest is in the audit trail).
  std::vector<std::string> events;
  for (const session::StepRecord& step : steps_) {
    if (ReportsAsEvent(step)) events.emplace_back(session::ActionName(step.action));
  }
  EXPECT_EQ(events, (std::vector<std::string>{"Inject", "Collect", "Wipe"}));
  // What the snapshot tool read, then what the requester got.
  const auto& collected = records[4].record;
  EXPECT_EQ(collected.outcome, "ok");
  EXPECT_EQ(collected.target, "team-a/shop-1/app");
  EXPECT_EQ(collected.details["pids"], json({1, 7}));
  EXPECT_EQ(collected.details["sections"], json({"process", "threads", "fds"}));
  EXPECT_EQ(collected.details["degraded"], json::array());
  EXPECT_EQ(collected.details["overhead"]["targetFreezeMicros"], 0);
  EXPECT_EQ(collected.details["redaction"]["envRedacted"], 2);
  EXPECT_EQ(collected.message, "the snapshot tool read 3 section(s) of 2 process(es)");
  const auto& delivered = records[5].record;
  EXPECT_EQ(delivered.outcome, "ok");
  EXPECT_EQ(delivered.details["snapshot"], "checkout-500s");
  EXPECT_EQ(delivered.details["recipients"], 1);
  ASSERT_TRUE(s.status.snapshot.has_value());
  EXPECT_EQ(delivered.details["sha256"], s.status.snapshot->sha256);
  EXPECT_EQ(delivered.details["bytes"], s.status.snapshot->bytes);
  EXPECT_FALSE(delivered.details.contains("pids")) << "the collected record has them";
  // The TTL lapsed: "expired" says when, "wiped" that the snapshot and key are gone.
  const auto& expired = records[6].record;
  EXPECT_EQ(expired.outcome, "ok");
  ASSERT_TRUE(s.status.expires_at.has_value());
  EXPECT_EQ(expired.details["expiresAt"], base::FormatRfc3339(*s.status.expires_at));
  EXPECT_EQ(records[7].record.outcome, "ok");
  ASSERT_TRUE(s.status.audit.has_value());
  EXPECT_EQ(s.status.audit->records, static_cast<std::int64_t>(records.size()));
  EXPECT_EQ(s.status.audit->head, records.back().hash);

  std::stringstream stream;
  for (const auto& r : records) stream << audit::ToJson(r).dump() << "\n";
  audit::VerifyOptions verify;
  verify.anchors[audit::SessionChain(s.uid)] =
      audit::ChainHead{static_cast<std::uint64_t>(s.status.audit->records), s.status.audit->head};
  const audit::VerifyReport report = audit::VerifyAuditStream(stream, verify);
  EXPECT_TRUE(report.Verified()) << audit::FormatVerifyReport(report);
}

// Kubernetes cannot stop an ephemeral container: a snapshot tool that outlives its session's TTL
// (its own deadline should have ended it) is detected at the wipe, recorded and reported, and the
// wipe goes ahead all the same.
TEST_F(ReconcilerTest, ASnapshotContainerStillRunningAfterTheTtlIsRecordedAndTheSessionWiped) {
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  ASSERT_TRUE(Settle(reconciler).ok());
  api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCapturing) << s.status.message;
  const std::string container = s.status.ephemeral_container;
  const kube::ObjectKey secret_key{kControllerNamespace, session::SessionKeySecretNameFor(s.uid)};
  ASSERT_TRUE(client_.GetObject(kube::SecretsResource(), secret_key).has_value());

  // The tool hangs: its container keeps running past expiresAt.
  json pod = *client_.GetObject(kube::PodsResource(), kPodKey);
  pod["status"]["ephemeralContainerStatuses"] = {
      {{"name", container}, {"state", {{"running", {{"startedAt", "2026-01-01T00:00:01Z"}}}}}}};
  client_.PutObject(kube::PodsResource(), pod);
  ASSERT_TRUE(s.status.expires_at.has_value());
  clock_.Advance(6min);
  ASSERT_GT(clock_.Now(), *s.status.expires_at);
  ASSERT_TRUE(Settle(reconciler).ok());

  // Wiped regardless: the key is gone, no snapshot exists, the session is Expired.
  s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kExpired) << s.status.message;
  EXPECT_FALSE(client_.GetObject(kube::SecretsResource(), secret_key).has_value());
  EXPECT_FALSE(client_.GetObject(kube::DebugSnapshotsResource(), kSessionKey).has_value());
  const api::Condition* wiped = s.status.FindCondition("Wiped");
  ASSERT_NE(wiped, nullptr);
  EXPECT_EQ(wiped->status, "True");
  const api::Condition* terminated = s.status.FindCondition("ContainerTerminated");
  ASSERT_NE(terminated, nullptr);
  EXPECT_EQ(terminated->status, "False");
  EXPECT_EQ(terminated->reason, "StillRunning");

  // On the record, with the target, between the expiry and the wipe.
  const auto records = sink_.Records();
  EXPECT_EQ(ActionsOf(sink_),
            (std::vector<std::string>{"accepted", "authorized", "key-created", "injected",
                                      "expired", "still-running-after-ttl", "wiped"}));
  const audit::AuditRecord& still_running = records[5].record;
  EXPECT_EQ(still_running.outcome, "SnapshotContainerStillRunning");
  EXPECT_EQ(still_running.target, "team-a/shop-1/app");
  EXPECT_EQ(still_running.session, "team-a/checkout-500s");
  EXPECT_NE(still_running.message.find(container), std::string::npos) << still_running.message;
  ASSERT_TRUE(s.status.audit.has_value());
  EXPECT_EQ(s.status.audit->head, records.back().hash);

  // Reported as a step (the metric, and Events on the session and the pod).
  const auto step = std::find_if(steps_.begin(), steps_.end(), [](const session::StepRecord& r) {
    return r.outcome == session::kSnapshotContainerStillRunning;
  });
  ASSERT_NE(step, steps_.end());
  EXPECT_EQ(step->action, session::Action::kWipe);
  EXPECT_EQ(step->target, "shop-1/app");
  const auto on_pod = BuildPodEvent(*step);
  ASSERT_TRUE(on_pod.has_value());
  EXPECT_EQ(on_pod->regarding.name, "shop-1");
  EXPECT_EQ(steps_.back().action, session::Action::kWipe);
  EXPECT_EQ(steps_.back().outcome, "ok");
}

// A session deleted before its TTL is wiped at once; it did not expire, so there is no "expired"
// record, and its snapshot container, still within the tool's deadline, is no alarm.
TEST_F(ReconcilerTest, ADeletedSessionIsWipedWithoutAnExpiredRecord) {
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  ASSERT_TRUE(Settle(reconciler).ok());
  ASSERT_EQ(Session().status.phase, api::Phase::kCapturing);
  json object = client_.GetObject(kube::DebugSessionsResource(), kSessionKey).value();
  object["metadata"]["deletionTimestamp"] = "2026-01-01T00:01:00Z";
  client_.PutObject(kube::DebugSessionsResource(), object);
  ASSERT_TRUE(Settle(reconciler).ok());

  EXPECT_EQ(ActionsOf(sink_), (std::vector<std::string>{"accepted", "authorized", "key-created",
                                                        "injected", "wiped"}));
  EXPECT_EQ(sink_.Records().back().record.message.rfind("the DebugSession was deleted", 0), 0u)
      << sink_.Records().back().record.message;
  for (const session::StepRecord& step : steps_) {
    EXPECT_NE(step.outcome, session::kSnapshotContainerStillRunning);
  }
  EXPECT_EQ(Session().status.FindCondition("ContainerTerminated"), nullptr);
}

// Deleted before its TTL but after the tool's deadline and grace: a snapshot container still
// running then is an alarm all the same.
TEST_F(ReconcilerTest, ADeletedSessionWhoseToolOutlivedItsDeadlineIsFlagged) {
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  ASSERT_TRUE(Settle(reconciler).ok());
  ASSERT_EQ(Session().status.phase, api::Phase::kCapturing);
  clock_.Advance(61s);  // past the 20 s deadline and 40 s grace, within the 5 min TTL
  json object = client_.GetObject(kube::DebugSessionsResource(), kSessionKey).value();
  object["metadata"]["deletionTimestamp"] = "2026-01-01T00:01:00Z";
  client_.PutObject(kube::DebugSessionsResource(), object);
  ASSERT_TRUE(Settle(reconciler).ok());

  EXPECT_EQ(ActionsOf(sink_).back(), "wiped");
  bool flagged = false;
  for (const session::StepRecord& step : steps_) {
    flagged |= step.outcome == session::kSnapshotContainerStillRunning;
  }
  EXPECT_TRUE(flagged) << "a tool past its deadline on a deleted session";
}

// Passes records on to `stream`, except the first one with action `refused_action`, which it
// refuses: the audit sink failing at one precise moment.
class RefusesOnceSink : public audit::AuditSink {
 public:
  RefusesOnceSink(audit::AuditSink& stream, std::string refused_action)
      : stream_(stream), refused_action_(std::move(refused_action)) {}
  Status Write(const audit::SealedRecord& record) override {
    if (!refused_ && record.record.action == refused_action_) {
      refused_ = true;
      return UnavailableError("stdout closed");
    }
    return stream_.Write(record);
  }

 private:
  audit::AuditSink& stream_;
  std::string refused_action_;
  bool refused_ = false;
};

audit::VerifyReport VerifyAgainstStatus(const audit::FakeAuditSink& sink,
                                        const api::DebugSession& s) {
  std::stringstream stream(sink.JsonLines());
  audit::VerifyOptions verify;
  if (s.status.audit) {
    verify.anchors[audit::SessionChain(s.uid)] =
        audit::ChainHead{static_cast<std::uint64_t>(s.status.audit->records), s.status.audit->head};
  }
  return audit::VerifyAuditStream(stream, verify);
}

// The session's status commits `records` records of its chain, the last one on the stream is its
// head, and the chain verifies against it with `superseded` copies left over from failed attempts.
void ExpectCommittedChain(const audit::FakeAuditSink& stream, const api::DebugSession& s,
                          int records, std::uint64_t superseded) {
  ASSERT_TRUE(s.status.audit.has_value());
  EXPECT_EQ(s.status.audit->records, records);
  EXPECT_EQ(s.status.audit->head, stream.Records().back().hash);
  const audit::VerifyReport report = VerifyAgainstStatus(stream, s);
  EXPECT_TRUE(report.Verified()) << audit::FormatVerifyReport(report);
  EXPECT_EQ(report.chains.at(audit::SessionChain(s.uid)).superseded, superseded);
}

// A delivery is two records. Strict audit refuses the second: the step fails with the first on
// the stream only. A controller restarted then (no heads in memory) continues from the head in the
// status: the first record is written again (a fork the anchor resolves), and the chain verifies.
TEST_F(ReconcilerTest, ARestartBetweenTheTwoRecordsOfADeliveryLeavesAVerifiableChain) {
  audit::FakeAuditSink stream;
  RefusesOnceSink refusing(stream, "delivered");
  {
    audit::AuditLog audit_log(refusing, {.strict = true});
    DebugSessionReconciler reconciler = MakeReconciler(audit_log);
    ASSERT_TRUE(Settle(reconciler).ok());
    const api::DebugSession s = Session();
    ASSERT_EQ(s.status.phase, api::Phase::kCapturing);
    FinishSnapshotContainer(s.status.ephemeral_container, s.uid);
    const Status failed = Settle(reconciler);
    EXPECT_EQ(failed.code(), StatusCode::kUnavailable) << failed.ToString();
    EXPECT_EQ(Session().status.phase, api::Phase::kCapturing) << "not delivered on record";
    EXPECT_EQ(stream.Records().back().record.action, "collected");
  }
  clock_.Advance(2s);  // the restart
  audit::AuditLog restarted(stream, {.strict = true});
  DebugSessionReconciler reconciler = MakeReconciler(restarted);
  ASSERT_TRUE(Settle(reconciler).ok());
  const api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCompleted) << s.status.message;

  EXPECT_EQ(ActionsOf(stream),
            (std::vector<std::string>{"accepted", "authorized", "key-created", "injected",
                                      "collected", "collected", "delivered"}));
  // both records of the delivery, after the injection
  ExpectCommittedChain(stream, s, 6, 1);
}

// Both records of the expiry on the stream, then the status write fails and the controller
// restarts: both are written again from the persisted head, and the anchor picks the copies that
// count.
TEST_F(ReconcilerTest, ARestartAfterBothRecordsOfTheExpiryBeforeItsStatusLeavesAVerifiableChain) {
  audit::FakeAuditSink stream;
  {
    audit::AuditLog audit_log(stream);
    DebugSessionReconciler reconciler = MakeReconciler(audit_log);
    ASSERT_TRUE(Settle(reconciler).ok());
    const api::DebugSession s = Session();
    FinishSnapshotContainer(s.status.ephemeral_container, s.uid);
    ASSERT_TRUE(Settle(reconciler).ok());
    ASSERT_EQ(Session().status.phase, api::Phase::kCompleted);
    clock_.Advance(6min);
    client_.FailNext(kube::FakeMethod::kUpdate, kube::ApiError(500, "InternalError"));
    EXPECT_FALSE(reconciler.Reconcile(kSessionKey).ok());
    EXPECT_EQ(Session().status.phase, api::Phase::kCompleted);
    ASSERT_GE(stream.Records().size(), 2u);
    EXPECT_EQ(stream.Records()[stream.Records().size() - 2].record.action, "expired");
  }
  clock_.Advance(2s);  // the restart
  audit::AuditLog restarted(stream);
  DebugSessionReconciler reconciler = MakeReconciler(restarted);
  ASSERT_TRUE(Settle(reconciler).ok());
  const api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kExpired) << s.status.message;

  EXPECT_EQ(ActionsOf(stream), (std::vector<std::string>{"accepted", "authorized", "key-created",
                                                         "injected", "collected", "delivered",
                                                         "expired", "wiped", "expired", "wiped"}));
  ExpectCommittedChain(stream, s, 8, 2);
}

// The same failures retried by the same controller, without a restart: the retry starts from the
// head the status saved, so the failed attempt's records are a superseded branch, not a second
// copy of the step further along the chain.
TEST_F(ReconcilerTest, ARetryAfterARefusedSecondRecordStartsFromTheSavedHead) {
  audit::FakeAuditSink stream;
  RefusesOnceSink refusing(stream, "delivered");
  audit::AuditLog audit_log(refusing, {.strict = true});
  DebugSessionReconciler reconciler = MakeReconciler(audit_log);
  ASSERT_TRUE(Settle(reconciler).ok());
  FinishSnapshotContainer(Session().status.ephemeral_container, Session().uid);
  EXPECT_EQ(Settle(reconciler).code(), StatusCode::kUnavailable);
  clock_.Advance(2s);
  ASSERT_TRUE(Settle(reconciler).ok());
  const api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCompleted) << s.status.message;

  EXPECT_EQ(ActionsOf(stream),
            (std::vector<std::string>{"accepted", "authorized", "key-created", "injected",
                                      "collected", "collected", "delivered"}));
  // the refused attempt is not on the chain
  ExpectCommittedChain(stream, s, 6, 1);
}

TEST_F(ReconcilerTest, ARetryAfterAFailedStatusWriteOfTheExpiryStartsFromTheSavedHead) {
  audit::FakeAuditSink stream;
  audit::AuditLog audit_log(stream);
  DebugSessionReconciler reconciler = MakeReconciler(audit_log);
  ASSERT_TRUE(Settle(reconciler).ok());
  FinishSnapshotContainer(Session().status.ephemeral_container, Session().uid);
  ASSERT_TRUE(Settle(reconciler).ok());
  clock_.Advance(6min);
  client_.FailNext(kube::FakeMethod::kUpdate, kube::ApiError(500, "InternalError"));
  EXPECT_FALSE(reconciler.Reconcile(kSessionKey).ok());
  clock_.Advance(2s);
  ASSERT_TRUE(Settle(reconciler).ok());
  const api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kExpired) << s.status.message;

  // one expired and one wiped on the chain
  ExpectCommittedChain(stream, s, 8, 2);
}

TEST_F(ReconcilerTest, StrictAuditStartsNoSessionWhileTheSinkFails) {
  audit::FakeAuditSink sink;
  sink.FailWith(UnavailableError("stdout closed"));
  audit::AuditLog audit_log(sink, {.strict = true});
  DebugSessionReconciler reconciler = MakeReconciler(audit_log);

  Status settled = Settle(reconciler);
  EXPECT_EQ(settled.code(), StatusCode::kUnavailable) << settled.ToString();
  const api::DebugSession s = Session();
  EXPECT_FALSE(s.status.phase.has_value()) << "no step counts without its audit record";
  EXPECT_FALSE(client_
                   .GetObject(kube::SecretsResource(),
                              {kControllerNamespace, session::SessionKeySecretNameFor(s.uid)})
                   .has_value());
  EXPECT_FALSE(
      client_.GetObject(kube::PodsResource(), kPodKey)->at("spec").contains("ephemeralContainers"));
}

TEST_F(ReconcilerTest, ADeniedSessionIsRecordedAndInjectsNothing) {
  allow_ = false;
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);

  ASSERT_TRUE(Settle(reconciler).ok());
  const api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kDenied);
  EXPECT_NE(s.status.message.find("alice may not"), std::string::npos) << s.status.message;
  EXPECT_FALSE(
      client_.GetObject(kube::PodsResource(), kPodKey)->at("spec").contains("ephemeralContainers"));
  const auto records = sink_.Records();
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[1].record.action, "denied");
  std::vector<std::string> events;
  for (const session::StepRecord& step : steps_) {
    if (ReportsAsEvent(step)) {
      events.push_back(std::string(session::ActionName(step.action)) + " " + step.outcome);
    }
  }
  EXPECT_EQ(events, (std::vector<std::string>{"Authorize Forbidden", "Deny Forbidden"}))
      << "a refusal is always an Event";
  EXPECT_EQ(s.status.audit->head, records.back().hash);
}

// --- Pods that share namespaces (H2) and allowEnv that could reveal a Secret (M2) -------------

// Makes the target pod hostPID, with the container ID the kubelet reports, and answers every
// review with `allow_host` for debugprofiles/host (true otherwise).
void MakeHostPidTarget(kube::FakeKubeClient& client, bool allow_host) {
  json pod = *client.GetObject(kube::PodsResource(), kPodKey);
  pod["spec"]["hostPID"] = true;
  pod["status"]["containerStatuses"][0]["containerID"] = "containerd://" + std::string(64, 'c');
  client.PutObject(kube::PodsResource(), pod);
  client.SetCreateAnswer("subjectaccessreviews", [allow_host](const json& review) {
    json answer = review;
    const bool host = review["spec"]["resourceAttributes"].value("name", "") == "host";
    answer["status"] = {{"allowed", !host || allow_host}};
    return answer;
  });
}

DebugSessionReconciler ReconcilerTest::HostPidReconciler(bool grant_host, bool allow_policy) {
  MakeHostPidTarget(client_, grant_host);
  return MakeReconciler(audit_log_, [allow_policy](ReconcilerOptions& options) {
    options.policy.allow_host_namespaces = allow_policy;
  });
}

// Settles the session over a hostPID target (HostPidReconciler).
Status ReconcilerTest::SettleHostPidSession(bool grant_host, bool allow_policy) {
  DebugSessionReconciler reconciler = HostPidReconciler(grant_host, allow_policy);
  return Settle(reconciler);
}

TEST_F(ReconcilerTest, AHostPidSessionIsDeniedByTheDefaultPolicyAndNothingIsInjected) {
  ASSERT_TRUE(SettleHostPidSession(/*grant_host=*/true, /*allow_policy=*/false).ok());
  const api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kDenied);
  ASSERT_NE(s.status.FindCondition("Authorized"), nullptr);
  EXPECT_EQ(s.status.FindCondition("Authorized")->reason, "HostNamespacesNotAllowed");
  EXPECT_NE(s.status.message.find("uses hostPID"), std::string::npos) << s.status.message;
  EXPECT_FALSE(Injected());
}

TEST_F(ReconcilerTest, AHostPidSessionUnderTheAllowPolicyNeedsTheHostGrant) {
  ASSERT_TRUE(SettleHostPidSession(/*grant_host=*/false, /*allow_policy=*/true).ok());
  const api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kDenied);
  EXPECT_NE(s.status.message.find("alice may not use debugprofiles/host"), std::string::npos)
      << s.status.message;
  EXPECT_FALSE(Injected());
}

TEST_F(ReconcilerTest, AnAllowedAndGrantedHostPidSessionCapturesOnlyTheTargetContainer) {
  DebugSessionReconciler reconciler = HostPidReconciler(/*grant_host=*/true, /*allow_policy=*/true);
  ASSERT_TRUE(reconciler.Reconcile(kSessionKey).ok());
  ASSERT_EQ(Session().status.phase, api::Phase::kCapturing) << Session().status.message;
  const json pod = *client_.GetObject(kube::PodsResource(), kPodKey);
  const std::string args = pod["spec"]["ephemeralContainers"][0]["args"].dump();
  EXPECT_NE(args.find("\"--container-id\",\"" + std::string(64, 'c') + "\""), std::string::npos)
      << args;
  EXPECT_NE(args.find("\"--host-namespaces\",\"allow\""), std::string::npos) << args;
}

TEST_F(ReconcilerTest, AllowEnvEntriesThatCouldRevealASecretAreLeftOutAndNamed) {
  json session = *client_.GetObject(kube::DebugSessionsResource(), kSessionKey);
  session["spec"]["redaction"] = {{"allowEnv", {"LOG_LEVEL", "DB_PASSWORD"}}};
  client_.PutObject(kube::DebugSessionsResource(), session);
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  ASSERT_TRUE(reconciler.Reconcile(kSessionKey).ok());
  const api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCapturing) << s.status.message;
  const json pod = *client_.GetObject(kube::PodsResource(), kPodKey);
  const std::string args = pod["spec"]["ephemeralContainers"][0]["args"].dump();
  EXPECT_NE(args.find("\"--allow-env\",\"LOG_LEVEL\""), std::string::npos) << args;
  EXPECT_EQ(args.find("\"--allow-env\",\"DB_PASSWORD\""), std::string::npos) << args;
  ASSERT_NE(s.status.FindCondition("Injected"), nullptr);
  EXPECT_NE(s.status.FindCondition("Injected")->message.find("DB_PASSWORD is filled from a Secret"),
            std::string::npos)
      << s.status.FindCondition("Injected")->message;
  bool recorded = false;
  for (const auto& r : sink_.Records()) {
    recorded =
        recorded || (r.record.action == "injected" &&
                     r.record.message.find("allowEnv entries not honoured") != std::string::npos);
  }
  EXPECT_TRUE(recorded) << "the injected audit record names the refused entries";
}

// --- Bad snapshot tool output --------------------------------------------------------------
//
// Whatever the container's log holds, a session whose snapshot cannot be used ends Failed with a
// message that says why (a corrupt snapshot never gets better, so it is not retried), stores no
// DebugSnapshot, shows no plaintext in its status, audit trail or step reports, and its key is
// shredded.

constexpr std::int64_t kSmallLogCap = 4096;
constexpr std::int64_t kSmallPlaintextCap = 1024;

struct BadSnapshotCase {
  std::string name;
  // The container's log, given the session key's recipient.
  std::function<StatusOr<std::string>(const std::string& recipient)> log;
  std::string expected_message;  // a part of the session's status.message
  std::optional<std::int64_t> max_log_bytes;
  std::optional<std::int64_t> max_plaintext_bytes;
};

StatusOr<std::string> SealedSnapshot(const std::string& recipient, std::size_t padding = 0) {
  return envelope::Seal(SnapshotDocument(padding).dump(), {recipient});
}

// Flips one bit of the byte `from_end` bytes before the end of the binary age file inside the
// armor (the payload's last chunk, its ciphertext or tag).
StatusOr<std::string> FlipCiphertextByte(const std::string& armored, std::size_t from_end) {
  auto binary = envelope::Dearmor(armored);
  if (!binary.ok()) return binary.status();
  if (binary->size() <= from_end) return InternalError("age file too short to tamper with");
  (*binary)[binary->size() - 1 - from_end] ^= 0x01;
  return envelope::Armor(*binary);
}

std::vector<BadSnapshotCase> BadSnapshotCases() {
  return {
      {"TruncatedMidArmorLine",
       [](const std::string& r) -> StatusOr<std::string> {
         auto sealed = SealedSnapshot(r);
         if (!sealed.ok()) return sealed;
         return sealed->substr(0, sealed->size() / 2);
       },
       "armor: missing END line (truncated)", std::nullopt, std::nullopt},
      {"TruncatedAtALineEnd",
       [](const std::string& r) -> StatusOr<std::string> {
         auto sealed = SealedSnapshot(r);
         if (!sealed.ok()) return sealed;
         return sealed->substr(0, sealed->find('\n', sealed->size() / 2) + 1);
       },
       "armor: missing END line (truncated)", std::nullopt, std::nullopt},
      {"OnlyTheBeginLine",
       [](const std::string&) -> StatusOr<std::string> {
         return std::string(envelope::kArmorBegin) + "\n";
       },
       "armor: malformed BEGIN line or truncated", std::nullopt, std::nullopt},
      {"EmptyLog", [](const std::string&) -> StatusOr<std::string> { return std::string(); },
       "not an age file", std::nullopt, std::nullopt},
      {"TextInsteadOfCiphertext",
       [](const std::string&) -> StatusOr<std::string> {
         return std::string("error: cannot read /proc/1/status\n");
       },
       "not an age file", std::nullopt, std::nullopt},
      {"TextAfterTheArmor",
       [](const std::string& r) -> StatusOr<std::string> {
         auto sealed = SealedSnapshot(r);
         if (!sealed.ok()) return sealed;
         return *sealed + "warning: stacks degraded\n";
       },
       "armor: text after the END line", std::nullopt, std::nullopt},
      {"LogLargerThanTheCap",
       [](const std::string& r) { return SealedSnapshot(r, 4 * kSmallLogCap); },
       "the snapshot container's log reached the controller's cap of 4096 bytes", kSmallLogCap,
       std::nullopt},
      {"PlaintextLargerThanTheCap",
       [](const std::string& r) { return SealedSnapshot(r, 4 * kSmallPlaintextCap); },
       "decompressed size exceeds the cap of 1024 bytes", std::nullopt, kSmallPlaintextCap},
      {"OneCiphertextByteFlipped",
       [](const std::string& r) -> StatusOr<std::string> {
         auto sealed = SealedSnapshot(r);
         if (!sealed.ok()) return sealed;
         return FlipCiphertextByte(*sealed, 20);
       },
       "age payload chunk 0 failed authentication (truncated or modified)", std::nullopt,
       std::nullopt},
      {"OneTagByteFlipped",
       [](const std::string& r) -> StatusOr<std::string> {
         auto sealed = SealedSnapshot(r);
         if (!sealed.ok()) return sealed;
         return FlipCiphertextByte(*sealed, 0);
       },
       "age payload chunk 0 failed authentication (truncated or modified)", std::nullopt,
       std::nullopt},
      {"EncryptedToAnotherKey",
       [](const std::string&) -> StatusOr<std::string> {
         auto other = envelope::GenerateIdentity();
         if (!other.ok()) return other.status();
         return SealedSnapshot(other->recipient);
       },
       "no identity matched", std::nullopt, std::nullopt},
      {"NotJson",
       [](const std::string& r) {
         return envelope::Seal(std::string("process 1 ") + kPlaintextMarker, {r});
       },
       "the snapshot container's output is not a valid snapshot: it is not JSON", std::nullopt,
       std::nullopt},
      {"JsonButNotAnObject",
       [](const std::string& r) {
         return envelope::Seal(json::array({kPlaintextMarker}).dump(), {r});
       },
       "the snapshot container's output is not a valid snapshot: it is not a JSON object",
       std::nullopt, std::nullopt},
      {"AnotherDocumentFormat",
       [](const std::string& r) {
         json doc = SnapshotDocument();
         doc["apiVersion"] = "ephemera.dev/snapshot/v0";
         return envelope::Seal(doc.dump(), {r});
       },
       "field 'apiVersion' is not ephemera.dev/snapshot/v1", std::nullopt, std::nullopt},
      // H3: hostile documents, encrypted to the session's (public) recipient by whatever took the
      // tool over. Before, the first three crashed the controller (nlohmann's value() threw on a
      // wrong type; copying deep nesting overflowed the stack) and the others were used as valid.
      {"ApiVersionNotAString",
       [](const std::string& r) { return envelope::Seal(R"({"apiVersion":1})", {r}); },
       "the snapshot container's output is not a valid snapshot: field 'apiVersion' is not a "
       "string",
       std::nullopt, std::nullopt},
      {"NestedDeeplyUnderTargets",
       [](const std::string& r) {
         return envelope::Seal(R"({"apiVersion":"ephemera.dev/snapshot/v1","targets":)" +
                                   std::string(200000, '[') + std::string(200000, ']') + "}",
                               {r});
       },
       "the snapshot container's output is not a valid snapshot: it nests deeper than 128 levels",
       std::nullopt, std::nullopt},
      {"DegradedSectionNotAString",
       [](const std::string& r) {
         json doc = SnapshotDocument();
         doc["degraded"] = {{{"section", 7}, {"reason", "x"}}};
         return envelope::Seal(doc.dump(), {r});
       },
       "field 'degraded[0].section' is not a string", std::nullopt, std::nullopt},
      {"DegradedReasonNotAString",
       [](const std::string& r) {
         json doc = SnapshotDocument();
         doc["degraded"] = {{{"section", "stacks"}, {"reason", {{"text", kPlaintextMarker}}}}};
         return envelope::Seal(doc.dump(), {r});
       },
       "field 'degraded[0].reason' is not a string", std::nullopt, std::nullopt},
      {"PidsNotAnArray",
       [](const std::string& r) {
         json doc = SnapshotDocument();
         doc["targets"]["pids"] = "1 7";
         return envelope::Seal(doc.dump(), {r});
       },
       "field 'targets.pids' is not an array", std::nullopt, std::nullopt},
      {"OverheadNotAnInteger",
       [](const std::string& r) {
         json doc = SnapshotDocument();
         doc["overhead"]["wallMillis"] = 1e300;
         return envelope::Seal(doc.dump(), {r});
       },
       "field 'overhead.wallMillis' is not an integer", std::nullopt, std::nullopt},
      {"GarbagePlaintext",
       [](const std::string& r) {
         std::string garbage;
         std::mt19937 random(11);
         for (int i = 0; i < 4096; ++i) garbage += static_cast<char>(random() % 256);
         return envelope::Seal(garbage, {r});
       },
       "the snapshot container's output is not a valid snapshot: it is not JSON", std::nullopt,
       std::nullopt},
      // A 50 MiB line, not encrypted: read up to the default 2 MiB cap only.
      {"FiftyMiBLine",
       [](const std::string&) -> StatusOr<std::string> {
         return std::string(std::size_t{50} << 20, 'A');
       },
       "the snapshot container's log reached the controller's cap of 2097152 bytes", std::nullopt,
       std::nullopt},
  };
}

// gtest prints a row by its name.
void PrintTo(const BadSnapshotCase& row, std::ostream* os) { *os << row.name; }

class BadSnapshotTest : public ReconcilerTest,
                        public ::testing::WithParamInterface<BadSnapshotCase> {};

TEST_P(BadSnapshotTest, FailsTheSessionOnceStoresNothingAndLeaksNoPlaintext) {
  const BadSnapshotCase& c = GetParam();
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_, [&c](ReconcilerOptions& o) {
    if (c.max_log_bytes) o.policy.max_snapshot_log_bytes = *c.max_log_bytes;
    if (c.max_plaintext_bytes) o.max_snapshot_plaintext_bytes = *c.max_plaintext_bytes;
  });
  ASSERT_TRUE(Settle(reconciler).ok());
  api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCapturing) << s.status.message;
  const kube::ObjectKey secret_key{kControllerNamespace, session::SessionKeySecretNameFor(s.uid)};

  auto log = c.log(SessionRecipient(s.uid));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  FinishSnapshotContainerWithLog(s.status.ephemeral_container, *log);
  ASSERT_TRUE(Settle(reconciler).ok());

  s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kFailed) << s.status.message;
  EXPECT_NE(s.status.message.find("the snapshot could not be used"), std::string::npos)
      << s.status.message;
  EXPECT_NE(s.status.message.find(c.expected_message), std::string::npos) << s.status.message;
  const api::Condition* captured = s.status.FindCondition("Captured");
  ASSERT_NE(captured, nullptr);
  EXPECT_EQ(captured->status, "False");
  EXPECT_EQ(captured->reason, "SnapshotInvalid");
  EXPECT_FALSE(client_.GetObject(kube::DebugSnapshotsResource(), kSessionKey).has_value());
  EXPECT_FALSE(s.status.snapshot.has_value());
  EXPECT_FALSE(client_.GetObject(kube::SecretsResource(), secret_key).has_value())
      << "nothing will open this log again: its key is shredded at once";

  // Terminal: later reconciles wait for the TTL; the log is not read again.
  auto again = reconciler.Reconcile(kSessionKey);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->steps, 0);
  ASSERT_TRUE(again->requeue_after.has_value());
  EXPECT_GE(*again->requeue_after, std::chrono::milliseconds(4min));
  EXPECT_EQ(client_.CallCount(kube::FakeMethod::kGetPodLog), 1);

  clock_.Advance(6min);
  ASSERT_TRUE(Settle(reconciler).ok());
  s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kExpired) << s.status.message;
  EXPECT_FALSE(client_.GetObject(kube::SecretsResource(), secret_key).has_value());
  EXPECT_FALSE(client_.GetObject(kube::DebugSnapshotsResource(), kSessionKey).has_value());

  // The failure is on the record, and no plaintext or key is anywhere the world can see.
  std::vector<std::string> actions;
  std::string audit_text;
  for (const auto& r : sink_.Records()) {
    actions.push_back(r.record.action);
    audit_text += audit::ToJson(r).dump() + "\n";
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"accepted", "authorized", "key-created", "injected",
                                               "collection-failed", "expired", "wiped"}));
  std::string step_text;
  for (const session::StepRecord& step : steps_) {
    step_text += step.outcome + " " + step.message + "\n";
  }
  const std::string status_text =
      client_.GetObject(kube::DebugSessionsResource(), kSessionKey)->dump();
  for (const std::string& text : {audit_text, step_text, status_text}) {
    EXPECT_EQ(text.find(kPlaintextMarker), std::string::npos) << text;
    EXPECT_EQ(text.find("AGE-SECRET-KEY-"), std::string::npos) << text;
  }
  EXPECT_NE(step_text.find("SnapshotInvalid"), std::string::npos) << step_text;
}

INSTANTIATE_TEST_SUITE_P(BadSnapshots, BadSnapshotTest, ::testing::ValuesIn(BadSnapshotCases()),
                         [](const ::testing::TestParamInfo<BadSnapshotCase>& row) {
                           return row.param.name;
                         });

// --- Containers Ephemera did not add (L5) ---------------------------------------------------
//
// The session's container name is public (a hash of the session's UID). Anyone allowed to add
// ephemeral containers to the pod can add one with that name first, or in a pod recreated under
// the same name. Such a container is never taken for the session's: only a container whose mark
// verifies for this pod's UID and this name is.

// The pod gets `container` (as an attacker adds it), terminated with exit code 0 and `log`.
void AddForeignContainer(kube::FakeKubeClient& client, const json& container,
                         const std::string& log) {
  json pod = *client.GetObject(kube::PodsResource(), kPodKey);
  pod["spec"]["ephemeralContainers"] = json::array({container});
  pod["status"]["ephemeralContainerStatuses"] = {
      {{"name", container["name"]}, {"state", {{"terminated", {{"exitCode", 0}}}}}}};
  client.PutObject(kube::PodsResource(), pod);
  client.SetPodLog(kPodKey, container["name"], log);
}

// A session that failed because of a foreign container: once, with a clear reason, nothing read
// from that container, nothing delivered.
void ExpectFailedOnAForeignContainer(kube::FakeKubeClient& client, const api::DebugSession& s,
                                     const std::string& says) {
  EXPECT_EQ(s.status.phase, api::Phase::kFailed) << s.status.message;
  EXPECT_NE(s.status.message.find(says + " an ephemeral container named " +
                                  session::EphemeralContainerNameFor(s.uid) +
                                  " that Ephemera did not add"),
            std::string::npos)
      << s.status.message;
  bool found = false;
  for (const auto& c : s.status.conditions) found |= c.reason == "ForeignSnapshotContainer";
  EXPECT_TRUE(found) << "the condition names the reason";
  EXPECT_EQ(client.CallCount(kube::FakeMethod::kGetPodLog), 0) << "its output is never read";
  EXPECT_FALSE(client.GetObject(kube::DebugSnapshotsResource(), kSessionKey).has_value());
}

TEST_F(ReconcilerTest, AContainerPreCreatedWithTheSessionsNameFailsTheSession) {
  const api::DebugSession created = Session();
  const std::string name = session::EphemeralContainerNameFor(created.uid);
  AddForeignContainer(client_, {{"name", name}, {"image", "busybox"}}, "anything");
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  ASSERT_TRUE(Settle(reconciler).ok());

  const api::DebugSession s = Session();
  ExpectFailedOnAForeignContainer(client_, s, "pod shop-1 already has");
  EXPECT_EQ(
      client_.GetObject(kube::PodsResource(), kPodKey)->at("spec")["ephemeralContainers"].size(),
      1u)
      << "nothing injected beside it";
  EXPECT_FALSE(client_
                   .GetObject(kube::SecretsResource(),
                              {kControllerNamespace, session::SessionKeySecretNameFor(s.uid)})
                   .has_value())
      << "no key made for a session that cannot run";
  EXPECT_EQ(ActionsOf(sink_).back(), "failed");
}

// A mark is bound to its pod's UID: one copied from another pod (or an earlier pod of the same
// name) does not verify.
TEST_F(ReconcilerTest, AMarkCopiedFromAnotherPodDoesNotMakeAContainerEphemeras) {
  const std::string name = session::EphemeralContainerNameFor(Session().uid);
  json container = {{"name", name}, {"image", "busybox"}};
  detection::AddMark(container, kMarkKey, "uid-of-another-pod");
  AddForeignContainer(client_, container, "anything");
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  ASSERT_TRUE(Settle(reconciler).ok());
  ExpectFailedOnAForeignContainer(client_, Session(), "pod shop-1 already has");
}

// The pod is recreated during the capture, under the same name, with a container that has the
// session's name, the mark copied from the first pod, and a well-formed snapshot encrypted to the
// session's public recipient. Before, the controller delivered it as the requester's snapshot.
TEST_F(ReconcilerTest, AContainerInARecreatedPodIsNotCollected) {
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);
  ASSERT_TRUE(Settle(reconciler).ok());
  api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCapturing) << s.status.message;
  json injected =
      client_.GetObject(kube::PodsResource(), kPodKey)->at("spec")["ephemeralContainers"][0];

  json pod = session::testing::PodObject();
  pod["metadata"]["uid"] = "pod-uid-2";
  client_.PutObject(kube::PodsResource(), pod);
  auto forged = SealedSnapshot(SessionRecipient(s.uid));
  ASSERT_TRUE(forged.ok()) << forged.status().ToString();
  AddForeignContainer(client_, injected, *forged);
  ASSERT_TRUE(Settle(reconciler).ok());

  s = Session();
  ExpectFailedOnAForeignContainer(client_, s, "pod shop-1 has");
  EXPECT_EQ(ActionsOf(sink_).back(), "failed");
}

// --- The exception boundary (H3) ------------------------------------------------------------

// Anything that throws during a reconcile fails that reconcile (kInternal, retried like any error)
// instead of ending the process; the retry continues the session's audit chain from its saved head.
TEST_F(ReconcilerTest, AnExceptionFailsTheReconcileInsteadOfTheController) {
  int throws = 2;
  client_.SetCreateAnswer("subjectaccessreviews", [&throws](const json& review) -> json {
    if (throws == 2) {
      --throws;
      throw std::runtime_error("the review answer exploded");
    }
    if (throws == 1) {
      --throws;
      return json(5).at("status");  // nlohmann type_error: its text is not passed on
    }
    json answer = review;
    answer["status"] = {{"allowed", true}};
    return answer;
  });
  DebugSessionReconciler reconciler = MakeReconciler(audit_log_);

  StatusOr<ReconcileResult> first = InternalError("not run");
  EXPECT_NO_THROW(first = reconciler.Reconcile(kSessionKey));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kInternal);
  EXPECT_NE(first.status().message().find(
                "reconciling DebugSession team-a/checkout-500s threw the review answer exploded"),
            std::string::npos)
      << first.status().message();

  StatusOr<ReconcileResult> second = InternalError("not run");
  EXPECT_NO_THROW(second = reconciler.Reconcile(kSessionKey));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("threw a JSON error (nlohmann id 304)"),
            std::string::npos)
      << second.status().message();

  ASSERT_TRUE(Settle(reconciler).ok());
  const api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kCapturing) << s.status.message;
  const audit::VerifyReport report = VerifyAgainstStatus(sink_, s);
  EXPECT_TRUE(report.Verified()) << audit::FormatVerifyReport(report);
}

}  // namespace
}  // namespace ephemera::reconciler
