#include "controller/app/events.h"

#include <string>
#include <utility>

namespace ephemera::app {

kube::EventRecorderOptions EventRecorderOptionsFor(std::string_view identity,
                                                   logging::Logger logger) {
  kube::EventRecorderOptions options;
  options.reporting_controller = std::string(kReportingController);
  options.reporting_instance = std::string(identity.substr(0, 128));
  options.on_error = [logger = std::move(logger)](const kube::EventRecord& event,
                                                  const Status& error) {
    logger.Warn("Cannot record event",
                {{"regarding", event.regarding.namespace_name + "/" + event.regarding.name},
                 {"reason", event.reason},
                 {"error", error}});
  };
  return options;
}

}  // namespace ephemera::app
