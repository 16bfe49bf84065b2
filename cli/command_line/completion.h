// Shell completion for kubectl-ephemera, in the protocol kubectl uses for its plugins: kubectl
// (1.26 and later) completes `kubectl ephemera …` by running `kubectl_complete-ephemera ARGS…`
// (which runs `kubectl-ephemera __complete ARGS…`) and reads one candidate per line, then
// ":DIRECTIVE". The script `kubectl-ephemera completion bash` prints uses the same. Pure.
//
// Completed: commands, flags, and the values of flags that take one of a few (profiles, output
// formats, PII modes, capture sections, also after a comma). Session and pod names would need the
// cluster, so they are not.
#ifndef EPHEMERA_CLI_COMMAND_LINE_COMPLETION_H_
#define EPHEMERA_CLI_COMMAND_LINE_COMPLETION_H_

#include <string>
#include <vector>

namespace ephemera::command_line {

struct Completion {
  std::vector<std::string> candidates{};
  // 4: do not offer file names instead (no candidates means none); 0: the shell's file names are
  // fine (--kubeconfig, -f).
  int directive = 4;
};

// `args` are the words after the program name, the last one the word being completed ("" for a
// new word). Candidates start with that word.
Completion Complete(const std::vector<std::string>& args);

// The candidates one per line, then ":DIRECTIVE", each line ending in '\n'.
std::string FormatCompletion(const Completion& completion);

// `kubectl-ephemera completion bash`: source it (or put it in
// /etc/bash_completion.d/kubectl-ephemera) to complete kubectl-ephemera in bash.
std::string BashCompletionScript();

}  // namespace ephemera::command_line

#endif  // EPHEMERA_CLI_COMMAND_LINE_COMPLETION_H_
