#include "controller/app/unsanctioned.h"

#include <gtest/gtest.h>

#include "tests/controller/app/app_fixture.h"

namespace ephemera::app {
namespace {

detection::UnsanctionedContainer Debugger() {
  return {.namespace_name = "team-a",
          .pod = "shop-1",
          .pod_uid = "uid-1",
          .container = "debugger-x7k",
          .image = "busybox:1.36",
          .running = true};
}

TEST(UnsanctionedTest, RecordOfAWatchSighting) {
  const audit::AuditRecord record =
      BuildUnsanctionedRecord(Debugger(), {.source = "watch", .decision = "allowed"});
  EXPECT_EQ(record.action, "unsanctioned-container-seen");
  EXPECT_EQ(record.outcome, "Allowed");
  EXPECT_EQ(record.requester, "");
  EXPECT_EQ(record.target, "team-a/shop-1/debugger-x7k");
  EXPECT_EQ(record.message,
            "ephemeral container debugger-x7k (image busybox:1.36) was not added by Ephemera; "
            "seen by watch");
  EXPECT_EQ(record.details,
            (nlohmann::json{{"image", "busybox:1.36"}, {"podUid", "uid-1"}, {"running", true}}));
  EXPECT_EQ(record.chain, "") << "the replica's chain is filled in when appended";
}

TEST(UnsanctionedTest, RecordOfADeniedAdmissionNamesTheUserAndTheCaller) {
  const admission::AdmissionCaller apiserver{.verified = true, .common_name = "kube-apiserver"};
  const audit::AuditRecord record = BuildUnsanctionedRecord(
      Debugger(),
      {.source = "admission", .decision = "denied", .username = "mallory", .caller = &apiserver});
  EXPECT_EQ(record.action, "unsanctioned-container-seen");
  EXPECT_EQ(record.outcome, "Denied");
  EXPECT_EQ(record.requester, "mallory");
  EXPECT_EQ(record.details["caller"], "apiserver");
  EXPECT_EQ(record.details["callerName"], "kube-apiserver");
}

TEST(UnsanctionedTest, RecordFromAnUnverifiedCallerIsMarked) {
  const admission::AdmissionCaller anyone{};
  const audit::AuditRecord record = BuildUnsanctionedRecord(
      Debugger(), {.source = "admission-unverified", .decision = "allowed", .caller = &anyone});
  EXPECT_EQ(record.action, "unsanctioned-container-seen-unverified");
  EXPECT_EQ(record.details["caller"], "unverified");
}

TEST(UnsanctionedTest, EventIsAWarningOnThePod) {
  kube::EventRecord event = BuildUnsanctionedEvent(Debugger());
  EXPECT_EQ(event.regarding.kind, "Pod");
  EXPECT_EQ(event.regarding.namespace_name, "team-a");
  EXPECT_EQ(event.regarding.name, "shop-1");
  EXPECT_EQ(event.regarding.uid, "uid-1");
  EXPECT_EQ(event.type, "Warning");
  EXPECT_EQ(event.reason, "UnsanctionedEphemeralContainer");
  EXPECT_EQ(event.action, "DetectEphemeralContainer");
  EXPECT_EQ(event.note,
            "Ephemeral container debugger-x7k (image busybox:1.36) was not added by Ephemera");
  // What the EventRecorder fills in; then the API would take it.
  event.reporting_controller = "ephemera.dev/ephemera-controller";
  event.reporting_instance = "replica-1";
  const auto object = kube::BuildEventObject(event, {});
  EXPECT_TRUE(object.ok()) << object.status().ToString();
}

TEST(UnsanctionedReporterTest, AWatchSightingIsCountedAuditedLoggedAndAnEvent) {
  AppFixture app;
  app.unsanctioned.ReportFromWatch(Debugger());

  EXPECT_EQ(app.Unsanctioned("watch", "allowed"), 1);
  const auto records = app.sink.Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].record.action, "unsanctioned-container-seen");
  EXPECT_EQ(records[0].record.chain, app.replica.Chain());
  EXPECT_EQ(app.events.Stats().queued, 1u);
  EXPECT_NE(app.logs.str().find("\"msg\":\"Unsanctioned ephemeral container\""), std::string::npos)
      << app.logs.str();
  EXPECT_NE(app.logs.str().find("\"source\":\"watch\""), std::string::npos) << app.logs.str();
}

TEST(UnsanctionedReporterTest, AnAdmissionSightingSendsNoEvent) {
  AppFixture app;
  const admission::AdmissionCaller apiserver{.verified = true, .common_name = "kube-apiserver"};
  app.unsanctioned.Report(
      Debugger(),
      {.source = "admission", .decision = "denied", .username = "mallory", .caller = &apiserver});

  EXPECT_EQ(app.Unsanctioned("admission", "denied"), 1);
  EXPECT_EQ(app.Unsanctioned("watch", "allowed"), 0);
  ASSERT_EQ(app.sink.Records().size(), 1u);
  EXPECT_EQ(app.sink.Records()[0].record.outcome, "Denied");
  EXPECT_EQ(app.events.Stats().queued, 0u) << "kubectl already told the user";
}

TEST(UnsanctionedReporterTest, DetectionGoesOnWhenTheRecordIsLost) {
  AppFixture app(/*strict_audit=*/true);
  app.sink.FailWith(UnavailableError("stdout closed"));
  app.unsanctioned.ReportFromWatch(Debugger());

  EXPECT_EQ(app.Unsanctioned("watch", "allowed"), 1);
  EXPECT_EQ(app.events.Stats().queued, 1u);
  EXPECT_NE(app.logs.str().find("Cannot write an audit record"), std::string::npos);
}

}  // namespace
}  // namespace ephemera::app
