// Unit tests of the decision whether to send SIGQUIT to a JVM.
#include "debugpod/runtimes/jvm/attach_decision.h"

#include <gtest/gtest.h>

namespace ephemera::runtimes::jvm {
namespace {

using Action = AttachPlan::Action;

// A JVM that will start its listener on SIGQUIT, and a tool with its credentials.
AttachFacts Attachable() {
  AttachFacts f;
  f.sigquit_caught = true;
  f.capabilities = "1100000000000000000000000000000000000000000000000000000000000000";
  f.command_line = {"java", "-cp", ".", "Main"};
  f.option_variables = std::vector<std::string>{"", "", ""};
  f.tool_uid = 1000;
  f.tool_gid = 1000;
  f.jvm_uid = 1000;
  f.jvm_gid = 1000;
  f.may_signal = true;
  return f;
}

TEST(AttachDecisionTest, AnAttachableJvmIsSignalled) {
  EXPECT_EQ(DecideAttach(Attachable()).action, Action::kSignalAndConnect);
}

TEST(AttachDecisionTest, AnExistingSocketIsUsedWithoutASignal) {
  AttachFacts f;  // nothing else known
  f.socket_exists = true;
  EXPECT_EQ(DecideAttach(f).action, Action::kConnect);
}

TEST(AttachDecisionTest, DisableAttachMechanismOnTheCommandLineRefuses) {
  AttachFacts f = Attachable();
  f.command_line = {"java", "-XX:+DisableAttachMechanism", "Main"};
  const AttachPlan plan = DecideAttach(f);
  EXPECT_EQ(plan.action, Action::kRefuse);
  EXPECT_EQ(plan.reason, "jvm: attach disabled (-XX:+DisableAttachMechanism); no signal sent");
}

TEST(AttachDecisionTest, TheLastSettingWinsInTheVmsOrder) {
  AttachFacts f = Attachable();
  f.option_variables = std::vector<std::string>{"-Xmx1g -XX:+DisableAttachMechanism", "", ""};
  EXPECT_EQ(AttachDisabledByOptions(f), true);
  f.command_line = {"java", "-XX:-DisableAttachMechanism", "Main"};
  EXPECT_EQ(AttachDisabledByOptions(f), false);  // the command line comes after
  f.option_variables = std::vector<std::string>{"", "", "-XX:+DisableAttachMechanism"};
  EXPECT_EQ(AttachDisabledByOptions(f), true);  // _JAVA_OPTIONS comes last
  EXPECT_EQ(DecideAttach(f).action, Action::kRefuse);
  f.option_variables = std::vector<std::string>{"", "-XX:+DisableAttachMechanism", ""};
  f.command_line = {"java", "Main"};
  EXPECT_EQ(DecideAttach(f).action, Action::kRefuse);  // JDK_JAVA_OPTIONS
}

TEST(AttachDecisionTest, PerfDataSayingAttachIsOffRefuses) {
  AttachFacts f = Attachable();
  f.capabilities = "0100000000000000000000000000000000000000000000000000000000000000";
  const AttachPlan plan = DecideAttach(f);
  EXPECT_EQ(plan.action, Action::kRefuse);
  EXPECT_EQ(plan.reason,
            "jvm: attach disabled (perf data: sun.rt.jvmCapabilities 0); no signal sent");
}

TEST(AttachDecisionTest, AJvmThatDoesNotCatchSigquitIsNeverSignalled) {
  AttachFacts f = Attachable();
  f.sigquit_caught = false;
  const AttachPlan plan = DecideAttach(f);
  EXPECT_EQ(plan.action, Action::kRefuse);
  EXPECT_EQ(plan.reason,
            "jvm: the JVM does not catch SIGQUIT (-Xrs or -XX:+ReduceSignalUsage); no signal sent");
  f.sigquit_caught = std::nullopt;
  EXPECT_EQ(DecideAttach(f).action, Action::kRefuse);
}

TEST(AttachDecisionTest, WithoutPerfDataEveryOptionMustBeVisible) {
  AttachFacts f = Attachable();
  f.capabilities = std::nullopt;
  EXPECT_EQ(DecideAttach(f).action, Action::kSignalAndConnect);
  for (const char* hidden :
       {"@/app/jvm.args", "-XX:Flags=/app/.hotspotrc", "-XX:VMOptionsFile=/app/opts"}) {
    AttachFacts g = f;
    g.command_line = {"java", hidden, "Main"};
    EXPECT_EQ(DecideAttach(g).action, Action::kRefuse) << hidden;
  }
  f.option_variables = std::nullopt;
  EXPECT_EQ(DecideAttach(f).action, Action::kRefuse);
}

TEST(AttachDecisionTest, CredentialsMustMatchOrBeRoot) {
  AttachFacts f = Attachable();
  f.tool_gid = 2000;
  const AttachPlan plan = DecideAttach(f);
  EXPECT_EQ(plan.action, Action::kRefuse);
  EXPECT_EQ(plan.reason,
            "jvm: attach needs the JVM's UID and GID (1000:1000) or root, the tool runs as "
            "1000:2000; no signal sent");
  f.tool_uid = 0;
  f.tool_gid = 0;
  EXPECT_EQ(DecideAttach(f).action, Action::kSignalAndConnect);
  f.may_signal = false;  // root without CAP_KILL, a JVM of another user
  EXPECT_EQ(DecideAttach(f).action, Action::kRefuse);
}

TEST(AttachDecisionTest, SigQuitIsBitTwoOfSigCgt) {
  EXPECT_EQ(SigQuitCaught("0000000101005ccd"), true);   // HotSpot's default handlers
  EXPECT_EQ(SigQuitCaught("0000000101001cc8"), false);  // the same JVM with -Xrs
  EXPECT_EQ(SigQuitCaught("\t0000000000000004"), true);
  EXPECT_EQ(SigQuitCaught(""), std::nullopt);
  EXPECT_EQ(SigQuitCaught("zz"), std::nullopt);
  EXPECT_EQ(SigQuitCaught("00000000000000000"), std::nullopt);  // 17 digits
}

}  // namespace
}  // namespace ephemera::runtimes::jvm
