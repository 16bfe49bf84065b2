// Audit records and the hash chain that seals them (pure: values in, values out).
//
// Every decision and action of the controller is an AuditRecord. Records belong to a chain:
//   "session/<session uid>"          the records of one DebugSession
//   "controller/<replica identity>"  records not tied to a session (e.g. an unsanctioned
//                                    ephemeral container seen on a pod)
// Sealing a record against the chain's head gives it a sequence number, the previous record's
// hash and its own hash:
//   seq  = head.records + 1
//   prev = head.hash
//   hash = "sha256:" + hex(SHA-256(prev + "\n" + CanonicalRecordJson(record)))
// where CanonicalRecordJson is nlohmann::json's dump() of one JSON object holding every field
// of ToJson() except "hash": keys sorted bytewise, no whitespace, strings as UTF-8 with
// JSON escapes only for '"', '\\' and control characters (\n, \t, ..., \u001f). The genesis head
// of a chain (before its first record) is
//   {records: 0, hash: "sha256:" + hex(SHA-256("ephemera-audit-genesis:" + chain))}
// so a chain's first record cannot be moved to another chain. docs/audit.md has the full rule.
//
// Records never carry secrets: callers put names, reasons, sections and pids in them, never
// tokens, keys, environment values or snapshot contents. Thread safety: values, no shared state.
#ifndef EPHEMERA_AUDIT_AUDIT_RECORD_H_
#define EPHEMERA_AUDIT_AUDIT_RECORD_H_

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ephemera::audit {

// One decision or action, before it is sealed into a chain.
struct AuditRecord {
  std::string time;       // RFC 3339, UTC, milliseconds: FormatAuditTime()
  std::string chain;      // SessionChain(uid) or ControllerChain(identity)
  std::string session;    // "namespace/name"; empty for controller records
  std::string requester;  // the session's requester (username); may be empty
  std::string reason;     // the session's stated reason (spec.reason); may be empty
  std::string target;     // "namespace/pod/container"; parts may be missing
  std::string action;     // admitted, denied, authorized, injected, collected, delivered, expired,
                          // wiped, unsanctioned-container-seen, ...
  std::string outcome;    // "ok" or a CamelCase reason ("TargetPodNotFound")
  std::string message;    // one sentence for people
  // A JSON object, e.g. {"sections":["process","fds"],"pids":[1,7]}. Never secrets. Prefer
  // strings and integers: floating-point values survive the round trip but read poorly.
  nlohmann::json details = nlohmann::json::object();

  friend bool operator==(const AuditRecord&, const AuditRecord&) = default;
};

// The newest sealed record of a chain: how many records the chain has and the newest hash.
// This is what a session's status.audit stores ({records, head}).
struct ChainHead {
  std::uint64_t records = 0;
  std::string hash;  // "sha256:<64 lowercase hex>"

  friend bool operator==(const ChainHead&, const ChainHead&) = default;
};

// How a record explains a branch that leaves its chain before it (docs/audit.md, "Forks"). Both
// are set by AuditLog, never by callers; a record carries at most one of them, and neither in the
// common case. In the JSON record they are present only when set ("abandons" a hash, "resumes"
// true), so records written before they existed keep their hashes.
struct ForkNote {
  // The hash of the last record of a branch this controller wrote and then abandoned (a step that
  // failed after its records and before its status): this record continues the chain from the
  // head the status saved instead. Empty: none.
  std::string abandons;
  // The first record a process wrote on this chain from a head it did not write itself (after a
  // restart or a change of leader): the previous writer may have left one branch the chain does
  // not name.
  bool resumes = false;

  friend bool operator==(const ForkNote&, const ForkNote&) = default;
};

// A record placed in its chain.
struct SealedRecord {
  AuditRecord record;
  std::uint64_t seq = 0;  // 1 for the chain's first record
  std::string prev;       // the previous record's hash, or the chain's genesis hash
  std::string hash;       // this record's hash (see the file comment)
  ForkNote fork;          // hashed with the rest; absent from the JSON when empty

  friend bool operator==(const SealedRecord&, const SealedRecord&) = default;
};

// "session/<uid>".
std::string SessionChain(std::string_view session_uid);
// "controller/<identity>", identity being the replica's name (its pod name).
std::string ControllerChain(std::string_view replica_identity);

// "2026-11-28T23:39:24.123Z" (UTC, milliseconds, truncated).
std::string FormatAuditTime(std::chrono::system_clock::time_point t);

// "sha256:" + hex(SHA-256("ephemera-audit-genesis:" + chain)).
std::string GenesisHash(std::string_view chain);
// {records: 0, hash: GenesisHash(chain)}.
ChainHead GenesisHead(std::string_view chain);

// True for "sha256:" followed by exactly 64 lowercase hex digits.
bool IsAuditHash(std::string_view text);

// Seals `record` after `previous` (the chain's current head; GenesisHead for a new chain).
// Deterministic. The sealed copy is normalized first: invalid UTF-8 in any string becomes U+FFFD
// and non-object `details` become {} (null) or {"value": details}, so that
// SealedRecordFromJson(ToJson(s)) == s and the hash always matches what is written.
// Precondition: previous.hash is the chain's real head; the caller (AuditLog) guarantees it.
// `fork` is sealed with the record (an `abandons` that is not IsAuditHash is dropped).
SealedRecord Seal(const AuditRecord& record, const ChainHead& previous, const ForkNote& fork = {});

// {records: sealed.seq, hash: sealed.hash}.
ChainHead HeadAfter(const SealedRecord& sealed);

// The canonical byte string of a sealed record without its hash (see the file comment).
std::string CanonicalRecordJson(const SealedRecord& sealed);
// The hash `sealed` should have given its content and prev (ignores sealed.hash).
std::string ComputeRecordHash(const SealedRecord& sealed);

// The record as one JSON object: time, chain, seq, prev, hash, session, requester, reason,
// target, action, outcome, message, details, and abandons / resumes when set.
nlohmann::json ToJson(const SealedRecord& sealed);
// The inverse of ToJson. kInvalidArgument, naming the field, when a field is missing, has the
// wrong type, seq is not a positive integer, prev/hash are not IsAuditHash, or an unknown field is
// present (an extra field would not be covered by the hash). "abandons" must be IsAuditHash and
// "resumes" must be true when present: the values that mean "not set" are written by leaving the
// field out, so every field present is covered by the hash. Does not check the hash itself
// (ComputeRecordHash does).
StatusOr<SealedRecord> SealedRecordFromJson(const nlohmann::json& json);

// {"records": N, "head": "sha256:..."}, the shape of a session's status.audit.
nlohmann::json ToJson(const ChainHead& head);
// The inverse; kInvalidArgument for a missing or malformed field. {} and null give
// {records: 0, hash: ""} (a session that has no audit status yet).
StatusOr<ChainHead> ChainHeadFromJson(const nlohmann::json& json);

}  // namespace ephemera::audit

#endif  // EPHEMERA_AUDIT_AUDIT_RECORD_H_
