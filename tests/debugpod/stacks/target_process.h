// TargetProcess: a child program the component tests capture. It speaks the parked-threads protocol
// (prints "ready <pid>", answers "p" with "pong <n>", exits 0 on "q"), or any program whose first
// output line means "ready". The destructor kills the child if it is still running.
#ifndef EPHEMERA_TESTS_DEBUGPOD_STACKS_TARGET_PROCESS_H_
#define EPHEMERA_TESTS_DEBUGPOD_STACKS_TARGET_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::stacks {

class TargetProcess {
 public:
  // Starts argv[0] with `argv` and waits (up to `timeout`) for its first output line.
  static StatusOr<std::unique_ptr<TargetProcess>> Start(
      const std::vector<std::string>& argv,
      std::chrono::milliseconds timeout = std::chrono::seconds(20));
  ~TargetProcess();
  TargetProcess(const TargetProcess&) = delete;
  TargetProcess& operator=(const TargetProcess&) = delete;

  pid_t Pid() const { return pid_; }
  const std::string& FirstLine() const { return first_line_; }

  Status Send(std::string_view line);
  StatusOr<std::string> ReadLine(std::chrono::milliseconds timeout);
  // Sends "p" and returns the number in "pong <n>".
  StatusOr<unsigned long> Ping(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Waits for the exit and returns the exit code (DeadlineExceeded if it does not exit in time).
  StatusOr<int> WaitForExit(std::chrono::milliseconds timeout);
  // Sends "q" and waits for the exit.
  StatusOr<int> Quit(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // tid -> thread name (comm).
  std::map<int, std::string> ThreadNames() const;
  // The child's threads that have a tracer or are in a tracing stop, each as "<tid> <name>
  // TracerPid: <n> State: <state>"; empty when no thread is traced or stopped.
  std::vector<std::string> TracedThreads() const;
  // tid -> the State line's value of /proc/<pid>/task/<tid>/status ("R (running)", ...).
  std::map<int, std::string> ThreadStates() const;

 private:
  TargetProcess() = default;
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string buffer_;
  std::string first_line_;
  bool exited_ = false;
};

}  // namespace ephemera::stacks

#endif  // EPHEMERA_TESTS_DEBUGPOD_STACKS_TARGET_PROCESS_H_
