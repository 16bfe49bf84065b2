// Watchdog: ends the process at a fixed time no matter what the capture is doing.
//
// Kubernetes cannot kill an ephemeral container, so the tool must never outlive its deadline by
// much. A Watchdog runs one thread that sleeps until `fire_at`; if it is still armed then, it
// writes `fallback_output` to fd 1 (only if the real output has not started) and calls
// _exit(exit_code). Destroying the Watchdog disarms it and joins the thread. Thread-safe.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_WATCHDOG_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_WATCHDOG_H_

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "base/status.h"

namespace ephemera::snapshot {

inline constexpr int kWatchdogExitCode = 3;

class Watchdog {
 public:
  Watchdog(std::chrono::steady_clock::time_point fire_at, std::string fallback_output,
           int exit_code = kWatchdogExitCode);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Call just before writing the real output. True: the caller owns stdout and the watchdog, if it
  // fires, only exits. False: the watchdog is writing its fallback and is about to exit; the
  // caller must not write.
  bool ClaimOutput() { return !output_claimed_.exchange(true); }

  // The CPU backstop: installs a SIGXCPU handler (the kernel sends SIGXCPU at RLIMIT_CPU's soft
  // limit) that does what the watchdog does when it fires, with `fallback_output` (prepared and
  // sealed up front, like the watchdog's: nothing may be allocated in a signal handler). Without
  // it the default action would kill the tool with no output at all; with it the controller gets a
  // document that says why there is nothing. At most one Watchdog may arm it; the handler stays
  // installed, and after this Watchdog is destroyed only exits. Call before the capture starts.
  // Internal when the handler cannot be installed.
  Status ArmCpuBackstop(std::string fallback_output);

 private:
  void Run();
  static void OnCpuLimit(int signal);

  std::chrono::steady_clock::time_point fire_at_;
  std::string fallback_output_;
  std::string cpu_fallback_output_;
  int exit_code_;
  std::atomic<bool> output_claimed_{false};
  base::Mutex mu_;
  base::CondVar cv_;
  bool disarmed_ EPHEMERA_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Writes all of `data` to `fd`, retrying short writes and EINTR. False on any other error.
bool WriteAll(int fd, std::string_view data);

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_WATCHDOG_H_
