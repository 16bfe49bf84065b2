// A real JVM running Parked.java for the component test and the benchmark: started in a fresh
// folder (its working directory, its stdout and stderr file, its safepoint log), with stdin a pipe
// that keeps it running until Stop. Test-only; not thread-safe.
#ifndef EPHEMERA_TESTS_DEBUGPOD_RUNTIMES_JVM_JVM_PROCESS_H_
#define EPHEMERA_TESTS_DEBUGPOD_RUNTIMES_JVM_JVM_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ephemera::runtimes::jvm {

struct JvmOptions {
  std::string java;                      // the java binary
  std::string classes;                   // the folder holding Parked.class
  std::vector<std::string> jvm_options;  // before -cp
  std::vector<std::string> env;          // NAME=value added to the environment
  std::optional<uid_t> run_as_uid;       // with run_as_gid: drop to these before exec
  std::optional<gid_t> run_as_gid;
};

class JvmProcess {
 public:
  // Starts the JVM and waits (at most `ready_wait`) until it prints "ready".
  static StatusOr<std::unique_ptr<JvmProcess>> Start(
      const JvmOptions& options, std::chrono::seconds ready_wait = std::chrono::seconds(60));
  JvmProcess(const JvmProcess&) = delete;
  JvmProcess& operator=(const JvmProcess&) = delete;
  ~JvmProcess();

  pid_t Pid() const { return pid_; }
  const std::string& Folder() const { return folder_; }
  // Everything the JVM wrote to stdout and stderr so far.
  std::string Output() const;
  // The JVM's -Xlog:safepoint lines so far.
  std::string SafepointLog() const;
  // Not exited (reaps it if it has).
  bool IsAlive();
  void Stop();

 private:
  JvmProcess() = default;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::string folder_;
  bool reaped_ = false;
};

// The line of Parked.java (`source`) carrying "// MARKER:<name>", or 0.
int MarkerLine(const std::string& source, const std::string& name);

// The sum of the "Total: N ns" of the -Xlog:safepoint lines for VM operations named `operation`
// ("ThreadDump", "FindDeadlocks"), in microseconds, and how many there were.
std::chrono::microseconds SafepointTotal(const std::string& log, const std::string& operation,
                                         int* count);

}  // namespace ephemera::runtimes::jvm

#endif  // EPHEMERA_TESTS_DEBUGPOD_RUNTIMES_JVM_JVM_PROCESS_H_
