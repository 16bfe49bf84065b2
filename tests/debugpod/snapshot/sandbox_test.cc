// Component tests of the snapshot tool's sandbox on the real kernel: a forked child installs it
// (InstallSandbox, LimitAddressSpace) and then tries what the tool must not be able to do, each
// attempt in a child of its own so that one that succeeds (an exec, a new namespace) changes
// nothing for the next. Every test first runs the same attempts without the sandbox, to show that
// they succeed (or at least reach the kernel) here: that is what makes the test fail on a tool
// without the sandbox. Run as root on the build host; skipped otherwise.
#include "debugpod/snapshot/sandbox.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "debugpod/snapshot/budget.h"

namespace ephemera::snapshot {
namespace {

// An attempt: 0 when the call succeeded, otherwise the errno it failed with.
using Attempt = std::function<int()>;
// What an attempt ended with: its result, or -signal when the kernel killed it.
using Outcomes = std::map<std::string, int>;

constexpr int kKilledBySigsys = -SIGSYS;
constexpr int kNoOutcome = -2000;

// The outcome of `name`, or kNoOutcome when the child that ran it did not report one.
int Get(const Outcomes& outcomes, const std::string& name) {
  auto it = outcomes.find(name);
  return it == outcomes.end() ? kNoOutcome : it->second;
}

int ErrnoOf(long result) { return result < 0 ? errno : 0; }

// Runs `attempt` in a child and returns what it returned (or -signal).
int RunAttempt(const Attempt& attempt) {
  pid_t pid = fork();
  if (pid == 0) _exit(attempt() & 0x7f);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1000;
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

// Runs `setup` then every attempt in a child, and returns each outcome by name. `setup` returns
// an empty string on success or what went wrong (reported as the outcome "setup").
Outcomes RunAttempts(const std::function<std::string()>& setup,
                     const std::vector<std::pair<std::string, Attempt>>& attempts) {
  int fds[2];
  if (pipe(fds) != 0) return {{"pipe", errno}};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string failure = setup();
    std::ostringstream out;
    if (!failure.empty()) {
      out << "setup 1 " << failure << "\n";
    } else {
      for (const auto& [name, attempt] : attempts) {
        out << name << " " << RunAttempt(attempt) << "\n";
      }
    }
    const std::string text = out.str();
    if (write(fds[1], text.data(), text.size()) != static_cast<ssize_t>(text.size())) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  Outcomes outcomes;
  std::istringstream in(text);
  std::string name;
  int code;
  while (in >> name >> code) {
    outcomes[name] = code;
    std::string rest;
    std::getline(in, rest);
    if (name == "setup") ADD_FAILURE() << "setup failed:" << rest;
  }
  return outcomes;
}

std::string Install(Profile profile) {
  Status s = InstallSandbox(profile);
  return s.ok() ? "" : s.message();
}

// A file handle for a directory, taken before the sandbox: open_by_handle_at is then tried with
// it, as the "shocker" read would.
struct HandleFixture {
  int mount_fd = -1;
  std::vector<unsigned char> storage = std::vector<unsigned char>(sizeof(file_handle) + 128);
  file_handle* Handle() { return reinterpret_cast<file_handle*>(storage.data()); }
  int Take(const std::string& dir) {
    mount_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    Handle()->handle_bytes = 128;
    int mount_id = 0;
    return ErrnoOf(name_to_handle_at(AT_FDCWD, dir.c_str(), Handle(), &mount_id, 0));
  }
};

// A child that waits until its pipe closes. The sandbox lets kill send only a few signals, so
// it is ended by closing the pipe (after a detach, if it was left stopped under ptrace).
struct SleepingChild {
  pid_t pid = -1;
  int pipe_fd = -1;
};

SleepingChild StartSleepingChild() {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[1]);
    char c;
    while (read(fds[0], &c, 1) != 0) {
    }
    _exit(0);
  }
  close(fds[0]);
  return {pid, fds[1]};
}

void Reap(const SleepingChild& child) {
  if (kill(child.pid, SIGKILL) != 0) ptrace(PTRACE_DETACH, child.pid, nullptr, nullptr);
  close(child.pipe_fd);
  waitpid(child.pid, nullptr, 0);
}

volatile long poke_target = 7;

// Seizes a child, stops it and reads its registers, as the stack capture does; then, if asked,
// reads or writes its memory with ptrace (which the capture never does).
int PtraceChild(std::optional<int> extra_request) {
  const SleepingChild sleeper = StartSleepingChild();
  const pid_t child = sleeper.pid;
  int result = 0;
  int status = 0;
  if (ptrace(PTRACE_SEIZE, child, nullptr, nullptr) != 0 ||
      ptrace(PTRACE_INTERRUPT, child, nullptr, nullptr) != 0 ||
      waitpid(child, &status, __WALL) != child) {
    result = errno;
  } else {
    user_regs_struct regs{};
    iovec iov{&regs, sizeof regs};
    if (ptrace(PTRACE_GETREGSET, child, reinterpret_cast<void*>(1), &iov) != 0) result = errno;
    if (result == 0 && extra_request) {
      errno = 0;
      long r = ptrace(static_cast<__ptrace_request>(*extra_request), child,
                      const_cast<long*>(&poke_target), reinterpret_cast<void*>(42));
      if (r == -1 && errno != 0) result = errno;
    }
    if (result == 0 && ptrace(PTRACE_DETACH, child, nullptr, nullptr) != 0) result = errno;
  }
  Reap(sleeper);
  return result;
}

std::vector<std::pair<std::string, Attempt>> ForbiddenAttempts(HandleFixture& handle,
                                                               const std::string& scratch) {
  return {
      {"open_by_handle_at",
       [&handle] {
         int fd = open_by_handle_at(handle.mount_fd, handle.Handle(), O_RDONLY);
         return ErrnoOf(fd);
       }},
      {"name_to_handle_at", [scratch] { return HandleFixture().Take(scratch); }},
      {"execve",
       [] {
         const char* argv[] = {"/bin/true", nullptr};
         execve("/bin/true", const_cast<char**>(argv), environ);
         return errno;
       }},
      {"execveat",
       [] {
         const char* argv[] = {"/bin/true", nullptr};
         syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, environ, 0);
         return errno;
       }},
      {"socket_inet", [] { return ErrnoOf(socket(AF_INET, SOCK_STREAM, 0)); }},
      {"socket_inet6", [] { return ErrnoOf(socket(AF_INET6, SOCK_DGRAM, 0)); }},
      {"socket_unix", [] { return ErrnoOf(socket(AF_UNIX, SOCK_STREAM, 0)); }},
      {"socket_netlink", [] { return ErrnoOf(socket(AF_NETLINK, SOCK_RAW, 0)); }},
      {"socketpair",
       [] {
         int sv[2];
         return ErrnoOf(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
       }},
      {"open_for_writing",
       [scratch] { return ErrnoOf(open((scratch + "/w").c_str(), O_WRONLY | O_CREAT, 0600)); }},
      {"openat_for_writing",
       [scratch] {
         return ErrnoOf(openat(AT_FDCWD, (scratch + "/rw").c_str(), O_RDWR | O_CREAT, 0600));
       }},
      {"mkdir", [scratch] { return ErrnoOf(mkdir((scratch + "/d").c_str(), 0700)); }},
      {"unshare_user", [] { return ErrnoOf(unshare(CLONE_NEWUSER)); }},
      {"clone_new_user",
       [] {
         long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
         if (pid == 0) _exit(0);
         if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
         return ErrnoOf(pid);
       }},
      {"process_vm_writev",
       [] {
         long value = 1;
         long copy = 2;
         iovec local{&copy, sizeof copy};
         iovec remote{&value, sizeof value};
         return ErrnoOf(process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
       }},
      {"ptrace_pokedata", [] { return PtraceChild(PTRACE_POKEDATA); }},
      {"ptrace_peekdata", [] { return PtraceChild(PTRACE_PEEKDATA); }},
      {"keyctl",
       [] {
         return ErrnoOf(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
       }},
  };
}

// What the capture needs: reading files and /proc, threads, and (ptrace profile) the four ptrace
// requests and process_vm_readv.
std::vector<std::pair<std::string, Attempt>> NeededAttempts() {
  return {
      {"open_for_reading", [] { return ErrnoOf(open("/proc/self/status", O_RDONLY)); }},
      {"thread",
       [] {
         bool ran = false;
         std::thread([&ran] { ran = true; }).join();
         return ran ? 0 : 99;
       }},
      {"ptrace_capture", [] { return PtraceChild(std::nullopt); }},
      {"process_vm_readv",
       [] {
         long value = 1;
         long copy = 0;
         iovec local{&copy, sizeof copy};
         iovec remote{&value, sizeof value};
         return ErrnoOf(process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
       }},
  };
}

class SandboxTest : public testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (the tool's ptrace profile runs as root)";
    std::string pattern = (std::filesystem::temp_directory_path() / "sandbox-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    scratch_ = pattern;
  }
  void TearDown() override {
    if (!scratch_.empty()) std::filesystem::remove_all(scratch_);
  }
  std::string scratch_;
};

TEST_F(SandboxTest, AfterInstallTheToolCannotUseHandlesExecSocketsOrWrite) {
  HandleFixture handle;
  auto attempts = ForbiddenAttempts(handle, scratch_);
  const std::string dir = scratch_;
  Outcomes without = RunAttempts(
      [&] { return handle.Take(dir) == 0 ? std::string() : "name_to_handle_at"; }, attempts);
  // The assumption that makes this test fail on a tool without the filter: as root with
  // CAP_DAC_READ_SEARCH, each of these succeeds here.
  for (const auto& [name, attempt] : attempts) {
    ASSERT_EQ(Get(without, name), 0)
        << name << " fails even without the sandbox (errno " << Get(without, name)
        << "): the test cannot tell the filter works";
  }
  std::filesystem::remove_all(scratch_);
  std::filesystem::create_directory(scratch_);

  Outcomes with = RunAttempts(
      [&] { return handle.Take(dir) == 0 ? Install(Profile::kPtrace) : "name_to_handle_at"; },
      attempts);
  for (const auto& [name, attempt] : attempts) {
    EXPECT_EQ(Get(with, name), EPERM) << name;
  }
  EXPECT_TRUE(std::filesystem::is_empty(scratch_));
}

TEST_F(SandboxTest, PtraceProfileKeepsWhatTheCaptureNeeds) {
  Outcomes with = RunAttempts([] { return Install(Profile::kPtrace); }, NeededAttempts());
  for (const auto& [name, attempt] : NeededAttempts()) EXPECT_EQ(Get(with, name), 0) << name;
}

TEST_F(SandboxTest, RestrictedProfileCannotPtraceOrReadOtherMemory) {
  if (kSanitizerBuild) GTEST_SKIP() << "sanitizer build: LeakSanitizer needs ptrace";
  const std::vector<std::pair<std::string, Attempt>> all = NeededAttempts();
  Outcomes without = RunAttempts([] { return std::string(); }, all);
  Outcomes with = RunAttempts([] { return Install(Profile::kRestricted); }, all);
  EXPECT_EQ(Get(without, "ptrace_capture"), 0);
  EXPECT_EQ(Get(without, "process_vm_readv"), 0);
  EXPECT_EQ(Get(with, "ptrace_capture"), EPERM);
  EXPECT_EQ(Get(with, "process_vm_readv"), EPERM);
  EXPECT_EQ(Get(with, "open_for_reading"), 0);
  EXPECT_EQ(Get(with, "thread"), 0);
}

TEST_F(SandboxTest, CloneThreeAndOpenatTwoFallBack) {
  std::vector<std::pair<std::string, Attempt>> attempts = {
      {"clone3", [] { return ErrnoOf(syscall(SYS_clone3, nullptr, 0)); }},
      {"openat2", [] { return ErrnoOf(syscall(SYS_openat2, AT_FDCWD, "/", nullptr, 0)); }},
  };
  Outcomes without = RunAttempts([] { return std::string(); }, attempts);
  Outcomes with = RunAttempts([] { return Install(Profile::kPtrace); }, attempts);
  EXPECT_NE(Get(without, "clone3"), ENOSYS);  // the kernel has clone3: the filter makes it ENOSYS
  EXPECT_EQ(Get(with, "clone3"), ENOSYS);
  EXPECT_NE(Get(without, "openat2"), ENOSYS);
  EXPECT_EQ(Get(with, "openat2"), ENOSYS);
}

#if defined(__x86_64__)
TEST_F(SandboxTest, AnX32CallKillsTheProcess) {
  std::vector<std::pair<std::string, Attempt>> attempts = {
      {"x32_getpid", [] { return ErrnoOf(syscall(__X32_SYSCALL_BIT + SYS_getpid)); }},
  };
  Outcomes without = RunAttempts([] { return std::string(); }, attempts);
  Outcomes with = RunAttempts([] { return Install(Profile::kPtrace); }, attempts);
  EXPECT_NE(Get(without, "x32_getpid"), kKilledBySigsys);
  EXPECT_EQ(Get(with, "x32_getpid"), kKilledBySigsys);
}
#endif

std::string InstallWithJvmAttach(Profile profile) {
  SandboxOptions options;
  options.allow_jvm_attach = true;
  Status s = InstallSandbox(profile, options);
  return s.ok() ? "" : s.message();
}

// A child that ignores SIGQUIT and SIGTERM's absence alike: it waits for its pipe to close.
// Sends `signal` to it with kill, then ends it by closing the pipe (the sandbox may refuse
// SIGKILL). Returns kill's result.
int KillChildWith(int signal) {
  int fds[2];
  if (pipe(fds) != 0) return 1000;
  ::signal(SIGQUIT, SIG_IGN);  // inherited: a SIGQUIT that gets through does not end the child
  pid_t child = fork();
  if (child == 0) {
    close(fds[1]);
    char c;
    while (read(fds[0], &c, 1) > 0) {
    }
    _exit(0);
  }
  close(fds[0]);
  const int result = ErrnoOf(kill(child, signal));
  close(fds[1]);
  waitpid(child, nullptr, 0);
  return result;
}

// As KillChildWith, through pidfd_open and pidfd_send_signal. Returns pidfd_send_signal's result.
int PidfdSignalChildWith(int signal) {
  int fds[2];
  if (pipe(fds) != 0) return 1000;
  ::signal(SIGQUIT, SIG_IGN);
  pid_t child = fork();
  if (child == 0) {
    close(fds[1]);
    char c;
    while (read(fds[0], &c, 1) > 0) {
    }
    _exit(0);
  }
  close(fds[0]);
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
  const int result =
      pidfd < 0 ? 1001 : ErrnoOf(syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
  if (pidfd >= 0) close(pidfd);
  close(fds[1]);
  waitpid(child, nullptr, 0);
  return result;
}

// A Unix stream socket listening at `path` (before the sandbox, in the test process).
int Listen(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 8) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// The socket form the jvm reader uses.
constexpr int kAttachSocketType = SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK;

int ConnectTo(const std::string& path) {
  int fd = socket(AF_UNIX, kAttachSocketType, 0);
  if (fd < 0) return errno;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  const int result = ErrnoOf(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address));
  close(fd);
  return result;
}

// What the JVM attach needs (debugpod/runtimes/jvm), in exactly the forms the reader uses.
std::vector<std::pair<std::string, Attempt>> JvmAttachAttempts(const std::string& scratch) {
  return {
      {"unix_stream_socket",
       [] {
         int fd = socket(AF_UNIX, kAttachSocketType, 0);
         if (fd >= 0) close(fd);
         return ErrnoOf(fd);
       }},
      {"connect_unix", [scratch] { return ConnectTo(scratch + "/listener"); }},
      {"mknodat_empty_file",
       [scratch] {
         return ErrnoOf(mknodat(AT_FDCWD, (scratch + "/trigger").c_str(), S_IFREG | 0600, 0));
       }},
      {"unlinkat_file",
       [scratch] { return ErrnoOf(unlinkat(AT_FDCWD, (scratch + "/victim").c_str(), 0)); }},
      {"pidfd_sigquit", [] { return PidfdSignalChildWith(SIGQUIT); }},
  };
}

// Near relatives of those that must stay refused with the allowance on.
std::vector<std::pair<std::string, Attempt>> NotJvmAttachAttempts(const std::string& scratch) {
  return {
      {"socket_inet_stream",
       [] { return ErrnoOf(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)); }},
      {"socket_unix_dgram", [] { return ErrnoOf(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)); }},
      {"socket_netlink_raw",
       [] { return ErrnoOf(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0)); }},
      {"bind_unix",
       [scratch] {
         int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
         sockaddr_un address{};
         address.sun_family = AF_UNIX;
         std::snprintf(address.sun_path, sizeof address.sun_path, "%s",
                       (scratch + "/bound").c_str());
         return ErrnoOf(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address));
       }},
      {"mknodat_fifo",
       [scratch] {
         return ErrnoOf(mknodat(AT_FDCWD, (scratch + "/fifo").c_str(), S_IFIFO | 0600, 0));
       }},
      {"mknodat_world_readable",
       [scratch] {
         return ErrnoOf(mknodat(AT_FDCWD, (scratch + "/wide").c_str(), S_IFREG | 0644, 0));
       }},
      {"unlinkat_folder",
       [scratch] {
         return ErrnoOf(unlinkat(AT_FDCWD, (scratch + "/folder").c_str(), AT_REMOVEDIR));
       }},
      {"socket_unix_stream_blocking",
       [] { return ErrnoOf(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)); }},
      {"kill_sigquit", [] { return KillChildWith(SIGQUIT); }},
      {"kill_sigterm", [] { return KillChildWith(SIGTERM); }},
      {"pidfd_sigterm", [] { return PidfdSignalChildWith(SIGTERM); }},
      {"kill_sigkill", [] { return KillChildWith(SIGKILL); }},
      {"tgkill_other",
       [] {
         rlimit no_core{0, 0};
         setrlimit(RLIMIT_CORE, &no_core);  // inherited: the SIGQUIT below dumps no core
         pid_t child = fork();
         if (child == 0) {
           pause();
           _exit(0);
         }
         const int result = ErrnoOf(syscall(SYS_tgkill, child, child, SIGTERM));
         if (result != 0) {  // SIGQUIT through a pidfd is let through; it ends the child
           const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
           syscall(SYS_pidfd_send_signal, pidfd, SIGQUIT, nullptr, 0);
           close(pidfd);
         }
         waitpid(child, nullptr, 0);
         return result;
       }},
      {"open_for_writing",
       [scratch] { return ErrnoOf(open((scratch + "/w").c_str(), O_WRONLY | O_CREAT, 0600)); }},
  };
}

class JvmAttachSandboxTest : public SandboxTest {
 protected:
  void SetUp() override {
    SandboxTest::SetUp();
    if (IsSkipped()) return;
    listener_ = Listen(scratch_ + "/listener");
    ASSERT_GE(listener_, 0);
  }
  void TearDown() override {
    if (listener_ >= 0) close(listener_);
    SandboxTest::TearDown();
  }
  // The files the attempts work on, made afresh before each run.
  void MakeFiles() {
    std::filesystem::remove(scratch_ + "/trigger");
    std::filesystem::remove(scratch_ + "/bound");
    std::filesystem::remove(scratch_ + "/fifo");
    std::filesystem::remove(scratch_ + "/wide");
    std::filesystem::remove(scratch_ + "/w");
    std::filesystem::create_directory(scratch_ + "/folder");
    FILE* f = fopen((scratch_ + "/victim").c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
  }
  int listener_ = -1;
};

TEST_F(JvmAttachSandboxTest, WithoutTheAllowanceTheAttachIsRefused) {
  if (kSanitizerBuild) GTEST_SKIP() << "sanitizer build: signals are not limited";
  const auto attempts = JvmAttachAttempts(scratch_);
  MakeFiles();
  Outcomes without = RunAttempts([] { return std::string(); }, attempts);
  MakeFiles();
  Outcomes with = RunAttempts([] { return Install(Profile::kPtrace); }, attempts);
  for (const auto& [name, attempt] : attempts) {
    ASSERT_EQ(Get(without, name), 0) << name << " fails even without the sandbox";
    EXPECT_EQ(Get(with, name), EPERM) << name;
  }
  EXPECT_TRUE(std::filesystem::exists(scratch_ + "/victim"));
}

TEST_F(JvmAttachSandboxTest, TheAllowanceLetsThroughTheAttachInItsNarrowForms) {
  const auto attempts = JvmAttachAttempts(scratch_);
  for (Profile profile : {Profile::kPtrace, Profile::kRestricted}) {
    MakeFiles();
    Outcomes with = RunAttempts([profile] { return InstallWithJvmAttach(profile); }, attempts);
    for (const auto& [name, attempt] : attempts) {
      EXPECT_EQ(Get(with, name), 0) << name << " (" << ProfileName(profile) << ")";
    }
    EXPECT_EQ(std::filesystem::status(scratch_ + "/trigger").type(),
              std::filesystem::file_type::regular);
    EXPECT_EQ(std::filesystem::file_size(scratch_ + "/trigger"), 0u);
    EXPECT_FALSE(std::filesystem::exists(scratch_ + "/victim"));
  }
}

TEST_F(JvmAttachSandboxTest, WithTheAllowanceOtherSocketsFilesAndSignalsStayRefused) {
  if (kSanitizerBuild) GTEST_SKIP() << "sanitizer build: signals are not limited";
  const auto attempts = NotJvmAttachAttempts(scratch_);
  MakeFiles();
  Outcomes without = RunAttempts([] { return std::string(); }, attempts);
  for (const auto& [name, attempt] : attempts) {
    ASSERT_EQ(Get(without, name), 0) << name << " fails even without the sandbox";
  }
  MakeFiles();
  Outcomes with = RunAttempts([] { return InstallWithJvmAttach(Profile::kPtrace); }, attempts);
  for (const auto& [name, attempt] : attempts) EXPECT_EQ(Get(with, name), EPERM) << name;
  EXPECT_TRUE(std::filesystem::is_directory(scratch_ + "/folder"));
  EXPECT_FALSE(std::filesystem::exists(scratch_ + "/w"));

  // Everything the default sandbox refuses, it still refuses.
  HandleFixture handle;
  auto forbidden = ForbiddenAttempts(handle, scratch_);
  const std::string dir = scratch_;
  Outcomes also = RunAttempts(
      [&] {
        return handle.Take(dir) == 0 ? InstallWithJvmAttach(Profile::kPtrace) : "name_to_handle_at";
      },
      forbidden);
  for (const auto& [name, attempt] : forbidden) EXPECT_EQ(Get(also, name), EPERM) << name;
}

// kill with a pid of 0 or below signals a process group or every process the tool may signal;
// a pid wider than 32 bits would be truncated by the kernel. Each attempt runs in a process group
// of its own with SIGQUIT ignored, so a filter that let one through would signal only itself
// (or probe, with signal 0, without sending anything).
TEST_F(JvmAttachSandboxTest, KillReachesOneProcessOnly) {
  if (kSanitizerBuild) GTEST_SKIP() << "sanitizer build: signals are not limited";
  const std::vector<std::pair<std::string, Attempt>> attempts = {
      {"kill_all_probe", [] { return ErrnoOf(kill(-1, 0)); }},
      {"kill_own_group_sigquit",
       [] {
         setpgid(0, 0);
         ::signal(SIGQUIT, SIG_IGN);
         return ErrnoOf(kill(0, SIGQUIT));
       }},
      {"kill_group_sigquit",
       [] {
         setpgid(0, 0);
         ::signal(SIGQUIT, SIG_IGN);
         return ErrnoOf(kill(-getpid(), SIGQUIT));
       }},
      {"kill_wide_pid_probe", [] { return ErrnoOf(syscall(SYS_kill, 0x100000001L, 0)); }},
  };
  const std::vector<std::pair<std::string, Attempt>> allowed = {
      {"kill_self_probe", [] { return ErrnoOf(kill(getpid(), 0)); }},
  };
  const std::vector<std::pair<std::string, std::function<std::string()>>> setups = {
      {"default", [] { return Install(Profile::kPtrace); }},
      {"jvm_attach_ptrace", [] { return InstallWithJvmAttach(Profile::kPtrace); }},
      {"jvm_attach_restricted", [] { return InstallWithJvmAttach(Profile::kRestricted); }},
  };
  for (const auto& [setup_name, setup] : setups) {
    Outcomes refused = RunAttempts(setup, attempts);
    for (const auto& [name, attempt] : attempts) {
      EXPECT_EQ(Get(refused, name), EPERM) << name << " (" << setup_name << ")";
    }
    Outcomes ok = RunAttempts(setup, allowed);
    EXPECT_EQ(Get(ok, "kill_self_probe"), 0) << setup_name;
  }
}

// /proc/self/status as "Name value" pairs, for the capability and no_new_privs lines.
std::map<std::string, std::string> ReadStatus() {
  std::map<std::string, std::string> fields;
  FILE* f = fopen("/proc/self/status", "r");
  if (f == nullptr) return fields;
  char line[512];
  while (fgets(line, sizeof line, f) != nullptr) {
    std::istringstream in(line);
    std::string key;
    std::string value;
    in >> key >> value;
    if (!key.empty()) fields[key.substr(0, key.size() - 1)] = value;
  }
  fclose(f);
  return fields;
}

// Runs `setup` in a child and returns the status fields it then sees, as a "k=v k=v" string.
std::string StatusAfter(const std::function<std::string()>& setup) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string failure = setup();
    std::string text = "setup=" + (failure.empty() ? std::string("ok") : "failed");
    for (const auto& [k, v] : ReadStatus()) {
      if (k.starts_with("Cap") || k == "NoNewPrivs" || k == "Seccomp") {
        text.append(" ").append(k).append("=").append(v);
      }
    }
    if (write(fds[1], text.data(), text.size()) < 0) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[1024];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return text;
}

TEST_F(SandboxTest, PtraceProfileKeepsOnlyPtraceAndReadSearch) {
  // CAP_DAC_READ_SEARCH is 2 and CAP_SYS_PTRACE 19: 0x80004.
  EXPECT_EQ(StatusAfter([] { return Install(Profile::kPtrace); }),
            "setup=ok CapAmb=0000000000000000 CapBnd=0000000000080004 CapEff=0000000000080004 "
            "CapInh=0000000000000000 CapPrm=0000000000080004 NoNewPrivs=1 Seccomp=2");
}

TEST_F(SandboxTest, RestrictedProfileKeepsNoCapability) {
  EXPECT_EQ(StatusAfter([] { return Install(Profile::kRestricted); }),
            "setup=ok CapAmb=0000000000000000 CapBnd=0000000000000000 CapEff=0000000000000000 "
            "CapInh=0000000000000000 CapPrm=0000000000000000 NoNewPrivs=1 Seccomp=2");
}

TEST_F(SandboxTest, RefusesToInstallWithASecondThreadRunning) {
  Outcomes outcomes = RunAttempts([] { return std::string(); },
                                  {{"second_thread", [] {
                                      std::atomic<bool> stop{false};
                                      std::thread other([&stop] {
                                        while (!stop) std::this_thread::yield();
                                      });
                                      Status s = InstallSandbox(Profile::kPtrace);
                                      stop = true;
                                      other.join();
                                      return s.code() == StatusCode::kFailedPrecondition ? 0 : 99;
                                    }}});
  EXPECT_EQ(Get(outcomes, "second_thread"), 0);
}

// Maps `bytes` of anonymous memory (reserved, not touched): 0 or the errno.
int MapAnonymous(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return errno;
  munmap(p, bytes);
  return 0;
}

TEST_F(SandboxTest, AddressSpaceLimitStopsAnAllocationBeyondIt) {
  if (kSanitizerBuild) GTEST_SKIP() << "sanitizer build: ASan's shadow memory rules out RLIMIT_AS";
  constexpr size_t kBeyond = size_t{2} << 30;
  constexpr size_t kNormal = size_t{64} << 20;
  std::vector<std::pair<std::string, Attempt>> attempts = {
      {"beyond", [] { return MapAnonymous(kBeyond); }},
      {"normal", [] { return MapAnonymous(kNormal); }},
      {"hard_limit_is_set",
       [] {
         rlimit limit{};
         getrlimit(RLIMIT_AS, &limit);
         return limit.rlim_max == kAddressSpaceLimitBytes ? 0 : 99;
       }},
  };
  Outcomes without = RunAttempts([] { return std::string(); }, attempts);
  ASSERT_EQ(Get(without, "beyond"), 0) << "this machine refuses a 2 GiB reservation anyway";
  Outcomes with = RunAttempts(
      [] {
        Status s = LimitAddressSpace(kAddressSpaceLimitBytes);
        return s.ok() ? std::string() : s.message();
      },
      attempts);
  EXPECT_EQ(Get(with, "beyond"), ENOMEM);
  EXPECT_EQ(Get(with, "normal"), 0);
  EXPECT_EQ(Get(with, "hard_limit_is_set"), 0);
}

// The memory budget's backstop: RLIMIT_DATA at the budget + the margin refuses a private writable
// mapping beyond it and leaves one of a normal unit of work alone; the CPU budget's backstop sets
// RLIMIT_CPU's soft and hard limits.
TEST_F(SandboxTest, BudgetBackstopsAreTheKernelsLimits) {
  if (kSanitizerBuild) GTEST_SKIP() << "sanitizer build: ASan's shadow memory counts as data";
  const auto data_limit = static_cast<size_t>(DataBackstopBytesFor(std::int64_t{64} << 20));
  std::vector<std::pair<std::string, Attempt>> attempts = {
      {"beyond", [data_limit] { return MapAnonymous(data_limit + (size_t{64} << 20)); }},
      {"normal", [] { return MapAnonymous(size_t{128} << 20); }},
      {"cpu_limits_are_set",
       [] {
         rlimit limit{};
         getrlimit(RLIMIT_CPU, &limit);
         return limit.rlim_cur == 2 && limit.rlim_max == 3 ? 0 : 99;
       }},
  };
  Outcomes without = RunAttempts([] { return std::string(); }, attempts);
  ASSERT_EQ(Get(without, "beyond"), 0) << "this machine refuses the mapping anyway";
  Outcomes with = RunAttempts(
      [data_limit] {
        Status data = LimitDataSize(data_limit);
        if (!data.ok()) return data.message();
        CpuBackstop cpu = CpuBackstopFor(std::chrono::milliseconds(500));
        Status limited = LimitCpuTime(cpu.soft, cpu.hard);
        return limited.ok() ? std::string() : limited.message();
      },
      attempts);
  EXPECT_EQ(Get(with, "beyond"), ENOMEM);
  EXPECT_EQ(Get(with, "normal"), 0);
  EXPECT_EQ(Get(with, "cpu_limits_are_set"), 0);
}

}  // namespace
}  // namespace ephemera::snapshot
