#include "cli/command_line/completion.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ephemera::command_line {
namespace {

using Words = std::vector<std::string>;

Words Candidates(const Words& args) { return Complete(args).candidates; }

TEST(CompletionTest, CommandsByPrefix) {
  EXPECT_EQ(Candidates({"s"}), Words{"snapshot"});
  EXPECT_EQ(Candidates({"l"}), (Words{"logs", "list"}));
  EXPECT_EQ(Candidates({""}).size(), 10u);
  // Global flags before the command do not hide it, nor does a global flag's value.
  EXPECT_EQ(Candidates({"-n", "shop", "--context", "kind", "ge"}), Words{"get"});
  EXPECT_EQ(Complete({"x"}).directive, 4) << "no file names for an unknown word";
}

TEST(CompletionTest, FlagsOfTheCommandAndTheGlobalOnes) {
  EXPECT_EQ(Candidates({"list", "--a"}), Words{"--all-namespaces"});
  EXPECT_EQ(Candidates({"snapshot", "p", "--ti"}), (Words{"--timeout"}));
  EXPECT_EQ(Candidates({"get", "s", "--k"}), Words{"--kubeconfig"});
  const Words keys = Candidates({"keys", "--"});
  EXPECT_EQ(keys, (Words{"--show", "--kubeconfig", "--namespace", "--context", "--help"}));
  EXPECT_TRUE(Candidates({"get", "--tt"}).empty()) << "--ttl is snapshot's, not get's";
}

TEST(CompletionTest, TheValuesAFlagTakes) {
  EXPECT_EQ(Candidates({"snapshot", "p", "--profile", ""}), (Words{"restricted", "ptrace"}));
  EXPECT_EQ(Candidates({"snapshot", "p", "--pii", "s"}), (Words{"standard", "strict"}));
  EXPECT_EQ(Candidates({"list", "-o", ""}), (Words{"text", "json", "yaml", "wide"}));
  EXPECT_EQ(Candidates({"fetch", "s", "--output", "h"}), Words{"html"});
  EXPECT_EQ(Candidates({"get", "s", "--output=y"}), Words{"--output=yaml"});
  EXPECT_EQ(Candidates({"get", "s", "-o=j"}), Words{"-o=json"});
  // A flag that takes free text gets no candidates, and no file names either.
  EXPECT_TRUE(Candidates({"snapshot", "p", "--reason", "INC"}).empty());
  EXPECT_EQ(Complete({"snapshot", "p", "--reason", ""}).directive, 4);
  // The word after a value is completed again (here: a flag of snapshot's).
  EXPECT_EQ(Candidates({"snapshot", "p", "--profile", "ptrace", "--pi"}), Words{"--pii"});
  EXPECT_EQ(Complete({"snapshot", "p", "-f", ""}).directive, 0) << "a file name";
  EXPECT_EQ(Complete({"--kubeconfig", ""}).directive, 0);
}

TEST(CompletionTest, CaptureSectionsCompleteAfterEachComma) {
  EXPECT_EQ(Candidates({"snapshot", "p", "--capture", "th"}), Words{"threads"});
  const Words after = Candidates({"snapshot", "p", "--capture", "threads,s"});
  EXPECT_EQ(after, (Words{"threads,stacks", "threads,sockets"}));
  EXPECT_EQ(Candidates({"snapshot", "p", "--capture=process,threads,t"}), Words{})
      << "threads is listed already";
}

TEST(CompletionTest, CompletionTakesAShell) {
  EXPECT_EQ(Candidates({"completion", ""}), Words{"bash"});
  EXPECT_TRUE(Candidates({"completion", "bash", ""}).empty());
}

TEST(CompletionTest, AuditTakesVerifyThenAFile) {
  EXPECT_EQ(Candidates({"audit", ""}), Words{"verify"});
  EXPECT_EQ(Complete({"audit", "verify", ""}).directive, 0);
}

TEST(CompletionTest, TheProtocolKubectlReads) {
  EXPECT_EQ(FormatCompletion(Completion{{"restricted", "ptrace"}, 4}), "restricted\nptrace\n:4\n");
  EXPECT_EQ(FormatCompletion(Completion{{}, 0}), ":0\n");
  EXPECT_NE(BashCompletionScript().find("complete -F _kubectl_ephemera kubectl-ephemera"),
            std::string::npos);
}

}  // namespace
}  // namespace ephemera::command_line
