#include "jvm_process.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace ephemera::runtimes::jvm {
namespace {

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

StatusOr<std::unique_ptr<JvmProcess>> JvmProcess::Start(const JvmOptions& options,
                                                        std::chrono::seconds ready_wait) {
  std::string pattern = (std::filesystem::temp_directory_path() / "jvm-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return InternalError("mkdtemp failed");
  std::unique_ptr<JvmProcess> jvm(new JvmProcess());
  jvm->folder_ = pattern;
  if (options.run_as_uid && chown(pattern.c_str(), *options.run_as_uid, *options.run_as_gid) != 0) {
    return InternalError("chown failed");
  }
  std::vector<std::string> args = {options.java};
  args.insert(args.end(), options.jvm_options.begin(), options.jvm_options.end());
  args.push_back("-Xlog:safepoint:file=" + pattern + "/safepoint.log");
  // Another user may not be able to reach the build folder (a checkout under a private
  // directory): it gets its own readable copy of the classes.
  std::string classes = options.classes;
  if (options.run_as_uid) {
    std::error_code copy_error;
    std::filesystem::copy(options.classes, pattern + "/classes",
                          std::filesystem::copy_options::recursive, copy_error);
    if (copy_error) return InternalError("copying the classes failed: " + copy_error.message());
    classes = pattern + "/classes";
  }
  args.insert(args.end(), {"-cp", classes, "Parked"});
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.insert(env.end(), options.env.begin(), options.env.end());

  int in[2];
  if (pipe2(in, O_CLOEXEC) != 0) return InternalError("pipe failed");
  const std::string output = pattern + "/stdout";
  const pid_t pid = fork();
  if (pid < 0) return InternalError("fork failed");
  if (pid == 0) {
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(env.size() + 1);
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int out = open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || dup2(in[0], 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(120);
    if (chdir(pattern.c_str()) != 0) _exit(121);
    if (options.run_as_uid) {
      if (setgroups(0, nullptr) != 0 ||
          setresgid(*options.run_as_gid, *options.run_as_gid, *options.run_as_gid) != 0 ||
          setresuid(*options.run_as_uid, *options.run_as_uid, *options.run_as_uid) != 0) {
        _exit(122);
      }
    }
    execve(argv[0], argv.data(), envp.data());
    _exit(123);
  }
  close(in[0]);
  jvm->pid_ = pid;
  jvm->stdin_fd_ = in[1];
  const auto until = std::chrono::steady_clock::now() + ready_wait;
  while (jvm->Output().find("ready\n") == std::string::npos) {
    if (!jvm->IsAlive()) return InternalError("the JVM exited: " + jvm->Output());
    if (std::chrono::steady_clock::now() > until) {
      return DeadlineExceededError("the JVM did not print ready: " + jvm->Output());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return jvm;
}

JvmProcess::~JvmProcess() {
  Stop();
  if (!folder_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
  }
}

std::string JvmProcess::Output() const { return ReadWhole(folder_ + "/stdout"); }

std::string JvmProcess::SafepointLog() const { return ReadWhole(folder_ + "/safepoint.log"); }

bool JvmProcess::IsAlive() {
  if (reaped_ || pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

void JvmProcess::Stop() {
  if (stdin_fd_ >= 0) {
    close(stdin_fd_);
    stdin_fd_ = -1;
  }
  // With stdin closed Parked returns from main and the JVM exits, removing its socket and perf
  // data; SIGKILL only if it has not after a while.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (IsAlive() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }
}

int MarkerLine(const std::string& source, const std::string& name) {
  std::istringstream in(ReadWhole(source));
  std::string line;
  const std::string marker = "// MARKER:" + name;
  for (int number = 1; std::getline(in, line); ++number) {
    const size_t at = line.find(marker);
    if (at != std::string::npos && at + marker.size() == line.size()) return number;
  }
  return 0;
}

std::chrono::microseconds SafepointTotal(const std::string& log, const std::string& operation,
                                         int* count) {
  std::istringstream in(log);
  std::string line;
  int64_t nanos = 0;
  *count = 0;
  const std::string name = "Safepoint \"" + operation + "\"";
  while (std::getline(in, line)) {
    if (line.find(name) == std::string::npos) continue;
    const size_t total = line.find("Total: ");
    if (total == std::string::npos) continue;
    nanos += std::strtoll(line.c_str() + total + 7, nullptr, 10);
    ++*count;
  }
  return std::chrono::microseconds(nanos / 1000);
}

}  // namespace ephemera::runtimes::jvm
