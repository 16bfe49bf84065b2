#include "controller/config/load_config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ephemera::config {
namespace {

// The whole file, or kNotFound / kPermissionDenied / kUnavailable naming the path.
StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    const std::string reason = std::strerror(error);
    if (error == ENOENT) return NotFoundError("config file " + path + " does not exist");
    if (error == EACCES) {
      return PermissionDeniedError("cannot read config file " + path + ": " + reason);
    }
    return UnavailableError("cannot open config file " + path + ": " + reason);
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return UnavailableError("error reading config file " + path);
  return contents.str();
}

std::string Trim(std::string text) {
  const char* space = " \t\r\n";
  text.erase(0, text.find_first_not_of(space));
  const std::size_t last = text.find_last_not_of(space);
  text.erase(last == std::string::npos ? 0 : last + 1);
  return text;
}

}  // namespace

StatusOr<ControllerConfig> LoadControllerConfig(const ConfigSources& sources) {
  auto flags = ParseFlags(sources.args);
  if (!flags.ok()) return flags.status();
  ControllerConfig config;
  if (flags->help) {
    config.help_requested = true;
    return config;
  }
  SettingOrigins origins;
  if (!flags->config_file.empty()) {
    auto text = ReadFile(flags->config_file);
    if (!text.ok()) return text.status();
    EPHEMERA_RETURN_IF_ERROR(ApplyConfigYaml(*text, flags->config_file, config, origins));
    config.config_file = flags->config_file;
  }
  EPHEMERA_RETURN_IF_ERROR(ApplyFlags(*flags, config, origins));
  if (config.namespace_name.empty()) {
    std::ifstream in(sources.in_cluster_namespace_file);
    std::string in_cluster;
    if (in && std::getline(in, in_cluster)) in_cluster = Trim(in_cluster);
    config.namespace_name = in_cluster.empty() ? kDefaultNamespace : in_cluster;
  }
  EPHEMERA_RETURN_IF_ERROR(ValidateControllerConfig(config, origins));
  return config;
}

}  // namespace ephemera::config
