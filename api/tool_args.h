// ToolArgs: the snapshot tool's command line as the controller writes it and the tool reads it.
//
// The controller fills a ToolArgs for a session and turns it into the ephemeral container's args
// with BuildToolArgs; ephemera-snapshot turns its argv back into one with ParseToolArgs. The two
// are round-trip tested (tests/api/tool_args_test.cc), so a flag cannot be written by one side and
// misread by the other. The flags the tool has only for local runs (--pid, --format,
// --max-output-bytes, --help, --version) are the tool's own business and not part of ToolArgs; it
// passes them to ParseToolArgs as extra flags.
//
// The chart's ValidatingAdmissionPolicy (helm/ephemera/templates/validatingadmissionpolicy.yaml)
// admits exactly the flags and the order BuildToolArgs writes; a new flag goes there too
// (tests/helm/chart_unit_test.sh compares the two). Pure; thread safety: pure functions.
#ifndef EPHEMERA_API_TOOL_ARGS_H_
#define EPHEMERA_API_TOOL_ARGS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/debug_session.h"
#include "base/status.h"

namespace ephemera::api {

inline constexpr std::chrono::milliseconds kDefaultToolDeadline{20000};
inline constexpr std::chrono::milliseconds kMinToolDeadline{1};
inline constexpr std::chrono::milliseconds kMaxToolDeadline{std::chrono::hours(1)};
// --cpu-budget: the tool's own CPU time (all its threads), checked between units of work.
inline constexpr std::chrono::milliseconds kMinToolCpuBudget{1};
inline constexpr std::chrono::milliseconds kMaxToolCpuBudget{std::chrono::hours(1)};
// --memory-budget: the tool's peak resident memory (VmHWM). Below 1 MiB not even the binary fits;
// above 1 GiB the tool's address-space ceiling (debugpod/snapshot/sandbox.h) stops it first.
inline constexpr std::int64_t kMinToolMemoryBudgetBytes = std::int64_t{1} << 20;
inline constexpr std::int64_t kMaxToolMemoryBudgetBytes = std::int64_t{1} << 30;
inline constexpr std::size_t kMinContainerIdChars = 12;
inline constexpr std::size_t kMaxContainerIdChars = 128;

// The options the controller passes to the snapshot tool. Defaults are the tool's defaults, which
// apply when a flag is not given.
struct ToolArgs {
  // --recipient age1…, repeatable: the age X25519 recipients the snapshot is encrypted to. The
  // controller passes exactly one, the session key's (the admission policy admits no more).
  std::vector<std::string> recipients;
  Profile profile = Profile::kPtrace;  // --profile restricted|ptrace
  // --deadline, 1ms..1h: the wall-clock budget (the session's spec.budget.wall).
  std::chrono::milliseconds deadline = kDefaultToolDeadline;
  // --cpu-budget, 1ms..1h: the tool's CPU time budget (spec.budget.cpu). Unset: none (the
  // controller always sets it).
  std::optional<std::chrono::milliseconds> cpu_budget;
  // --memory-budget, bytes, 1Mi..1Gi (written and read as "64Mi", "512Ki" or plain bytes): the
  // tool's peak resident memory budget (spec.budget.memoryBytes). Unset: none.
  std::optional<std::int64_t> memory_budget_bytes;
  // --container-id: the runtime ID of the target container (status.containerStatuses[].containerID,
  // with or without its "<runtime>://" scheme; ParseToolArgs stores it without). Only processes
  // whose /proc/<pid>/cgroup names it are captured. "": not given, every process of the namespace.
  std::string container_id;
  // --host-namespaces allow|deny: a host session (the cluster policy allowed a target pod sharing
  // the node's namespaces); without it the tool refuses to run in the node's PID namespace.
  bool host_namespaces = false;
  // --capture, comma-separated: the section names asked for, as given ("all" among them). Empty:
  // not given, every section. The tool checks the names (debugpod/snapshot/command_line.h).
  std::vector<std::string> capture;
  PiiMode pii = PiiMode::kStandard;         // --pii none|standard|strict
  std::vector<std::string> allow_env;       // --allow-env NAME, repeatable (NAME* is a prefix)
  std::vector<std::string> secret_env;      // --secret-env NAME, repeatable
  std::vector<std::string> extra_patterns;  // --extra-pattern PREFIX, repeatable

  bool operator==(const ToolArgs&) const = default;
};

// The args for `args`, in the order the admission policy expects: --recipient (each), --profile,
// --deadline (whole seconds as "20s", otherwise milliseconds as "1500ms"); then, when set,
// --cpu-budget (like --deadline), --memory-budget ("64Mi", "512Ki" or bytes), --container-id,
// --host-namespaces allow, --capture; --pii always; then --allow-env, --secret-env and
// --extra-pattern, once per value. Each flag and its value are two separate args.
std::vector<std::string> BuildToolArgs(const ToolArgs& args);

// A flag outside ToolArgs that the caller parses itself (the tool's --pid, --format, ...).
// `apply` gets the flag's value and returns OK or an InvalidArgument whose message says what is
// wanted ("want ..., got ..."); ParseToolArgs puts the flag's name in front of it.
struct ExtraToolFlag {
  std::string_view name;
  std::function<Status(std::string_view value)> apply;
};

// Parses `args` (argv without argv[0]). Every flag takes a value, as the next arg or after '='
// ("--deadline 20s", "--deadline=20s"); repeatable flags accumulate, a repeated single flag takes
// its last value. Errors are InvalidArgument, and the message starts with the flag and says what
// to do ("--deadline: must be between 1ms and 1h, got \"2h\""): a flag without a value, a value
// that is not what the flag wants, an unknown flag, an argument that is not a flag. Checks each
// flag alone; rules between flags (--format age needs a --recipient) are the caller's.
StatusOr<ToolArgs> ParseToolArgs(std::span<const std::string> args,
                                 std::span<const ExtraToolFlag> extra_flags = {});

}  // namespace ephemera::api

#endif  // EPHEMERA_API_TOOL_ARGS_H_
