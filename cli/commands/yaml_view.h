// JSON objects printed as YAML, the way `kubectl get -o yaml` prints them: block style, keys
// sorted, strings quoted only where YAML would read them as something else. Pure.
#ifndef EPHEMERA_CLI_COMMANDS_YAML_VIEW_H_
#define EPHEMERA_CLI_COMMANDS_YAML_VIEW_H_

#include <nlohmann/json.hpp>
#include <string>

namespace ephemera::commands {

// Ends with a newline. Reading the result back as YAML gives `value` again (the same types: a
// string that looks like a number, a boolean or null is quoted).
std::string ToYaml(const nlohmann::json& value);

}  // namespace ephemera::commands

#endif  // EPHEMERA_CLI_COMMANDS_YAML_VIEW_H_
