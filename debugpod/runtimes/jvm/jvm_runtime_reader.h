// JvmRuntimeReader: the Java threads of a HotSpot JVM, from the JVM itself through its attach
// mechanism, as jstack takes them, with no JDK in the snapshot image.
//
// Read(pid):
//   1. nullopt unless /proc/<pid>/maps maps a libjvm.so (OpenJ9, which maps libj9vm too, is an
//      error: not supported); then opens a pidfd for the process and reads its maps again, so
//      the process signalled is the one checked (FailedPrecondition if it changed);
//   2. opens the JVM's /tmp (/proc/<pid>/root/tmp) without following a symlink there (a symlink
//      would be resolved in the tool's root: FailedPrecondition) and works relative to it from
//      then on; if the JVM's attach socket /tmp/.java_pid<nspid> is missing, decides with
//      DecideAttach (attach_decision.h) whether SIGQUIT will start the attach listener, from
//      SigCgt, the JVM's perf data (sun.rt.jvmCapabilities), its command line and option
//      variables, and the credentials; when it will, creates the trigger file .attach_pid<nspid>
//      in the JVM's working directory (or its /tmp), sends SIGQUIT through the pidfd, waits for
//      the socket (polling, bounded by the deadline and kSocketWait) and removes the trigger file;
//      when it will not, returns FailedPrecondition "jvm: …; no signal sent";
//   3. connects (AF_UNIX, non-blocking: a listener whose backlog is full is Unavailable "jvm:
//      attach socket backlog full"), checks with SO_PEERCRED that the JVM itself answers, sends
//      the request (protocol "1", command "threaddump", argument "-l"), reads the answer (at most
//      ThreadDumpLimits::max_dump_bytes; sending and reading bounded by the deadline and
//      kReplyWait) and parses it. The perf-data file and its hsperfdata_<user> folder are not
//      followed if they are symlinks, and a perf-data "file" that is not a regular file is not
//      read.
//
// RuntimeStacks::freeze is the time from the request's first byte to the answer's end (EOF, or
// the byte cap): the JVM's safepoint pauses for the dump and for the deadlock search both end
// before it closes the connection, so this bounds them from above; it also counts the JVM's
// work outside the safepoints and the transfer. (The first byte is no bound: JDK 25 sends the
// result code before the dump.)
//
// Needs the JVM's UID and GID, or root for a root JVM (the JVM's own check, and the kernel's for
// signals and the socket file's mode 0600). Under InstallSandbox it needs
// SandboxOptions::allow_jvm_attach. Not thread-safe (one per capture); `proc` is borrowed.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_JVM_JVM_RUNTIME_READER_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_JVM_JVM_RUNTIME_READER_H_

#include <chrono>
#include <optional>
#include <string>

#include "base/status.h"
#include "debugpod/procfs/proc_fs.h"
#include "debugpod/runtimes/jvm/thread_dump.h"
#include "debugpod/runtimes/runtime_reader.h"

namespace ephemera::runtimes::jvm {

// The longest the reader waits for the attach listener to create its socket after SIGQUIT.
inline constexpr std::chrono::seconds kSocketWait{10};
// The longest it waits for the dump once the request is sent.
inline constexpr std::chrono::seconds kReplyWait{30};

class JvmRuntimeReader final : public RuntimeReader {
 public:
  // `proc_root` is the ProcFs's root ("/proc"): the reader builds the socket and trigger-file
  // paths under it. `proc` must outlive the reader.
  JvmRuntimeReader(std::string proc_root, const procfs::ProcFs& proc,
                   ThreadDumpLimits dump_limits = {});

  StatusOr<std::optional<RuntimeStacks>> Read(int pid, const RuntimeLimits& limits) override;

 private:
  std::string proc_root_;
  const procfs::ProcFs* proc_;
  ThreadDumpLimits dump_limits_;
};

}  // namespace ephemera::runtimes::jvm

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_JVM_JVM_RUNTIME_READER_H_
