// `kubectl ephemera logs`: a session with capture [logs] run to completion (session_run.h), its
// snapshot decrypted (delivery.h), and the logs section printed (log_view.h).
#include "cli/commands/commands.h"
#include "cli/commands/delivery.h"
#include "cli/commands/log_view.h"
#include "cli/commands/session_run.h"

namespace ephemera::commands {

CommandOutcome RunLogs(const command_line::CommandLine& cl, Io& io) {
  auto completed = RunSessionToCompletion(cl.global, cl.snapshot, io);
  if (!completed.HasValue()) return completed.Outcome();
  auto decrypted = FetchAndDecrypt(*completed->cluster, completed->session, completed->identity);
  if (!decrypted.HasValue()) return decrypted.Outcome();
  if (cl.snapshot.output == command_line::OutputFormat::kJson) {
    return WriteLogsJson(decrypted->document, io.out);
  }
  LogViewOptions options;
  options.timestamps = cl.snapshot.timestamps;
  return WriteLogs(decrypted->document, options, io.out, io.err);
}

}  // namespace ephemera::commands
