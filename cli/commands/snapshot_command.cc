// `kubectl ephemera snapshot`: a session run to completion (session_run.h), then the report.
#include "cli/commands/commands.h"
#include "cli/commands/delivery.h"
#include "cli/commands/session_run.h"

namespace ephemera::commands {

CommandOutcome RunSnapshot(const command_line::CommandLine& cl, Io& io) {
  auto completed = RunSessionToCompletion(cl.global, cl.snapshot, io);
  if (!completed.HasValue()) return completed.Outcome();
  return DeliverReport(*completed->cluster, completed->session, completed->identity,
                       cl.snapshot.output, cl.snapshot.file,
                       report::ReportOptions{cl.snapshot.native_frames}, io);
}

}  // namespace ephemera::commands
