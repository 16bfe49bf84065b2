// The overhead budget of a session's snapshot tool (spec.budget): CPU time, peak memory and wall
// time. Ephemeral containers cannot have resource limits, so the tool enforces its own
// (debugpod/snapshot/budget.h); the controller decides it from the session's spec within the
// cluster policy's ceilings, and passes it as --cpu-budget, --memory-budget and --deadline.
//
// Pure: values in, values out.
#ifndef EPHEMERA_CONTROLLER_SESSION_OVERHEAD_BUDGET_H_
#define EPHEMERA_CONTROLLER_SESSION_OVERHEAD_BUDGET_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "api/debug_session.h"
#include "controller/session/policy.h"

namespace ephemera::session {

// What the tool runs within.
struct EffectiveBudget {
  std::chrono::milliseconds cpu{0};
  std::int64_t memory_bytes = 0;
  std::chrono::seconds wall{0};
};

// The session's budget: its own, else the policy's defaults (the ceilings are checked apart, by
// BudgetProblem).
EffectiveBudget EffectiveBudgetOf(const api::BudgetSpec& spec, const BudgetPolicy& policy);

// What in `spec` the policy refuses, naming the field, the limit and what to ask for; "" when it
// is within it: a value above the policy's ceiling, a memoryBytes below kMinBudgetMemoryBytes, or
// an effective wall not shorter than the session's effective TTL (the tool would outlive the
// session). Admission and the planner both refuse with it.
std::string BudgetProblem(const api::DebugSessionSpec& spec, const Policy& policy);

// The budget as the session's status shows it (status.overhead.budget).
api::BudgetSummary BudgetSummaryOf(const EffectiveBudget& budget);

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_OVERHEAD_BUDGET_H_
