// FitToOutputCap: keeps a snapshot document under the --max-output-bytes cap by dropping whole
// sections, least useful first, and saying so in "degraded". Pure; thread-compatible.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_OUTPUT_CAP_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_OUTPUT_CAP_H_

#include <cstddef>
#include <string>

#include "debugpod/snapshot/capture.h"

namespace ephemera::snapshot {

// Order in which sections are dropped, per process, largest process first: maps, fds (with
// fdCount), env, sockets, limits, cgroup, stacks, threads (with blockedThreads); then whole
// processes other than the main one (last pid first); then the process tree; then the parts of
// the top-level evidence (network, pressure, memory), whose degraded entries name the part
// ("output cap: ... (evidence.network)"). Each drop adds a degraded entry {section, pid, reason:
// "output cap: ..."}. If the degraded list itself is what overflows, it is cut down and a final
// entry says how many were left out.
//
// Returns the serialized document (compact JSON, no trailing newline); it is at most `max_bytes`
// long unless even the bare header is larger, which the caller's minimum cap rules out.
std::string FitToOutputCap(Json& document, size_t max_bytes);

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_OUTPUT_CAP_H_
