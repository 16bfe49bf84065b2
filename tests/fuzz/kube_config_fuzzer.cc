// Fuzzes kubeconfig parsing (kube/auth/kube_config.h). Relative file references resolve
// under a directory that does not exist, so the input names no fixture of this machine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/auth/kube_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto config =
      ephemera::kube::KubeConfig::FromString(yaml, "fuzz-kubeconfig", "/nonexistent/ephemera-fuzz");
  if (config.ok()) (void)config->Describe();
  return 0;
}
