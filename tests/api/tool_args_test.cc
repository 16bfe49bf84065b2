#include "api/tool_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace ephemera::api {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kRecipient[] = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

// Every field away from its default.
ToolArgs FullArgs() {
  ToolArgs args;
  args.recipients = {kRecipient, "age1second"};
  args.profile = Profile::kRestricted;
  args.deadline = milliseconds(45000);
  args.cpu_budget = milliseconds(1500);
  args.memory_budget_bytes = 96 * 1024 * 1024;
  args.container_id = "0123456789abcdef0123456789abcdef";
  args.host_namespaces = true;
  args.capture = {"process", "threads", "env"};
  args.pii = PiiMode::kStrict;
  args.allow_env = {"LOG_LEVEL", "APP_*"};
  args.secret_env = {"DB_PASSWORD", "UPSTREAM_KEY_ID"};
  args.extra_patterns = {"acme_live_", "tok with space="};
  return args;
}

StatusOr<ToolArgs> Parse(const std::vector<std::string>& args) { return ParseToolArgs(args); }

std::string ErrorOf(const std::vector<std::string>& args) {
  StatusOr<ToolArgs> parsed = Parse(args);
  EXPECT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  return parsed.status().message();
}

TEST(ToolArgsTest, EveryFieldSurvivesBuildAndParse) {
  const ToolArgs want = FullArgs();
  StatusOr<ToolArgs> got = Parse(BuildToolArgs(want));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->recipients, want.recipients);
  EXPECT_EQ(got->profile, want.profile);
  EXPECT_EQ(got->deadline, want.deadline);
  EXPECT_EQ(got->cpu_budget, want.cpu_budget);
  EXPECT_EQ(got->memory_budget_bytes, want.memory_budget_bytes);
  EXPECT_EQ(got->container_id, want.container_id);
  EXPECT_EQ(got->host_namespaces, want.host_namespaces);
  EXPECT_EQ(got->capture, want.capture);
  EXPECT_EQ(got->pii, want.pii);
  EXPECT_EQ(got->allow_env, want.allow_env);
  EXPECT_EQ(got->secret_env, want.secret_env);
  EXPECT_EQ(got->extra_patterns, want.extra_patterns);
  EXPECT_EQ(*got, want);  // and no field the list above forgot
}

TEST(ToolArgsTest, DefaultsSurviveBuildAndParse) {
  ToolArgs defaults;
  defaults.recipients = {kRecipient};
  StatusOr<ToolArgs> got = Parse(BuildToolArgs(defaults));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, defaults);
}

TEST(ToolArgsTest, EachValueOfEachEnumSurvives) {
  for (Profile profile : {Profile::kRestricted, Profile::kPtrace}) {
    for (PiiMode pii : {PiiMode::kNone, PiiMode::kStandard, PiiMode::kStrict}) {
      ToolArgs args = FullArgs();
      args.profile = profile;
      args.pii = pii;
      args.host_namespaces = false;
      StatusOr<ToolArgs> got = Parse(BuildToolArgs(args));
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, args) << ProfileName(profile) << " " << PiiModeName(pii);
    }
  }
}

TEST(ToolArgsTest, DeadlinesInWholeSecondsAndMilliseconds) {
  for (milliseconds deadline :
       {milliseconds(1), milliseconds(1500), milliseconds(20000), kMaxToolDeadline}) {
    ToolArgs args;
    args.deadline = deadline;
    StatusOr<ToolArgs> got = Parse(BuildToolArgs(args));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->deadline, deadline);
  }
  ToolArgs args;
  args.deadline = milliseconds(30000);
  std::vector<std::string> built = BuildToolArgs(args);
  // The admission policy admits a deadline in whole seconds only: the controller's is one.
  EXPECT_EQ(built[3], "30s");
}

// Each flag Build writes is followed by its value, and Parse accepts the pair alone.
TEST(ToolArgsTest, EveryFlagBuildWritesParses) {
  std::vector<std::string> built = BuildToolArgs(FullArgs());
  ASSERT_EQ(built.size() % 2, 0u);
  std::set<std::string> flags;
  for (size_t i = 0; i < built.size(); i += 2) {
    ASSERT_THAT(built[i], StartsWith("--"));
    flags.insert(built[i]);
    StatusOr<ToolArgs> alone = Parse({built[i], built[i + 1]});
    EXPECT_TRUE(alone.ok()) << built[i] << " " << built[i + 1] << ": " << alone.status().ToString();
    StatusOr<ToolArgs> inline_form = Parse({built[i] + "=" + built[i + 1]});
    EXPECT_TRUE(inline_form.ok()) << built[i] << ": " << inline_form.status().ToString();
  }
  EXPECT_EQ(flags, std::set<std::string>({"--recipient", "--profile", "--deadline", "--cpu-budget",
                                          "--memory-budget", "--container-id", "--host-namespaces",
                                          "--capture", "--pii", "--allow-env", "--secret-env",
                                          "--extra-pattern"}));
}

// The order the chart's ValidatingAdmissionPolicy matches.
TEST(ToolArgsTest, BuildWritesTheOrderTheAdmissionPolicyExpects) {
  std::vector<std::string> flags;
  std::vector<std::string> built = BuildToolArgs(FullArgs());
  for (size_t i = 0; i < built.size(); i += 2) flags.push_back(built[i]);
  EXPECT_EQ(flags, std::vector<std::string>(
                       {"--recipient", "--recipient", "--profile", "--deadline", "--cpu-budget",
                        "--memory-budget", "--container-id", "--host-namespaces", "--capture",
                        "--pii", "--allow-env", "--allow-env", "--secret-env", "--secret-env",
                        "--extra-pattern", "--extra-pattern"}));
  EXPECT_EQ(built[9], "1500ms");
  EXPECT_EQ(built[11], "96Mi");
  EXPECT_EQ(built[15], "allow");
  EXPECT_EQ(built[17], "process,threads,env");
}

TEST(ToolArgsTest, BudgetsSurviveInEveryUnit) {
  for (milliseconds cpu :
       {milliseconds(1), milliseconds(250), milliseconds(2000), kMaxToolCpuBudget}) {
    for (std::int64_t memory : {kMinToolMemoryBudgetBytes, std::int64_t{1536} * 1024,
                                std::int64_t{64} * 1024 * 1024 + 1, kMaxToolMemoryBudgetBytes}) {
      ToolArgs args;
      args.cpu_budget = cpu;
      args.memory_budget_bytes = memory;
      StatusOr<ToolArgs> got = Parse(BuildToolArgs(args));
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(got->cpu_budget, cpu);
      EXPECT_EQ(got->memory_budget_bytes, memory);
    }
  }
  StatusOr<ToolArgs> plain = Parse({"--memory-budget", "2097152", "--cpu-budget", "2s"});
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->memory_budget_bytes, std::int64_t{2} << 20);
  EXPECT_EQ(plain->cpu_budget, milliseconds(2000));
}

TEST(ToolArgsTest, BudgetsOutsideTheirRangeAreRefused) {
  EXPECT_THAT(ErrorOf({"--cpu-budget", "0ms"}), StartsWith("--cpu-budget: must be between 1ms"));
  EXPECT_THAT(ErrorOf({"--cpu-budget", "2h"}), StartsWith("--cpu-budget: must be between 1ms"));
  EXPECT_THAT(ErrorOf({"--cpu-budget", "1.5s"}), StartsWith("--cpu-budget: "));
  EXPECT_THAT(ErrorOf({"--memory-budget", "1023Ki"}),
              StartsWith("--memory-budget: must be between 1Mi and 1024Mi"));
  EXPECT_THAT(ErrorOf({"--memory-budget", "1025Mi"}),
              StartsWith("--memory-budget: must be between 1Mi and 1024Mi"));
  EXPECT_THAT(ErrorOf({"--memory-budget", "64M"}),
              HasSubstr("want a size in bytes such as 67108864, 65536Ki or 64Mi"));
  EXPECT_THAT(ErrorOf({"--memory-budget", "Mi"}), HasSubstr("want a size in bytes"));
  EXPECT_THAT(ErrorOf({"--memory-budget", "99999999999999Mi"}), HasSubstr("want a size in bytes"));
}

TEST(ToolArgsTest, UnsetOptionsWriteNoFlag) {
  ToolArgs args;
  args.recipients = {kRecipient};
  EXPECT_EQ(BuildToolArgs(args),
            std::vector<std::string>({"--recipient", kRecipient, "--profile", "ptrace",
                                      "--deadline", "20s", "--pii", "standard"}));
}

TEST(ToolArgsTest, ContainerIdLosesItsRuntimeScheme) {
  StatusOr<ToolArgs> got = Parse({"--container-id", "containerd://0123456789abcdef0123"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->container_id, "0123456789abcdef0123");
}

TEST(ToolArgsTest, LastSingleValueWinsAndRepeatableFlagsAccumulate) {
  StatusOr<ToolArgs> got = Parse({"--pii", "none", "--pii=strict", "--capture", "process",
                                  "--capture", "env,maps", "--allow-env", "A", "--allow-env=B"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->pii, PiiMode::kStrict);
  EXPECT_EQ(got->capture, std::vector<std::string>({"env", "maps"}));
  EXPECT_EQ(got->allow_env, std::vector<std::string>({"A", "B"}));
}

TEST(ToolArgsTest, MalformedValuesNameTheFlagAndWhatItWants) {
  EXPECT_THAT(ErrorOf({"--recipient", "ssh-ed25519 AAAA"}),
              StartsWith("--recipient: want an age X25519 recipient"));
  EXPECT_THAT(ErrorOf({"--profile", "root"}),
              StartsWith("--profile: want restricted or ptrace, got \"root\""));
  EXPECT_THAT(ErrorOf({"--deadline", "soon"}), StartsWith("--deadline: want a duration"));
  EXPECT_THAT(ErrorOf({"--deadline", "20"}), StartsWith("--deadline: "));
  EXPECT_THAT(ErrorOf({"--deadline=2h"}), StartsWith("--deadline: must be between 1ms and 1h"));
  EXPECT_THAT(ErrorOf({"--deadline", "0s"}), StartsWith("--deadline: must be between"));
  EXPECT_THAT(ErrorOf({"--container-id", "abc"}),
              StartsWith("--container-id: want the target container's ID"));
  EXPECT_THAT(ErrorOf({"--container-id", "0123456789ab/../x"}), StartsWith("--container-id:"));
  EXPECT_THAT(ErrorOf({"--container-id", std::string(129, 'a')}), StartsWith("--container-id:"));
  EXPECT_THAT(ErrorOf({"--host-namespaces", "yes"}),
              StartsWith("--host-namespaces: want allow or deny"));
  EXPECT_THAT(ErrorOf({"--pii", "off"}),
              StartsWith("--pii: want none, standard or strict, got \"off\""));
  EXPECT_THAT(ErrorOf({"--allow-env", "A=B"}),
              StartsWith("--allow-env: want an environment variable name"));
  EXPECT_THAT(ErrorOf({"--secret-env="}), StartsWith("--secret-env: want an environment"));
  EXPECT_THAT(ErrorOf({"--extra-pattern="}), StartsWith("--extra-pattern: pattern must not"));
}

TEST(ToolArgsTest, MalformedCommandLinesSayWhatToDo) {
  EXPECT_THAT(ErrorOf({"--deadline"}),
              AllOf(StartsWith("--deadline: needs a value"), HasSubstr("--help")));
  EXPECT_THAT(ErrorOf({"--verbose", "1"}), AllOf(StartsWith("unknown flag \"--verbose\""),
                                                 HasSubstr("ephemera-snapshot --help")));
  EXPECT_THAT(ErrorOf({"--pid", "7"}), StartsWith("unknown flag \"--pid\""));
  EXPECT_THAT(ErrorOf({"age1abc"}), StartsWith("unexpected argument \"age1abc\""));
  // A value is taken as it is, even one that looks like a flag.
  StatusOr<ToolArgs> pattern = Parse({"--extra-pattern", "--not-a-flag"});
  ASSERT_TRUE(pattern.ok()) << pattern.status().ToString();
  EXPECT_EQ(pattern->extra_patterns, std::vector<std::string>({"--not-a-flag"}));
}

TEST(ToolArgsTest, ExtraFlagsAreTheCallersAndTheirErrorsNameThem) {
  std::vector<std::string> seen;
  const ExtraToolFlag extra[] = {{"--pid", [&seen](std::string_view value) -> Status {
                                    if (value == "0") return InvalidArgumentError("want > 0");
                                    seen.emplace_back(value);
                                    return OkStatus();
                                  }}};
  const std::vector<std::string> good = {"--pid", "7", "--profile", "restricted", "--pid=8"};
  StatusOr<ToolArgs> parsed = ParseToolArgs(good, extra);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(seen, std::vector<std::string>({"7", "8"}));
  EXPECT_EQ(parsed->profile, Profile::kRestricted);
  const std::vector<std::string> bad = {"--pid", "0"};
  StatusOr<ToolArgs> refused = ParseToolArgs(bad, extra);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "--pid: want > 0");
}

}  // namespace
}  // namespace ephemera::api
