// The --help texts of kubectl-ephemera: the overview and one per command, each ending with the
// exit codes. Pure.
#ifndef EPHEMERA_CLI_COMMAND_LINE_USAGE_H_
#define EPHEMERA_CLI_COMMAND_LINE_USAGE_H_

#include <string>

#include "cli/command_line/command_line.h"

namespace ephemera::command_line {

// The overview for Command::kNone, otherwise the command's usage.
std::string UsageText(Command command);

// "kubectl-ephemera 0.1.0".
std::string VersionText();

}  // namespace ephemera::command_line

#endif  // EPHEMERA_CLI_COMMAND_LINE_USAGE_H_
