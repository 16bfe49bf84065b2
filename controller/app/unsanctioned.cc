#include "controller/app/unsanctioned.h"

#include <utility>

namespace ephemera::app {

audit::AuditRecord BuildUnsanctionedRecord(const detection::UnsanctionedContainer& c,
                                           const Sighting& sighting) {
  audit::AuditRecord record;
  record.requester = sighting.username;
  record.target = c.namespace_name + "/" + c.pod + "/" + c.container;
  record.action = "unsanctioned-container-seen";
  record.outcome = sighting.decision == "denied" ? "Denied" : "Allowed";
  record.message = "ephemeral container " + c.container + " (image " + c.image +
                   ") was not added by Ephemera; seen by " + sighting.source;
  record.details = {{"image", c.image}, {"podUid", c.pod_uid}, {"running", c.running}};
  if (sighting.caller != nullptr) admission::MarkCaller(record, *sighting.caller);
  return record;
}

kube::EventRecord BuildUnsanctionedEvent(const detection::UnsanctionedContainer& c) {
  kube::EventRecord event;
  event.regarding = {"v1", "Pod", c.namespace_name, c.pod, c.pod_uid};
  event.type = "Warning";
  event.reason = "UnsanctionedEphemeralContainer";
  event.action = "DetectEphemeralContainer";
  event.note =
      "Ephemeral container " + c.container + " (image " + c.image + ") was not added by Ephemera";
  return event;
}

UnsanctionedReporter::UnsanctionedReporter(ReplicaAudit& audit,
                                           metrics::Family<metrics::Counter>& seen,
                                           kube::EventRecorder& events, logging::Logger logger)
    : audit_(audit), seen_(seen), events_(events), logger_(std::move(logger)) {}

void UnsanctionedReporter::Report(const detection::UnsanctionedContainer& c,
                                  const Sighting& sighting) {
  seen_.WithLabels({sighting.source, sighting.decision}).Increment();
  (void)audit_.Append(BuildUnsanctionedRecord(c, sighting));  // a lost record is logged there
  logger_.Warn("Unsanctioned ephemeral container", {{"pod", c.namespace_name + "/" + c.pod},
                                                    {"container", c.container},
                                                    {"image", c.image},
                                                    {"source", sighting.source},
                                                    {"decision", sighting.decision},
                                                    {"user", sighting.username}});
}

void UnsanctionedReporter::ReportFromWatch(const detection::UnsanctionedContainer& c) {
  Report(c, {.source = "watch", .decision = "allowed"});
  events_.Record(BuildUnsanctionedEvent(c));
}

}  // namespace ephemera::app
