// The text a HotSpot JVM answers to the attach command "threaddump" (what jstack prints), turned
// into the shared RuntimeStacks model. Pure: text in, values out; thread-safe.
//
// What is kept (docs/decisions/jvm-stacks.md):
//   - the VM version from the "Full thread dump <VM name> (<version> <mode>):" header;
//   - one RuntimeStack per Java thread (a thread whose header has "#<n>": application, daemon,
//     JIT compiler and attach threads): name, id (the n of "#n"), tid (nid, hex before JDK 19,
//     decimal after), state (the java.lang.Thread.State word), frames innermost first with the
//     lock lines printed under each frame;
//   - every "Found one Java-level deadlock" section: its members and its edge lines.
// What is left out: the JVM's own threads, which have no Java frames ("VM Thread", "GC Thread#0",
// "G1 Refine#0"): the snapshot's `threads` section lists them by tid with their native stacks;
// the "Locked ownable synchronizers" list under each thread (it names no frame); the
// "Threads class SMR info" and "JNI global refs" lines.
//
// The text comes from the target and is hostile: at most ThreadDumpLimits::max_dump_bytes are
// looked at, longer lines are cut at max_line_bytes, lock lines per frame at max_locks_per_frame,
// and RuntimeLimits bounds the threads, the frames per thread and every string. What is cut is
// named in RuntimeStacks::problems.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_JVM_THREAD_DUMP_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_JVM_THREAD_DUMP_H_

#include <cstddef>
#include <string_view>

#include "base/status.h"
#include "debugpod/runtimes/runtime_stacks.h"

namespace ephemera::runtimes::jvm {

struct ThreadDumpLimits {
  size_t max_dump_bytes = 32u << 20;  // a 10000-thread JVM's dump with 64 frames each is ~25 MiB
  size_t max_line_bytes = 8192;
  size_t max_deadlocks = 64;
  size_t max_deadlock_members = 256;  // per deadlock
  size_t max_locks_per_frame = 16;    // a frame holds a few monitors; more is a hostile dump
};

// Parses `dump` (the body of the JVM's answer, after the result line). Fills language ("java"),
// version, total, stacks, deadlocks and problems; leaves method and freeze to the caller.
// InvalidArgument when the text has no "Full thread dump" header: it is not a HotSpot dump.
StatusOr<RuntimeStacks> ParseThreadDump(std::string_view dump, const RuntimeLimits& limits,
                                        const ThreadDumpLimits& dump_limits = {});

// Splits the JVM's answer to an attach request: the first line is the result code ("0" for
// success), the rest is the command's output. On success returns the output (a view into
// `reply`). A non-zero code is FailedPrecondition "jvm: attach command failed (code N): <the
// first line of the output>"; an empty or malformed first line is DataLoss.
StatusOr<std::string_view> SplitAttachReply(std::string_view reply);

}  // namespace ephemera::runtimes::jvm

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_JVM_THREAD_DUMP_H_
