// What the app/ tests share: the objects main wires, built over the test fakes (FakeKubeClient,
// FakeClock, FakeAuditSink) and a logger writing to a string.
#ifndef EPHEMERA_TESTS_CONTROLLER_APP_APP_FIXTURE_H_
#define EPHEMERA_TESTS_CONTROLLER_APP_APP_FIXTURE_H_

#include <sstream>
#include <string>

#include "audit/audit_log.h"
#include "controller/app/events.h"
#include "controller/app/metrics.h"
#include "controller/app/replica_audit.h"
#include "controller/app/unsanctioned.h"
#include "controller/logging/logger.h"
#include "controller/metrics/registry.h"
#include "kube/client/event_recorder.h"
#include "tests/audit/fake_audit_sink.h"
#include "tests/base/fake_clock.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::app {

struct AppFixture {
  explicit AppFixture(bool strict_audit = false)
      : audit_log(sink, {.strict = strict_audit}),
        logger(logging::Logger::ToStream(logs, logging::LogLevel::kInfo)),
        replica(audit_log, clock, "replica-1", logger),
        metrics(RegisterControllerMetrics(registry)),
        events(client, clock, EventRecorderOptionsFor("replica-1", logger)),
        unsanctioned(replica, metrics.unsanctioned, events, logger) {}

  double Unsanctioned(const std::string& source, const std::string& decision) {
    return metrics.unsanctioned.WithLabels({source, decision}).Value();
  }

  audit::FakeAuditSink sink;
  base::FakeClock clock;
  kube::FakeKubeClient client;
  audit::AuditLog audit_log;
  std::ostringstream logs;
  logging::Logger logger;
  ReplicaAudit replica;
  metrics::Registry registry;
  ControllerMetrics metrics;
  kube::EventRecorder events;
  UnsanctionedReporter unsanctioned;
};

}  // namespace ephemera::app

#endif  // EPHEMERA_TESTS_CONTROLLER_APP_APP_FIXTURE_H_
