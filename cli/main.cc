// kubectl-ephemera: the command-line tool (and kubectl plugin: `kubectl ephemera …` when on PATH).
// Wires the process's streams, environment and clock into the commands; see
// `kubectl-ephemera --help` and docs/cli.md.
#include <iostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cli/commands/commands.h"
#include "kube/auth/kube_config.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  ephemera::base::SystemClock clock;
  ephemera::commands::Io io{std::cin, std::cout, std::cerr,
                            ephemera::kube::LookupProcessEnvironment, clock};
  return ephemera::commands::RunCommandLine(args, io);
}
