#include "controller/session/overhead_budget.h"

#include "base/duration.h"

namespace ephemera::session {
namespace {

std::string Mebibytes(std::int64_t bytes) {
  constexpr std::int64_t kMi = std::int64_t{1} << 20;
  if (bytes % kMi == 0) return std::to_string(bytes) + " (" + std::to_string(bytes / kMi) + "Mi)";
  return std::to_string(bytes);
}

}  // namespace

EffectiveBudget EffectiveBudgetOf(const api::BudgetSpec& spec, const BudgetPolicy& policy) {
  return {spec.cpu.value_or(policy.default_cpu),
          spec.memory_bytes.value_or(policy.default_memory_bytes),
          spec.wall.value_or(policy.default_wall)};
}

std::string BudgetProblem(const api::DebugSessionSpec& spec, const Policy& policy) {
  const api::BudgetSpec& budget = spec.budget;
  const BudgetPolicy& limits = policy.budget;
  if (budget.cpu && *budget.cpu > limits.max_cpu) {
    return "spec.budget.cpu: " + base::FormatDuration(*budget.cpu) +
           " exceeds the cluster's maximum of " + base::FormatDuration(limits.max_cpu) +
           " of CPU time; ask for " + base::FormatDuration(limits.max_cpu) + " or less";
  }
  if (budget.memory_bytes && *budget.memory_bytes > limits.max_memory_bytes) {
    return "spec.budget.memoryBytes: " + std::to_string(*budget.memory_bytes) +
           " exceeds the cluster's maximum of " + Mebibytes(limits.max_memory_bytes) +
           " bytes; ask for " + std::to_string(limits.max_memory_bytes) + " or less";
  }
  if (budget.memory_bytes && *budget.memory_bytes < kMinBudgetMemoryBytes) {
    return "spec.budget.memoryBytes: " + std::to_string(*budget.memory_bytes) + " is below the " +
           Mebibytes(kMinBudgetMemoryBytes) +
           " bytes the snapshot tool needs to run at all; ask for at least " +
           std::to_string(kMinBudgetMemoryBytes);
  }
  if (budget.wall && *budget.wall > limits.max_wall) {
    return "spec.budget.wall: " + base::FormatDuration(*budget.wall) +
           " exceeds the cluster's maximum of " + base::FormatDuration(limits.max_wall) +
           "; ask for " + base::FormatDuration(limits.max_wall) + " or less";
  }
  const std::chrono::seconds wall = budget.wall.value_or(limits.default_wall);
  const std::chrono::seconds ttl = std::min(EffectiveTtl(spec, policy), policy.max_ttl);
  if (wall >= ttl) {
    return "spec.budget.wall: " + base::FormatDuration(wall) +
           (budget.wall ? "" : " (the cluster's default)") +
           " is not shorter than the session's ttl of " + base::FormatDuration(ttl) +
           ", so the snapshot could not be delivered before the session expires; ask for a "
           "shorter wall or a longer ttl";
  }
  return "";
}

api::BudgetSummary BudgetSummaryOf(const EffectiveBudget& budget) {
  return {budget.cpu.count(), budget.memory_bytes,
          std::chrono::duration_cast<std::chrono::milliseconds>(budget.wall).count()};
}

}  // namespace ephemera::session
