#include "cli/command_line/completion.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "cli/command_line/command_line.h"

namespace ephemera::command_line {
namespace {

constexpr int kNoFiles = 4;
constexpr int kFiles = 0;

const std::vector<std::string>& CommandWords() {
  static const std::vector<std::string> kWords = {
      "keys", "snapshot", "logs", "get", "list", "fetch", "audit", "version", "help", "completion"};
  return kWords;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The values of a flag that takes one of a few, each prefixed by `prefix` (the part of the word
// already typed that is not the value: "--profile=", or "threads," inside a capture list).
Completion ValuesOf(Command command, std::string_view flag, std::string_view typed) {
  Completion out;
  std::vector<std::string> values;
  std::string prefix;
  if (flag == "--profile") {
    values = {"restricted", "ptrace"};
  } else if (flag == "--output") {
    for (std::string_view format : OutputFormatsOf(command)) values.emplace_back(format);
  } else if (flag == "--pii") {
    values = {"none", "standard", "strict"};
  } else if (flag == "--capture") {
    // A comma-separated list: complete its last item, leaving out the sections already listed.
    const std::size_t comma = typed.rfind(',');
    prefix = comma == std::string_view::npos ? "" : std::string(typed.substr(0, comma + 1));
    for (const std::string& section : KnownCaptureSections()) {
      const std::string listed = "," + prefix;
      if (listed.find("," + section + ",") == std::string::npos) values.push_back(section);
    }
  } else if (flag == "--kubeconfig" || flag == "--file") {
    out.directive = kFiles;
    return out;
  }
  for (const std::string& value : values) {
    if (StartsWith(prefix + value, typed)) out.candidates.push_back(prefix + value);
  }
  return out;
}

}  // namespace

Completion Complete(const std::vector<std::string>& args) {
  const std::string current = args.empty() ? "" : args.back();
  // What the words before the current one say: the command, and whether the last of them is a
  // flag still waiting for its value.
  Command command = Command::kNone;
  bool saw_verify = false;
  bool completion_command = false;  // `completion`, which takes the name of a shell
  std::optional<FlagInfo> waiting;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    const std::string& word = args[i];
    if (waiting) {
      waiting.reset();
      continue;
    }
    if (word == "--") break;
    if (StartsWith(word, "-")) {
      if (word.find('=') != std::string::npos) continue;
      auto flag = FindFlagInfo(command, word);
      if (flag && flag->takes_value) waiting = flag;
      continue;
    }
    if (command == Command::kNone && !completion_command) {
      command = CommandFromWord(word).value_or(Command::kNone);
      completion_command = word == "completion";
    } else if (command == Command::kAuditVerify && word == "verify") {
      saw_verify = true;
    }
  }

  if (waiting) return ValuesOf(command, waiting->long_name, current);
  if (StartsWith(current, "-") && current.find('=') != std::string::npos) {
    const std::string name = current.substr(0, current.find('='));
    auto flag = FindFlagInfo(command, name);
    if (!flag || !flag->takes_value) return {};
    Completion values = ValuesOf(command, flag->long_name, current.substr(name.size() + 1));
    for (std::string& value : values.candidates) value.insert(0, name + "=");
    return values;
  }
  Completion out;
  if (StartsWith(current, "-")) {
    for (const FlagInfo& flag : FlagsOf(command)) {
      if (StartsWith(flag.long_name, current)) out.candidates.emplace_back(flag.long_name);
    }
    return out;
  }
  if (completion_command) {
    if (args.size() == 2 && StartsWith("bash", current)) out.candidates.emplace_back("bash");
  } else if (command == Command::kNone) {
    for (const std::string& word : CommandWords()) {
      if (StartsWith(word, current)) out.candidates.push_back(word);
    }
  } else if (command == Command::kAuditVerify && !saw_verify && StartsWith("verify", current)) {
    out.candidates.emplace_back("verify");
  } else if (command == Command::kAuditVerify && saw_verify) {
    out.directive = kFiles;  // the audit trail's file
  }
  return out;
}

std::string FormatCompletion(const Completion& completion) {
  std::string out;
  for (const std::string& candidate : completion.candidates) out += candidate + "\n";
  return out + ":" + std::to_string(completion.directive) + "\n";
}

std::string BashCompletionScript() {
  return R"(# bash completion for kubectl-ephemera: source this file, or put it in
# /etc/bash_completion.d/. (`kubectl ephemera …` completes through kubectl_complete-ephemera.)
_kubectl_ephemera() {
  local cur=${COMP_WORDS[COMP_CWORD]} out directive
  out=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
  directive=${out##*:}
  out=${out%:*}
  mapfile -t COMPREPLY < <(compgen -W "$out" -- "$cur")
  if [ ${#COMPREPLY[@]} -eq 0 ] && [ "$directive" = 0 ]; then
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
}
complete -F _kubectl_ephemera kubectl-ephemera
)";
}

}  // namespace ephemera::command_line
