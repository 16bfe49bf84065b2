// The `logs` section of a decrypted snapshot document (docs/decisions/log-pull.md, "The contract")
// as `kubectl ephemera logs` prints it, the way kubectl logs would: per instance of the container,
// oldest first (previous, then current), a header line on `err` and the redacted lines on `out`.
//
// The lines come from the target (redacted, but chosen by it), so every text taken from the
// document goes through report::Printable: no terminal escape sequence gets through. Pure apart
// from writing to the streams it is given; no shared state.
#ifndef EPHEMERA_CLI_COMMANDS_LOG_VIEW_H_
#define EPHEMERA_CLI_COMMANDS_LOG_VIEW_H_

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands/outcome.h"

namespace ephemera::commands {

struct LogViewOptions {
  // Keep the kubelet's RFC 3339 timestamp in front of each line (kubectl logs --timestamps);
  // otherwise it is cut, as kubectl logs shows lines by default.
  bool timestamps = false;
};

// The header of one instance, without "\n":
//   == previous instance (restart count 3; exited 137, signal 9, OOMKilled, at 2026-…Z) ==
//   == previous instance (restart count 3): not read: the container has no previous instance ==
std::string InstanceHeader(const nlohmann::json& instance);

// Writes the logs section of `document`: for each instance its header on `err`, its lines on
// `out`, then on `err` what was cut or left out. `out` is flushed before anything goes to `err`,
// so that both keep their order on a terminal. Success when at least one instance was read;
// kFailed when none could be (each one's error is in the message), or when the document has no
// logs section (with the reason `degraded` gives for it, if any).
CommandOutcome WriteLogs(const nlohmann::json& document, const LogViewOptions& options,
                         std::ostream& out, std::ostream& err);

// -o json: the logs section of `document` as indented JSON, every non-ASCII character escaped
// (\uXXXX), so that it too is safe on a terminal. kFailed as WriteLogs when there is none.
CommandOutcome WriteLogsJson(const nlohmann::json& document, std::ostream& out);

}  // namespace ephemera::commands

#endif  // EPHEMERA_CLI_COMMANDS_LOG_VIEW_H_
