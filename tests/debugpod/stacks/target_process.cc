#include "target_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string_view>
#include <thread>
#include <utility>

namespace ephemera::stacks {

using Clock = std::chrono::steady_clock;

StatusOr<std::unique_ptr<TargetProcess>> TargetProcess::Start(const std::vector<std::string>& argv,
                                                              std::chrono::milliseconds timeout) {
  int in[2];
  int out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    return UnavailableError(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return UnavailableError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  std::unique_ptr<TargetProcess> p(new TargetProcess());
  p->pid_ = pid;
  p->to_child_ = in[1];
  p->from_child_ = out[0];
  StatusOr<std::string> line = p->ReadLine(timeout);
  if (!line.ok()) return line.status().WithContext("waiting for " + argv[0] + " to start");
  p->first_line_ = *line;
  return p;
}

TargetProcess::~TargetProcess() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (to_child_ >= 0) close(to_child_);
  if (from_child_ >= 0) close(from_child_);
}

Status TargetProcess::Send(std::string_view line) {
  std::string data(line);
  data.push_back('\n');
  if (write(to_child_, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    return UnavailableError(std::string("write to child: ") + std::strerror(errno));
  }
  return OkStatus();
}

StatusOr<std::string> TargetProcess::ReadLine(std::chrono::milliseconds timeout) {
  Clock::time_point give_up = Clock::now() + timeout;
  while (true) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - Clock::now());
    if (left.count() <= 0) return DeadlineExceededError("no line from the child in time");
    pollfd pfd{from_child_, POLLIN, 0};
    int r = poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char chunk[4096];
    ssize_t n = read(from_child_, chunk, sizeof chunk);
    if (n <= 0) return UnavailableError("child closed its output");
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

StatusOr<unsigned long> TargetProcess::Ping(std::chrono::milliseconds timeout) {
  EPHEMERA_RETURN_IF_ERROR(Send("p"));
  StatusOr<std::string> line = ReadLine(timeout);
  if (!line.ok()) return line.status();
  if (!line->starts_with("pong ")) return InternalError("unexpected reply: " + *line);
  return std::stoul(line->substr(5));
}

StatusOr<int> TargetProcess::WaitForExit(std::chrono::milliseconds timeout) {
  Clock::time_point give_up = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return InternalError("child killed by signal " + std::to_string(WTERMSIG(status)));
    }
    if (r < 0 && errno != EINTR) {
      return InternalError(std::string("waitpid: ") + std::strerror(errno));
    }
    if (Clock::now() >= give_up) return DeadlineExceededError("child did not exit in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

StatusOr<int> TargetProcess::Quit(std::chrono::milliseconds timeout) {
  EPHEMERA_RETURN_IF_ERROR(Send("q"));
  return WaitForExit(timeout);
}

std::map<int, std::string> TargetProcess::ThreadNames() const {
  std::map<int, std::string> names;
  std::string dir = "/proc/" + std::to_string(pid_) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream comm(dir + "/" + e->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    names[static_cast<int>(std::strtol(e->d_name, nullptr, 10))] = name;
  }
  closedir(d);
  return names;
}

namespace {

// The value after "<key>:\t" in a task's status file, empty if the thread is gone.
std::string TaskStatusValue(pid_t pid, int tid, std::string_view key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':') {
      size_t value = line.find_first_not_of(" \t", key.size() + 1);
      return value == std::string::npos ? "" : line.substr(value);
    }
  }
  return "";
}

}  // namespace

std::vector<std::string> TargetProcess::TracedThreads() const {
  std::vector<std::string> traced;
  for (const auto& [tid, name] : ThreadNames()) {
    const std::string tracer = TaskStatusValue(pid_, tid, "TracerPid");
    const std::string state = TaskStatusValue(pid_, tid, "State");
    if ((!tracer.empty() && tracer != "0") || state.starts_with("t")) {
      std::string line = std::to_string(tid);
      line.append(" ").append(name).append(" TracerPid: ").append(tracer);
      line.append(" State: ").append(state);
      traced.push_back(std::move(line));
    }
  }
  return traced;
}

std::map<int, std::string> TargetProcess::ThreadStates() const {
  std::map<int, std::string> states;
  for (const auto& [tid, name] : ThreadNames()) states[tid] = TaskStatusValue(pid_, tid, "State");
  return states;
}

}  // namespace ephemera::stacks
