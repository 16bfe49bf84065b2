// Component tests of JvmRuntimeReader against a hostile target, with no JVM: a fixture /proc tree
// (<root>/<pid>/{maps,status,…}, <pid>/root/tmp) that says "HotSpot" for a real child process
// which ignores SIGQUIT and reports whether it got one. The target controls its /tmp, so these
// put there what a hostile target could: a listening socket whose backlog it filled, a symlink to
// the tool's side, a FIFO in place of the perf-data file. Each Read runs in a forked child with a
// 2-second limit, so a reader that blocks fails the test instead of hanging it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/runtimes/jvm/jvm_runtime_reader.h"
#include "debugpod/runtimes/runtime_stacks.h"

namespace ephemera::runtimes::jvm {
namespace {

using Clock = std::chrono::steady_clock;

// A child that stands in for the JVM: catches SIGQUIT and reports it through a pipe, and ends
// when its control pipe closes. The constructor returns once the child's handler is installed.
class FakeJvm {
 public:
  FakeJvm() {
    int control[2];
    int quits[2];
    if (pipe(control) != 0 || pipe2(quits, O_NONBLOCK | O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(control[1]);
      close(quits[0]);
      quit_fd_ = quits[1];
      struct sigaction action {};
      action.sa_handler = [](int) {
        const char c = 'q';
        if (write(quit_fd_, &c, 1) < 0) _exit(3);
      };
      sigaction(SIGQUIT, &action, nullptr);
      // Only now may the test go on: a SIGQUIT before the handler would kill this process.
      const char ready = 'r';
      if (write(quit_fd_, &ready, 1) < 0) _exit(3);
      char c;
      while (read(control[0], &c, 1) != 0) {
      }
      _exit(0);
    }
    close(control[0]);
    close(quits[1]);
    control_ = control[1];
    quits_ = quits[0];
    if (pid_ <= 0) return;
    // Wait (up to 30 s on a loaded machine) for the child to catch SIGQUIT; Pid() is -1 otherwise.
    pollfd p{quits_, POLLIN, 0};
    char ready = 0;
    if (poll(&p, 1, 30000) <= 0 || read(quits_, &ready, 1) != 1 || ready != 'r') {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  FakeJvm(const FakeJvm&) = delete;
  FakeJvm& operator=(const FakeJvm&) = delete;
  ~FakeJvm() {
    if (control_ >= 0) close(control_);
    if (quits_ >= 0) close(quits_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  pid_t Pid() const { return pid_; }
  // Whether the fake JVM caught a SIGQUIT, waiting up to 2 s for it (a loaded machine may run
  // its handler late).
  bool GotSigquit() const {
    pollfd p{quits_, POLLIN, 0};
    int ready = 0;
    do {
      ready = poll(&p, 1, 2000);
    } while (ready < 0 && errno == EINTR);
    if (ready <= 0) return false;
    char c;
    return read(quits_, &c, 1) == 1;
  }

 private:
  static inline int quit_fd_ = -1;
  pid_t pid_ = -1;
  int control_ = -1;
  int quits_ = -1;
};

// A temporary folder, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "jvm-hostile-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (!path_.empty()) std::filesystem::remove_all(path_);
  }
  const std::string& Path() const { return path_; }

 private:
  std::string path_;
};

// <root>/<pid>: a HotSpot JVM run by the test's own user that catches SIGQUIT and has no perf
// data, so the reader decides to signal when no socket is there. No cwd: the trigger file goes
// to /tmp. root/tmp is left to the test.
void WriteJvmFiles(const std::string& pid_dir, pid_t pid) {
  std::filesystem::create_directories(pid_dir + "/root");
  std::ofstream(pid_dir + "/maps")
      << "7f0000000000-7f0000001000 r-xp 00000000 08:01 42 /opt/jdk/lib/server/libjvm.so\n";
  std::ofstream(pid_dir + "/status")
      << "Name:\tjava\nState:\tS (sleeping)\nTgid:\t" << pid << "\nPid:\t" << pid << "\nUid:\t"
      << geteuid() << "\t" << geteuid() << "\t" << geteuid() << "\t" << geteuid() << "\nGid:\t"
      << getegid() << "\t" << getegid() << "\t" << getegid() << "\t" << getegid() << "\nNSpid:\t"
      << pid << "\nSigCgt:\t0000000000000004\n";
  std::ofstream(pid_dir + "/cmdline") << std::string("java\0-cp\0/app\0Main\0", 19);
  std::ofstream(pid_dir + "/environ") << "";
  std::ofstream(pid_dir + "/comm") << "java\n";
}

// Read(pid) with a 1 s deadline in a forked child; returns "<code> <message>" or "hung" when the
// child has not answered after 10 s (it is then killed): far past the deadline, so a loaded machine
// does not pass for a hang.
std::string ReadOrHang(const std::string& proc_root, pid_t pid) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    procfs::RealProcFs proc(proc_root);
    JvmRuntimeReader reader(proc_root, proc);
    RuntimeLimits limits;
    limits.deadline = Clock::now() + std::chrono::seconds(1);
    StatusOr<std::optional<RuntimeStacks>> read = reader.Read(pid, limits);
    std::string text = read.ok() ? std::string("ok") : read.status().ToString();
    if (write(fds[1], text.data(), text.size()) < 0) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  const Clock::time_point until = Clock::now() + std::chrono::seconds(10);
  bool done = false;
  while (!done) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[512];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      done = true;
    } else {
      text.append(buf, static_cast<size_t>(n));
    }
  }
  close(fds[0]);
  if (!done) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return "hung";
  }
  waitpid(child, nullptr, 0);
  return text;
}

int UnixSocket() { return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); }

sockaddr_un AddressOf(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  return address;
}

TEST(JvmHostileTargetTest, AFullAttachBacklogIsUnavailableWithinTheDeadline) {
  FakeJvm jvm;
  ASSERT_GT(jvm.Pid(), 0);
  TempDir root;
  ASSERT_FALSE(root.Path().empty());
  const std::string pid_dir = root.Path() + "/" + std::to_string(jvm.Pid());
  WriteJvmFiles(pid_dir, jvm.Pid());
  std::filesystem::create_directories(pid_dir + "/root/tmp");
  const std::string socket_path = pid_dir + "/root/tmp/.java_pid" + std::to_string(jvm.Pid());
  ASSERT_LT(socket_path.size(), sizeof(sockaddr_un::sun_path));

  const int listener = UnixSocket();
  ASSERT_GE(listener, 0);
  const sockaddr_un address = AddressOf(socket_path);
  ASSERT_EQ(bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  // Fill the backlog, as the target would, until a connect would wait.
  std::vector<int> fillers;
  for (int i = 0; i < 64; ++i) {
    const int fd = UnixSocket();
    ASSERT_GE(fd, 0);
    fillers.push_back(fd);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ASSERT_EQ(errno, EAGAIN);
      break;
    }
  }

  const std::string result = ReadOrHang(root.Path(), jvm.Pid());
  EXPECT_NE(result, "hung") << "Read blocked on the full backlog";
  EXPECT_NE(result.find("Unavailable: "), std::string::npos) << result;
  EXPECT_NE(result.find("attach socket backlog full"), std::string::npos) << result;
  EXPECT_FALSE(jvm.GotSigquit());
  for (int fd : fillers) close(fd);
  close(listener);
}

TEST(JvmHostileTargetTest, ATmpSymlinkIsNotFollowed) {
  FakeJvm jvm;
  ASSERT_GT(jvm.Pid(), 0);
  TempDir root;
  TempDir tool_side;
  ASSERT_FALSE(root.Path().empty());
  ASSERT_FALSE(tool_side.Path().empty());
  const std::string pid_dir = root.Path() + "/" + std::to_string(jvm.Pid());
  WriteJvmFiles(pid_dir, jvm.Pid());
  std::filesystem::create_directory_symlink(tool_side.Path(), pid_dir + "/root/tmp");

  const std::string result = ReadOrHang(root.Path(), jvm.Pid());
  EXPECT_NE(result.find("FailedPrecondition: "), std::string::npos) << result;
  EXPECT_NE(result.find("symlink"), std::string::npos) << result;
  EXPECT_FALSE(jvm.GotSigquit());
  EXPECT_TRUE(std::filesystem::is_empty(tool_side.Path()));
}

TEST(JvmHostileTargetTest, AFifoForThePerfDataFileDoesNotBlock) {
  FakeJvm jvm;
  ASSERT_GT(jvm.Pid(), 0);
  TempDir root;
  ASSERT_FALSE(root.Path().empty());
  const std::string pid_dir = root.Path() + "/" + std::to_string(jvm.Pid());
  WriteJvmFiles(pid_dir, jvm.Pid());
  const std::string folder = pid_dir + "/root/tmp/hsperfdata_app";
  std::filesystem::create_directories(folder);
  ASSERT_EQ(mkfifo((folder + "/" + std::to_string(jvm.Pid())).c_str(), 0600), 0);
  // Make the attach fail after the perf data is looked at: no cwd, and a /tmp the reader can
  // create the trigger in, but no socket ever appears (the deadline ends the wait).
  const std::string result = ReadOrHang(root.Path(), jvm.Pid());
  EXPECT_NE(result, "hung") << "Read blocked opening the FIFO";
  EXPECT_NE(result.find("DeadlineExceeded: "), std::string::npos) << result;
  EXPECT_TRUE(jvm.GotSigquit());  // no perf data: the options decided, and they allow it
  EXPECT_FALSE(
      std::filesystem::exists(pid_dir + "/root/tmp/.attach_pid" + std::to_string(jvm.Pid())));
}

}  // namespace
}  // namespace ephemera::runtimes::jvm
