// CommandOutcome: how a command ended, for the person at the terminal: an exit code
// (command_line/exit_code.h) and, on failure, one sentence saying what happened and what to do.
#ifndef EPHEMERA_CLI_COMMANDS_OUTCOME_H_
#define EPHEMERA_CLI_COMMANDS_OUTCOME_H_

#include <optional>
#include <string>
#include <utility>

#include "cli/command_line/exit_code.h"

namespace ephemera::commands {

struct CommandOutcome {
  command_line::ExitCode exit_code = command_line::ExitCode::kOk;
  std::string message{};  // empty on success

  bool Succeeded() const { return exit_code == command_line::ExitCode::kOk; }
  static CommandOutcome Success() { return {}; }
  static CommandOutcome Failure(command_line::ExitCode code, std::string message) {
    return {code, std::move(message)};
  }
};

// A value, or the outcome that explains why there is none.
template <typename T>
class OutcomeOr {
 public:
  OutcomeOr(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  OutcomeOr(CommandOutcome outcome)                 // NOLINT(google-explicit-constructor)
      : outcome_(std::move(outcome)) {}

  bool HasValue() const { return value_.has_value(); }
  const CommandOutcome& Outcome() const { return outcome_; }
  T& operator*() { return *value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  CommandOutcome outcome_;
};

}  // namespace ephemera::commands

#endif  // EPHEMERA_CLI_COMMANDS_OUTCOME_H_
