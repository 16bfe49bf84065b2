#include "controller/admission/admission_audit.h"

#include <gtest/gtest.h>

#include <string>

#include "audit/audit_log.h"
#include "controller/admission/admission_review.h"
#include "controller/admission/debug_session_admission.h"
#include "tests/audit/fake_audit_sink.h"

namespace ephemera::admission {
namespace {

using nlohmann::json;

constexpr char kRecipient[] = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

// A CREATE as the validating webhook sees it for `kubectl create` with generateName: request.name
// is empty, the object already has the generated name and its uid.
json GenerateNameCreate() {
  return {
      {"apiVersion", "admission.k8s.io/v1"},
      {"kind", "AdmissionReview"},
      {"request",
       {{"uid", "req-7"},
        {"operation", "CREATE"},
        {"name", ""},
        {"namespace", "team-a"},
        {"dryRun", false},
        {"userInfo", {{"username", "alice"}, {"uid", "u-1"}, {"groups", {"devs"}}}},
        {"object",
         {{"metadata",
           {{"generateName", "checkout-"},
            {"name", "checkout-x7k2p"},
            {"namespace", "team-a"},
            {"uid", "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc"}}},
          {"spec",
           {{"target", {{"pod", "shop-1"}, {"container", "app"}}},
            {"reason", "INC-1 checkout 500s"},
            {"ttl", "5m"},
            {"recipients", {kRecipient}},
            // as Ephemera's mutating webhook stamped it
            {"requestedBy", {{"username", "alice"}, {"uid", "u-1"}, {"groups", {"devs"}}}}}}}}}}};
}

// What main does for the validating webhook: decide, offer the record to the audit log, answer.
json ValidateAndRecord(const json& review, audit::AuditLog& audit_log) {
  json answer = ValidateDebugSession(review, session::Policy{});
  audit::AuditRecord record = BuildAdmissionRecord(review, answer);
  record.chain = audit::ControllerChain("replica-1");
  auto head = audit_log.Append(record);
  return ApplyStrictAudit(review, std::move(answer), head.status(), audit_log.IsStrict());
}

TEST(AdmissionAuditTest, NamesTheSessionFromTheObjectForAGenerateNameCreate) {
  const json review = GenerateNameCreate();
  const json answer = ValidateDebugSession(review, session::Policy{});
  ASSERT_EQ(answer["response"]["allowed"], true) << answer.dump();

  const audit::AuditRecord record = BuildAdmissionRecord(review, answer);
  EXPECT_EQ(record.session, "team-a/checkout-x7k2p");
  EXPECT_EQ(record.details.value("sessionUid", ""), "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc");
  EXPECT_FALSE(record.details.contains("generateName")) << "the name is known";
  EXPECT_EQ(record.requester, "alice");
  EXPECT_EQ(record.reason, "INC-1 checkout 500s");
  EXPECT_EQ(record.target, "team-a/shop-1/app");
  EXPECT_EQ(record.action, "admitted");
  EXPECT_EQ(record.outcome, "ok");
  EXPECT_EQ(record.details.dump().find(kRecipient), std::string::npos);
}

TEST(AdmissionAuditTest, ARecordFromAnUnverifiedCallerIsMarkedAsSuch) {
  // Any pod can POST an AdmissionReview to the webhook port: without the API server's client
  // certificate its record must not read as a real admission.
  const json review = GenerateNameCreate();
  const json answer = AdmissionResponse(review, true, "");
  audit::AuditRecord forged = BuildAdmissionRecord(review, answer);
  MarkCaller(forged, AdmissionCaller{});
  EXPECT_EQ(forged.action, "admitted-unverified");
  EXPECT_EQ(forged.details.value("caller", ""), "unverified");
  EXPECT_EQ(forged.message.rfind("unverified caller", 0), 0u) << forged.message;

  audit::AuditRecord real = BuildAdmissionRecord(review, answer);
  MarkCaller(real, AdmissionCaller{.verified = true, .common_name = "kube-apiserver-admission"});
  EXPECT_EQ(real.action, "admitted");
  EXPECT_EQ(real.details.value("caller", ""), "apiserver");
  EXPECT_EQ(real.details.value("callerName", ""), "kube-apiserver-admission");
}

// The mutating webhook runs before the name is generated: the record keeps the prefix it knows.
TEST(AdmissionAuditTest, KeepsTheGenerateNamePrefixWhenTheNameIsNotGeneratedYet) {
  json review = GenerateNameCreate();
  review["request"]["object"]["metadata"].erase("name");
  review["request"]["object"]["metadata"].erase("uid");
  const json answer = AdmissionResponse(review, false, "spec.requestedBy is set by Ephemera");

  const audit::AuditRecord record = BuildAdmissionRecord(review, answer);
  EXPECT_EQ(record.session, "team-a/");
  EXPECT_EQ(record.details.value("generateName", ""), "checkout-");
  EXPECT_FALSE(record.details.contains("sessionUid"));
  EXPECT_EQ(record.action, "denied");
  EXPECT_EQ(record.outcome, "AdmissionDenied");
  EXPECT_EQ(record.message, "spec.requestedBy is set by Ephemera");
}

TEST(AdmissionAuditTest, FallsBackToTheRequestNameWhenTheObjectHasNone) {
  json review = GenerateNameCreate();
  review["request"]["name"] = "named-by-client";
  review["request"]["object"]["metadata"] = json::object();
  const audit::AuditRecord record =
      BuildAdmissionRecord(review, ValidateDebugSession(review, session::Policy{}));
  EXPECT_EQ(record.session, "team-a/named-by-client");
}

TEST(AdmissionAuditTest, StrictAuditDeniesACreateItCannotRecord) {
  audit::FakeAuditSink sink;
  sink.FailWith(UnavailableError("stdout closed"));
  audit::AuditLog audit_log(sink, {.strict = true});

  const json answer = ValidateAndRecord(GenerateNameCreate(), audit_log);
  const json& response = answer["response"];
  EXPECT_EQ(response["allowed"], false);
  EXPECT_EQ(response["uid"], "req-7");
  EXPECT_EQ(response["status"]["code"], 403);
  EXPECT_EQ(response["status"]["message"], std::string(kAuditUnavailableMessage));
  EXPECT_TRUE(sink.Records().empty());
  EXPECT_EQ(sink.Attempts(), 1);

  // Once the sink takes records again, the same create is admitted and on record.
  sink.FailWith(OkStatus());
  const json again = ValidateAndRecord(GenerateNameCreate(), audit_log);
  EXPECT_EQ(again["response"]["allowed"], true);
  ASSERT_EQ(sink.Records().size(), 1u);
  EXPECT_EQ(sink.Records()[0].record.action, "admitted");
}

TEST(AdmissionAuditTest, WithoutStrictAuditAFailingSinkDoesNotDenyTheCreate) {
  audit::FakeAuditSink sink;
  sink.FailWith(UnavailableError("stdout closed"));
  audit::AuditLog audit_log(sink, {.strict = false});

  const json answer = ValidateAndRecord(GenerateNameCreate(), audit_log);
  EXPECT_EQ(answer["response"]["allowed"], true);
  EXPECT_EQ(audit_log.FailedWrites(), 1u) << "the record is lost, and counted";
  // Even a failed append (whatever its cause) does not deny without strict audit.
  const json kept = ApplyStrictAudit(GenerateNameCreate(), answer,
                                     UnavailableError("stdout closed"), /*strict_audit=*/false);
  EXPECT_EQ(kept, answer);
}

TEST(AdmissionAuditTest, StrictAuditKeepsADenialAndLeavesOtherOperationsAlone) {
  const Status lost = UnavailableError("stdout closed");
  json review = GenerateNameCreate();
  const json denial = AdmissionResponse(review, false, "spec.ttl: 2h exceeds the maximum");
  EXPECT_EQ(ApplyStrictAudit(review, denial, lost, true), denial) << "the reason that came first";

  review["request"]["operation"] = "UPDATE";
  const json allowed = AdmissionResponse(review, true);
  EXPECT_EQ(ApplyStrictAudit(review, allowed, lost, true), allowed) << "only creates are recorded";
}

// A dry run creates nothing: its record says so instead of "admitted", and under strict audit it
// gets the answer the real create would get.
TEST(AdmissionAuditTest, ADryRunIsRecordedAsADryRun) {
  json review = GenerateNameCreate();
  review["request"]["dryRun"] = true;
  ASSERT_TRUE(IsDryRun(review));
  const audit::AuditRecord admitted =
      BuildAdmissionRecord(review, ValidateDebugSession(review, session::Policy{}));
  EXPECT_EQ(admitted.action, "admitted-dry-run");
  EXPECT_EQ(admitted.outcome, "ok");
  EXPECT_EQ(admitted.details.value("dryRun", false), true);
  EXPECT_NE(admitted.message.find("dry run"), std::string::npos) << admitted.message;

  const audit::AuditRecord denied =
      BuildAdmissionRecord(review, AdmissionResponse(review, false, "spec.profile: not allowed"));
  EXPECT_EQ(denied.action, "denied-dry-run");
  EXPECT_EQ(denied.message, "spec.profile: not allowed");

  audit::FakeAuditSink sink;
  sink.FailWith(UnavailableError("stdout closed"));
  audit::AuditLog audit_log(sink, {.strict = true});
  EXPECT_EQ(ValidateAndRecord(review, audit_log)["response"]["allowed"], false);

  review["request"]["dryRun"] = false;
  EXPECT_FALSE(IsDryRun(review));
  EXPECT_EQ(BuildAdmissionRecord(review, AdmissionResponse(review, true)).action, "admitted");
}

}  // namespace
}  // namespace ephemera::admission
