// The commands of kubectl-ephemera, each given its parsed command line and the process's streams,
// environment and clock. RunCommandLine parses, dispatches, prints the outcome's message on `err`
// ("error: …") and returns the exit code (command_line/exit_code.h).
//
// Output contract: results (reports, tables, JSON, the recipient) go to `out`; progress, notes and
// errors to `err`. Neither ever carries the identity's secret; snapshot plaintext goes only to
// `out` or the -f file (mode 0600) the user asked for, never to `err`.
#ifndef EPHEMERA_CLI_COMMANDS_COMMANDS_H_
#define EPHEMERA_CLI_COMMANDS_COMMANDS_H_

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cli/command_line/command_line.h"
#include "cli/commands/cluster.h"
#include "cli/commands/outcome.h"
#include "kube/auth/kube_config.h"

namespace ephemera::commands {

struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  kube::EnvironmentLookup getenv;
  base::Clock& clock;
  // How commands reach the cluster; empty: Cluster::Open (the kubeconfig). Tests put a fake here.
  std::function<OutcomeOr<std::unique_ptr<Cluster>>(const command_line::GlobalOptions&)>
      open_cluster{};
};

// io.open_cluster, or Cluster::Open with io's environment and clock.
OutcomeOr<std::unique_ptr<Cluster>> OpenCluster(const command_line::GlobalOptions& global, Io& io);

// `args` excludes the program name.
int RunCommandLine(const std::vector<std::string>& args, Io& io);

CommandOutcome RunKeys(const command_line::CommandLine& cl, Io& io);
CommandOutcome RunSnapshot(const command_line::CommandLine& cl, Io& io);
CommandOutcome RunLogs(const command_line::CommandLine& cl, Io& io);
CommandOutcome RunGet(const command_line::CommandLine& cl, Io& io);
CommandOutcome RunList(const command_line::CommandLine& cl, Io& io);
CommandOutcome RunFetch(const command_line::CommandLine& cl, Io& io);
// Returns audit::RunAuditVerify's exit code through the outcome (message empty: it printed its
// own diagnostics).
CommandOutcome RunAuditVerifyCommand(const command_line::CommandLine& cl, Io& io);

}  // namespace ephemera::commands

#endif  // EPHEMERA_CLI_COMMANDS_COMMANDS_H_
