// The incident evidence (debugpod/procfs/incident_evidence.h) as the snapshot document writes it:
// the parts of the top-level `evidence` object (docs/snapshot-format.md, names in
// api/snapshot_document.h) and the per-process `blockedThreads` entries.
//
// Pure: values in, JSON out. A counter or figure the reader did not get is left out, never
// written as 0. Text from the target (listener addresses, thread names) is written as given: the
// caller redacts it first. Thread safety: the functions share no state.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_EVIDENCE_DOCUMENT_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_EVIDENCE_DOCUMENT_H_

#include <string>

#include "debugpod/procfs/incident_evidence.h"
#include "debugpod/snapshot/capture.h"

namespace ephemera::snapshot {

// {counters, listeners, listenersTruncated, somaxconn, errors}
Json NetworkEvidenceDocument(const procfs::NetworkEvidence& network);
// {source, cpu, memory, io, errors}; each resource {some, full} of {avg10, avg60, avg300, total}
Json PressureEvidenceDocument(const procfs::PressureEvidence& pressure);
// {cgroupVersion, cgroupPath, events (v2) | oomControl and failcnt (v1), errors}
Json MemoryEvidenceDocument(const procfs::MemoryEvidence& memory);
// {tid, name, wchan}
Json BlockedThreadDocument(const procfs::BlockedThread& thread);

// The degraded reason for a part read with errors: "evidence.<part>: <error>; <error>", or ""
// when `errors` is empty.
std::string EvidenceDegradedReason(std::string_view part, const std::vector<std::string>& errors);

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_EVIDENCE_DOCUMENT_H_
