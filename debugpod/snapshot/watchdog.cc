#include "debugpod/snapshot/watchdog.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace ephemera::snapshot {

Watchdog::Watchdog(std::chrono::steady_clock::time_point fire_at, std::string fallback_output,
                   int exit_code)
    : fire_at_(fire_at), fallback_output_(std::move(fallback_output)), exit_code_(exit_code) {
  // The thread starts with SIGCHLD blocked: the stack capture's stop notifications arrive as
  // SIGCHLD sent to the process, and a thread that does not block it takes and discards them.
  sigset_t child_signal;
  sigset_t previous;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &child_signal, &previous);
  thread_ = std::thread([this] { Run(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

Watchdog::~Watchdog() {
  {
    base::MutexLock lock(mu_);
    disarmed_ = true;
  }
  cv_.NotifyAll();
  thread_.join();
}

void Watchdog::Run() {
  base::MutexLock lock(mu_);
  if (cv_.WaitUntil(mu_, std::stop_token(), fire_at_,
                    [this]() EPHEMERA_REQUIRES(mu_) { return disarmed_; })) {
    return;
  }
  if (!output_claimed_.exchange(true)) WriteAll(STDOUT_FILENO, fallback_output_);
  _exit(exit_code_);
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace ephemera::snapshot
