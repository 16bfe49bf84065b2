// RuntimeReader: one language runtime's reader (golang/, python/, jvm/). The snapshot tool asks
// each reader in turn about every target process; the first that recognizes the process reads it.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_RUNTIME_READER_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_RUNTIME_READER_H_

#include <optional>

#include "base/status.h"
#include "debugpod/runtimes/runtime_stacks.h"

namespace ephemera::runtimes {

class RuntimeReader {
 public:
  virtual ~RuntimeReader() = default;
  // nullopt: `pid` does not run this reader's runtime (decided cheaply, from /proc/<pid>/exe,
  // maps or cmdline, before anything else is read). An error: it does, but nothing could be read
  // (the message says why, for `degraded`: "go: EPERM reading …: needs the ptrace profile").
  // Partial results are a RuntimeStacks with `problems`. Never runs past limits.deadline.
  virtual StatusOr<std::optional<RuntimeStacks>> Read(int pid, const RuntimeLimits& limits) = 0;
};

}  // namespace ephemera::runtimes

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_RUNTIME_READER_H_
