#include "debugpod/snapshot/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ephemera::snapshot {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kRecipient[] = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

StatusOr<CommandLine> Parse(const std::vector<std::string>& args) { return ParseCommandLine(args); }

std::string ErrorOf(const std::vector<std::string>& args) {
  StatusOr<CommandLine> cl = Parse(args);
  EXPECT_FALSE(cl.ok());
  EXPECT_EQ(cl.status().code(), StatusCode::kInvalidArgument);
  return cl.status().message();
}

TEST(ParseCommandLineTest, DefaultsNeedARecipient) {
  StatusOr<CommandLine> cl = Parse({"--recipient", kRecipient});
  ASSERT_TRUE(cl.ok()) << cl.status().ToString();
  EXPECT_FALSE(cl->pid.has_value());
  EXPECT_EQ(cl->sections.List().size(), 9u);
  EXPECT_EQ(cl->format, OutputFormat::kAge);
  EXPECT_EQ(cl->tool.profile, Profile::kPtrace);
  EXPECT_EQ(cl->tool.deadline, milliseconds(20000));
  EXPECT_EQ(cl->max_output_bytes, 4u << 20);
  EXPECT_THAT(ErrorOf({}), StartsWith("--recipient: --format age (the default) needs"));
}

TEST(ParseCommandLineTest, ParsesEveryFlagInBothForms) {
  StatusOr<CommandLine> cl =
      Parse({"--pid", "42", "--capture=threads,stacks", "--format", "json", "--profile=restricted",
             "--deadline", "1500ms", "--max-output-bytes=512Ki", "--allow-env", "LOG_LEVEL",
             "--allow-env=TZ", "--secret-env", "DB_PASSWORD", "--extra-pattern", "acme_live_"});
  ASSERT_TRUE(cl.ok()) << cl.status().ToString();
  EXPECT_EQ(cl->pid, 42);
  ASSERT_EQ(cl->sections.List().size(), 2u);
  EXPECT_TRUE(cl->sections.Has(Section::kThreads));
  EXPECT_TRUE(cl->sections.Has(Section::kStacks));
  EXPECT_EQ(cl->format, OutputFormat::kJson);
  EXPECT_EQ(cl->tool.profile, Profile::kRestricted);
  EXPECT_EQ(cl->tool.deadline, milliseconds(1500));
  EXPECT_EQ(cl->max_output_bytes, 512u * 1024);
  EXPECT_EQ(cl->tool.allow_env, std::vector<std::string>({"LOG_LEVEL", "TZ"}));
  EXPECT_EQ(cl->tool.secret_env, std::vector<std::string>({"DB_PASSWORD"}));
  EXPECT_EQ(cl->tool.extra_patterns, std::vector<std::string>({"acme_live_"}));
}

TEST(ParseCommandLineTest, ContainerIdAndHostNamespaces) {
  StatusOr<CommandLine> plain = Parse({"--format", "json"});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->tool.container_id, "");
  EXPECT_FALSE(plain->tool.host_namespaces);
  StatusOr<CommandLine> cl =
      Parse({"--format", "json", "--container-id", "containerd://0123456789abcdef0123",
             "--host-namespaces=allow"});
  ASSERT_TRUE(cl.ok()) << cl.status().ToString();
  EXPECT_EQ(cl->tool.container_id, "0123456789abcdef0123");  // the runtime scheme is dropped
  EXPECT_TRUE(cl->tool.host_namespaces);
  EXPECT_THAT(ErrorOf({"--format", "json", "--container-id", "abc"}),
              StartsWith("--container-id: want the target container's ID"));
  EXPECT_THAT(ErrorOf({"--format", "json", "--container-id", "0123456789ab/../x"}),
              StartsWith("--container-id:"));
  EXPECT_THAT(ErrorOf({"--format", "json", "--host-namespaces", "yes"}),
              StartsWith("--host-namespaces: want allow or deny"));
}

TEST(ParseCommandLineTest, PiiMode) {
  StatusOr<CommandLine> plain = Parse({"--format", "json"});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->tool.pii, redact::PiiMode::kStandard) << "the cluster policy's default";
  for (const auto& [name, mode] : {std::pair{"none", redact::PiiMode::kNone},
                                   std::pair{"standard", redact::PiiMode::kStandard},
                                   std::pair{"strict", redact::PiiMode::kStrict}}) {
    StatusOr<CommandLine> cl = Parse({"--format", "json", "--pii", name});
    ASSERT_TRUE(cl.ok()) << cl.status().ToString();
    EXPECT_EQ(cl->tool.pii, mode) << name;
  }
  EXPECT_THAT(ErrorOf({"--format", "json", "--pii", "off"}),
              StartsWith("--pii: want none, standard or strict, got \"off\""));
}

TEST(ParseCommandLineTest, RecipientsRepeat) {
  StatusOr<CommandLine> cl = Parse({"--recipient", kRecipient, "--recipient", kRecipient});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->tool.recipients.size(), 2u);
}

TEST(ParseCommandLineTest, HelpAndVersionWinOverErrors) {
  StatusOr<CommandLine> help = Parse({"--bogus", "--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help);
  StatusOr<CommandLine> version = Parse({"--version"});
  ASSERT_TRUE(version.ok());
  EXPECT_TRUE(version->version);
}

TEST(ParseCommandLineTest, ErrorsNameTheFlagAndTheFix) {
  EXPECT_THAT(ErrorOf({"--pid", "abc", "--format", "json"}),
              StartsWith("--pid: want a process id"));
  EXPECT_THAT(ErrorOf({"--pid", "0", "--format", "json"}), StartsWith("--pid:"));
  EXPECT_THAT(ErrorOf({"--pid"}), StartsWith("--pid: needs a value"));
  EXPECT_THAT(
      ErrorOf({"--capture", "threads,heap", "--format", "json"}),
      AllOf(StartsWith("--capture: unknown section \"heap\""), HasSubstr("process,threads")));
  EXPECT_THAT(ErrorOf({"--format", "yaml"}), StartsWith("--format: want age"));
  EXPECT_THAT(ErrorOf({"--recipient", "ssh-ed25519 AAAA"}), StartsWith("--recipient: want an age"));
  EXPECT_THAT(ErrorOf({"--format", "json", "--recipient", kRecipient}),
              StartsWith("--recipient: only used with --format age"));
  EXPECT_THAT(ErrorOf({"--profile", "root", "--format", "json"}), StartsWith("--profile:"));
  EXPECT_THAT(ErrorOf({"--deadline", "soon", "--format", "json"}),
              StartsWith("--deadline: want a duration"));
  EXPECT_THAT(ErrorOf({"--deadline", "2h", "--format", "json"}),
              StartsWith("--deadline: must be between"));
  EXPECT_THAT(ErrorOf({"--max-output-bytes", "1Ki", "--format", "json"}),
              StartsWith("--max-output-bytes: must be between 16Ki and 64Mi"));
  EXPECT_THAT(ErrorOf({"--max-output-bytes", "4MB", "--format", "json"}),
              StartsWith("--max-output-bytes: want a size"));
  EXPECT_THAT(ErrorOf({"--allow-env", "A=B", "--format", "json"}), StartsWith("--allow-env:"));
  EXPECT_THAT(ErrorOf({"--extra-pattern=", "--format", "json"}), StartsWith("--extra-pattern:"));
  EXPECT_THAT(ErrorOf({"--verbose"}), AllOf(HasSubstr("unknown flag \"--verbose\""),
                                            HasSubstr("ephemera-snapshot --help")));
  EXPECT_THAT(ErrorOf({"12"}), HasSubstr("unexpected argument \"12\""));
}

TEST(ParseByteSizeTest, AcceptsBinarySuffixes) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("16Ki"), 16384u);
  EXPECT_EQ(*ParseByteSize("4Mi"), 4u << 20);
  EXPECT_FALSE(ParseByteSize("4M").ok());
  EXPECT_FALSE(ParseByteSize("").ok());
}

TEST(SectionTest, NamesRoundTripAndCanonicalOrder) {
  for (Section s : kAllSections) EXPECT_EQ(SectionFromName(SectionName(s)), s);
  EXPECT_FALSE(SectionFromName("logs").has_value());
  SectionSet set;
  set.Add(Section::kEnv);
  set.Add(Section::kProcess);
  EXPECT_EQ(set.List(), std::vector<Section>({Section::kProcess, Section::kEnv}));
}

TEST(UsageTextTest, MentionsEveryFlag) {
  std::string usage = UsageText();
  for (const char* flag :
       {"--pid", "--capture", "--profile", "--format", "--recipient", "--max-output-bytes",
        "--allow-env", "--secret-env", "--extra-pattern", "--deadline", "--version", "--help"}) {
    EXPECT_THAT(usage, HasSubstr(flag));
  }
}

}  // namespace
}  // namespace ephemera::snapshot

namespace ephemera::snapshot {
namespace {

// logs is read by the controller: the tool captures no section for it, but hands the values it
// hides to the controller, which --format json would print.
TEST(ParseCommandLineTest, LogsAsksForTheValueKeysAndNoSection) {
  StatusOr<CommandLine> cl = ParseCommandLine({"--recipient", kRecipient, "--capture", "env,logs"});
  ASSERT_TRUE(cl.ok()) << cl.status().ToString();
  EXPECT_TRUE(cl->value_keys_for_controller);
  ASSERT_EQ(cl->sections.List().size(), 1u);
  EXPECT_EQ(cl->sections.List()[0], Section::kEnv);

  cl = ParseCommandLine({"--recipient", kRecipient, "--capture", "env"});
  ASSERT_TRUE(cl.ok());
  EXPECT_FALSE(cl->value_keys_for_controller);

  StatusOr<CommandLine> json = ParseCommandLine({"--format", "json", "--capture", "process,logs"});
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("--format json would print them"), std::string::npos)
      << json.status().message();
}

}  // namespace
}  // namespace ephemera::snapshot
