#include "cli/command_line/command_line.h"

#include <gtest/gtest.h>

#include "cli/command_line/usage.h"

namespace ephemera::command_line {
namespace {

StatusOr<CommandLine> Parse(const std::vector<std::string>& args) { return ParseCommandLine(args); }

TEST(CommandLineTest, ParsesSnapshotWithEveryFlag) {
  auto cl = Parse({"snapshot", "checkout-7d9f", "-c", "app", "--reason", "INC-1234 checkout 500",
                   "--ttl=90s", "--profile", "ptrace", "--capture", "threads,stacks,threads",
                   "--name", "inc-1234", "--timeout", "3m", "-o", "html", "-f", "out.html"});
  ASSERT_TRUE(cl.ok()) << cl.status().ToString();
  EXPECT_EQ(cl->command, Command::kSnapshot);
  EXPECT_EQ(cl->snapshot.pod, "checkout-7d9f");
  EXPECT_EQ(cl->snapshot.container, "app");
  EXPECT_EQ(cl->snapshot.reason, "INC-1234 checkout 500");
  EXPECT_EQ(cl->snapshot.ttl, "90s");
  EXPECT_EQ(cl->snapshot.profile, "ptrace");
  EXPECT_EQ(cl->snapshot.capture, (std::vector<std::string>{"threads", "stacks"}));
  EXPECT_EQ(cl->snapshot.name, "inc-1234");
  EXPECT_EQ(cl->snapshot.timeout, std::chrono::seconds(180));
  EXPECT_EQ(cl->snapshot.output, OutputFormat::kHtml);
  EXPECT_EQ(cl->snapshot.file, "out.html");
}

TEST(CommandLineTest, SnapshotDefaults) {
  auto cl = Parse({"snapshot", "pod-1", "--reason", "INC-1 checking latency"});
  ASSERT_TRUE(cl.ok()) << cl.status().ToString();
  EXPECT_EQ(cl->snapshot.ttl, "5m");
  EXPECT_EQ(cl->snapshot.profile, "restricted");
  EXPECT_TRUE(cl->snapshot.capture.empty());
  EXPECT_EQ(cl->snapshot.timeout, std::chrono::seconds(120));
  EXPECT_EQ(cl->snapshot.output, OutputFormat::kText);
}

TEST(CommandLineTest, GlobalFlagsAnywhere) {
  auto cl =
      Parse({"--kubeconfig", "/k", "get", "s-1", "-n=team-a", "--context", "kind", "-o", "json"});
  ASSERT_TRUE(cl.ok()) << cl.status().ToString();
  EXPECT_EQ(cl->command, Command::kGet);
  EXPECT_EQ(cl->global.kubeconfig, "/k");
  EXPECT_EQ(cl->global.namespace_name, "team-a");
  EXPECT_EQ(cl->global.context, "kind");
  EXPECT_EQ(cl->query.session, "s-1");
  EXPECT_EQ(cl->query.output, OutputFormat::kJson);
}

TEST(CommandLineTest, ReasonIsRequired) {
  auto cl = Parse({"snapshot", "pod-1"});
  ASSERT_FALSE(cl.ok());
  EXPECT_EQ(cl.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(cl.status().message().find("--reason is required"), std::string::npos);
  EXPECT_NE(cl.status().message().find("kubectl ephemera snapshot --help"), std::string::npos);
}

TEST(CommandLineTest, RejectsTtlOutsideTheCrdRange) {
  for (const char* ttl : {"10s", "25h", "5x", "-5m", "1d"}) {
    auto cl = Parse({"snapshot", "p", "--reason", "INC-1 checking latency", "--ttl", ttl});
    EXPECT_FALSE(cl.ok()) << ttl;
  }
  EXPECT_TRUE(Parse({"snapshot", "p", "--reason", "INC-1 checking", "--ttl", "30s"}).ok());
  EXPECT_TRUE(Parse({"snapshot", "p", "--reason", "INC-1 checking", "--ttl", "24h"}).ok());
}

TEST(CommandLineTest, RejectsUnknownCaptureSectionNamingIt) {
  auto cl = Parse({"snapshot", "p", "--reason", "INC-1 checking", "--capture", "threads,heap"});
  ASSERT_FALSE(cl.ok());
  EXPECT_NE(cl.status().message().find("\"heap\" is not a section"), std::string::npos);
}

TEST(CommandLineTest, PiiModeIsOneOfThree) {
  auto strict = Parse({"snapshot", "p", "--reason", "INC-1 checking", "--pii", "strict"});
  ASSERT_TRUE(strict.ok()) << strict.status().ToString();
  EXPECT_EQ(strict->snapshot.pii, "strict");
  auto unset = Parse({"snapshot", "p", "--reason", "INC-1 checking"});
  ASSERT_TRUE(unset.ok());
  EXPECT_EQ(unset->snapshot.pii, "");
  auto off = Parse({"snapshot", "p", "--reason", "INC-1 checking", "--pii", "off"});
  ASSERT_FALSE(off.ok());
  EXPECT_NE(off.status().message().find("--pii must be none, standard or strict, not \"off\""),
            std::string::npos)
      << off.status().message();
}

TEST(CommandLineTest, RejectsBadProfileNameAndOutput) {
  EXPECT_FALSE(Parse({"snapshot", "p", "--reason", "INC-1 checking", "--profile", "root"}).ok());
  EXPECT_FALSE(Parse({"snapshot", "p", "--reason", "INC-1 checking", "--name", "Bad_Name"}).ok());
  EXPECT_FALSE(Parse({"get", "s", "-o", "html"}).ok());  // html only for reports
  EXPECT_FALSE(Parse({"fetch", "s", "-o", "yaml"}).ok());
  EXPECT_TRUE(Parse({"fetch", "s", "-o", "html"}).ok());
}

TEST(CommandLineTest, FlagErrorsNameTheFlag) {
  auto unknown = Parse({"list", "--watch"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown flag --watch for list"), std::string::npos);
  auto missing = Parse({"fetch", "s", "-o"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("flag -o needs a value"), std::string::npos);
  auto no_value = Parse({"keys", "--show=yes"});
  ASSERT_FALSE(no_value.ok());
  EXPECT_NE(no_value.status().message().find("takes no value"), std::string::npos);
}

TEST(CommandLineTest, PositionalArgumentsAreCounted) {
  EXPECT_FALSE(Parse({"get"}).ok());
  EXPECT_FALSE(Parse({"get", "a", "b"}).ok());
  EXPECT_FALSE(Parse({"list", "extra"}).ok());
  EXPECT_FALSE(Parse({"frobnicate"}).ok());
}

TEST(CommandLineTest, HelpForms) {
  auto flag = Parse({"snapshot", "--help"});
  ASSERT_TRUE(flag.ok());
  EXPECT_TRUE(flag->help);
  EXPECT_EQ(flag->command, Command::kSnapshot);
  auto word = Parse({"help", "fetch"});
  ASSERT_TRUE(word.ok());
  EXPECT_TRUE(word->help);
  EXPECT_EQ(word->command, Command::kFetch);
  auto none = Parse({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->command, Command::kNone);
}

TEST(CommandLineTest, AuditVerifyPassesItsOwnFlagsThrough) {
  auto cl = Parse({"audit", "verify", "-n", "team-a", "trail.jsonl", "--anchor",
                   "session/u=3:sha256:ab", "-o", "json"});
  ASSERT_TRUE(cl.ok()) << cl.status().ToString();
  EXPECT_EQ(cl->command, Command::kAuditVerify);
  EXPECT_EQ(cl->global.namespace_name, "team-a");
  EXPECT_TRUE(cl->audit.has_anchor);
  EXPECT_EQ(cl->audit.args, (std::vector<std::string>{"trail.jsonl", "--anchor",
                                                      "session/u=3:sha256:ab", "-o", "json"}));
  EXPECT_FALSE(Parse({"audit", "rotate"}).ok());
  auto sessions = Parse({"audit", "verify", "-", "--session", "s1", "--session=s2"});
  ASSERT_TRUE(sessions.ok()) << sessions.status().ToString();
  EXPECT_EQ(sessions->audit.sessions, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(sessions->audit.args, (std::vector<std::string>{"-"}));
}

TEST(UsageTest, EveryCommandDocumentsGlobalFlagsAndExitCodes) {
  for (Command command : {Command::kNone, Command::kKeys, Command::kSnapshot, Command::kGet,
                          Command::kList, Command::kFetch, Command::kAuditVerify}) {
    const std::string text = UsageText(command);
    EXPECT_NE(text.find("--kubeconfig"), std::string::npos) << CommandName(command);
    EXPECT_NE(text.find("Exit codes:"), std::string::npos) << CommandName(command);
    EXPECT_NE(text.find("10  snapshot --timeout"), std::string::npos) << CommandName(command);
  }
}

}  // namespace
}  // namespace ephemera::command_line
