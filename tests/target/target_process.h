// ephemera-target as a child process of a component test: started with the arguments a test
// gives (and "--port 0", so the kernel picks a free port), its stdout and stderr read through a
// pipe, killed with SIGKILL on destruction unless it was already reaped.
//
// The port comes from the target's "serving on ADDRESS:PORT" line. A fixed or pid-derived port
// is not safe on a CI host: with a cluster up, outgoing loopback connections hold ephemeral ports
// (32768-60999 here), and a target whose bind fails exits 1 instead of doing what the test asks.
#ifndef EPHEMERA_TESTS_TARGET_TARGET_PROCESS_H_
#define EPHEMERA_TESTS_TARGET_TARGET_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ephemera::target {

class TargetProcess {
 public:
  using milliseconds = std::chrono::milliseconds;

  // `args` must not hold --port: every target gets a port of the kernel's choosing. `env` is
  // added to this process's environment.
  explicit TargetProcess(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    std::vector<std::string> environment;
    for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
    environment.insert(environment.end(), env.begin(), env.end());
    args.insert(args.begin(), EPHEMERA_TARGET_PATH);
    args.insert(args.end(), {"--port", "0"});
    std::vector<char*> argv, envp;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (std::string& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    if (posix_spawn(&pid_, EPHEMERA_TARGET_PATH, &actions, nullptr, argv.data(), envp.data()) !=
        0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fds[0];
  }
  TargetProcess(const TargetProcess&) = delete;
  TargetProcess& operator=(const TargetProcess&) = delete;
  ~TargetProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  int Pid() const { return pid_; }

  // Reads output until a line contains `text` or `timeout` passes; whether it came.
  bool WaitForLine(const std::string& text, milliseconds timeout) {
    return FindLine(text, timeout).has_value();
  }

  // The port the target serves on, from its "serving on ADDRESS:PORT" line (which it prints once
  // every thread is named); nullopt if that line did not come within `timeout`.
  std::optional<int> WaitForPort(milliseconds timeout) {
    const std::string marker = "ephemera-target: serving on ";
    std::optional<std::string> line = FindLine(marker, timeout);
    if (!line) return std::nullopt;
    const size_t address = line->find(marker) + marker.size();
    const size_t colon = line->find(':', address);
    if (colon == std::string::npos) return std::nullopt;
    char* end = nullptr;
    const long port = std::strtol(line->c_str() + colon + 1, &end, 10);
    if (end == line->c_str() + colon + 1 || port <= 0 || port > 65535) return std::nullopt;
    return static_cast<int>(port);
  }

  const std::string& Output() const { return output_; }

  // Waits for the process to end within `timeout`; its wait status, or nullopt.
  std::optional<int> WaitForExit(milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      ReadSome(milliseconds(50));
    }
    return std::nullopt;
  }

 private:
  // The first whole line of output that contains `text`, reading until `timeout` passes.
  std::optional<std::string> FindLine(const std::string& text, milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      size_t start = 0;
      for (size_t end; (end = output_.find('\n', start)) != std::string::npos; start = end + 1) {
        std::string line = output_.substr(start, end - start);
        if (line.find(text) != std::string::npos) return line;
      }
      const auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= milliseconds(0) || !ReadSome(left)) return std::nullopt;
    }
  }

  bool ReadSome(milliseconds timeout) {
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[4096];
    ssize_t n = read(out_, buf, sizeof buf);
    if (n <= 0) {
      // The writer is gone: wait out the timeout the caller gave, without spinning.
      std::this_thread::sleep_for(timeout);
      return false;
    }
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
};

}  // namespace ephemera::target

#endif  // EPHEMERA_TESTS_TARGET_TARGET_PROCESS_H_
