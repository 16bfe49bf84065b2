// DebugSessions as the command-line tool writes and shows them: the object `snapshot` creates,
// the `list` table and the `get` summary. Pure: JSON objects and the current time in, text out.
#ifndef EPHEMERA_CLI_COMMANDS_SESSION_VIEW_H_
#define EPHEMERA_CLI_COMMANDS_SESSION_VIEW_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command_line/command_line.h"
#include "cli/commands/outcome.h"

namespace ephemera::commands {

using TimePoint = std::chrono::system_clock::time_point;

// metadata.generateName for a session on `pod`: the pod name cut so that the generated name
// (5 random characters added) stays within 63 characters, then "-".
std::string GenerateNamePrefix(std::string_view pod);

// The DebugSession for `kubectl ephemera snapshot` and `logs`, encrypted to `recipient` only;
// spec.logs holds only the log bounds the user gave.
nlohmann::json NewDebugSession(const command_line::SnapshotOptions& options,
                               std::string_view namespace_name, std::string_view recipient);

// kubectl's short durations: "45s", "5m30s", "12m", "3h20m", "5d".
std::string FormatAge(std::chrono::seconds age);

struct SessionTableOptions {
  bool all_namespaces = false;  // a NAMESPACE column first
  bool wide = false;            // PROFILE, EPHEMERAL-CONTAINER and REASON after the others
};

// The table of `list`: NAME PHASE TARGET REQUESTER AGE EXPIRES-IN, one row per session.
std::string FormatSessionTable(const std::vector<nlohmann::json>& sessions, TimePoint now,
                               const SessionTableOptions& options = {});

// The object as `get -o json|yaml` prints it: without metadata.managedFields, the server's
// bookkeeping, which kubectl also leaves out unless asked.
nlohmann::json ForPrinting(nlohmann::json object);

// The summary of `get`.
std::string FormatSessionDetails(const nlohmann::json& session, TimePoint now);

// "4m12s", "expired" when expiresAt has passed, "-" when there is none yet.
std::string FormatExpiresIn(const nlohmann::json& session, TimePoint now);

// Whether the session's snapshot can be fetched: Success for Completed; otherwise the outcome that
// says why not (Denied → kDenied with its message, Failed → kSessionFailed, Expired → kExpired: the
// snapshot was wiped at expiresAt, still running → kFailed "wait for it").
CommandOutcome CheckFetchable(const nlohmann::json& session);

// "this snapshot is encrypted to age1…, your identity is age1… (FILE)".
std::string WrongIdentityMessage(const std::vector<std::string>& snapshot_recipients,
                                 const std::string& identity_recipient,
                                 const std::string& identity_path);

}  // namespace ephemera::commands

#endif  // EPHEMERA_CLI_COMMANDS_SESSION_VIEW_H_
