#include "debugpod/stacks/stack_capture.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "debugpod/stacks/elf_code_map.h"
#include "debugpod/stacks/proc_maps.h"
#include "debugpod/stacks/ptrace_thread_capture.h"
#include "debugpod/stacks/unwinder.h"

namespace ephemera::stacks {
namespace {

StatusOr<std::vector<MapEntry>> ReadMaps(const std::string& proc_root, int pid) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/maps";
  std::ifstream in(path);
  if (!in) return UnavailableError("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseProcMaps(text.str());
}

}  // namespace

StatusOr<ProcessStacks> CaptureStacks(int pid, const StackCaptureOptions& options) {
#if !defined(__x86_64__)
  (void)pid;
  (void)options;
  return FailedPreconditionError("stack capture supports x86-64 only");
#else
  if (pid <= 0) return InvalidArgumentError("pid must be positive");
  if (pid == getpid()) {
    return FailedPreconditionError("a process cannot capture its own threads with ptrace");
  }
  // Read before anything is stopped; an unreadable map (no ptrace access) is retried afterwards.
  StatusOr<std::vector<MapEntry>> maps = ReadMaps(options.proc_root, pid);

  ThreadCaptureRequest request;
  request.pid = pid;
  request.proc_root = options.proc_root;
  request.stack_bytes = options.stack_bytes;
  request.deadline = options.deadline;
  request.stop_timeout = options.stop_timeout;
  if (maps.ok()) request.maps = *maps;
  StatusOr<std::vector<CapturedThread>> captured = CaptureThreadStates(request);
  if (!captured.ok()) return captured.status();

  // Everything runs again from here on.
  const CapturedThread* first_failure = nullptr;
  bool any_captured = false;
  bool any_permission_failure = false;
  for (const CapturedThread& t : *captured) {
    if (t.error.empty()) {
      any_captured = true;
    } else {
      if (!first_failure) first_failure = &t;
      if (t.error_number == EPERM || t.error_number == EACCES) any_permission_failure = true;
    }
  }
  if (!any_captured && first_failure) {
    if (any_permission_failure) {
      for (const CapturedThread& t : *captured) {
        if (t.error_number == EPERM || t.error_number == EACCES) {
          return PermissionDeniedError(t.error);
        }
      }
    }
    bool all_exited = std::all_of(captured->begin(), captured->end(),
                                  [](const CapturedThread& t) { return t.error_number == ESRCH; });
    if (all_exited) return NotFoundError("process " + std::to_string(pid) + " exited");
  }
  if (!maps.ok() && any_captured) maps = ReadMaps(options.proc_root, pid);

  ProcRootModuleLoader loader(options.proc_root, pid);
  ElfCodeMap code(maps.ok() ? std::move(*maps) : std::vector<MapEntry>{}, loader, options.deadline);
  ProcessStacks out;
  for (const CapturedThread& t : *captured) {
    ThreadStack stack;
    stack.tid = t.tid;
    stack.freeze = t.freeze;
    stack.held = t.held;
    stack.error = t.error;
    out.total_freeze += t.freeze;
    out.max_thread_freeze = std::max(out.max_thread_freeze, t.freeze);
    if (t.error.empty()) {
      UnwoundStack unwound = UnwindStack(t.registers, t.stack, code, options.max_frames);
      stack.unwind = unwound.method;
      stack.stop_reason =
          t.copy_error.empty() ? unwound.stop_reason : "stack not copied: " + t.copy_error;
      stack.frames.reserve(unwound.frames.size());
      for (const UnwoundFrame& frame : unwound.frames) {
        stack.frames.push_back(code.Symbolize(frame));
      }
    }
    out.threads.push_back(std::move(stack));
  }
  out.module_errors = code.ModuleErrors();
  return out;
#endif
}

}  // namespace ephemera::stacks
