// Fuzzes the controller's config file (controller/config/controller_config.h): YAML applied on top
// of the defaults, then the cross-field validation the controller runs at startup.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controller/config/controller_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  ephemera::config::ControllerConfig config;
  ephemera::config::SettingOrigins origins;
  if (ephemera::config::ApplyConfigYaml(yaml, "fuzz.yaml", config, origins).ok()) {
    (void)ephemera::config::ValidateControllerConfig(config, origins);
  }
  return 0;
}
