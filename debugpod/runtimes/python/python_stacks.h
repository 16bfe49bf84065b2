// ReadPythonStacks: the Python stack of every thread of a CPython process's main interpreter,
// read through a MemoryReader (/proc/<pid>/mem in production, a FakeMemoryReader in tests)
// without stopping the process. Pure apart from the reader it is given.
//
// The target's memory is hostile and changes under the reader: every pointer is checked to be a
// plausible user-space address before it is followed, the thread list and each frame chain are
// walked at most once per node (a cycle ends the walk) and no further than RuntimeLimits allow,
// every string and line table is length-checked before it is read, and a thread that no longer
// points back to the interpreter ends the thread walk (the list changed while it was read). What
// is cut or unreadable is named in RuntimeStacks::problems; nothing is guessed.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_STACKS_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_STACKS_H_

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "debugpod/runtimes/memory_reader.h"
#include "debugpod/runtimes/python/python_layout.h"
#include "debugpod/runtimes/runtime_stacks.h"

namespace ephemera::runtimes::python {

// Bounds that RuntimeLimits does not carry, fixed for this reader.
inline constexpr size_t kMaxInterpreters = 256;          // walked to find the main one
inline constexpr size_t kMaxThreadsCounted = 1 << 20;    // `total` stops counting here
inline constexpr uint64_t kMaxLineTableBytes = 1 << 20;  // one code object's line table
inline constexpr size_t kMaxProblems = 64;               // then one "… more" line
inline constexpr size_t kMaxCachedCodeObjects = 8192;

// glibc x86-64: the kernel thread id (struct pthread's `tid`) lies this many bytes into the
// struct pthread that pthread_self() (PyThreadState.thread_id) points to. Used for 3.9/3.10,
// which do not record native_thread_id, and only trusted when the value is one of the
// process's tasks.
inline constexpr uint64_t kGlibcPthreadTidOffset = 720;

struct PythonTarget {
  uint64_t runtime_address = 0;  // _PyRuntime in the target's address space
  std::vector<int> tasks;        // the process's thread ids (/proc/<pid>/task); empty: unknown
};

// The threads of the main interpreter, newest first (CPython's list order), with language
// "python" and method "memory" set; `version` is left to the caller. An error only when nothing
// could be read (the runtime state or the interpreter list): the message says why, starting
// "python: ". Reads at most limits.max_read_bytes if `memory` enforces it (ProcMemMemoryReader
// does), and stops at limits.deadline.
StatusOr<runtimes::RuntimeStacks> ReadPythonStacks(runtimes::MemoryReader& memory,
                                                   const PythonLayout& layout,
                                                   const PythonTarget& target,
                                                   const runtimes::RuntimeLimits& limits);

}  // namespace ephemera::runtimes::python

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_PYTHON_STACKS_H_
