// The facts the controller takes from a decrypted snapshot document, checked before any use. Pure.
//
// The document comes out of the target pod: the snapshot tool writes it, but a workload that can
// take the tool over (same user, dumpable) or that runs in place of the tool can write anything,
// encrypted to the session's public recipient. So it is hostile input: it is parsed with the
// project's nesting limit (json_depth), every field the controller reads is type-checked first,
// and what ends up in the session's status, the DebugSnapshot and the audit trail is bounded.
// Whatever else the document holds (the processes) is not looked at: it travels encrypted.
//
// Thread safety: pure functions.
#ifndef EPHEMERA_CONTROLLER_RECONCILER_SNAPSHOT_DOCUMENT_H_
#define EPHEMERA_CONTROLLER_RECONCILER_SNAPSHOT_DOCUMENT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/debug_session.h"
#include "base/status.h"

namespace ephemera::reconciler {

inline constexpr std::string_view kSnapshotFormat = "ephemera.dev/snapshot/v1";

// Limits on what a document may carry into the session's status and audit records. Far above what
// the snapshot tool writes (a dozen sections, a few hundred degraded entries at most, a few dozen
// redaction rules), far below what would make a status write fail.
inline constexpr std::size_t kMaxSections = 64;
inline constexpr std::size_t kMaxSectionNameBytes = 64;
inline constexpr std::size_t kMaxPids = 65536;
// Linux's PID_MAX_LIMIT: no process id is larger, so a larger one is a forged document (and 19
// digits each would let the list alone approach etcd's object size limit).
inline constexpr std::int64_t kMaxPid = 4194304;
inline constexpr std::size_t kMaxPatternRules = 256;
inline constexpr std::size_t kMaxPatternRuleBytes = 128;
// Degraded entries beyond this many are summed up in one last line ("… and N more"); texts in an
// entry are cut to kMaxDegradedTextBytes (the whole list is inside the snapshot).
inline constexpr std::size_t kMaxDegradedListed = 64;
inline constexpr std::size_t kMaxDegradedTextBytes = 256;

struct SnapshotFacts {
  std::vector<std::string> sections;  // the sections the tool was asked for
  std::vector<std::string> degraded;  // "section pid N: reason", one line per entry (see above)
  std::vector<std::int64_t> pids;     // targets.pids: the processes the tool read
  api::RedactionSummary redaction;
  api::OverheadSummary overhead;
};

// The facts of `plaintext`, or DataLoss "the snapshot container's output is not a valid snapshot:
// <what is wrong>", naming the problem: "it nests deeper than 128 levels", "it is not JSON",
// "field 'apiVersion' is not a string", "field 'targets.pids' is not an array", ... Values from the
// document are never echoed in the message (it may hold captured process state).
//
// Fields other than apiVersion may be absent (they are then empty or 0); present, they must have
// their type: sections [string], degraded [string | {section: string, pid: integer|null,
// reason: string}], targets {pids: [integer >= 0]}, redaction {envRedacted: count,
// patternsMatched: {rule: count}, droppedFields: [...]}, overhead {targetFreezeMicros,
// toolCpuMillis, toolMaxRssKiB, wallMillis: count}, where a count is an integer in 0..2^63-1.
StatusOr<SnapshotFacts> ParseSnapshotDocument(std::string_view plaintext);

}  // namespace ephemera::reconciler

#endif  // EPHEMERA_CONTROLLER_RECONCILER_SNAPSHOT_DOCUMENT_H_
