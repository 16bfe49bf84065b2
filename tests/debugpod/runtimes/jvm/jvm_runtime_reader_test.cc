// Component tests of JvmRuntimeReader on real HotSpot JVMs (JDK 17 and JDK 25 where installed)
// running Parked.java: the dump's threads, states, frames (line numbers from the source's marker
// comments), locks, deadlock and worker group; that the JVM printed nothing (a dump in its stdout
// would be a dump in the pod's log); that the trigger file is gone; that JVMs which must not be
// signalled are not; and that the attach works inside the snapshot tool's sandbox with
// SandboxOptions::allow_jvm_attach, as root (ptrace profile) and as the JVM's own non-root user
// (restricted profile), and fails without it. Sandbox and other-user tests need root.
#include "debugpod/runtimes/jvm/jvm_runtime_reader.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/runtimes/runtime_stacks.h"
#include "debugpod/snapshot/sandbox.h"
#include "jvm_process.h"

namespace ephemera::runtimes::jvm {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

struct Jdk {
  std::string name;
  std::string java;
};

void PrintTo(const Jdk& jdk, std::ostream* os) { *os << jdk.name; }

std::vector<Jdk> InstalledJdks() {
  std::vector<Jdk> jdks;
  for (const Jdk& jdk : {Jdk{"jdk17", JVM_JAVA17}, Jdk{"jdk25", JVM_JAVA25}}) {
    if (!jdk.java.empty() && !jdk.java.ends_with("-NOTFOUND")) jdks.push_back(jdk);
  }
  return jdks;
}

const RuntimeStack* Find(const RuntimeStacks& stacks, std::string_view name) {
  for (const RuntimeStack& s : stacks.stacks) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// The frame of `stack` in Parked.java at the line carrying `marker`, or nullptr.
const SourceFrame* FrameAtMarker(const RuntimeStack& stack, const std::string& marker) {
  const int line = MarkerLine(JVM_PARKED_SOURCE, marker);
  for (const SourceFrame& f : stack.frames) {
    if (f.file == "Parked.java" && f.line == line && line > 0) return &f;
  }
  return nullptr;
}

bool TriggerFileLeft(const JvmProcess& jvm) {
  const std::string name = ".attach_pid" + std::to_string(jvm.Pid());
  return std::filesystem::exists(jvm.Folder() + "/" + name) ||
         std::filesystem::exists("/tmp/" + name);
}

// Runs `read` in a forked child (after `setup`, e.g. the sandbox) and returns what it reported:
// "ok <threads> <deadlocks> <first deadlock's members> <version>" or "error <status>".
std::string ReadInChild(const std::function<std::string()>& setup, pid_t target) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    std::string report = setup();
    if (report.empty()) {
      procfs::RealProcFs proc("/proc");
      JvmRuntimeReader reader("/proc", proc);
      StatusOr<std::optional<RuntimeStacks>> read = reader.Read(target, RuntimeLimits{});
      std::ostringstream out;
      if (!read.ok()) {
        out << "error " << read.status().ToString();
      } else if (!read->has_value()) {
        out << "not a jvm";
      } else {
        const RuntimeStacks& s = **read;
        out << "ok " << s.stacks.size() << " " << s.deadlocks.size();
        if (!s.deadlocks.empty()) {
          for (const std::string& m : s.deadlocks[0].members) out << " " << m;
        }
        out << " " << s.version;
        if (!s.problems.empty()) out << " problems: " << s.problems[0];
      }
      report = out.str();
    } else {
      report = "setup failed: " + report;
    }
    if (write(fds[1], report.data(), report.size()) < 0) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  waitpid(child, nullptr, 0);
  return text;
}

std::string Sandbox(snapshot::Profile profile, bool allow_jvm_attach) {
  snapshot::SandboxOptions options;
  options.allow_jvm_attach = allow_jvm_attach;
  Status s = snapshot::InstallSandbox(profile, options);
  return s.ok() ? "" : s.ToString();
}

std::string DropTo(uid_t uid, gid_t gid) {
  if (setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 ||
      setresuid(uid, uid, uid) != 0) {
    return "setresuid failed";
  }
  return "";
}

class JvmReaderTest : public testing::TestWithParam<Jdk> {
 protected:
  std::unique_ptr<JvmProcess> StartJvm(JvmOptions options = {}) {
    options.java = GetParam().java;
    options.classes = JVM_PARKED_CLASSES;
    StatusOr<std::unique_ptr<JvmProcess>> jvm = JvmProcess::Start(options);
    EXPECT_TRUE(jvm.ok()) << jvm.status().ToString();
    return jvm.ok() ? std::move(*jvm) : nullptr;
  }
  void RequireRoot() {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (the sandbox; a JVM of another user)";
  }
};

TEST_P(JvmReaderTest, DumpsTheParkedJvmWithoutAWordInItsOutput) {
  std::unique_ptr<JvmProcess> jvm = StartJvm();
  ASSERT_NE(jvm, nullptr);
  procfs::RealProcFs proc("/proc");
  JvmRuntimeReader reader("/proc", proc);
  StatusOr<std::optional<RuntimeStacks>> read = reader.Read(jvm->Pid(), RuntimeLimits{});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_TRUE(read->has_value());
  const RuntimeStacks& s = **read;

  EXPECT_EQ(s.language, "java");
  EXPECT_EQ(s.method, "attach");
  EXPECT_TRUE(s.version.starts_with(GetParam().name.substr(3) + ".")) << s.version;
  EXPECT_GT(s.freeze.count(), 0);
  EXPECT_EQ(s.total, s.stacks.size());
  EXPECT_TRUE(s.problems.empty());

  const RuntimeStack* waiter = Find(s, "parked-object-wait");
  ASSERT_NE(waiter, nullptr);
  EXPECT_EQ(waiter->state, "WAITING");
  const SourceFrame* wait = FrameAtMarker(*waiter, "object-wait");
  ASSERT_NE(wait, nullptr);
  ASSERT_EQ(wait->locks.size(), 1u);
  EXPECT_EQ(wait->locks[0].action, "locked");
  EXPECT_EQ(wait->locks[0].class_name, "java.lang.Object");
  EXPECT_EQ(
      waiter->tid.has_value() && std::filesystem::exists("/proc/" + std::to_string(jvm->Pid()) +
                                                         "/task/" + std::to_string(*waiter->tid)),
      true);

  const RuntimeStack* sleeper = Find(s, "parked-sleep");
  ASSERT_NE(sleeper, nullptr);
  EXPECT_EQ(sleeper->state, "TIMED_WAITING");
  EXPECT_NE(FrameAtMarker(*sleeper, "sleep"), nullptr);

  const RuntimeStack* locker = Find(s, "parked-reentrant-lock");
  ASSERT_NE(locker, nullptr);
  EXPECT_EQ(locker->state, "WAITING");
  EXPECT_NE(FrameAtMarker(*locker, "reentrant-lock"), nullptr);
  ASSERT_FALSE(locker->frames.empty());
  ASSERT_FALSE(locker->frames[0].locks.empty());
  EXPECT_EQ(locker->frames[0].locks[0].action, "parking to wait for");

  for (const char* name : {"deadlock-a", "deadlock-b"}) {
    const RuntimeStack* member = Find(s, name);
    ASSERT_NE(member, nullptr) << name;
    EXPECT_EQ(member->state, "BLOCKED");
    const SourceFrame* blocked = FrameAtMarker(*member, std::string(name));
    ASSERT_NE(blocked, nullptr) << name;
    ASSERT_EQ(blocked->locks.size(), 2u);
    EXPECT_EQ(blocked->locks[0].action, "waiting to lock");
  }
  ASSERT_EQ(s.deadlocks.size(), 1u);
  EXPECT_EQ(s.deadlocks[0].members, (std::vector<std::string>{"deadlock-a", "deadlock-b"}));
  EXPECT_NE(s.deadlocks[0].description.find("which is held by"), std::string::npos);

  std::vector<StackGroup> groups = GroupStacks(s);
  ASSERT_FALSE(groups.empty());
  EXPECT_EQ(groups[0].count, 20u);
  ASSERT_FALSE(groups[0].members.empty());
  EXPECT_TRUE(groups[0].members[0]->name.starts_with("worker-"));
  const int worker_line = MarkerLine(JVM_PARKED_SOURCE, "worker");
  EXPECT_TRUE(std::any_of(groups[0].frames.begin(), groups[0].frames.end(),
                          [&](const SourceFrame& f) { return f.line == worker_line; }));

  EXPECT_FALSE(TriggerFileLeft(*jvm));
  EXPECT_TRUE(jvm->IsAlive());
  EXPECT_EQ(jvm->Output(), "ready\n");  // not a line of the dump
}

TEST_P(JvmReaderTest, AProcessWithoutLibjvmIsNotAJvm) {
  procfs::RealProcFs proc("/proc");
  JvmRuntimeReader reader("/proc", proc);
  StatusOr<std::optional<RuntimeStacks>> read = reader.Read(getpid(), RuntimeLimits{});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(read->has_value());
}

struct Refusal {
  const char* variant;
  std::vector<std::string> jvm_options;
  std::vector<std::string> env;
  const char* reason;
};

TEST_P(JvmReaderTest, AJvmThatMustNotBeSignalledIsNot) {
  const Refusal refusals[] = {
      {"DisableAttachMechanism",
       {"-XX:+DisableAttachMechanism"},
       {},
       "FailedPrecondition: jvm: attach disabled (-XX:+DisableAttachMechanism); no signal sent"},
      {"JAVA_TOOL_OPTIONS",
       {},
       {"JAVA_TOOL_OPTIONS=-XX:+DisableAttachMechanism"},
       "FailedPrecondition: jvm: attach disabled (-XX:+DisableAttachMechanism); no signal sent"},
  };
  for (const Refusal& refusal : refusals) {
    SCOPED_TRACE(refusal.variant);
    JvmOptions options;
    options.jvm_options = refusal.jvm_options;
    options.env = refusal.env;
    std::unique_ptr<JvmProcess> jvm = StartJvm(options);
    ASSERT_NE(jvm, nullptr);
    const std::string before = jvm->Output();
    procfs::RealProcFs proc("/proc");
    JvmRuntimeReader reader("/proc", proc);
    StatusOr<std::optional<RuntimeStacks>> read = reader.Read(jvm->Pid(), RuntimeLimits{});
    EXPECT_EQ(read.status().ToString(), refusal.reason);
    // A SIGQUIT would have killed the -Xrs JVM, or made the others print a dump: give either
    // the time to show.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(jvm->IsAlive());
    EXPECT_EQ(jvm->Output(), before);
    EXPECT_EQ(jvm->Output().find("Full thread dump"), std::string::npos);
    EXPECT_FALSE(TriggerFileLeft(*jvm));
  }
}

// -Xrs (ReduceSignalUsage) makes HotSpot start its attach listener at startup, since no signal
// could: the reader connects without signalling. With that socket gone, only a SIGQUIT could
// start a listener, and SIGQUIT would kill this JVM: the reader refuses.
TEST_P(JvmReaderTest, AJvmWithoutASigquitHandlerIsReadThroughItsListenerOrNotAtAll) {
  JvmOptions options;
  options.jvm_options = {"-Xrs"};
  std::unique_ptr<JvmProcess> jvm = StartJvm(options);
  ASSERT_NE(jvm, nullptr);
  const std::string socket = "/tmp/.java_pid" + std::to_string(jvm->Pid());
  ASSERT_TRUE(std::filesystem::exists(socket)) << "-Xrs starts the listener at startup";
  procfs::RealProcFs proc("/proc");
  JvmRuntimeReader reader("/proc", proc);
  StatusOr<std::optional<RuntimeStacks>> read = reader.Read(jvm->Pid(), RuntimeLimits{});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_TRUE(read->has_value());
  EXPECT_NE(Find(**read, "parked-sleep"), nullptr);

  ASSERT_TRUE(std::filesystem::remove(socket));
  read = reader.Read(jvm->Pid(), RuntimeLimits{});
  EXPECT_EQ(read.status().ToString(),
            "FailedPrecondition: jvm: the JVM does not catch SIGQUIT (-Xrs or "
            "-XX:+ReduceSignalUsage); no signal sent");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(jvm->IsAlive());
  EXPECT_EQ(jvm->Output(), "ready\n");
  EXPECT_FALSE(TriggerFileLeft(*jvm));
}

TEST_P(JvmReaderTest, InTheSandboxTheAttachNeedsTheAllowance) {
  RequireRoot();
  if (snapshot::kSanitizerBuild) GTEST_SKIP() << "sanitizer build: the sandbox is partial";
  {
    std::unique_ptr<JvmProcess> jvm = StartJvm();
    ASSERT_NE(jvm, nullptr);
    const std::string report =
        ReadInChild([] { return Sandbox(snapshot::Profile::kPtrace, false); }, jvm->Pid());
    EXPECT_TRUE(report.starts_with("error PermissionDenied: jvm: EPERM")) << report;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(jvm->IsAlive());
    EXPECT_EQ(jvm->Output(), "ready\n");
  }
  std::unique_ptr<JvmProcess> jvm = StartJvm();
  ASSERT_NE(jvm, nullptr);
  const std::string report =
      ReadInChild([] { return Sandbox(snapshot::Profile::kPtrace, true); }, jvm->Pid());
  EXPECT_TRUE(report.starts_with("ok ")) << report;
  EXPECT_NE(report.find(" 1 deadlock-a deadlock-b "), std::string::npos) << report;
  EXPECT_FALSE(TriggerFileLeft(*jvm));
  EXPECT_EQ(jvm->Output(), "ready\n");
}

TEST_P(JvmReaderTest, TheRestrictedProfileAttachesAsTheJvmsOwnUser) {
  RequireRoot();
  if (snapshot::kSanitizerBuild) GTEST_SKIP() << "sanitizer build: the sandbox is partial";
  JvmOptions options;
  options.run_as_uid = kNobody;
  options.run_as_gid = kNogroup;
  std::unique_ptr<JvmProcess> jvm = StartJvm(options);
  ASSERT_NE(jvm, nullptr);
  // Root without CAP_KILL and CAP_DAC_OVERRIDE (the ptrace profile) may not signal it.
  const std::string as_root =
      ReadInChild([] { return Sandbox(snapshot::Profile::kPtrace, true); }, jvm->Pid());
  EXPECT_EQ(as_root,
            "error FailedPrecondition: jvm: the kernel does not let the tool signal the JVM "
            "(EPERM); no signal sent");
  const std::string report = ReadInChild(
      [] {
        std::string dropped = DropTo(kNobody, kNogroup);
        return dropped.empty() ? Sandbox(snapshot::Profile::kRestricted, true) : dropped;
      },
      jvm->Pid());
  EXPECT_TRUE(report.starts_with("ok ")) << report;
  EXPECT_NE(report.find(" 1 deadlock-a deadlock-b "), std::string::npos) << report;
  EXPECT_FALSE(TriggerFileLeft(*jvm));
  EXPECT_EQ(jvm->Output(), "ready\n");
}

INSTANTIATE_TEST_SUITE_P(Jdks, JvmReaderTest, testing::ValuesIn(InstalledJdks()),
                         [](const testing::TestParamInfo<Jdk>& param) { return param.param.name; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(JvmReaderTest);

}  // namespace
}  // namespace ephemera::runtimes::jvm
