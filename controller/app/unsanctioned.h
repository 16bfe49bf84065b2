// What the controller does about an ephemeral container Ephemera did not add: an audit record, a
// metric and a log line for each sighting, and a Warning Event on the pod when the pod watch (not
// admission) found it.
//
// The builders are pure; UnsanctionedReporter sends what they build.
#ifndef EPHEMERA_CONTROLLER_APP_UNSANCTIONED_H_
#define EPHEMERA_CONTROLLER_APP_UNSANCTIONED_H_

#include <string>

#include "audit/audit_record.h"
#include "controller/admission/admission_audit.h"
#include "controller/app/replica_audit.h"
#include "controller/detection/pod_summary.h"
#include "controller/logging/logger.h"
#include "controller/metrics/registry.h"
#include "kube/client/event_recorder.h"
#include "kube/object/event.h"

namespace ephemera::app {

// Where and how an unsanctioned container was seen.
struct Sighting {
  // "admission" (the API server asked, its certificate verified), "admission-unverified" (any pod
  // could have sent the review) or "watch" (the leader's pod watch).
  std::string source{};
  std::string decision{};  // "allowed" or "denied"
  std::string username{};  // who added it, when admission tells; "" from the watch
  // Who sent the AdmissionReview; nullptr from the watch. Borrowed for the call only.
  const admission::AdmissionCaller* caller = nullptr;
};

// The audit record of a sighting (action "unsanctioned-container-seen", outcome "Denied" or
// "Allowed"), without chain and time. From admission the record is marked with its caller
// (admission::MarkCaller).
audit::AuditRecord BuildUnsanctionedRecord(const detection::UnsanctionedContainer& container,
                                           const Sighting& sighting);

// The Warning Event UnsanctionedEphemeralContainer on the container's pod.
kube::EventRecord BuildUnsanctionedEvent(const detection::UnsanctionedContainer& container);

// Reports sightings. Borrows everything; thread safe (each part is).
class UnsanctionedReporter {
 public:
  // `seen` is the unsanctioned_ephemeral_containers_total family (labels source, decision).
  UnsanctionedReporter(ReplicaAudit& audit, metrics::Family<metrics::Counter>& seen,
                       kube::EventRecorder& events, logging::Logger logger);

  // Counts the sighting, appends its audit record (a lost record is logged, detection goes on)
  // and logs it.
  void Report(const detection::UnsanctionedContainer& container, const Sighting& sighting);
  // A container the pod watch found: Report with source "watch", decision "allowed", and the
  // Event on the pod.
  void ReportFromWatch(const detection::UnsanctionedContainer& container);

 private:
  ReplicaAudit& audit_;
  metrics::Family<metrics::Counter>& seen_;
  kube::EventRecorder& events_;
  const logging::Logger logger_;
};

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_UNSANCTIONED_H_
