#include "audit/audit_log.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_verifier.h"
#include "tests/audit/fake_audit_sink.h"

namespace ephemera::audit {
namespace {

AuditRecord RecordFor(const std::string& chain, const std::string& action) {
  AuditRecord r;
  r.time = "2026-11-28T23:39:24.123Z";
  r.chain = chain;
  r.session = "team-a/s";
  r.requester = "alice";
  r.reason = "INC-1";
  r.target = "team-a/p/app";
  r.action = action;
  r.outcome = "ok";
  r.message = "Did " + action + ".";
  return r;
}

TEST(AuditLogTest, AppendChainsRecordsAndWritesThem) {
  FakeAuditSink sink;
  AuditLog log(sink);
  StatusOr<ChainHead> h1 = log.Append(RecordFor("session/a", "admitted"));
  StatusOr<ChainHead> h2 = log.Append(RecordFor("session/a", "authorized"));
  StatusOr<ChainHead> other = log.Append(RecordFor("session/b", "admitted"));
  ASSERT_TRUE(h1.ok() && h2.ok() && other.ok());
  EXPECT_EQ(h1->records, 1U);
  EXPECT_EQ(h2->records, 2U);
  EXPECT_EQ(other->records, 1U);
  EXPECT_EQ(log.Head("session/a"), *h2);
  const std::vector<SealedRecord> written = sink.Records();
  ASSERT_EQ(written.size(), 3U);
  EXPECT_EQ(written[0].prev, GenesisHash("session/a"));
  EXPECT_EQ(written[1].prev, h1->hash);
  EXPECT_EQ(written[1].hash, h2->hash);
  EXPECT_EQ(written[2].prev, GenesisHash("session/b"));
  EXPECT_TRUE(log.Healthy());

  std::istringstream stream(sink.JsonLines());
  const VerifyReport report =
      VerifyAuditStream(stream, {{"session/a", *h2}, {"session/b", *other}});
  EXPECT_TRUE(report.Verified()) << FormatVerifyReport(report);
}

TEST(AuditLogTest, RejectsARecordWithoutChainAndAMalformedPersistedHead) {
  FakeAuditSink sink;
  AuditLog log(sink);
  StatusOr<ChainHead> no_chain = log.Append(RecordFor("", "admitted"));
  EXPECT_EQ(no_chain.status().code(), StatusCode::kInvalidArgument);
  StatusOr<ChainHead> bad = log.Append(RecordFor("session/a", "admitted"), ChainHead{4, "x"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sink.Attempts(), 0);
}

TEST(AuditLogTest, StrictAppendFailsAndDoesNotAdvanceWhenTheSinkFails) {
  FakeAuditSink sink;
  AuditLog log(sink, AuditLogOptions{.strict = true});
  StatusOr<ChainHead> first = log.Append(RecordFor("session/a", "admitted"));
  ASSERT_TRUE(first.ok());

  sink.FailWith(UnavailableError("broken pipe"));
  StatusOr<ChainHead> failed = log.Append(RecordFor("session/a", "authorized"));
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("broken pipe"), std::string::npos);
  EXPECT_EQ(log.Head("session/a"), *first);
  EXPECT_FALSE(log.Healthy());
  EXPECT_EQ(log.FailedWrites(), 1U);

  sink.FailWith(OkStatus());
  StatusOr<ChainHead> retried = log.Append(RecordFor("session/a", "authorized"));
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->records, 2U);
  EXPECT_TRUE(log.Healthy());
  std::istringstream stream(sink.JsonLines());
  EXPECT_TRUE(VerifyAuditStream(stream, {{"session/a", *retried}}).Verified());
}

TEST(AuditLogTest, NonStrictAppendAdvancesSoTheLossIsVisible) {
  FakeAuditSink sink;
  AuditLog log(sink);
  ASSERT_TRUE(log.Append(RecordFor("session/a", "admitted")).ok());
  sink.FailWith(UnavailableError("no space left on device"));
  StatusOr<ChainHead> lost = log.Append(RecordFor("session/a", "authorized"));
  ASSERT_TRUE(lost.ok());
  EXPECT_EQ(lost->records, 2U);
  EXPECT_FALSE(log.Healthy());
  sink.FailWith(OkStatus());
  StatusOr<ChainHead> third = log.Append(RecordFor("session/a", "injected"));
  ASSERT_TRUE(third.ok());

  std::istringstream stream(sink.JsonLines());
  const VerifyReport report = VerifyAuditStream(stream, {{"session/a", *third}});
  EXPECT_FALSE(report.Verified());
  EXPECT_NE(FormatVerifyReport(report).find("record seq 2 is missing"), std::string::npos)
      << FormatVerifyReport(report);
}

TEST(AuditLogTest, ContinuesFromThePersistedHeadAfterARestart) {
  FakeAuditSink sink;
  ChainHead persisted;
  {
    AuditLog before(sink);
    ASSERT_TRUE(before.Append(RecordFor("session/a", "admitted")).ok());
    StatusOr<ChainHead> h = before.Append(RecordFor("session/a", "authorized"));
    ASSERT_TRUE(h.ok());
    persisted = *h;
  }
  AuditLog after(sink);  // a new replica: nothing in memory
  EXPECT_EQ(after.Head("session/a"), GenesisHead("session/a"));
  StatusOr<ChainHead> next = after.Append(RecordFor("session/a", "injected"), persisted);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->records, 3U);
  EXPECT_EQ(sink.Records().back().prev, persisted.hash);

  // An older persisted head (a stale status read) does not rewind the in-memory head.
  StatusOr<ChainHead> fourth = after.Append(RecordFor("session/a", "collected"), persisted);
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(fourth->records, 4U);
  EXPECT_EQ(sink.Records().back().prev, next->hash);

  std::istringstream stream(sink.JsonLines());
  const VerifyReport report = VerifyAuditStream(stream, {{"session/a", *fourth}});
  EXPECT_TRUE(report.Verified()) << FormatVerifyReport(report);
}

TEST(AuditLogTest, ForgetFreesTheChain) {
  FakeAuditSink sink;
  AuditLog log(sink);
  ASSERT_TRUE(log.Append(RecordFor("session/a", "admitted")).ok());
  ASSERT_TRUE(log.Append(RecordFor("session/b", "admitted")).ok());
  EXPECT_EQ(log.ChainCount(), 2U);
  log.Forget("session/a");
  log.Forget("session/never-seen");
  EXPECT_EQ(log.ChainCount(), 1U);
  EXPECT_EQ(log.Head("session/a"), GenesisHead("session/a"));
  EXPECT_EQ(log.Head("session/b").records, 1U);
}

TEST(AuditLogTest, ConcurrentAppendsKeepEveryChainIntact) {
  FakeAuditSink sink;
  AuditLog log(sink);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Two threads share each chain.
        const std::string chain = "session/" + std::to_string(t % 2);
        EXPECT_TRUE(log.Append(RecordFor(chain, "step" + std::to_string(i))).ok());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(log.Head("session/0").records, 2U * kPerThread);
  EXPECT_EQ(log.Head("session/1").records, 2U * kPerThread);
  std::istringstream stream(sink.JsonLines());
  const VerifyReport report = VerifyAuditStream(
      stream, {{"session/0", log.Head("session/0")}, {"session/1", log.Head("session/1")}});
  EXPECT_TRUE(report.Verified()) << FormatVerifyReport(report);
  EXPECT_EQ(report.records, static_cast<std::uint64_t>(kThreads * kPerThread));
}

// A step that failed after its records is retried from the saved head: the retry's first record
// names the abandoned attempt's last record, and the whole stream verifies against the saved head.
TEST(AuditLogTest, TheRetryAfterAbandonNamesTheAbandonedTip) {
  FakeAuditSink sink;
  AuditLog log(sink);
  StatusOr<ChainHead> saved = log.Append(RecordFor("session/a", "accepted"));
  ASSERT_TRUE(saved.ok());
  ASSERT_TRUE(log.Append(RecordFor("session/a", "collected"), *saved).ok());
  StatusOr<ChainHead> tip = log.Append(RecordFor("session/a", "delivered"), *saved);
  ASSERT_TRUE(tip.ok());
  log.Abandon("session/a");
  EXPECT_EQ(log.ChainCount(), 0U);

  StatusOr<ChainHead> retried = log.Append(RecordFor("session/a", "collected"), *saved);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->records, 2U);
  StatusOr<ChainHead> head = log.Append(RecordFor("session/a", "delivered"), *retried);
  ASSERT_TRUE(head.ok());
  const std::vector<SealedRecord> written = sink.Records();
  ASSERT_EQ(written.size(), 5U);
  EXPECT_EQ(written[3].fork, (ForkNote{tip->hash, false}));
  EXPECT_EQ(written[4].fork, ForkNote{}) << "only the first record after the fork explains it";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(written[i].fork, ForkNote{});

  std::istringstream stream(sink.JsonLines());
  const VerifyReport report = VerifyAuditStream(stream, {{"session/a", *head}});
  EXPECT_TRUE(report.Verified()) << FormatVerifyReport(report);
  EXPECT_EQ(report.chains.at("session/a").superseded, 2U);
}

// Nothing to name when the failed step wrote nothing past the saved head; and no resume either,
// because this process knows there is no branch.
TEST(AuditLogTest, AnAbandonWithoutNewRecordsMarksNothing) {
  FakeAuditSink sink;
  AuditLog log(sink);
  StatusOr<ChainHead> saved = log.Append(RecordFor("session/a", "accepted"));
  ASSERT_TRUE(saved.ok());
  log.Abandon("session/a");
  ASSERT_TRUE(log.Append(RecordFor("session/a", "authorized"), *saved).ok());
  EXPECT_EQ(sink.Records().back().fork, ForkNote{});
}

// A process that continues a chain from a head it did not write (a restart, a new leader) marks
// its first record as a resume; later records, new chains and chains it wrote itself are unmarked.
TEST(AuditLogTest, TheFirstRecordFromAPersistedHeadIsAResume) {
  FakeAuditSink sink;
  ChainHead persisted;
  {
    AuditLog before(sink);
    persisted = *before.Append(RecordFor("session/a", "accepted"));
  }
  AuditLog log(sink);
  StatusOr<ChainHead> first = log.Append(RecordFor("session/a", "authorized"), persisted);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(log.Append(RecordFor("session/a", "key-created"), *first).ok());
  ASSERT_TRUE(log.Append(RecordFor("session/b", "accepted")).ok());
  const std::vector<SealedRecord> written = sink.Records();
  ASSERT_EQ(written.size(), 4U);
  EXPECT_TRUE(written[1].fork.resumes);
  EXPECT_FALSE(written[2].fork.resumes);
  EXPECT_FALSE(written[3].fork.resumes) << "a chain starting at genesis resumes nothing";

  // Someone else (another leader) moved the chain on meanwhile: resume again.
  SealedRecord elsewhere = Seal(RecordFor("session/a", "injected"), log.Head("session/a"));
  ASSERT_TRUE(log.Append(RecordFor("session/a", "collected"), HeadAfter(elsewhere)).ok());
  EXPECT_TRUE(sink.Records().back().fork.resumes);
}

// A leader that died between a session's first records and its first status write leaves a branch
// at seq 1; the next leader, told that the session is older than its leadership, marks its own
// first record as a resume, and the chain verifies. Without that, the branch is unexplained.
TEST(AuditLogTest, AGenesisBranchLeftByAPreviousLeaderIsExplainedWhenTheCallerSaysSo) {
  for (const bool written_elsewhere : {true, false}) {
    FakeAuditSink sink;
    {
      AuditLog dead(sink);
      ASSERT_TRUE(dead.Append(RecordFor("session/a", "accepted")).ok());
    }
    AuditLog log(sink);
    StatusOr<ChainHead> first =
        log.Append(RecordFor("session/a", "accepted"), std::nullopt, written_elsewhere);
    ASSERT_TRUE(first.ok());
    StatusOr<ChainHead> second = log.Append(RecordFor("session/a", "authorized"), *first);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(sink.Records()[1].fork.resumes, written_elsewhere);
    std::stringstream stream(sink.JsonLines());
    EXPECT_EQ(VerifyAuditStream(stream, {{"session/a", *second}}).Verified(), written_elsewhere)
        << "written_elsewhere=" << written_elsewhere;
  }
}

// Strict audit refuses the named record: the name is kept for the next attempt.
TEST(AuditLogTest, ARefusedRetryKeepsTheAbandonedTipForTheNextOne) {
  FakeAuditSink sink;
  AuditLog log(sink, {.strict = true});
  StatusOr<ChainHead> saved = log.Append(RecordFor("session/a", "accepted"));
  StatusOr<ChainHead> tip = log.Append(RecordFor("session/a", "authorized"), *saved);
  ASSERT_TRUE(saved.ok() && tip.ok());
  log.Abandon("session/a");
  sink.FailWith(UnavailableError("stdout closed"));
  EXPECT_FALSE(log.Append(RecordFor("session/a", "authorized"), *saved).ok());
  log.Abandon("session/a");  // the step failed again; nothing new in memory
  sink.FailWith(OkStatus());
  ASSERT_TRUE(log.Append(RecordFor("session/a", "authorized"), *saved).ok());
  EXPECT_EQ(sink.Records().back().fork.abandons, tip->hash);
}

}  // namespace
}  // namespace ephemera::audit
