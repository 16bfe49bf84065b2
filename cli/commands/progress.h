// Progress of a DebugSession as `kubectl ephemera snapshot` shows it on stderr while it waits:
// one line per step, with the time since the session was created:
//
//   [0.3s] Authorized
//   [0.4s] Injecting ephemeral container into pod checkout-7d9f (container app) …
//   [0.9s] Capturing in ephemera-3f9a1c0b7e …
//   Completed in 2.1s
//
// Pure: the caller polls the session and feeds successive observations.
#ifndef EPHEMERA_CLI_COMMANDS_PROGRESS_H_
#define EPHEMERA_CLI_COMMANDS_PROGRESS_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ephemera::commands {

// What progress needs from a DebugSession object.
struct SessionProgress {
  std::string phase{};  // "" until the controller first writes status
  std::string message{};
  bool authorized = false;  // condition Authorized is True
  std::string pod{};
  std::string container{};
  std::string ephemeral_container{};
};

SessionProgress ReadProgress(const nlohmann::json& session);

// True for Completed, Failed, Denied and Expired.
bool IsFinished(const SessionProgress& progress);

// The lines (without '\n') for every step from `before` to `after`, in the order the steps
// happen, even when several were passed between two observations.
std::vector<std::string> ProgressLines(const SessionProgress& before, const SessionProgress& after,
                                       std::chrono::milliseconds elapsed);

// A line to print once when nothing has happened for a while (no status after `elapsed`), or ""
// when it is too early to worry.
std::string StallHint(const SessionProgress& progress, std::chrono::milliseconds elapsed);

// While a step goes on with nothing printed for 10 s, a line that says the session is alive and
// what it waits for ("[24.0s] Still capturing in ephemera-3f9a1c0b7e …"), again every 10 s;
// "" otherwise. `quiet_for` is the time since the last line printed. Before the controller has
// written any status, StallHint speaks instead.
std::string HeartbeatLine(const SessionProgress& progress, std::chrono::milliseconds elapsed,
                          std::chrono::milliseconds quiet_for);

// "0.4s", "12.0s", "2m05s".
std::string FormatElapsed(std::chrono::milliseconds elapsed);

}  // namespace ephemera::commands

#endif  // EPHEMERA_CLI_COMMANDS_PROGRESS_H_
