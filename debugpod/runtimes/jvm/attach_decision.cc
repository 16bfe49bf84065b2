#include "debugpod/runtimes/jvm/attach_decision.h"

#include <csignal>
#include <cstdint>

namespace ephemera::runtimes::jvm {
namespace {

constexpr std::string_view kNoSignal = "; no signal sent";

// Applies every -XX:[+-]DisableAttachMechanism in `words` to `state`, in order.
void ApplyOptions(std::string_view words, std::optional<bool>& state) {
  while (!words.empty()) {
    const size_t space = words.find_first_of(" \t\n");
    const std::string_view word = words.substr(0, space);
    if (word == "-XX:+DisableAttachMechanism") state = true;
    if (word == "-XX:-DisableAttachMechanism") state = false;
    if (space == std::string_view::npos) break;
    words.remove_prefix(space + 1);
  }
}

// Options the reader cannot see: the launcher's @argfiles, and option files the VM reads.
bool HasHiddenOptions(const std::vector<std::string>& command_line) {
  for (size_t i = 1; i < command_line.size(); ++i) {
    const std::string& arg = command_line[i];
    if (arg.starts_with("@") || arg.starts_with("-XX:Flags=") ||
        arg.starts_with("-XX:VMOptionsFile=") || arg == "-XX:+ReadVMOptionsFile") {
      return true;
    }
  }
  return false;
}

AttachPlan Refuse(const std::string& why) {
  return {AttachPlan::Action::kRefuse, "jvm: " + why + std::string(kNoSignal)};
}

}  // namespace

std::optional<bool> AttachDisabledByOptions(const AttachFacts& facts) {
  std::optional<bool> state;
  const std::vector<std::string> none;
  const std::vector<std::string>& vars = facts.option_variables ? *facts.option_variables : none;
  // option_variables holds JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, _JAVA_OPTIONS in that order;
  // the command line comes between the last two.
  for (size_t i = 0; i + 1 < vars.size(); ++i) ApplyOptions(vars[i], state);
  for (size_t i = 1; i < facts.command_line.size(); ++i) {
    ApplyOptions(facts.command_line[i], state);
  }
  if (!vars.empty()) ApplyOptions(vars.back(), state);
  return state;
}

std::optional<bool> SigQuitCaught(std::string_view sigcgt_hex) {
  while (!sigcgt_hex.empty() && (sigcgt_hex.front() == ' ' || sigcgt_hex.front() == '\t')) {
    sigcgt_hex.remove_prefix(1);
  }
  if (sigcgt_hex.empty() || sigcgt_hex.size() > 16) return std::nullopt;
  uint64_t mask = 0;
  for (char c : sigcgt_hex) {
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    mask = (mask << 4) | static_cast<uint64_t>(digit);
  }
  return ((mask >> (SIGQUIT - 1)) & 1) != 0;
}

AttachPlan DecideAttach(const AttachFacts& facts) {
  // Connecting to a listener that already runs makes the JVM print nothing anywhere.
  if (facts.socket_exists) return {AttachPlan::Action::kConnect, ""};

  if (AttachDisabledByOptions(facts).value_or(false)) {
    return Refuse("attach disabled (-XX:+DisableAttachMechanism)");
  }
  if (facts.capabilities && !facts.capabilities->starts_with("1")) {
    return Refuse("attach disabled (perf data: sun.rt.jvmCapabilities " +
                  facts.capabilities->substr(0, 1) + ")");
  }
  if (!facts.sigquit_caught.has_value()) {
    return Refuse("cannot tell whether the JVM catches SIGQUIT (SigCgt unreadable)");
  }
  if (!*facts.sigquit_caught) {
    return Refuse("the JVM does not catch SIGQUIT (-Xrs or -XX:+ReduceSignalUsage)");
  }
  if (!facts.capabilities) {
    // Without perf data only the options say whether attach is on: they must all be visible.
    if (!facts.option_variables) {
      return Refuse("cannot tell whether attach is enabled (no perf data, environment unreadable)");
    }
    if (HasHiddenOptions(facts.command_line)) {
      return Refuse("cannot tell whether attach is enabled (no perf data, options in a file)");
    }
  }
  if (!facts.jvm_uid || !facts.jvm_gid) {
    return Refuse("the JVM's UID and GID are unknown");
  }
  // The JVM takes a trigger file owned by its own UID or root, and a client with its own UID and
  // GID or UID 0 (SO_PEERCRED).
  if (facts.tool_uid != 0 &&
      (facts.tool_uid != *facts.jvm_uid || facts.tool_gid != *facts.jvm_gid)) {
    return Refuse("attach needs the JVM's UID and GID (" + std::to_string(*facts.jvm_uid) + ":" +
                  std::to_string(*facts.jvm_gid) + ") or root, the tool runs as " +
                  std::to_string(facts.tool_uid) + ":" + std::to_string(facts.tool_gid));
  }
  if (!facts.may_signal) {
    return Refuse("the kernel does not let the tool signal the JVM (EPERM)");
  }
  return {AttachPlan::Action::kSignalAndConnect, ""};
}

}  // namespace ephemera::runtimes::jvm
