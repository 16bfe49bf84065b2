#include "debugpod/snapshot/budget.h"

#include <algorithm>

#include "base/duration.h"

namespace ephemera::snapshot {

std::string_view BudgetKindName(BudgetKind kind) {
  switch (kind) {
    case BudgetKind::kWall:
      return "wall";
    case BudgetKind::kCpu:
      return "cpu";
    case BudgetKind::kMemory:
      return "memory";
  }
  return "wall";
}

std::string FormatBytes(std::int64_t bytes) {
  constexpr std::int64_t kMi = std::int64_t{1} << 20;
  if (bytes > 0 && bytes % kMi == 0) return std::to_string(bytes / kMi) + "Mi";
  if (bytes > 0 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + "Ki";
  return std::to_string(bytes) + " bytes";
}

CpuBackstop CpuBackstopFor(std::chrono::milliseconds cpu_budget) {
  using std::chrono::seconds;
  const std::chrono::milliseconds at =
      cpu_budget + std::max<std::chrono::milliseconds>(cpu_budget, std::chrono::seconds(1));
  const seconds soft = std::chrono::ceil<seconds>(at);
  return {soft, soft + seconds(1)};
}

std::int64_t DataBackstopBytesFor(std::int64_t memory_budget_bytes) {
  return memory_budget_bytes + kDataBackstopMargin;
}

CaptureBudget::CaptureBudget(const BudgetLimits& limits, base::Clock& clock, ToolMeters* meters)
    : limits_(limits), clock_(clock), meters_(meters) {}

bool CaptureBudget::Reached() {
  base::MutexLock lock(mu_);
  if (reached_) return true;
  const std::chrono::steady_clock::time_point now = clock_.SteadyNow();
  if (now >= limits_.deadline) {
    reached_ = BudgetKind::kWall;
    return true;
  }
  if (meters_ == nullptr) return false;
  if (limits_.cpu && (!cpu_checked_at_ || now - *cpu_checked_at_ >= kCpuCheckInterval)) {
    cpu_checked_at_ = now;
    if (meters_->ProcessCpuTime() >= *limits_.cpu) {
      reached_ = BudgetKind::kCpu;
      return true;
    }
  }
  if (limits_.memory_bytes &&
      (!memory_checked_at_ || now - *memory_checked_at_ >= kMemoryCheckInterval)) {
    memory_checked_at_ = now;
    // Unreadable: the check is skipped (the RLIMIT_DATA backstop still holds).
    if (std::optional<std::int64_t> peak = meters_->PeakRssBytes();
        peak && *peak >= *limits_.memory_bytes) {
      reached_ = BudgetKind::kMemory;
      return true;
    }
  }
  return false;
}

std::optional<BudgetKind> CaptureBudget::ReachedKind() const {
  base::MutexLock lock(mu_);
  return reached_;
}

std::string CaptureBudget::Reason() const {
  base::MutexLock lock(mu_);
  if (!reached_) return "";
  switch (*reached_) {
    case BudgetKind::kWall:
      return "deadline";
    case BudgetKind::kCpu:
      return "CPU budget of " + base::FormatDuration(*limits_.cpu) + " reached";
    case BudgetKind::kMemory:
      return "memory budget of " + FormatBytes(*limits_.memory_bytes) + " reached";
  }
  return "deadline";
}

}  // namespace ephemera::snapshot
