// GoRuntimeReader: the goroutines of a Go (1.21+, linux/amd64) process, read from its memory
// without stopping it. It reads the executable through <proc_root>/<pid>/exe (buildinfo for the
// version, .gopclntab for symbols, .symtab when present) and the process's memory with
// pread on /proc/<pid>/mem (runtimes::ProcMemMemoryReader), which needs what ptrace attach needs
// (same UID and a dumpable target, Yama permitting, or CAP_SYS_PTRACE) but never stops the target:
// `freeze` is always 0.
//
// Finding the runtime's goroutine list: runtime.allglen / runtime.allgptr from .symtab; in a
// stripped binary, from the two RIP-relative loads at the start of runtime.forEachGRace (located
// by name through the pclntab, which stripping keeps). Either way the result is validated against
// the process (ValidateView) before it is trusted. docs/decisions/go-stacks.md has the details.
// Not thread-safe: one Read at a time.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_GO_RUNTIME_READER_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_GO_RUNTIME_READER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "debugpod/procfs/proc_fs.h"
#include "debugpod/runtimes/runtime_reader.h"

namespace ephemera::runtimes::golang {

// The targets of the RIP-relative 64-bit loads (MOV r64, [rip+disp32]) in `code`, which starts
// at ELF virtual address `address`, in order, without repeats, at most `max_targets`. Pure; for
// locating runtime variables in stripped binaries.
std::vector<uint64_t> RipRelativeLoadTargets(std::span<const uint8_t> code, uint64_t address,
                                             size_t max_targets);

class GoRuntimeReader final : public RuntimeReader {
 public:
  // `proc` (borrowed) reads maps for the load bias of position-independent binaries.
  GoRuntimeReader(std::string proc_root, const procfs::ProcFs& proc)
      : proc_root_(std::move(proc_root)), proc_(proc) {}

  // nullopt when the executable is not a Go binary (no .go.buildinfo magic, or not ELF). Errors:
  // the executable unreadable (its open's status), a Go release older than 1.21 or one whose
  // layout does not validate (FailedPrecondition "go1.x: not supported …"), the memory
  // unreadable (PermissionDenied "go: EPERM reading …: needs the ptrace profile").
  StatusOr<std::optional<RuntimeStacks>> Read(int pid, const RuntimeLimits& limits) override;

 private:
  std::string proc_root_;
  const procfs::ProcFs& proc_;
};

}  // namespace ephemera::runtimes::golang

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_GO_RUNTIME_READER_H_
