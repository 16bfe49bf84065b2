// Delivering a Completed session's snapshot to the user: fetch the DebugSnapshot, check its
// ciphertext against its sha256 (and the session's status.snapshot.sha256), check the user's
// recipient is one it was encrypted to, decrypt (dearmor, age, gunzip), render, write.
#ifndef EPHEMERA_CLI_COMMANDS_DELIVERY_H_
#define EPHEMERA_CLI_COMMANDS_DELIVERY_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cli/command_line/command_line.h"
#include "cli/commands/cluster.h"
#include "cli/commands/commands.h"
#include "cli/identity/identity_file.h"
#include "cli/report/report.h"

namespace ephemera::commands {

// A session's DebugSnapshot object and the document it decrypts to.
struct DecryptedSnapshot {
  nlohmann::json snapshot;  // the DebugSnapshot object
  nlohmann::json document;  // the decrypted snapshot document (docs/snapshot-format.md)
};

// Fetches the DebugSnapshot of `session` (a Completed DebugSession object), checks it and decrypts
// it with `identity`. Exit codes: kNotFound / kExpired (snapshot gone), kIdentity (not a
// recipient), kFailed (digest mismatch, undecryptable or not JSON), the API's (api_failure.h).
OutcomeOr<DecryptedSnapshot> FetchAndDecrypt(Cluster& cluster, const nlohmann::json& session,
                                             const identity::Identity& identity);

// Writes the report for `session` (a Completed DebugSession object) to `file`, or to io.out when
// `file` is empty, laid out as `options` say. Exit codes: kNotFound / kExpired (snapshot gone),
// kIdentity (not a recipient), kFailed (digest mismatch, undecryptable or unreadable document),
// kForbidden (no get on debugsnapshots).
CommandOutcome DeliverReport(Cluster& cluster, const nlohmann::json& session,
                             const identity::Identity& identity, command_line::OutputFormat format,
                             const std::string& file, const report::ReportOptions& options, Io& io);

// Writes `text` to `path` with mode 0600 (created or truncated). kFailed with the OS error.
CommandOutcome WritePrivateFile(const std::string& path, std::string_view text);

}  // namespace ephemera::commands

#endif  // EPHEMERA_CLI_COMMANDS_DELIVERY_H_
