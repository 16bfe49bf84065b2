#include "controller/app/leadership.h"

#include "controller/leader/leader_elector.h"

namespace ephemera::app {

Status RunLeadership(kube::KubeClient& client, base::Clock& clock,
                     const config::LeaderElectionSettings& election,
                     const std::string& namespace_name, const std::string& identity,
                     metrics::Gauge& leader, const logging::Logger& logger,
                     const std::stop_token& stop,
                     const std::function<void(const std::stop_token&)>& lead) {
  if (!election.enabled) {
    leader.Set(1);
    lead(stop);
    return OkStatus();
  }
  const leader::LeaderElectionConfig config{{namespace_name, election.lease_name},
                                            identity,
                                            election.lease_duration,
                                            election.renew_deadline,
                                            election.retry_period};
  leader::LeaderElector elector(client, clock, config);
  return elector.Run(
      stop,
      [&](const std::stop_token& leading) {
        leader.Set(1);
        logger.Info("Became leader", {{"identity", identity}});
        lead(leading);
      },
      [&] {
        leader.Set(0);
        logger.Info("Stopped leading", {{"identity", identity}});
      });
}

}  // namespace ephemera::app
