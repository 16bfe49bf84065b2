#include "cli/commands/session_view.h"

#include <gtest/gtest.h>

#include "base/rfc3339.h"

namespace ephemera::commands {
namespace {

using command_line::ExitCode;
using nlohmann::json;

TimePoint T(const char* text) { return *base::ParseRfc3339(text); }

json Session(const std::string& phase) {
  return json::parse(R"({
    "metadata": {"name": "checkout-abcde", "namespace": "shop", "uid": "u-1",
                 "creationTimestamp": "2026-11-28T10:00:00Z"},
    "spec": {"target": {"pod": "checkout-7d9f", "container": "app"},
             "reason": "INC-1234 checkout returns 500", "ttl": "5m", "profile": "restricted",
             "requestedBy": {"username": "alice"}},
    "status": {"phase": ")" +
                     phase + R"(", "message": "Snapshot delivered",
               "expiresAt": "2026-11-28T10:05:00Z",
               "conditions": [{"type": "Authorized", "status": "True", "reason": "Allowed",
                               "message": "alice may get pods/checkout-7d9f"}],
               "snapshot": {"name": "checkout-abcde", "sha256": "ab12", "bytes": 4096},
               "audit": {"records": 5, "head": "sha256:ff00"}}})");
}

TEST(SessionViewTest, GenerateNameKeepsSessionNamesWithin63Characters) {
  EXPECT_EQ(GenerateNamePrefix("checkout-7d9f"), "checkout-7d9f-");
  const std::string long_pod(100, 'a');
  EXPECT_EQ(GenerateNamePrefix(long_pod).size() + 5, 63u);
  EXPECT_EQ(GenerateNamePrefix("abc-" + std::string(53, 'b') + "-.x"),
            "abc-" + std::string(53, 'b') + "-");
}

TEST(SessionViewTest, NewDebugSessionCarriesTheFlagsAndOnlyTheUsersRecipient) {
  command_line::SnapshotOptions options;
  options.pod = "checkout-7d9f";
  options.container = "app";
  options.reason = "INC-1234 checkout returns 500";
  options.ttl = "90s";
  options.capture = {"threads", "fds"};
  const json object = NewDebugSession(options, "shop", "age1xyz");
  EXPECT_EQ(object["metadata"]["generateName"], "checkout-7d9f-");
  EXPECT_FALSE(object["metadata"].contains("name"));
  EXPECT_EQ(object["metadata"]["namespace"], "shop");
  EXPECT_EQ(object["spec"]["target"], json::parse(R"({"pod":"checkout-7d9f","container":"app"})"));
  EXPECT_EQ(object["spec"]["ttl"], "90s");
  EXPECT_EQ(object["spec"]["recipients"], json::array({"age1xyz"}));
  EXPECT_EQ(object["spec"]["capture"], json::array({"threads", "fds"}));
  EXPECT_FALSE(object["spec"].contains("requestedBy"));
  options.name = "inc-1234";
  options.capture.clear();
  const json named = NewDebugSession(options, "shop", "age1xyz");
  EXPECT_EQ(named["metadata"]["name"], "inc-1234");
  EXPECT_FALSE(named["spec"].contains("capture"));
  options.ttl.clear();
  EXPECT_FALSE(NewDebugSession(options, "shop", "age1xyz")["spec"].contains("ttl"))
      << "no --ttl: the cluster policy's defaultTtl applies, and its maxTtl cannot refuse it";
  EXPECT_FALSE(named["spec"].contains("redaction")) << "no --pii: the cluster's default applies";
  options.pii = "strict";
  EXPECT_EQ(NewDebugSession(options, "shop", "age1xyz")["spec"]["redaction"],
            json::parse(R"({"pii":"strict"})"));
}

TEST(SessionViewTest, SpecLogsHoldsOnlyTheBoundsTheUserGave) {
  command_line::SnapshotOptions options;
  options.pod = "checkout-7d9f";
  options.reason = "INC-1234 checkout returns 500";
  options.capture = {"logs"};
  EXPECT_FALSE(NewDebugSession(options, "shop", "age1xyz")["spec"].contains("logs"))
      << "no log flag: the server's defaults apply";
  options.logs.tail_lines = 200;
  options.logs.since = "15m";
  EXPECT_EQ(NewDebugSession(options, "shop", "age1xyz")["spec"]["logs"],
            json::parse(R"({"tailLines": 200, "since": "15m"})"));
  options.logs.limit_bytes = 65536;
  options.logs.previous = false;
  EXPECT_EQ(NewDebugSession(options, "shop", "age1xyz")["spec"]["logs"],
            json::parse(R"({"tailLines": 200, "since": "15m", "limitBytes": 65536,
                            "previous": false})"));
}

TEST(SessionViewTest, AgesReadLikeKubectl) {
  using std::chrono::seconds;
  EXPECT_EQ(FormatAge(seconds(45)), "45s");
  EXPECT_EQ(FormatAge(seconds(330)), "5m30s");
  EXPECT_EQ(FormatAge(seconds(720)), "12m");
  EXPECT_EQ(FormatAge(seconds(3 * 3600 + 1200)), "3h20m");
  EXPECT_EQ(FormatAge(seconds(5 * 86400)), "5d");
}

TEST(SessionViewTest, ListTableHasTheColumnsAligned) {
  const std::string table = FormatSessionTable({Session("Completed")}, T("2026-11-28T10:01:12Z"));
  EXPECT_EQ(table,
            "NAME             PHASE       TARGET              REQUESTER   AGE   EXPIRES-IN\n"
            "checkout-abcde   Completed   checkout-7d9f/app   alice       72s   3m48s\n");
}

TEST(SessionViewTest, AllNamespacesAndWideAddColumns) {
  json other = Session("Capturing");
  other["metadata"]["namespace"] = "team-a";
  other["metadata"]["name"] = "x";
  other["spec"]["profile"] = "ptrace";
  other["spec"]["reason"] = "INC-9 two\nlines \x1b[31mred";
  other["status"]["ephemeralContainer"] = "ephemera-3f9a1c0b7e";
  const std::string table =
      FormatSessionTable({Session("Completed"), other}, T("2026-11-28T10:01:12Z"),
                         {.all_namespaces = true, .wide = true});
  EXPECT_EQ(table,
            "NAMESPACE   NAME             PHASE       TARGET              REQUESTER   AGE   "
            "EXPIRES-IN   PROFILE      EPHEMERAL-CONTAINER   REASON\n"
            "shop        checkout-abcde   Completed   checkout-7d9f/app   alice       72s   "
            "3m48s        restricted   -                     INC-1234 checkout returns 500\n"
            "team-a      x                Capturing   checkout-7d9f/app   alice       72s   "
            "3m48s        ptrace       ephemera-3f9a1c0b7e   INC-9 two\\x0Alines \\x1B[31mred\n");
}

TEST(SessionViewTest, PrintingLeavesOutManagedFieldsLikeKubectl) {
  json session = Session("Completed");
  session["metadata"]["managedFields"] = json::array({{{"manager", "ephemera-controller"}}});
  const json printed = ForPrinting(session);
  EXPECT_FALSE(printed["metadata"].contains("managedFields"));
  EXPECT_EQ(printed["metadata"]["name"], "checkout-abcde");
  EXPECT_EQ(printed["status"], session["status"]);
}

TEST(SessionViewTest, ExpiresInSaysExpired) {
  EXPECT_EQ(FormatExpiresIn(Session("Completed"), T("2026-11-28T10:06:00Z")), "expired");
  EXPECT_EQ(FormatExpiresIn(json::object(), T("2026-11-28T10:06:00Z")), "-");
}

TEST(SessionViewTest, DetailsShowStatusConditionsDigestAndAuditHead) {
  const std::string text = FormatSessionDetails(Session("Completed"), T("2026-11-28T10:01:00Z"));
  for (const char* part :
       {"Phase:       Completed (Snapshot delivered)",
        "Target:      pod checkout-7d9f, container app", "Requester:   alice",
        "Reason:      INC-1234 checkout returns 500", "Expires in:  4m0s (at 2026-11-28T10:05:00Z)",
        "Authorized=True  Allowed: alice may get pods/checkout-7d9f",
        "Snapshot:    sha256:ab12, 4096 bytes", "Audit head:  sha256:ff00 (5 records)"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << "\nin:\n" << text;
  }
}

TEST(SessionViewTest, OnlyCompletedSessionsAreFetchable) {
  EXPECT_TRUE(CheckFetchable(Session("Completed")).Succeeded());
  const auto expired = CheckFetchable(Session("Expired"));
  EXPECT_EQ(expired.exit_code, ExitCode::kExpired);
  EXPECT_NE(expired.message.find("wiped"), std::string::npos);
  EXPECT_NE(expired.message.find("2026-11-28T10:05:00Z"), std::string::npos);
  EXPECT_EQ(CheckFetchable(Session("Denied")).exit_code, ExitCode::kDenied);
  EXPECT_EQ(CheckFetchable(Session("Failed")).exit_code, ExitCode::kSessionFailed);
  EXPECT_EQ(CheckFetchable(Session("Capturing")).exit_code, ExitCode::kFailed);
}

TEST(SessionViewTest, WrongIdentityNamesBothRecipients) {
  EXPECT_EQ(WrongIdentityMessage({"age1aaa"}, "age1bbb", "/home/a/id.txt"),
            "this snapshot is encrypted to age1aaa, your identity is age1bbb (/home/a/id.txt): "
            "fetch it with the identity it was made for, or take a new snapshot");
}

}  // namespace
}  // namespace ephemera::commands
