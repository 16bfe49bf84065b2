// ephemera-snapshot: captures the processes of this PID namespace into one redacted, encrypted
// snapshot document on stdout. See command_line.cc for the flags and docs/snapshot-format.md for
// the document. Only ciphertext (or, with --format json, the plaintext asked for) goes to stdout;
// stderr carries usage errors and failures, never target data.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "base/clock.h"
#include "debugpod/procfs/process_files.h"
#include "debugpod/procfs/real_proc_fs.h"
#include "debugpod/runtimes/golang/go_runtime_reader.h"
#include "debugpod/runtimes/jvm/jvm_runtime_reader.h"
#include "debugpod/runtimes/python/python_runtime_reader.h"
#include "debugpod/snapshot/budget.h"
#include "debugpod/snapshot/capture.h"
#include "debugpod/snapshot/command_line.h"
#include "debugpod/snapshot/output_cap.h"
#include "debugpod/snapshot/sandbox.h"
#include "debugpod/snapshot/stack_source.h"
#include "debugpod/snapshot/system_tool_meters.h"
#include "debugpod/snapshot/watchdog.h"
#include "envelope/envelope.h"
#include "redact/redactor.h"

namespace ephemera::snapshot {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr char kProcRoot[] = "/proc";

int UsageError(const std::string& message) {
  std::fprintf(stderr, "ephemera-snapshot: %s\n", message.c_str());
  return kExitUsage;
}

int Failure(const std::string& message) {
  std::fprintf(stderr, "ephemera-snapshot: %s\n", message.c_str());
  return kExitFailed;
}

std::string Rfc3339Now() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis.count()));
  return buf;
}

// Time between the capture deadline and the watchdog: enough to serialize, seal and write.
std::chrono::milliseconds WatchdogGrace(std::chrono::milliseconds deadline) {
  using std::chrono::milliseconds;
  return std::clamp(deadline / 10, milliseconds(500), milliseconds(2000));
}

ToolUsage MeasureToolUsage(std::chrono::steady_clock::time_point start,
                           const procfs::ProcFs& proc) {
  ToolUsage usage;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    usage.cpu_millis = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
    usage.max_rss_kib = ru.ru_maxrss;  // KiB on Linux
  }
  // ru_maxrss keeps the peak of the process that forked the tool, from before its exec (a
  // launcher larger than the tool inflates it); VmHWM is this program's own peak.
  if (StatusOr<std::string> status = proc.ReadFile(getpid(), "status"); status.ok()) {
    if (StatusOr<procfs::ProcStatus> parsed = procfs::ParseProcStatus(*status);
        parsed.ok() && parsed->vm_hwm_kib) {
      usage.max_rss_kib = static_cast<int64_t>(*parsed->vm_hwm_kib);
    }
  }
  usage.wall_millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  return usage;
}

int Run(int argc, char** argv) {
  const auto start = std::chrono::steady_clock::now();
  StatusOr<CommandLine> parsed = ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) return UsageError(parsed.status().message());
  const CommandLine& cl = *parsed;
  // The kernel's backstops a margin above the CPU and memory budgets (budget.h): they stop a tool
  // that runs away between two of the capture's budget checks.
  if (cl.tool.cpu_budget) {
    CpuBackstop backstop = CpuBackstopFor(*cl.tool.cpu_budget);
    if (Status limited = LimitCpuTime(backstop.soft, backstop.hard); !limited.ok()) {
      return Failure("cannot set the CPU backstop: " + limited.message());
    }
  }
  if (cl.tool.memory_budget_bytes) {
    const auto bytes = static_cast<uint64_t>(DataBackstopBytesFor(*cl.tool.memory_budget_bytes));
    if (Status limited = LimitDataSize(bytes); !limited.ok()) {
      return Failure("cannot set the memory backstop: " + limited.message());
    }
  }
  // Before the first read of target input and before the watchdog's thread exists (capabilities
  // are per thread). The command line comes from the controller, not from the target.
  // With stacks, the JVM's attach mechanism needs a Unix socket, its trigger file and SIGQUIT.
  SandboxOptions sandbox_options;
  sandbox_options.allow_jvm_attach = cl.sections.Has(Section::kStacks);
  if (Status sandboxed = InstallSandbox(cl.tool.profile, sandbox_options); !sandboxed.ok()) {
    return Failure("cannot sandbox the tool: " + sandboxed.message());
  }
  if (cl.help) {
    std::fputs(UsageText().c_str(), stdout);
    return kExitOk;
  }
  if (cl.version) {
    std::printf("%s %s\n", api::kSnapshotToolName.data(), EPHEMERA_VERSION);
    return kExitOk;
  }

  StatusOr<redact::Redactor> redactor = redact::Redactor::Create(
      {cl.tool.allow_env, cl.tool.secret_env, cl.tool.extra_patterns, cl.tool.pii});
  if (!redactor.ok()) {
    if (redactor.status().code() == StatusCode::kInvalidArgument) {
      return UsageError("redaction policy: " + redactor.status().message() +
                        " (check --allow-env, --secret-env and --extra-pattern)");
    }
    return Failure("cannot set up redaction: " + redactor.status().message());
  }

  CaptureRequest request;
  request.pid = cl.pid;
  request.scope = {cl.tool.container_id, cl.tool.host_namespaces};
  request.sections = cl.sections;
  request.profile = cl.tool.profile;
  request.pii = cl.tool.pii;
  request.value_keys_for_controller = cl.value_keys_for_controller;
  request.self_pid = getpid();
  request.tool_euid = geteuid();
  request.tool_version = EPHEMERA_VERSION;
  request.capture_time = Rfc3339Now();
  request.deadline = start + cl.tool.deadline;
  request.deadline_budget = cl.tool.deadline;
  request.cpu_budget = cl.tool.cpu_budget;
  request.memory_budget_bytes = cl.tool.memory_budget_bytes;
  request.max_output_bytes = cl.max_output_bytes;
  long ticks = sysconf(_SC_CLK_TCK);
  request.clock_ticks_per_second = ticks > 0 ? ticks : 100;
  request.proc_root = kProcRoot;

  // The watchdog's output is prepared (and sealed) up front: when it fires nothing else may run.
  // Sealing it also checks every --recipient before any capture work.
  const std::chrono::milliseconds watchdog_after =
      cl.tool.deadline + WatchdogGrace(cl.tool.deadline);
  const auto prepare = [&cl](const Json& document) -> StatusOr<std::string> {
    std::string text = document.dump() + "\n";
    if (cl.format != OutputFormat::kAge) return text;
    return envelope::Seal(text, cl.tool.recipients);
  };
  StatusOr<std::string> fallback = prepare(WatchdogDocument(request, watchdog_after));
  if (!fallback.ok()) {
    if (fallback.status().code() == StatusCode::kInvalidArgument) {
      return UsageError("--recipient: " + fallback.status().message());
    }
    return Failure("cannot encrypt: " + fallback.status().message());
  }
  Watchdog watchdog(start + watchdog_after, std::move(fallback).value());
  if (cl.tool.cpu_budget) {
    StatusOr<std::string> cpu_fallback =
        prepare(CpuBackstopDocument(request, CpuBackstopFor(*cl.tool.cpu_budget).soft));
    if (!cpu_fallback.ok()) return Failure("cannot encrypt: " + cpu_fallback.status().message());
    if (Status armed = watchdog.ArmCpuBackstop(std::move(cpu_fallback).value()); !armed.ok()) {
      return Failure("cannot arm the CPU backstop: " + armed.message());
    }
  }

  procfs::RealProcFs proc(kProcRoot);
  procfs::RealCgroupFs cgroup;
  // The stack capture reads a whole memory map to find modules and stacks; the maps section only
  // summarizes it and keeps the default cap.
  procfs::RealProcFs stack_proc(kProcRoot, stacks::kMaxMapsBytes);
  PtraceStackSource stacks(stack_proc);
  base::SystemClock clock;
  SystemToolMeters meters(proc, getpid());
  CaptureDeps deps{proc,
                   cgroup,
                   [](int pid) -> std::unique_ptr<procfs::CgroupFs> {
                     return std::make_unique<procfs::RealCgroupFs>(std::string(kProcRoot) + "/" +
                                                                   std::to_string(pid) +
                                                                   "/root/sys/fs/cgroup");
                   },
                   stacks,
                   *redactor,
                   clock};
  // Language stacks (section stacks, both profiles): each reader recognizes its runtime cheaply
  // and leaves other processes alone.
  runtimes::golang::GoRuntimeReader go(kProcRoot, stack_proc);
  runtimes::python::PythonRuntimeReader python(kProcRoot, stack_proc);
  runtimes::jvm::JvmRuntimeReader jvm(kProcRoot, stack_proc);
  if (cl.sections.Has(Section::kStacks)) deps.runtimes = {&go, &python, &jvm};
  deps.meters = &meters;
  CaptureResult result = CaptureSnapshot(request, deps);
  const bool targets_found = result.targets_found;
  SetToolUsage(result.document, MeasureToolUsage(start, proc));
  std::string text = FitToOutputCap(result.document, cl.max_output_bytes);
  result.document = Json();  // free the tree before sealing

  std::string output;
  if (cl.format == OutputFormat::kJson) {
    output = std::move(text) + "\n";
  } else {
    StatusOr<std::string> sealed = envelope::Seal(text, cl.tool.recipients);
    if (!sealed.ok()) return Failure("cannot encrypt the snapshot: " + sealed.status().message());
    output = std::move(sealed).value();
  }
  if (!watchdog.ClaimOutput()) {
    for (;;) pause();  // the watchdog is writing its document and exits the process
  }
  if (!WriteAll(STDOUT_FILENO, output)) return Failure("cannot write the snapshot to stdout");
  if (!targets_found) return Failure("no target process found (see \"degraded\")");
  return kExitOk;
}

}  // namespace
}  // namespace ephemera::snapshot

int main(int argc, char** argv) {
  // First of all: a process of the same UID (the target, in the restricted profile) must not be
  // able to ptrace the tool, read its memory or write to its stdout through /proc (H3).
  if (ephemera::Status s = ephemera::snapshot::MakeNonDumpable(); !s.ok()) {
    std::fprintf(stderr, "ephemera-snapshot: %s\n", s.message().c_str());
    return 1;
  }
  // A backstop for a parser bug: the tool cannot grow to the node's memory (L3).
  if (ephemera::Status s =
          ephemera::snapshot::LimitAddressSpace(ephemera::snapshot::kAddressSpaceLimitBytes);
      !s.ok()) {
    std::fprintf(stderr, "ephemera-snapshot: %s\n", s.message().c_str());
    return 1;
  }
  try {
    return ephemera::snapshot::Run(argc, argv);
  } catch (const std::exception& e) {
    // A bug (the libraries report errors as Status); say so without echoing any captured data.
    std::fprintf(stderr, "ephemera-snapshot: internal error (%s)\n", typeid(e).name());
    return 1;
  }
}
