// VerifyAuditStream: checks the audit chains in a stream of JSON lines (pure apart from reading
// the istream).
//
// Line classes:
//   audit record   a JSON object with both "chain" and "hash"; it must parse with
//                  SealedRecordFromJson, else it is a problem ("malformed audit record").
//   other          anything else (the controller's log lines share stdout; blank lines) is skipped
//                  and counted, except a line that is not JSON but contains both "chain" and
//                  "hash" in quotes (a cut-off record), which is a malformed record.
//
// Checks per chain, in the order records appear in the stream:
//   - every record's hash equals ComputeRecordHash of its content ("changed record");
//   - seq runs 1, 2, 3, ... with no gap ("missing"), no repeat ("appears twice"), in stream order
//     ("out of order");
//   - each record's prev equals the hash of the record before it, and seq 1's prev is the
//     chain's genesis hash ("does not follow");
//   - the first record of a chain in the stream is seq 1, unless allow_partial_chains (a stream
//     that starts mid-chain, e.g. after log rotation; then the first record's prev is unchecked);
//   - with an anchor (the head a session's status.audit holds) the chain's last record is exactly
//     the anchor: same seq and same hash ("chain ends at seq K but the anchor says ...").
// An anchor with records == 0 checks only the hash.
//
// Forks: a seq written twice with different content. The controller appends a step's records
// before it saves the new head in the session's status; when the step fails (or the process dies)
// in between, the step is written again from the saved head. With an anchor, the copy on the path
// from the anchored head back through prev is the chain, and the records that leave it at a fork
// form branches. A branch is accepted (counted as superseded, ChainReport) only when explained:
//   - a record that continues the anchored chain at that point, or a branch accepted there, names
//     the branch's last record in its "abandons" field (a running controller retried the step), or
//   - such a record is marked "resumes" (the first record of a new process or leader on this
//     chain): each one accepts one branch nobody named, which its predecessor may have left.
// A branch must be one straight line. Any other branch is a problem ("a forged or unexplained
// branch"), as is a fork without an anchor or where no copy is on the anchored path. Chains
// written before these fields existed verify as before unless they fork.
//
// What this proves and what it cannot: without an anchor, a consistent rewrite of a whole chain
// (every hash recomputed) and the removal of a chain's last records are undetectable; the anchor,
// kept where the writer of the stream cannot change it (the session's status), is the trust root.
#ifndef EPHEMERA_AUDIT_AUDIT_VERIFIER_H_
#define EPHEMERA_AUDIT_AUDIT_VERIFIER_H_

#include <cstdint>
#include <istream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/audit_record.h"

namespace ephemera::audit {

struct VerifyOptions {
  // The trusted head per chain (usually the session's status.audit).
  std::map<std::string, ChainHead> anchors;
  // Accept a chain whose first record in the stream is not seq 1.
  bool allow_partial_chains = false;
};

struct VerifyProblem {
  std::size_t line = 0;  // 1-based line of the input; 0 when no single line is at fault
  std::string chain;     // empty for a line that is not a readable record
  std::string message;   // one sentence, e.g. "changed record: its hash does not match its content"

  friend bool operator==(const VerifyProblem&, const VerifyProblem&) = default;
};

struct ChainReport {
  std::uint64_t records = 0;    // records of this chain in the stream
  std::uint64_t first_seq = 0;  // lowest seq seen
  ChainHead head;               // the highest seq seen and its hash
  std::size_t head_line = 0;    // where that record is
  // Records of explained branches beside the anchored chain (see "Forks" above).
  std::uint64_t superseded = 0;
  std::vector<VerifyProblem> problems;
};

struct VerifyReport {
  std::size_t lines = 0;          // lines read
  std::size_t skipped_lines = 0;  // lines that are not audit records
  std::uint64_t records = 0;      // audit records read (all chains)
  std::map<std::string, ChainReport> chains;
  // Problems not tied to one chain: unreadable record lines, an input without records.
  std::vector<VerifyProblem> problems;
  bool readable = true;  // false: the stream failed (I/O error), report incomplete

  // No problems anywhere and the input was read to its end.
  bool Verified() const;
  std::size_t ProblemCount() const;
};

VerifyReport VerifyAuditStream(std::istream& json_lines, const VerifyOptions& options);
VerifyReport VerifyAuditStream(std::istream& json_lines,
                               const std::map<std::string, ChainHead>& anchors);

// The report for people: "verified 3 chains, 17 records" or one line per problem
// ("line 12: chain session/abc: changed record seq 4: its hash does not match its content").
std::string FormatVerifyReport(const VerifyReport& report);
// The report as JSON: {"verified":bool,"lines":N,"skippedLines":N,"records":N,
//   "chains":[{"chain":..,"records":N,"firstSeq":N,"head":{"records":N,"head":..},"superseded":N,
//              "problems":[{"line":N,"message":..}]}],
//   "problems":[{"line":N,"chain":..,"message":..}]}
// The top-level "problems" lists every problem, of the chains too, ordered by line.
nlohmann::json VerifyReportToJson(const VerifyReport& report);

}  // namespace ephemera::audit

#endif  // EPHEMERA_AUDIT_AUDIT_VERIFIER_H_
