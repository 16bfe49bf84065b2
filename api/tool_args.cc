#include "api/tool_args.h"

#include <optional>

#include "base/duration.h"

namespace ephemera::api {
namespace {

constexpr std::string_view kSeeHelp = "; run ephemera-snapshot --help for usage";

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool IsEnvName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c == '=' || c == '\0') return false;
  }
  return true;
}

bool IsAlphanumeric(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

Status ApplyRecipient(std::string_view value, ToolArgs& args) {
  if (!value.starts_with("age1")) {
    return InvalidArgumentError("want an age X25519 recipient (age1…), got " + Quoted(value));
  }
  args.recipients.emplace_back(value);
  return OkStatus();
}

Status ApplyProfile(std::string_view value, ToolArgs& args) {
  for (Profile profile : {Profile::kRestricted, Profile::kPtrace}) {
    if (value == ProfileName(profile)) {
      args.profile = profile;
      return OkStatus();
    }
  }
  return InvalidArgumentError("want restricted or ptrace, got " + Quoted(value));
}

Status ApplyDeadline(std::string_view value, ToolArgs& args) {
  StatusOr<std::chrono::nanoseconds> deadline =
      base::ParseDuration(value, base::DurationSyntax::kWholeNumberAndUnit);
  if (!deadline.ok()) return deadline.status();
  if (*deadline < kMinToolDeadline || *deadline > kMaxToolDeadline) {
    return InvalidArgumentError("must be between 1ms and 1h, got " + Quoted(value));
  }
  args.deadline = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline);
  return OkStatus();
}

Status ApplyCpuBudget(std::string_view value, ToolArgs& args) {
  StatusOr<std::chrono::nanoseconds> budget =
      base::ParseDuration(value, base::DurationSyntax::kWholeNumberAndUnit);
  if (!budget.ok()) return budget.status();
  if (*budget < kMinToolCpuBudget || *budget > kMaxToolCpuBudget) {
    return InvalidArgumentError("must be between 1ms and 1h, got " + Quoted(value));
  }
  args.cpu_budget = std::chrono::duration_cast<std::chrono::milliseconds>(*budget);
  return OkStatus();
}

Status ApplyMemoryBudget(std::string_view value, ToolArgs& args) {
  size_t digits = 0;
  while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') ++digits;
  std::string_view number = value.substr(0, digits);
  std::string_view unit = value.substr(digits);
  std::int64_t scale = unit.empty() ? 1 : unit == "Ki" ? 1024 : unit == "Mi" ? 1024 * 1024 : 0;
  std::int64_t bytes = 0;
  bool valid = !number.empty() && number.size() <= 12 && scale != 0;
  for (char c : number) bytes = bytes * 10 + (c - '0');
  if (!valid) {
    return InvalidArgumentError("want a size in bytes such as 67108864, 65536Ki or 64Mi, got " +
                                Quoted(value));
  }
  bytes *= scale;
  if (bytes < kMinToolMemoryBudgetBytes || bytes > kMaxToolMemoryBudgetBytes) {
    return InvalidArgumentError("must be between 1Mi and 1024Mi, got " + Quoted(value));
  }
  args.memory_budget_bytes = bytes;
  return OkStatus();
}

Status ApplyContainerId(std::string_view value, ToolArgs& args) {
  std::string_view id = value;
  if (size_t scheme = id.find("://"); scheme != std::string_view::npos) {
    id.remove_prefix(scheme + 3);
  }
  bool valid = id.size() >= kMinContainerIdChars && id.size() <= kMaxContainerIdChars;
  for (char c : id) valid = valid && IsAlphanumeric(c);
  if (!valid) {
    return InvalidArgumentError(
        "want the target container's ID (12 to 128 letters and digits, as in "
        "status.containerStatuses[].containerID), got " +
        Quoted(value));
  }
  args.container_id = std::string(id);
  return OkStatus();
}

Status ApplyHostNamespaces(std::string_view value, ToolArgs& args) {
  if (value != "allow" && value != "deny") {
    return InvalidArgumentError("want allow or deny, got " + Quoted(value));
  }
  args.host_namespaces = value == "allow";
  return OkStatus();
}

Status ApplyCapture(std::string_view value, ToolArgs& args) {
  args.capture.clear();
  for (size_t start = 0; start <= value.size();) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    args.capture.emplace_back(value.substr(start, comma - start));
    start = comma + 1;
  }
  return OkStatus();
}

Status ApplyPii(std::string_view value, ToolArgs& args) {
  std::optional<PiiMode> mode = ParsePiiMode(value);
  if (!mode) return InvalidArgumentError("want none, standard or strict, got " + Quoted(value));
  args.pii = *mode;
  return OkStatus();
}

Status AppendEnvName(std::string_view value, std::vector<std::string>& names) {
  if (!IsEnvName(value)) {
    return InvalidArgumentError("want an environment variable name (no '='), got " + Quoted(value));
  }
  names.emplace_back(value);
  return OkStatus();
}

Status ApplyAllowEnv(std::string_view value, ToolArgs& args) {
  return AppendEnvName(value, args.allow_env);
}

Status ApplySecretEnv(std::string_view value, ToolArgs& args) {
  return AppendEnvName(value, args.secret_env);
}

Status ApplyExtraPattern(std::string_view value, ToolArgs& args) {
  // The redactor checks the pattern's shape when the tool builds it (redact::Redactor::Create).
  if (value.empty()) return InvalidArgumentError("pattern must not be empty");
  args.extra_patterns.emplace_back(value);
  return OkStatus();
}

// The flags of ToolArgs. Each `apply` checks one value and stores it.
struct FlagRule {
  std::string_view name;
  Status (*apply)(std::string_view value, ToolArgs& args);
};

constexpr FlagRule kFlags[] = {
    {"--recipient", ApplyRecipient},
    {"--profile", ApplyProfile},
    {"--deadline", ApplyDeadline},
    {"--cpu-budget", ApplyCpuBudget},
    {"--memory-budget", ApplyMemoryBudget},
    {"--container-id", ApplyContainerId},
    {"--host-namespaces", ApplyHostNamespaces},
    {"--capture", ApplyCapture},
    {"--pii", ApplyPii},
    {"--allow-env", ApplyAllowEnv},
    {"--secret-env", ApplySecretEnv},
    {"--extra-pattern", ApplyExtraPattern},
};

std::string DeadlineText(std::chrono::milliseconds deadline) {
  if (deadline.count() % 1000 == 0) return std::to_string(deadline.count() / 1000) + "s";
  return std::to_string(deadline.count()) + "ms";
}

std::string ByteSizeText(std::int64_t bytes) {
  constexpr std::int64_t kKi = 1024;
  constexpr std::int64_t kMi = kKi * kKi;
  if (bytes % kMi == 0) return std::to_string(bytes / kMi) + "Mi";
  if (bytes % kKi == 0) return std::to_string(bytes / kKi) + "Ki";
  return std::to_string(bytes);
}

}  // namespace

std::vector<std::string> BuildToolArgs(const ToolArgs& args) {
  std::vector<std::string> out;
  auto add = [&out](std::string_view flag, std::string value) {
    out.emplace_back(flag);
    out.push_back(std::move(value));
  };
  for (const std::string& recipient : args.recipients) add("--recipient", recipient);
  add("--profile", std::string(ProfileName(args.profile)));
  add("--deadline", DeadlineText(args.deadline));
  if (args.cpu_budget) add("--cpu-budget", DeadlineText(*args.cpu_budget));
  if (args.memory_budget_bytes) add("--memory-budget", ByteSizeText(*args.memory_budget_bytes));
  if (!args.container_id.empty()) add("--container-id", args.container_id);
  if (args.host_namespaces) add("--host-namespaces", "allow");
  if (!args.capture.empty()) {
    std::string sections;
    for (const std::string& name : args.capture) sections += (sections.empty() ? "" : ",") + name;
    add("--capture", std::move(sections));
  }
  add("--pii", std::string(PiiModeName(args.pii)));
  for (const std::string& name : args.allow_env) add("--allow-env", name);
  for (const std::string& name : args.secret_env) add("--secret-env", name);
  for (const std::string& pattern : args.extra_patterns) add("--extra-pattern", pattern);
  return out;
}

StatusOr<ToolArgs> ParseToolArgs(std::span<const std::string> args,
                                 std::span<const ExtraToolFlag> extra_flags) {
  ToolArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--")) {
      return InvalidArgumentError("unexpected argument " + Quoted(arg) +
                                  ": the tool takes only flags" + std::string(kSeeHelp));
    }
    std::string_view flag = arg;
    std::string_view value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const FlagRule* rule = nullptr;
    for (const FlagRule& r : kFlags) {
      if (r.name == flag) rule = &r;
    }
    const ExtraToolFlag* extra = nullptr;
    for (const ExtraToolFlag& e : extra_flags) {
      if (e.name == flag) extra = &e;
    }
    if (rule == nullptr && extra == nullptr) {
      return InvalidArgumentError("unknown flag " + Quoted(flag) + std::string(kSeeHelp));
    }
    if (flag.size() == arg.size()) {
      if (i + 1 >= args.size()) {
        return InvalidArgumentError(std::string(flag) + ": needs a value" + std::string(kSeeHelp));
      }
      value = args[++i];
    }
    Status applied = rule != nullptr ? rule->apply(value, parsed) : extra->apply(value);
    if (!applied.ok()) return InvalidArgumentError(std::string(flag) + ": " + applied.message());
  }
  return parsed;
}

}  // namespace ephemera::api
