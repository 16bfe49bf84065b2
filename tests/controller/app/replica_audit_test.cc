#include "controller/app/replica_audit.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/audit/fake_audit_sink.h"
#include "tests/base/fake_clock.h"

namespace ephemera::app {
namespace {

audit::AuditRecord Record(std::string action) {
  audit::AuditRecord record;
  record.action = std::move(action);
  record.outcome = "ok";
  record.message = "something happened";
  return record;
}

TEST(ReplicaAuditTest, StampsTheReplicaChainAndTheTime) {
  audit::FakeAuditSink sink;
  audit::AuditLog log(sink);
  base::FakeClock clock;
  std::ostringstream logs;
  ReplicaAudit replica(log, clock, "ephemera-controller-7d9f",
                       logging::Logger::ToStream(logs, logging::LogLevel::kInfo));
  EXPECT_EQ(replica.Chain(), "controller/ephemera-controller-7d9f@2026-01-01T00:00:00.000Z");

  clock.Advance(std::chrono::seconds(90));
  ASSERT_TRUE(replica.Append(Record("admitted")).ok());
  ASSERT_TRUE(replica.Append(Record("denied")).ok());

  const auto records = sink.Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].record.chain, replica.Chain());
  EXPECT_EQ(records[0].record.time, "2026-01-01T00:01:30.000Z");
  EXPECT_EQ(records[1].record.action, "denied");
  EXPECT_EQ(records[1].seq, 2u) << "one chain for the whole process";
  EXPECT_EQ(logs.str(), "");
}

TEST(ReplicaAuditTest, StrictModeReturnsTheSinkFailureAndLogsIt) {
  audit::FakeAuditSink sink;
  audit::AuditLog log(sink, {.strict = true});
  base::FakeClock clock;
  std::ostringstream logs;
  ReplicaAudit replica(log, clock, "r", logging::Logger::ToStream(logs, logging::LogLevel::kInfo));
  sink.FailWith(UnavailableError("stdout closed"));

  const Status status = replica.Append(Record("admitted"));
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(logs.str().find("Cannot write an audit record"), std::string::npos) << logs.str();
  EXPECT_NE(logs.str().find("\"action\":\"admitted\""), std::string::npos) << logs.str();
}

TEST(ReplicaAuditTest, NonStrictModeLosesTheRecordButReturnsOk) {
  audit::FakeAuditSink sink;
  audit::AuditLog log(sink);
  base::FakeClock clock;
  std::ostringstream logs;
  ReplicaAudit replica(log, clock, "r", logging::Logger::ToStream(logs, logging::LogLevel::kInfo));
  sink.FailWith(UnavailableError("stdout closed"));

  EXPECT_TRUE(replica.Append(Record("admitted")).ok());
  EXPECT_TRUE(sink.Records().empty());
  EXPECT_FALSE(log.Healthy());
}

}  // namespace
}  // namespace ephemera::app
