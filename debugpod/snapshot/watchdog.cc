#include "debugpod/snapshot/watchdog.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace ephemera::snapshot {
namespace {

// The Watchdog whose CPU backstop is armed, for the SIGXCPU handler (a handler gets no argument).
std::atomic<Watchdog*> cpu_backstop_owner{nullptr};

}  // namespace

Status Watchdog::ArmCpuBackstop(std::string fallback_output) {
  cpu_fallback_output_ = std::move(fallback_output);
  cpu_backstop_owner.store(this);
  struct sigaction action {};
  action.sa_handler = &Watchdog::OnCpuLimit;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGXCPU, &action, nullptr) != 0) {
    return InternalError("sigaction(SIGXCPU) failed with errno " + std::to_string(errno));
  }
  return OkStatus();
}

// Async-signal-safe: an atomic exchange, write(2) and _exit(2).
void Watchdog::OnCpuLimit(int) {
  Watchdog* owner = cpu_backstop_owner.load();
  if (owner == nullptr) _exit(kWatchdogExitCode);
  if (!owner->output_claimed_.exchange(true)) WriteAll(STDOUT_FILENO, owner->cpu_fallback_output_);
  _exit(owner->exit_code_);
}

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
  Watchdog* self = this;
  cpu_backstop_owner.compare_exchange_strong(self, nullptr);
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
