// PythonRuntimeReader: the Python stacks of a CPython 3.9–3.13 process, read from its memory with
// /proc/<pid>/mem while it runs (no stop, freeze 0). Needs what that read needs: the
// target's UID and a dumpable target, or CAP_SYS_PTRACE (the ptrace profile).
//
// Recognition (cheap, before any memory read): /proc/<pid>/maps maps a libpython3.X shared
// library, or the executable (/proc/<pid>/exe) is named python* or has a .PyRuntime section. The
// image is opened under <proc_root>/<pid>/root (the target's mount namespace) and must be the
// inode that is mapped; `_PyRuntime` and `Py_Version` come from its ELF symbols. Layouts: 3.13's
// _Py_DebugOffsets where present, else the built-in table of the minor version (python_layout.h);
// any other version fails with "python 3.N: layout not known; supported 3.9–3.13".
//
// Errors (the process is CPython but nothing could be read): PermissionDenied for EPERM (the
// message says which profile is needed), FailedPrecondition for an unsupported version or
// build, NotFound when the process is gone, DataLoss for a corrupt runtime. Reading maps fails
// the same way ProcFs does. Thread-compatible: one Read at a time per instance.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_RUNTIME_READER_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_RUNTIME_READER_H_

#include <optional>
#include <string>

#include "base/status.h"
#include "debugpod/procfs/proc_fs.h"
#include "debugpod/runtimes/runtime_reader.h"

namespace ephemera::runtimes::python {

class PythonRuntimeReader final : public runtimes::RuntimeReader {
 public:
  // `proc` is borrowed and must outlive the reader; `proc_root` is the directory it reads
  // ("/proc"), under which the target's files are opened as <proc_root>/<pid>/root/<path>.
  PythonRuntimeReader(std::string proc_root, const procfs::ProcFs& proc)
      : proc_root_(std::move(proc_root)), proc_(proc) {}

  StatusOr<std::optional<runtimes::RuntimeStacks>> Read(
      int pid, const runtimes::RuntimeLimits& limits) override;

 private:
  std::string proc_root_;
  const procfs::ProcFs& proc_;
};

}  // namespace ephemera::runtimes::python

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_RUNTIME_READER_H_
