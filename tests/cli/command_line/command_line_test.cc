#include "cli/command_line/command_line.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

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
  EXPECT_EQ(cl->snapshot.ttl, "") << "not given: the cluster policy decides";
  EXPECT_EQ(cl->snapshot.profile, "restricted");
  EXPECT_TRUE(cl->snapshot.capture.empty());
  EXPECT_EQ(cl->snapshot.timeout, std::chrono::seconds(120));
  EXPECT_EQ(cl->snapshot.output, OutputFormat::kText);
}

TEST(CommandLineTest, SnapshotLogFlagsFillOnlyWhatWasGiven) {
  auto cl = Parse({"snapshot", "p", "--reason", "INC-1 checking", "--capture", "process,logs",
                   "--tail", "200", "--limit-bytes=65536", "--since", "1h30m", "--no-previous"});
  ASSERT_TRUE(cl.ok()) << cl.status().ToString();
  EXPECT_EQ(cl->snapshot.logs.tail_lines, 200);
  EXPECT_EQ(cl->snapshot.logs.limit_bytes, 65536);
  EXPECT_EQ(cl->snapshot.logs.since, "1h30m");
  EXPECT_EQ(cl->snapshot.logs.previous, false);

  auto some = Parse({"snapshot", "p", "--reason", "INC-1 checking", "--capture=logs", "--tail=5"});
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  EXPECT_EQ(some->snapshot.logs.tail_lines, 5);
  EXPECT_FALSE(some->snapshot.logs.limit_bytes.has_value());
  EXPECT_TRUE(some->snapshot.logs.since.empty());
  EXPECT_FALSE(some->snapshot.logs.previous.has_value());
}

TEST(CommandLineTest, PreviousIsABooleanLikeKubectls) {
  auto previous = [](std::vector<std::string> flags) -> std::optional<bool> {
    std::vector<std::string> args = {"logs", "p", "--reason", "INC-1 checking"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto cl = ParseCommandLine(args);
    EXPECT_TRUE(cl.ok()) << cl.status().ToString();
    return cl.ok() ? cl->snapshot.logs.previous : std::nullopt;
  };
  EXPECT_EQ(previous({}), std::nullopt);
  EXPECT_EQ(previous({"--previous"}), true);
  EXPECT_EQ(previous({"--previous=true"}), true);
  EXPECT_EQ(previous({"--previous=false"}), false);
  EXPECT_EQ(previous({"--no-previous"}), false);
  EXPECT_EQ(previous({"--previous", "--no-previous"}), false) << "the last one wins";

  auto word = Parse({"logs", "p", "--reason", "INC-1 checking", "--previous=yes"});
  ASSERT_FALSE(word.ok());
  EXPECT_NE(word.status().message().find("--previous takes true or false, not \"yes\""),
            std::string::npos)
      << word.status().message();
  // A boolean does not take the next argument: "false" here is a second pod.
  auto next = Parse({"logs", "p", "--reason", "INC-1 checking", "--previous", "false"});
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.status().message().find("unexpected argument \"false\""), std::string::npos);
  EXPECT_FALSE(Parse({"logs", "p", "--reason", "INC-1 checking", "--no-previous=true"}).ok());
}

TEST(CommandLineTest, LogFlagsWithoutLogsInCaptureAreRefused) {
  auto defaults = Parse({"snapshot", "p", "--reason", "INC-1 checking", "--tail", "10"});
  ASSERT_FALSE(defaults.ok());
  EXPECT_EQ(defaults.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(defaults.status().message().find(
                "--tail needs logs in --capture: it bounds the log pull, which this snapshot "
                "does not ask for"),
            std::string::npos)
      << defaults.status().message();
  auto several = Parse({"snapshot", "p", "--reason", "INC-1 checking", "--capture", "threads",
                        "--since", "5m", "--limit-bytes", "10", "--no-previous"});
  ASSERT_FALSE(several.ok());
  EXPECT_NE(several.status().message().find(
                "--limit-bytes, --since and --no-previous need logs in --capture: "
                "they bound"),
            std::string::npos)
      << several.status().message();
  EXPECT_NE(several.status().message().find("or use 'kubectl ephemera logs'"), std::string::npos);
}

TEST(CommandLineTest, RejectsBadLogBounds) {
  for (const char* tail : {"0", "-1", "ten", "1.5", "", "99999999999999999999"}) {
    auto cl = Parse({"logs", "p", "--reason", "INC-1 checking", "--tail", tail});
    ASSERT_FALSE(cl.ok()) << tail;
    EXPECT_NE(cl.status().message().find("--tail \"" + std::string(tail) +
                                         "\" must be a whole number of at least 1"),
              std::string::npos)
        << cl.status().message();
  }
  EXPECT_FALSE(Parse({"logs", "p", "--reason", "INC-1 checking", "--limit-bytes", "1Mi"}).ok());
  for (const char* since : {"0s", "500ms", "-5m", "5", "1d", "soon"}) {
    auto cl = Parse({"logs", "p", "--reason", "INC-1 checking", "--since", since});
    ASSERT_FALSE(cl.ok()) << since;
    EXPECT_NE(cl.status().message().find("is not a duration of at least 1s"), std::string::npos)
        << cl.status().message();
  }
  EXPECT_TRUE(Parse({"logs", "p", "--reason", "INC-1 checking", "--since", "1.5h"}).ok());
}

TEST(CommandLineTest, LogsCommandCapturesOnlyLogs) {
  auto cl = Parse({"logs", "checkout-7d9f", "-c", "app", "--reason", "INC-1234 checkout 500",
                   "--tail", "50", "--timestamps", "-o", "json", "--ttl", "2m"});
  ASSERT_TRUE(cl.ok()) << cl.status().ToString();
  EXPECT_EQ(cl->command, Command::kLogs);
  EXPECT_EQ(cl->snapshot.pod, "checkout-7d9f");
  EXPECT_EQ(cl->snapshot.container, "app");
  EXPECT_EQ(cl->snapshot.capture, (std::vector<std::string>{"logs"}));
  EXPECT_EQ(cl->snapshot.logs.tail_lines, 50);
  EXPECT_TRUE(cl->snapshot.timestamps);
  EXPECT_EQ(cl->snapshot.output, OutputFormat::kJson);
  EXPECT_EQ(cl->snapshot.ttl, "2m");
  EXPECT_EQ(cl->snapshot.profile, "restricted");
  EXPECT_EQ(cl->snapshot.timeout, std::chrono::seconds(120));
}

TEST(CommandLineTest, LogsCommandRefusesWhatItCannotDo) {
  auto no_reason = Parse({"logs", "p"});
  ASSERT_FALSE(no_reason.ok());
  EXPECT_NE(no_reason.status().message().find("--reason is required"), std::string::npos);
  EXPECT_NE(no_reason.status().message().find("kubectl ephemera logs --help"), std::string::npos);
  auto no_pod = Parse({"logs", "--reason", "INC-1 checking"});
  ASSERT_FALSE(no_pod.ok());
  EXPECT_NE(no_pod.status().message().find("logs needs the name of the pod"), std::string::npos);
  EXPECT_FALSE(Parse({"logs", "p", "--reason", "INC-1 checking", "-o", "html"}).ok());
  for (const char* flag : {"--capture=logs", "--profile=ptrace", "-f=out.txt"}) {
    auto cl = Parse({"logs", "p", "--reason", "INC-1 checking", flag});
    ASSERT_FALSE(cl.ok()) << flag;
    EXPECT_NE(cl.status().message().find("unknown flag"), std::string::npos) << flag;
  }
  EXPECT_FALSE(Parse({"snapshot", "p", "--reason", "INC-1 checking", "--timestamps"}).ok());
  EXPECT_FALSE(Parse({"logs", "p", "--reason", "INC-1 checking", "--ttl", "10s"}).ok());
}

TEST(CommandLineTest, NativeFramesIsAReportFlagOfSnapshotAndFetch) {
  auto snapshot = Parse({"snapshot", "p", "--reason", "INC-1 checking", "--native-frames"});
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_TRUE(snapshot->snapshot.native_frames);
  EXPECT_FALSE(Parse({"snapshot", "p", "--reason", "INC-1 checking"})->snapshot.native_frames);
  auto fetch = Parse({"fetch", "session-1", "--native-frames", "-o", "html"});
  ASSERT_TRUE(fetch.ok()) << fetch.status().ToString();
  EXPECT_TRUE(fetch->fetch.native_frames);
  EXPECT_FALSE(Parse({"fetch", "session-1"})->fetch.native_frames);
  auto logs = Parse({"logs", "p", "--reason", "INC-1 checking", "--native-frames"});
  ASSERT_FALSE(logs.ok());
  EXPECT_NE(logs.status().message().find("unknown flag"), std::string::npos);
  EXPECT_FALSE(Parse({"fetch", "session-1", "--native-frames=true"}).ok());
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

TEST(CommandLineTest, ListAndGetPrintLikeKubectlGet) {
  auto all = Parse({"list", "-A", "-o", "wide"});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(all->query.all_namespaces);
  EXPECT_EQ(all->query.output, OutputFormat::kWide);
  auto long_form = Parse({"ls", "--all-namespaces", "-o=yaml"});
  ASSERT_TRUE(long_form.ok()) << long_form.status().ToString();
  EXPECT_TRUE(long_form->query.all_namespaces);
  EXPECT_EQ(long_form->query.output, OutputFormat::kYaml);
  EXPECT_FALSE(Parse({"list"})->query.all_namespaces);
  auto get = Parse({"get", "s", "-o", "yaml"});
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->query.output, OutputFormat::kYaml);
  // wide is a table's, -A a list's.
  auto wide = Parse({"get", "s", "-o", "wide"});
  ASSERT_FALSE(wide.ok());
  EXPECT_NE(wide.status().message().find("use text, json or yaml"), std::string::npos)
      << wide.status().message();
  EXPECT_FALSE(Parse({"get", "s", "-A"}).ok());
  EXPECT_FALSE(Parse({"snapshot", "p", "--reason", "INC-1 checking", "-o", "yaml"}).ok());
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
  for (Command command : {Command::kNone, Command::kKeys, Command::kSnapshot, Command::kLogs,
                          Command::kGet, Command::kList, Command::kFetch, Command::kAuditVerify}) {
    const std::string text = UsageText(command);
    EXPECT_NE(text.find("--kubeconfig"), std::string::npos) << CommandName(command);
    EXPECT_NE(text.find("Exit codes:"), std::string::npos) << CommandName(command);
    EXPECT_NE(text.find("10  snapshot or logs: --timeout"), std::string::npos)
        << CommandName(command);
    EXPECT_TRUE(std::none_of(text.begin(), text.end(),
                             [](char c) { return (c >= 0 && c < 0x20 && c != '\n') || c == 0x7f; }))
        << "a control character in the usage of " << CommandName(command);
  }
}

}  // namespace
}  // namespace ephemera::command_line
