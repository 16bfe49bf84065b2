// The snapshot tool's defences against the processes it reads. Everything the tool parses (the
// target's /proc, its ELF and DWARF files, its stack memory) is chosen by the target, so the tool
// assumes a parser bug can be exploited and limits what an exploited tool could do:
//
//   MakeNonDumpable    a process of the same UID cannot ptrace the tool, read its memory or open
//                      its /proc entries (fd/1 included), so it cannot rewrite its output (H3);
//   LimitAddressSpace  a parser bug cannot take the node's memory (L3);
//   InstallSandbox     only the capabilities the profile needs, no_new_privs, and a seccomp filter
//                      that refuses (EPERM) what the tool never does: file handles
//                      (open_by_handle_at), exec, sockets, mounts and namespaces, kernel modules,
//                      BPF, keyrings, writes to files, writes to other processes' memory (M5).
//
// main calls them in that order before any target input is read. docs/security.md ("The snapshot
// container") explains the choices. Thread safety: call while the process has one thread.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_SANDBOX_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_SANDBOX_H_

#include <chrono>
#include <cstdint>

#include "base/status.h"
#include "debugpod/snapshot/command_line.h"

namespace ephemera::snapshot {

// The tool's address-space ceiling. docs/performance.md measures the whole tool at 7.5-11.7 MiB
// peak RSS (43.5 MiB at most, before stacks were unwound one at a time). RLIMIT_AS counts virtual
// size, which is larger: measured VmPeak 156 MiB (2026-12, 2 and 100-thread targets; binary and
// libraries, two thread stacks, a malloc arena per thread). 1 GiB is 6.5 times that: no normal
// capture comes near it, and a parser bug stops there instead of at the node's memory.
inline constexpr uint64_t kAddressSpaceLimitBytes = uint64_t{1} << 30;

// True in AddressSanitizer builds: ASan reserves terabytes of shadow address space (so RLIMIT_AS
// cannot apply) and LeakSanitizer stops the process's threads with ptrace at exit (so the filter
// leaves ptrace alone). Release and Debug builds, which the image ships, have the full sandbox.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitizerBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif
#else
inline constexpr bool kSanitizerBuild = false;
#endif

// prctl(PR_SET_DUMPABLE, 0). It does not stop the tool reading the target: access to the target's
// /proc entries and ptrace depend on the target's dumpability and the tool's credentials.
Status MakeNonDumpable();

// Lowers RLIMIT_AS, soft and hard, to `bytes` (keeps a lower limit already set). Does nothing in
// sanitizer builds (see kSanitizerBuild).
Status LimitAddressSpace(uint64_t bytes);

// Lowers RLIMIT_CPU to `soft` and `hard` seconds (keeps lower limits already set). The caller
// decides what SIGXCPU does at the soft limit (debugpod/snapshot/watchdog.h, ArmCpuBackstop).
Status LimitCpuTime(std::chrono::seconds soft, std::chrono::seconds hard);

// Lowers RLIMIT_DATA, soft and hard, to `bytes` (keeps a lower limit already set). Does nothing in
// sanitizer builds (the sanitizers' shadow memory counts as data).
Status LimitDataSize(uint64_t bytes);

// What the sandbox lets through beyond the capture's needs. The default is the strictest.
struct SandboxOptions {
  // The JVM attach of debugpod/runtimes/jvm (set it when the stacks section is requested):
  // socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK) and connect, mknodat of an empty
  // regular file of mode 0600 (the trigger file), unlinkat without AT_REMOVEDIR (removing it),
  // and pidfd_send_signal with SIGQUIT (no siginfo, no flags; not kill, so no pid reuse). Other
  // socket families and types, socketpair, bind, listen, every other way of creating or changing a
  // file, and other signals stay refused.
  bool allow_jvm_attach = false;
};

// For `profile`:
// - capabilities: kPtrace keeps CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH in the effective and
//   permitted sets, kRestricted keeps none; the inheritable and ambient sets are cleared; the
//   bounding set is reduced to the same when the process may (CAP_SETPCAP; in a pod the runtime
//   has already reduced it to what the container was given);
// - no_new_privs;
// - the seccomp filter (all threads): kills on a foreign architecture or an x32 call; EPERM for
//   the calls named above, for open/openat asking to write or create, for clone asking for a new
//   namespace, for ptrace other than SEIZE, INTERRUPT, GETREGSET and DETACH (kPtrace) or any
//   ptrace and process_vm_readv (kRestricted); ENOSYS for clone3 and openat2, whose arguments a
//   filter cannot see (glibc falls back to clone and openat); kill only to one process (pid > 0)
//   and only with signal 0 or SIGCHLD, tgkill only to the
//   tool's own threads, no tkill, rt_sigqueueinfo or rt_tgsigqueueinfo, pidfd_send_signal only
//   with SIGQUIT and only with allow_jvm_attach (the ptrace and signal limits are left out of
//   sanitizer builds, see kSanitizerBuild); `options` as described there.
// Errors: FailedPrecondition with more than one thread running; Internal when the kernel refuses
// a step (the tool must then not capture).
Status InstallSandbox(Profile profile, const SandboxOptions& options = {});

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_SANDBOX_H_
