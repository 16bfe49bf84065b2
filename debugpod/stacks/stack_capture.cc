#include "debugpod/stacks/stack_capture.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>

#include "debugpod/procfs/maps.h"
#include "debugpod/stacks/elf_code_map.h"
#include "debugpod/stacks/ptrace_thread_capture.h"
#include "debugpod/stacks/unwinder.h"

namespace ephemera::stacks {
namespace {

StatusOr<std::vector<procfs::MapEntry>> ReadMaps(const procfs::ProcFs& proc, int pid) {
  StatusOr<std::string> text = proc.ReadFile(pid, "maps");
  if (!text.ok()) return text.status();
  if (text->size() > kMaxMapsBytes) {
    return ResourceExhaustedError("/proc/" + std::to_string(pid) + "/maps is larger than " +
                                  std::to_string(kMaxMapsBytes) + " bytes");
  }
  return procfs::ParseMaps(*text);
}

}  // namespace

StatusOr<ProcessStacks> CaptureStacks(int pid, const procfs::ProcFs& proc,
                                      const StackCaptureOptions& options) {
#if !defined(__x86_64__)
  (void)pid;
  (void)proc;
  (void)options;
  return FailedPreconditionError("stack capture supports x86-64 only");
#else
  if (pid <= 0) return InvalidArgumentError("pid must be positive");
  if (pid == getpid()) {
    return FailedPreconditionError("a process cannot capture its own threads with ptrace");
  }
  // Read before anything is stopped; an unreadable map (no ptrace access) is retried afterwards.
  StatusOr<std::vector<procfs::MapEntry>> maps = ReadMaps(proc, pid);

  ThreadCaptureRequest request;
  request.pid = pid;
  request.proc_root = options.proc_root;
  request.stack_bytes = options.stack_bytes;
  request.deadline = options.deadline;
  request.stop_early = options.stop_early;
  request.stop_timeout = options.stop_timeout;

  ProcRootModuleLoader loader(options.proc_root, pid);
  std::optional<ElfCodeMap> code;
  // tid -> the stack unwound and symbolized right after that thread was resumed.
  std::map<int, ThreadStack> unwound;
  const auto unwind = [&](const CapturedThread& t) {
    ThreadStack stack;
    UnwoundStack walk = UnwindStack(t.registers, t.stack, *code, options.max_frames);
    stack.unwind = walk.method;
    stack.stop_reason =
        t.copy_error.empty() ? walk.stop_reason : "stack not copied: " + t.copy_error;
    stack.frames.reserve(walk.frames.size());
    for (const UnwoundFrame& frame : walk.frames) stack.frames.push_back(code->Symbolize(frame));
    return stack;
  };
  if (maps.ok()) {
    request.maps = *maps;
    code.emplace(*maps, loader, options.deadline);
    code->SetStopEarly(options.stop_early);
    // Unwind each thread once it runs again (while the capture waits for other stops) and free its
    // stack copy, so that the tool holds a few copies at a time, not one per thread (1000 threads
    // x 32 KiB would be 31 MiB).
    request.on_resumed = [&](CapturedThread& t) {
      if (t.error.empty()) unwound.emplace(t.tid, unwind(t));
      std::vector<uint8_t>().swap(t.stack.bytes);
    };
  }
  StatusOr<std::vector<CapturedThread>> captured = CaptureThreadStates(proc, request);
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
  if (!code) {
    // The map was unreadable before the capture (no ptrace access yet): read it now and unwind
    // the copies kept for that.
    if (any_captured) maps = ReadMaps(proc, pid);
    code.emplace(maps.ok() ? std::move(*maps) : std::vector<procfs::MapEntry>{}, loader,
                 options.deadline);
    code->SetStopEarly(options.stop_early);
  }

  ProcessStacks out;
  for (const CapturedThread& t : *captured) {
    ThreadStack stack;
    if (t.error.empty()) {
      auto done = unwound.find(t.tid);
      stack = done != unwound.end() ? std::move(done->second) : unwind(t);
    }
    stack.tid = t.tid;
    stack.freeze = t.freeze;
    stack.held = t.held;
    stack.error = t.error;
    out.total_freeze += t.freeze;
    out.max_thread_freeze = std::max(out.max_thread_freeze, t.freeze);
    out.threads.push_back(std::move(stack));
  }
  out.module_errors = code->ModuleErrors();
  if (!maps.ok() && maps.status().code() == StatusCode::kResourceExhausted) {
    out.module_errors.push_back(maps.status().message());
  }
  return out;
#endif
}

}  // namespace ephemera::stacks
