#include "audit/audit_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace ephemera::audit {
namespace {

using ::testing::HasSubstr;

constexpr char kA[] = "session/aaaa";
constexpr char kB[] = "session/bbbb";

AuditRecord RecordFor(const std::string& chain, int n) {
  AuditRecord r;
  r.time = "2026-11-28T23:39:24." + std::to_string(100 + n) + "Z";
  r.chain = chain;
  r.session = "team-a/s";
  r.requester = "alice";
  r.reason = "INC-1";
  r.target = "team-a/p/app";
  r.action = "step";
  r.outcome = "ok";
  r.message = "Step " + std::to_string(n) + ".";
  r.details = {{"n", n}};
  return r;
}

// A clean stream: chain A (5 records) and chain B (3 records) interleaved with log lines.
class Stream {
 public:
  Stream() {
    ChainHead a = GenesisHead(kA);
    ChainHead b = GenesisHead(kB);
    lines_.push_back(R"({"ts":"2026-11-28T23:39:24.000Z","level":"info","msg":"Starting"})");
    for (int i = 1; i <= 5; ++i) {
      const SealedRecord ra = Seal(RecordFor(kA, i), a);
      a = HeadAfter(ra);
      Add(ra);
      if (i <= 3) {
        const SealedRecord rb = Seal(RecordFor(kB, i), b);
        b = HeadAfter(rb);
        Add(rb);
      }
    }
    lines_.emplace_back("");
    anchors_ = {{kA, a}, {kB, b}};
  }

  // The line index (0-based) of a chain's record seq.
  std::size_t IndexOf(const std::string& chain, std::uint64_t seq) const {
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      const nlohmann::json j = nlohmann::json::parse(lines_[i], nullptr, false);
      if (j.is_object() && j.value("chain", "") == chain && j.value("seq", 0U) == seq) return i;
    }
    ADD_FAILURE() << "no record " << chain << " seq " << seq;
    return 0;
  }
  nlohmann::json Json(std::size_t index) const { return nlohmann::json::parse(lines_[index]); }

  VerifyReport Verify(bool with_anchors, bool allow_partial = false) const {
    std::ostringstream text;
    for (const std::string& l : lines_) text << l << "\n";
    std::istringstream in(text.str());
    VerifyOptions options;
    if (with_anchors) options.anchors = anchors_;
    options.allow_partial_chains = allow_partial;
    return VerifyAuditStream(in, options);
  }

  std::vector<std::string> lines_;
  std::map<std::string, ChainHead> anchors_;

 private:
  void Add(const SealedRecord& r) { lines_.push_back(ToJson(r).dump()); }
};

VerifyReport VerifyLines(const std::vector<std::string>& lines,
                         const std::map<std::string, ChainHead>& anchors) {
  std::ostringstream text;
  for (const std::string& l : lines) text << l << "\n";
  std::istringstream in(text.str());
  return VerifyAuditStream(in, anchors);
}

// One chain written by hand as log lines, for the tests of forks and branches: `head` starts at
// the chain's genesis.
struct ChainLines {
  explicit ChainLines(const std::string& name) : chain(name), head(GenesisHead(name)) {}

  // Seals `record` after `at`, adds its line, and moves `at` on to it.
  SealedRecord Append(const AuditRecord& record, ChainHead& at, const ForkNote& fork = {}) {
    SealedRecord r = Seal(record, at, fork);
    at = HeadAfter(r);
    lines.push_back(ToJson(r).dump());
    return r;
  }

  // Appends the chain's records `numbers` (RecordFor) one after the other from `at`, which stays
  // where it is; returns the branch's tip.
  ChainHead Branch(ChainHead at, std::initializer_list<int> numbers) {
    for (int n : numbers) Append(RecordFor(chain, n), at);
    return at;
  }

  // One controller's retried step: record 1; an abandoned branch of the records `abandoned` after
  // it; then records 2 and 3 on the chain, the first naming the abandoned branch's tip. Returns
  // that tip.
  ChainHead WriteRetriedStep(std::initializer_list<int> abandoned) {
    Append(RecordFor(chain, 1), head);
    ChainHead tip = Branch(head, abandoned);
    Append(RecordFor(chain, 2), head, ForkNote{tip.hash, false});
    Append(RecordFor(chain, 3), head);
    return tip;
  }

  VerifyReport Verify(const std::map<std::string, ChainHead>& anchors) const {
    return VerifyLines(lines, anchors);
  }

  const std::string chain;
  std::vector<std::string> lines;
  ChainHead head;
};

std::vector<std::string> Messages(const VerifyReport& report) {
  std::vector<std::string> out;
  const nlohmann::json json = VerifyReportToJson(report);
  for (const auto& p : json.at("problems")) {
    out.push_back("line " + std::to_string(p.at("line").get<int>()) + ": " +
                  p.at("chain").get<std::string>() + ": " + p.at("message").get<std::string>());
  }
  return out;
}

TEST(AuditVerifierTest, CleanStreamVerifies) {
  const Stream s;
  for (bool anchored : {false, true}) {
    const VerifyReport report = s.Verify(anchored);
    EXPECT_TRUE(report.Verified()) << FormatVerifyReport(report);
    EXPECT_EQ(report.records, 8U);
    EXPECT_EQ(report.skipped_lines, 2U);
    ASSERT_EQ(report.chains.size(), 2U);
    EXPECT_EQ(report.chains.at(kA).records, 5U);
    EXPECT_EQ(report.chains.at(kA).head, s.anchors_.at(kA));
    EXPECT_EQ(report.chains.at(kB).head, s.anchors_.at(kB));
    EXPECT_EQ(FormatVerifyReport(report), "verified 2 chains, 8 records\n");
  }
}

TEST(AuditVerifierTest, DetectsAChangedField) {
  Stream s;
  const std::size_t i = s.IndexOf(kA, 3);
  nlohmann::json j = s.Json(i);
  j["requester"] = "mallory";
  s.lines_[i] = j.dump();
  const VerifyReport report = s.Verify(false);
  EXPECT_FALSE(report.Verified());
  EXPECT_THAT(Messages(report),
              ::testing::ElementsAre("line " + std::to_string(i + 1) +
                                     ": session/aaaa: changed record seq 3: its hash does not "
                                     "match its content"));
}

TEST(AuditVerifierTest, DetectsAChangedDetailEvenWithReformattedJson) {
  Stream s;
  const std::size_t i = s.IndexOf(kB, 2);
  nlohmann::json j = s.Json(i);
  j["details"]["n"] = 99;
  s.lines_[i] = j.dump(1);  // whitespace alone is not a change; the value is
  s.lines_[i].erase(std::remove(s.lines_[i].begin(), s.lines_[i].end(), '\n'), s.lines_[i].end());
  const VerifyReport report = s.Verify(true);
  EXPECT_EQ(report.ProblemCount(), 1U) << FormatVerifyReport(report);
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("changed record seq 2"));
}

TEST(AuditVerifierTest, DetectsARemovedMiddleRecord) {
  Stream s;
  const std::size_t i = s.IndexOf(kA, 3);
  s.lines_.erase(s.lines_.begin() + static_cast<std::ptrdiff_t>(i));
  const VerifyReport report = s.Verify(false);
  EXPECT_EQ(report.ProblemCount(), 1U) << FormatVerifyReport(report);
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("record seq 3 is missing (between line"));
}

TEST(AuditVerifierTest, DetectsARemovedLastRecordOnlyWithTheAnchor) {
  Stream s;
  s.lines_.erase(s.lines_.begin() + static_cast<std::ptrdiff_t>(s.IndexOf(kA, 5)));
  EXPECT_TRUE(s.Verify(false).Verified()) << "without an anchor a shorter chain looks complete";
  const VerifyReport report = s.Verify(true);
  EXPECT_FALSE(report.Verified());
  EXPECT_THAT(FormatVerifyReport(report),
              HasSubstr("the chain ends at seq 4 but the anchor says 5 records"));
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("record seq 5 is missing at the end"));
}

TEST(AuditVerifierTest, DetectsTwoSwappedRecords) {
  Stream s;
  const std::size_t three = s.IndexOf(kA, 3);
  const std::size_t four = s.IndexOf(kA, 4);
  std::swap(s.lines_[three], s.lines_[four]);
  const VerifyReport report = s.Verify(true);
  EXPECT_EQ(report.ProblemCount(), 1U) << FormatVerifyReport(report);
  EXPECT_THAT(FormatVerifyReport(report),
              HasSubstr("line " + std::to_string(four + 1) +
                        ": chain session/aaaa: record seq 3 comes after seq 4 (line " +
                        std::to_string(three + 1) + "): records are out of order"));
}

TEST(AuditVerifierTest, DetectsARecordOfAnotherChainMovedIntoThisOne) {
  Stream s;
  // B's seq 2, relabelled as A's seq 3 (prev fixed up too), replaces A's seq 3.
  nlohmann::json moved = s.Json(s.IndexOf(kB, 2));
  const nlohmann::json original = s.Json(s.IndexOf(kA, 3));
  moved["chain"] = kA;
  moved["seq"] = 3;
  moved["prev"] = original["prev"];
  s.lines_[s.IndexOf(kA, 3)] = moved.dump();
  const VerifyReport report = s.Verify(false);
  EXPECT_FALSE(report.Verified());
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("changed record seq 3"));
}

TEST(AuditVerifierTest, DetectsAFirstRecordMovedToAnotherChain) {
  Stream s;
  // A new chain C whose only record is B's seq 1 with its chain rewritten and its hash recomputed.
  SealedRecord r = *SealedRecordFromJson(s.Json(s.IndexOf(kB, 1)));
  r.record.chain = "session/cccc";
  r.hash = ComputeRecordHash(r);
  s.lines_.push_back(ToJson(r).dump());
  const VerifyReport report = s.Verify(false);
  EXPECT_EQ(report.ProblemCount(), 1U) << FormatVerifyReport(report);
  EXPECT_THAT(FormatVerifyReport(report),
              HasSubstr("chain session/cccc: record seq 1 does not start this chain"));
}

TEST(AuditVerifierTest, DetectsACopiedRecordOfAnotherChain) {
  Stream s;
  // B's seq 1, copied verbatim after everything else.
  s.lines_.push_back(s.lines_[s.IndexOf(kB, 1)]);
  const VerifyReport report = s.Verify(false);
  EXPECT_EQ(report.ProblemCount(), 1U) << FormatVerifyReport(report);
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("record seq 1 repeats the record at line"));
}

TEST(AuditVerifierTest, DetectsARecomputedChainOnlyWithTheAnchor) {
  Stream s;
  // Rewrite A from seq 3 on, recomputing every hash: a consistent forgery.
  ChainHead head{2, s.Json(s.IndexOf(kA, 2)).at("hash").get<std::string>()};
  for (std::uint64_t seq = 3; seq <= 5; ++seq) {
    const std::size_t i = s.IndexOf(kA, seq);
    SealedRecord r = *SealedRecordFromJson(s.Json(i));
    r.record.requester = "mallory";
    const SealedRecord forged = Seal(r.record, head);
    head = HeadAfter(forged);
    s.lines_[i] = ToJson(forged).dump();
  }
  EXPECT_TRUE(s.Verify(false).Verified()) << "without an anchor a recomputed chain is consistent";
  const VerifyReport report = s.Verify(true);
  EXPECT_EQ(report.ProblemCount(), 1U) << FormatVerifyReport(report);
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("record seq 5 is not the anchored head"));
}

TEST(AuditVerifierTest, DetectsAReplacedRecordByItsSuccessor) {
  Stream s;
  // Seq 3 replaced by a freshly sealed, self-consistent record: its successor no longer links.
  const std::size_t i = s.IndexOf(kA, 3);
  const nlohmann::json old = s.Json(i);
  AuditRecord r = RecordFor(kA, 3);
  r.outcome = "Forbidden";
  s.lines_[i] =
      ToJson(Seal(r, ChainHead{2, s.Json(s.IndexOf(kA, 2)).at("hash").get<std::string>()})).dump();
  ASSERT_NE(s.lines_[i], old.dump());
  const VerifyReport report = s.Verify(false);
  EXPECT_EQ(report.ProblemCount(), 1U) << FormatVerifyReport(report);
  EXPECT_THAT(FormatVerifyReport(report),
              HasSubstr("record seq 4 does not follow seq 3 (line " + std::to_string(i + 1)));
}

TEST(AuditVerifierTest, ChainsStartingMidwayNeedTheOption) {
  Stream s;
  s.lines_.erase(s.lines_.begin() + static_cast<std::ptrdiff_t>(s.IndexOf(kA, 1)));
  s.lines_.erase(s.lines_.begin() + static_cast<std::ptrdiff_t>(s.IndexOf(kA, 2)));
  const VerifyReport strict = s.Verify(false);
  EXPECT_EQ(strict.ProblemCount(), 1U) << FormatVerifyReport(strict);
  EXPECT_THAT(FormatVerifyReport(strict),
              HasSubstr("the chain starts at seq 3: records seq 1 to 2 are not in the input"));
  const VerifyReport partial = s.Verify(true, /*allow_partial=*/true);
  EXPECT_TRUE(partial.Verified()) << FormatVerifyReport(partial);
  EXPECT_EQ(partial.chains.at(kA).first_seq, 3U);
}

TEST(AuditVerifierTest, ReportsAForkOnce) {
  Stream s;
  // A restart between writing seq 5 and saving the head: seq 5 written twice, differently.
  const SealedRecord again =
      Seal(RecordFor(kA, 50), ChainHead{4, s.Json(s.IndexOf(kA, 4)).at("hash").get<std::string>()});
  s.lines_.push_back(ToJson(again).dump());
  const VerifyReport report = s.Verify(false);
  EXPECT_EQ(report.ProblemCount(), 1U) << FormatVerifyReport(report);
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("appears twice with different content"));
  EXPECT_EQ(report.chains.at(kA).head, HeadAfter(again));
}

// The controller wrote a step, was killed before saving the head, and its next run wrote the step
// again from the saved head (marked as a resume) and went on: the anchor says which copy is the
// chain.
TEST(AuditVerifierTest, ForkResolvedByTheAnchorCountsTheOtherCopyAsSuperseded) {
  ChainLines c("session/cccc");
  auto& [chain, lines, head] = c;
  for (int i = 1; i <= 2; ++i) c.Append(RecordFor(chain, i), head);
  lines.push_back(ToJson(Seal(RecordFor(chain, 30), head)).dump());  // never committed
  for (int i = 3; i <= 4; ++i) {
    // The restarted process's first record on the chain says it resumed from a saved head.
    c.Append(RecordFor(chain, i), head, ForkNote{"", i == 3});
  }

  const VerifyReport anchored = c.Verify({{chain, head}});
  EXPECT_TRUE(anchored.Verified()) << FormatVerifyReport(anchored);
  EXPECT_EQ(anchored.chains.at(chain).superseded, 1U);
  EXPECT_EQ(anchored.chains.at(chain).head, head);
  EXPECT_THAT(FormatVerifyReport(anchored),
              HasSubstr("verified 1 chain, 5 records (1 record superseded"));
  EXPECT_EQ(VerifyReportToJson(anchored)["chains"][0]["superseded"], 1);

  // Without the anchor nothing says which copy counts.
  const VerifyReport unanchored = c.Verify({});
  EXPECT_EQ(unanchored.ProblemCount(), 1U) << FormatVerifyReport(unanchored);
  EXPECT_THAT(FormatVerifyReport(unanchored),
              HasSubstr("line 4: chain session/cccc: record seq 3 appears twice with different "
                        "content (lines 3 and 4)"));
  EXPECT_THAT(FormatVerifyReport(unanchored), HasSubstr("status.audit as an anchor"));
}

// A step of several records, interrupted after writing three of them, then done again with two by
// the same controller, whose first retried record names the abandoned branch's last record: the
// abandoned branch is longer than the one the anchor commits, and all of it is superseded.
TEST(AuditVerifierTest, AnAbandonedBranchLongerThanTheAnchoredOneIsSuperseded) {
  ChainLines c("session/dddd");
  auto& [chain, lines, head] = c;
  const ChainHead abandoned = c.WriteRetriedStep({20, 21, 22});  // seq 2..4, then 2 and 3 again

  const VerifyReport anchored = c.Verify({{chain, head}});
  EXPECT_TRUE(anchored.Verified()) << FormatVerifyReport(anchored);
  EXPECT_EQ(anchored.chains.at(chain).superseded, 3U);
  EXPECT_EQ(anchored.chains.at(chain).head, head);

  // Anchored at the abandoned branch's end instead, nothing explains the committed copies: an
  // anchor cannot be moved onto an abandoned branch unnoticed.
  const VerifyReport other = c.Verify({{chain, abandoned}});
  EXPECT_FALSE(other.Verified()) << FormatVerifyReport(other);
  EXPECT_THAT(FormatVerifyReport(other), HasSubstr("no record explains"));

  // A record added after the anchored head is still caught, abandoned branch or not.
  lines.push_back(ToJson(Seal(RecordFor(chain, 4), head)).dump());
  const VerifyReport added = c.Verify({{chain, head}});
  EXPECT_FALSE(added.Verified()) << FormatVerifyReport(added);
}

// The review's L4 attack: a log editor appends a whole branch off an anchored chain ("denied",
// "wiped"), correctly sealed. Before, it verified and was only counted as superseded.
TEST(AuditVerifierTest, AForgedBranchBesideTheAnchoredChainDoesNotVerify) {
  Stream s;
  ChainHead at{2, s.Json(s.IndexOf(kA, 2)).at("hash").get<std::string>()};
  for (const char* action : {"denied", "wiped"}) {
    AuditRecord forged = RecordFor(kA, 90);
    forged.action = action;
    const SealedRecord r = Seal(forged, at);
    at = HeadAfter(r);
    s.lines_.push_back(ToJson(r).dump());
  }
  const VerifyReport report = s.Verify(true);
  EXPECT_FALSE(report.Verified()) << FormatVerifyReport(report);
  EXPECT_EQ(report.ProblemCount(), 1U) << FormatVerifyReport(report);
  EXPECT_THAT(FormatVerifyReport(report),
              HasSubstr("chain session/aaaa: record seq 3 starts a branch of 2 records (to line " +
                        std::to_string(s.lines_.size()) +
                        ") beside the anchored chain that no record explains"));
  EXPECT_EQ(report.chains.at(kA).head, s.anchors_.at(kA)) << "the anchored chain is still found";
}

// A forger cannot borrow a legit explanation: appending to a named abandoned branch, or naming
// nothing at a point where the chain did not resume, fails.
TEST(AuditVerifierTest, ANamedBranchWithAForgedTailOrAnUnexplainedSecondBranchFails) {
  ChainLines c("session/eeee");
  auto& [chain, lines, head] = c;
  const ChainHead abandoned = c.WriteRetriedStep({20});  // seq 2 abandoned; seq 2 again names it
  ASSERT_TRUE(VerifyLines(lines, {{chain, head}}).Verified());

  std::vector<std::string> tail = lines;
  AuditRecord wiped = RecordFor(chain, 21);
  wiped.action = "wiped";
  tail.push_back(ToJson(Seal(wiped, abandoned)).dump());  // seq 3 after the named tip
  const VerifyReport with_tail = VerifyLines(tail, {{chain, head}});
  EXPECT_FALSE(with_tail.Verified()) << FormatVerifyReport(with_tail);
  EXPECT_THAT(FormatVerifyReport(with_tail), HasSubstr("no record explains"));

  std::vector<std::string> second = lines;
  ChainHead after_one{1, nlohmann::json::parse(lines[0]).at("hash").get<std::string>()};
  second.push_back(ToJson(Seal(RecordFor(chain, 40), after_one)).dump());  // another seq 2
  const VerifyReport with_second = VerifyLines(second, {{chain, head}});
  EXPECT_FALSE(with_second.Verified()) << FormatVerifyReport(with_second);
  EXPECT_EQ(with_second.ProblemCount(), 1U) << FormatVerifyReport(with_second);
  EXPECT_THAT(FormatVerifyReport(with_second),
              HasSubstr("line " + std::to_string(second.size()) + ": chain " + chain +
                        ": record seq 2 starts a branch of 1 record"));
}

// A restart accepts one branch nobody named, at the resume point only: a second unnamed branch
// there fails, and so does one at a point where the chain did not resume.
TEST(AuditVerifierTest, AResumeAcceptsOneUnnamedBranchOnly) {
  ChainLines c("session/ffff");
  auto& [chain, lines, head] = c;
  c.Append(RecordFor(chain, 1), head);
  c.Append(RecordFor(chain, 2), head);
  c.Branch(head, {30, 31});  // seq 3 and 4, written just before the process died
  const ChainHead saved = head;
  c.Append(RecordFor(chain, 3), head, ForkNote{"", true});  // the new process resumes at seq 2
  c.Append(RecordFor(chain, 4), head);

  const VerifyReport resumed = VerifyLines(lines, {{chain, head}});
  EXPECT_TRUE(resumed.Verified()) << FormatVerifyReport(resumed);
  EXPECT_EQ(resumed.chains.at(chain).superseded, 2U);

  std::vector<std::string> twice = lines;
  twice.push_back(ToJson(Seal(RecordFor(chain, 50), saved)).dump());  // a second branch there
  const VerifyReport two = VerifyLines(twice, {{chain, head}});
  EXPECT_FALSE(two.Verified()) << FormatVerifyReport(two);
  EXPECT_EQ(two.ProblemCount(), 1U) << FormatVerifyReport(two);
  EXPECT_THAT(FormatVerifyReport(two), HasSubstr("line " + std::to_string(twice.size())));

  std::vector<std::string> elsewhere = lines;
  const ChainHead at_one{1, nlohmann::json::parse(lines[0]).at("hash").get<std::string>()};
  elsewhere.push_back(ToJson(Seal(RecordFor(chain, 60), at_one)).dump());  // off seq 1
  const VerifyReport off = VerifyLines(elsewhere, {{chain, head}});
  EXPECT_FALSE(off.Verified()) << FormatVerifyReport(off);
  EXPECT_THAT(FormatVerifyReport(off), HasSubstr("record seq 2 starts a branch"));
}

// A branch that splits is never one controller's abandoned attempt, even when its first record
// is named.
TEST(AuditVerifierTest, ABranchThatSplitsIsNotExplained) {
  ChainLines c("session/abab");
  auto& [chain, lines, head] = c;
  c.Append(RecordFor(chain, 1), head);
  const ChainHead branch = c.Branch(head, {20});     // seq 2
  const ChainHead split_a = c.Branch(branch, {21});  // seq 3
  c.Branch(branch, {22});                            // seq 3 again
  c.Append(RecordFor(chain, 2), head, ForkNote{split_a.hash, true});
  const VerifyReport report = VerifyLines(lines, {{chain, head}});
  EXPECT_FALSE(report.Verified()) << FormatVerifyReport(report);
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("a branch that splits again"));
}

TEST(AuditVerifierTest, ForkWhereNeitherCopyLeadsToTheAnchorIsAProblem) {
  Stream s;
  const std::string at4 = s.Json(s.IndexOf(kA, 4)).at("hash").get<std::string>();
  s.lines_.push_back(ToJson(Seal(RecordFor(kA, 50), ChainHead{4, at4})).dump());
  s.anchors_[kA] = ChainHead{5, GenesisHash("not in the stream")};
  const VerifyReport report = s.Verify(true);
  EXPECT_EQ(report.chains.at(kA).superseded, 0U);
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("neither copy leads to the anchored head"));
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("is not the anchored head"));
  EXPECT_FALSE(report.Verified());
}

TEST(AuditVerifierTest, AnchorAheadOfOrMissingFromTheStream) {
  Stream s;
  s.anchors_["session/gone"] = ChainHead{2, GenesisHash("x")};
  s.anchors_[kB] = ChainHead{2, s.Json(s.IndexOf(kB, 2)).at("hash").get<std::string>()};
  const VerifyReport report = s.Verify(true);
  EXPECT_EQ(report.ProblemCount(), 2U) << FormatVerifyReport(report);
  EXPECT_THAT(FormatVerifyReport(report),
              HasSubstr("chain session/gone: no records of this chain in the input"));
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("goes on past the anchored head (seq 2"));
}

TEST(AuditVerifierTest, AnchorWithoutRecordCountChecksTheHash) {
  Stream s;
  s.anchors_[kA].records = 0;
  EXPECT_TRUE(s.Verify(true).Verified());
  s.lines_.erase(s.lines_.begin() + static_cast<std::ptrdiff_t>(s.IndexOf(kA, 5)));
  const VerifyReport report = s.Verify(true);
  EXPECT_FALSE(report.Verified());
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("no record has the anchored head"));
}

TEST(AuditVerifierTest, MalformedRecordLinesAreErrorsOtherLinesAreSkipped) {
  Stream s;
  s.lines_.emplace_back("plain text from a crash");
  s.lines_.emplace_back(R"({"level":"info","msg":"no chain here","hash":"x"})");
  s.lines_.emplace_back(R"({"chain":"session/aaaa","hash":"sha256:00","seq":6})");
  const std::string cut = s.lines_[s.IndexOf(kB, 3)].substr(0, 80);
  s.lines_.push_back(cut);
  const VerifyReport report = s.Verify(true);
  EXPECT_EQ(report.skipped_lines, 4U);
  ASSERT_EQ(report.problems.size(), 2U) << FormatVerifyReport(report);
  EXPECT_THAT(report.problems[0].message, HasSubstr("malformed audit record: field"));
  EXPECT_EQ(report.problems[0].chain, kA);
  EXPECT_THAT(report.problems[1].message, HasSubstr("not complete JSON"));
  EXPECT_EQ(report.problems[1].line, s.lines_.size());
}

TEST(AuditVerifierTest, InputWithoutRecordsIsAProblem) {
  std::istringstream in("{\"msg\":\"just logs\"}\n");
  const VerifyReport report = VerifyAuditStream(in, std::map<std::string, ChainHead>{});
  EXPECT_FALSE(report.Verified());
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("no audit records in the input (1 line)"));
}

TEST(AuditVerifierTest, JsonReportListsChainsAndProblems) {
  Stream s;
  s.lines_.erase(s.lines_.begin() + static_cast<std::ptrdiff_t>(s.IndexOf(kA, 2)));
  const nlohmann::json json = VerifyReportToJson(s.Verify(true));
  EXPECT_EQ(json.at("verified"), false);
  EXPECT_EQ(json.at("records"), 7);
  ASSERT_EQ(json.at("chains").size(), 2U);
  EXPECT_EQ(json.at("chains")[0].at("chain"), kA);
  EXPECT_EQ(json.at("chains")[0].at("head").at("records"), 5);
  ASSERT_EQ(json.at("chains")[0].at("problems").size(), 1U);
  ASSERT_EQ(json.at("problems").size(), 1U);
  EXPECT_EQ(json.at("problems")[0].at("chain"), kA);
}

}  // namespace
}  // namespace ephemera::audit
