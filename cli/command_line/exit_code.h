// kubectl-ephemera's exit codes: one per thing the user can act on. Listed in every --help and in
// docs/cli.md; scripts may rely on them.
#ifndef EPHEMERA_CLI_COMMAND_LINE_EXIT_CODE_H_
#define EPHEMERA_CLI_COMMAND_LINE_EXIT_CODE_H_

namespace ephemera::command_line {

enum class ExitCode : int {
  kOk = 0,
  kFailed = 1,         // anything else: a snapshot that fails verification, a session not done
  kUsage = 2,          // bad flags or arguments, or a request the API server rejected as invalid
  kUnreachable = 3,    // no usable kubeconfig, cluster not reachable, or not authenticated (401)
  kForbidden = 4,      // 403: you lack a right (the message names the verb and resource)
  kNotFound = 5,       // no such session, pod or container
  kDenied = 6,         // the session was denied (policy or authorization), with its reason
  kSessionFailed = 7,  // the session failed (injection or capture), with its reason
  kExpired = 8,        // the session's TTL is over: the snapshot was wiped
  kIdentity = 9,       // your age identity is missing, unsafe (file mode) or not a recipient
  kTimedOut = 10,      // snapshot --timeout passed before the session finished
};

inline int ToInt(ExitCode code) { return static_cast<int>(code); }

}  // namespace ephemera::command_line

#endif  // EPHEMERA_CLI_COMMAND_LINE_EXIT_CODE_H_
