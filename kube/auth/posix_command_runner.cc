#include "kube/auth/posix_command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

extern char** environ;

namespace ephemera::kube {
namespace {

constexpr std::size_t kMaxOutput = 1 << 20;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int Get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string ErrnoText(int err) { return std::strerror(err); }

// Runs `command` to completion. With a timeout its standard input is /dev/null and both output
// streams are captured; without one (interactive) it shares our standard input and standard error
// and only its standard output is captured.
StatusOr<CommandRunner::Result> RunProcess(
    const std::string& command, const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& extra_env,
    std::optional<std::chrono::milliseconds> timeout) {
  const bool interactive = !timeout.has_value();
  if (command.empty()) return InvalidArgumentError("empty command");
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return UnavailableError("pipe: " + ErrnoText(errno));
  Fd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return UnavailableError("pipe: " + ErrnoText(errno));
  Fd err_read(err_pipe[0]), err_write(err_pipe[1]);

  // Environment: ours, with extra_env overriding by name.
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
  for (const auto& [name, value] : extra_env) env[name] = value;
  std::vector<std::string> env_strings;
  env_strings.reserve(env.size());
  for (const auto& [name, value] : env) {
    std::string entry = name;
    entry += '=';
    entry += value;
    env_strings.push_back(std::move(entry));
  }
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<std::string> argv_strings;
  argv_strings.reserve(args.size() + 1);
  argv_strings.push_back(command);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!interactive) posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.Get(), 1);
  if (!interactive) posix_spawn_file_actions_adddup2(&actions, err_write.Get(), 2);
  pid_t pid = -1;
  const int rc =
      command.find('/') == std::string::npos
          ? ::posix_spawnp(&pid, command.c_str(), &actions, nullptr, argv.data(), envp.data())
          : ::posix_spawn(&pid, command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    const std::string message = "cannot start " + command + ": " + ErrnoText(rc);
    return rc == ENOENT ? NotFoundError(message) : UnavailableError(message);
  }
  out_write.Close();
  err_write.Close();

  CommandRunner::Result result;
  const auto deadline =
      std::chrono::steady_clock::now() + timeout.value_or(std::chrono::milliseconds::zero());
  bool timed_out = false;
  if (interactive) err_read.Close();
  pollfd fds[2] = {{out_read.Get(), POLLIN, 0}, {err_read.Get(), POLLIN, 0}};
  std::string* sinks[2] = {&result.standard_output, &result.standard_error};
  int open_streams = interactive ? 1 : 2;
  int wstatus = 0;
  bool reaped = false;
  while (open_streams > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (interactive) {
      left = std::chrono::milliseconds(1000);
    } else if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    const int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    // With no time limit, a quiet second is a chance to see that the program has exited while
    // something it started still holds its output open: what it wrote has been read by now, and
    // the straggler is not waited for.
    if (n == 0 && interactive && ::waitpid(pid, &wstatus, WNOHANG) == pid) {
      reaped = true;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        if (sinks[i]->size() < kMaxOutput) {
          sinks[i]->append(buffer, std::min<std::size_t>(static_cast<std::size_t>(got),
                                                         kMaxOutput - sinks[i]->size()));
        }
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;
        --open_streams;
      }
    }
  }
  if (timed_out) ::kill(pid, SIGKILL);
  while (!reaped && ::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return DeadlineExceededError(command + " did not finish within " +
                                 std::to_string(timeout->count()) + "ms");
  }
  if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.exit_code = 128 + WTERMSIG(wstatus);
  }
  // posix_spawnp reports a missing program as exit 127 from the child on some libcs.
  if (result.exit_code == 127 && result.standard_output.empty()) {
    return NotFoundError("cannot run " + command + " (exit code 127: not found?)");
  }
  return result;
}

}  // namespace

StatusOr<CommandRunner::Result> PosixCommandRunner::Run(
    const std::string& command, const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& extra_env,
    std::chrono::milliseconds timeout) {
  return RunProcess(command, args, extra_env, timeout);
}

StatusOr<CommandRunner::Result> PosixCommandRunner::RunInteractive(
    const std::string& command, const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& extra_env) {
  return RunProcess(command, args, extra_env, std::nullopt);
}

}  // namespace ephemera::kube
