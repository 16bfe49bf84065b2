// Running a DebugSession for the user from start to end, as `snapshot` and `logs` both do: the
// identity (created if absent), an early check of the target pod and container, the session with
// the user's recipient, its progress on stderr while it runs, and the check that it Completed.
#ifndef EPHEMERA_CLI_COMMANDS_SESSION_RUN_H_
#define EPHEMERA_CLI_COMMANDS_SESSION_RUN_H_

#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command_line/command_line.h"
#include "cli/commands/cluster.h"
#include "cli/commands/commands.h"
#include "cli/commands/outcome.h"
#include "cli/identity/identity_file.h"

namespace ephemera::commands {

// A session that Completed: its snapshot can be fetched with `identity`.
struct CompletedSession {
  std::unique_ptr<Cluster> cluster;
  nlohmann::json session;  // the DebugSession object as last read
  identity::Identity identity;
};

// Creates the session `options` describe (session_view.h NewDebugSession) and waits for it.
// Exit codes: kIdentity, kNotFound (pod or container), the API's (api_failure.h), kTimedOut after
// options.timeout (the session goes on), and CheckFetchable's for a session that ended otherwise.
OutcomeOr<CompletedSession> RunSessionToCompletion(const command_line::GlobalOptions& global,
                                                   const command_line::SnapshotOptions& options,
                                                   Io& io);

}  // namespace ephemera::commands

#endif  // EPHEMERA_CLI_COMMANDS_SESSION_RUN_H_
