#include "controller/app/mark_key.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "controller/detection/mark_key.h"

namespace ephemera::app {

std::optional<std::string> WaitForMarkKey(kube::KubeClient& client, base::Clock& clock,
                                          const std::string& namespace_name,
                                          const logging::Logger& logger,
                                          const std::stop_token& stop) {
  for (int attempt = 1; !stop.stop_requested(); ++attempt) {
    auto key = detection::EnsureMarkKey(client, namespace_name);
    if (key.ok()) return std::move(*key);
    logger.Warn("Cannot load the mark key; retrying",
                {{"secret", namespace_name + "/" + detection::kMarkKeySecretName},
                 {"attempt", attempt},
                 {"error", key.status()}});
    clock.SleepFor(std::chrono::seconds(std::min(attempt, 10)), stop);
  }
  return std::nullopt;
}

}  // namespace ephemera::app
