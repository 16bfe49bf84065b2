#include "api/debug_session.h"

#include <algorithm>
#include <utility>

#include "base/duration.h"
#include "base/json_access.h"
#include "base/rfc3339.h"

namespace ephemera::api {
namespace {

using nlohmann::json;

// The member `key`, unless it is missing or null.
const json* Find(const json& object, std::string_view key) {
  const json* field = base::FindField(object, key);
  return field != nullptr && field->is_null() ? nullptr : field;
}

std::vector<std::string> StringsAt(const json& object, std::string_view key) {
  std::vector<std::string> out;
  const json* v = Find(object, key);
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& item : *v) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

// A map of string lists (userInfo.extra); entries of another shape are left out.
std::map<std::string, std::vector<std::string>> StringListMapAt(const json& object,
                                                                std::string_view key) {
  std::map<std::string, std::vector<std::string>> out;
  const json* v = Find(object, key);
  if (v == nullptr || !v->is_object()) return out;
  for (const auto& [name, values] : v->items()) {
    if (values.is_array()) out[name] = StringsAt(*v, name);
  }
  return out;
}

std::int64_t IntAt(const json& object, std::string_view key) {
  return base::IntField(object, key).value_or(0);
}

StatusOr<DebugSessionStatus> ParseStatus(const json& status) {
  DebugSessionStatus out;
  if (!status.is_object()) return out;
  if (std::string phase = base::StringField(status, "phase"); !phase.empty()) {
    out.phase = ParsePhase(phase);
    if (!out.phase) return InvalidArgumentError("status.phase: unknown phase \"" + phase + "\"");
  }
  out.message = base::StringField(status, "message");
  out.observed_generation = IntAt(status, "observedGeneration");
  if (std::string expires = base::StringField(status, "expiresAt"); !expires.empty()) {
    auto t = base::ParseRfc3339(expires);
    if (!t.ok()) return t.status().WithContext("status.expiresAt");
    out.expires_at = *t;
  }
  out.ephemeral_container = base::StringField(status, "ephemeralContainer");
  if (const json* conditions = Find(status, "conditions"); conditions && conditions->is_array()) {
    for (const auto& c : *conditions) {
      Condition cond{base::StringField(c, "type"),
                     base::StringField(c, "status"),
                     base::StringField(c, "reason"),
                     base::StringField(c, "message"),
                     {},
                     IntAt(c, "observedGeneration")};
      if (auto t = base::ParseRfc3339(base::StringField(c, "lastTransitionTime")); t.ok()) {
        cond.last_transition_time = *t;
      }
      out.conditions.push_back(std::move(cond));
    }
  }
  if (const json* s = Find(status, "snapshot")) {
    out.snapshot = SnapshotSummary{
        base::StringField(*s, "name"), base::StringField(*s, "sha256"), IntAt(*s, "bytes"),
        StringsAt(*s, "sections"),     StringsAt(*s, "degraded"),       {}};
  }
  if (const json* r = Find(status, "redaction")) {
    out.redaction = RedactionSummary{IntAt(*r, "envRedacted"), IntAt(*r, "textRedacted"),
                                     IntAt(*r, "droppedFields")};
  }
  if (const json* o = Find(status, "overhead")) {
    OverheadSummary overhead;
    overhead.target_freeze_micros = IntAt(*o, "targetFreezeMicros");
    overhead.tool_cpu_millis = IntAt(*o, "toolCpuMillis");
    overhead.tool_max_rss_kib = IntAt(*o, "toolMaxRssKiB");
    overhead.wall_millis = IntAt(*o, "wallMillis");
    if (const json* b = Find(*o, "budget")) {
      overhead.budget =
          BudgetSummary{IntAt(*b, "cpuMillis"), IntAt(*b, "memoryBytes"), IntAt(*b, "wallMillis")};
    }
    overhead.budget_reached = base::StringField(*o, "budgetReached");
    out.overhead = std::move(overhead);
  }
  if (const json* a = Find(status, "audit")) {
    out.audit = AuditSummary{IntAt(*a, "records"), base::StringField(*a, "head")};
  }
  return out;
}

}  // namespace

std::string_view ProfileName(Profile profile) {
  return profile == Profile::kPtrace ? "ptrace" : "restricted";
}

std::optional<PiiMode> ParsePiiMode(std::string_view name) {
  StatusOr<PiiMode> mode = redact::ParsePiiMode(name);
  return mode.ok() ? std::optional<PiiMode>(*mode) : std::nullopt;
}

std::optional<Phase> ParsePhase(std::string_view name) {
  for (Phase p : {Phase::kPending, Phase::kInjecting, Phase::kCapturing, Phase::kCompleted,
                  Phase::kFailed, Phase::kDenied, Phase::kExpired}) {
    if (PhaseName(p) == name) return p;
  }
  return std::nullopt;
}

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kPending:
      return "Pending";
    case Phase::kInjecting:
      return "Injecting";
    case Phase::kCapturing:
      return "Capturing";
    case Phase::kCompleted:
      return "Completed";
    case Phase::kFailed:
      return "Failed";
    case Phase::kDenied:
      return "Denied";
    case Phase::kExpired:
      return "Expired";
  }
  return "Unknown";
}

bool IsTerminal(Phase phase) {
  return phase == Phase::kCompleted || phase == Phase::kFailed || phase == Phase::kDenied ||
         phase == Phase::kExpired;
}

const Condition* DebugSessionStatus::FindCondition(std::string_view type) const {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

void DebugSessionStatus::SetCondition(std::string_view type, bool value, std::string_view reason,
                                      std::string_view text, TimePoint now) {
  const std::string status_value = value ? "True" : "False";
  for (auto& c : conditions) {
    if (c.type != type) continue;
    if (c.status != status_value) c.last_transition_time = now;
    c.status = status_value;
    c.reason = std::string(reason);
    c.message = std::string(text);
    c.observed_generation = observed_generation;
    return;
  }
  conditions.push_back({std::string(type), status_value, std::string(reason), std::string(text),
                        now, observed_generation});
}

void DebugSessionStatus::SummarizeReady(TimePoint now) {
  if (!phase) return;
  const Phase p = *phase;
  std::string text = message;
  if (text.empty()) {
    text = p == Phase::kCompleted ? "the snapshot is delivered" : "the snapshot is not ready";
  }
  SetCondition(kReadyCondition, p == Phase::kCompleted,
               p == Phase::kCompleted ? "SnapshotDelivered" : PhaseName(p), text, now);
}

bool DebugSession::HasFinalizer() const {
  return std::find(finalizers.begin(), finalizers.end(), kFinalizer) != finalizers.end();
}

StatusOr<DebugSession> ParseDebugSession(const nlohmann::json& object) {
  try {
    DebugSession s;
    const json* metadata = Find(object, "metadata");
    if (metadata == nullptr) return InvalidArgumentError("DebugSession has no metadata");
    s.key = {base::StringField(*metadata, "namespace"), base::StringField(*metadata, "name")};
    s.uid = base::StringField(*metadata, "uid");
    s.resource_version = base::StringField(*metadata, "resourceVersion");
    s.generation = IntAt(*metadata, "generation");
    if (s.key.name.empty() || s.key.namespace_name.empty() || s.uid.empty()) {
      return InvalidArgumentError("DebugSession metadata lacks namespace, name or uid");
    }
    auto created = base::ParseRfc3339(base::StringField(*metadata, "creationTimestamp"));
    if (!created.ok()) return created.status().WithContext("metadata.creationTimestamp");
    s.created = *created;
    s.deleting = Find(*metadata, "deletionTimestamp") != nullptr;
    s.finalizers = StringsAt(*metadata, "finalizers");

    const json* spec = Find(object, "spec");
    if (spec == nullptr) {
      return InvalidArgumentError("DebugSession " + s.key.ToString() + " has no spec");
    }
    const json* target = Find(*spec, "target");
    if (target == nullptr || base::StringField(*target, "pod").empty()) {
      return InvalidArgumentError("spec.target.pod is required");
    }
    s.spec.pod = base::StringField(*target, "pod");
    s.spec.container = base::StringField(*target, "container");
    s.spec.reason = base::StringField(*spec, "reason");
    if (const std::string ttl = base::StringField(*spec, "ttl"); !ttl.empty()) {
      auto parsed_ttl = base::ParseDuration(ttl);
      if (!parsed_ttl.ok()) return parsed_ttl.status().WithContext("spec.ttl");
      s.spec.ttl = std::chrono::duration_cast<std::chrono::seconds>(*parsed_ttl);
    }
    const std::string profile = base::StringField(*spec, "profile");
    if (profile == "ptrace") {
      s.spec.profile = Profile::kPtrace;
    } else if (profile.empty() || profile == "restricted") {
      s.spec.profile = Profile::kRestricted;
    } else {
      return InvalidArgumentError("spec.profile: unknown profile \"" + profile + "\"");
    }
    s.spec.capture = StringsAt(*spec, "capture");
    s.spec.recipients = StringsAt(*spec, "recipients");
    if (const json* redaction = Find(*spec, "redaction")) {
      s.spec.allow_env = StringsAt(*redaction, "allowEnv");
      s.spec.extra_patterns = StringsAt(*redaction, "extraPatterns");
      if (const std::string pii = base::StringField(*redaction, "pii"); !pii.empty()) {
        s.spec.pii = ParsePiiMode(pii);
        if (!s.spec.pii) {
          return InvalidArgumentError("spec.redaction.pii: unknown mode \"" + pii +
                                      "\"; use none, standard or strict");
        }
      }
    }
    auto logs = ParseLogsSpec(Find(*spec, "logs"));
    if (!logs.ok()) return logs.status();
    s.spec.logs = *logs;
    auto budget = ParseBudgetSpec(Find(*spec, "budget"));
    if (!budget.ok()) return budget.status();
    s.spec.budget = *budget;
    if (const json* by = Find(*spec, "requestedBy");
        by && !base::StringField(*by, "username").empty()) {
      s.spec.requested_by =
          Requester{base::StringField(*by, "username"), base::StringField(*by, "uid"),
                    StringsAt(*by, "groups"), StringListMapAt(*by, "extra")};
    }
    auto status = ParseStatus(object.value("status", json::object()));
    if (!status.ok()) return status.status();
    s.status = std::move(*status);
    return s;
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("malformed DebugSession: ") + e.what());
  }
}

bool DebugSessionSpec::WantsLogs() const {
  return std::find(capture.begin(), capture.end(), kLogsSection) != capture.end();
}

StatusOr<LogsSpec> ParseLogsSpec(const nlohmann::json* logs) {
  LogsSpec out;
  if (logs == nullptr || logs->is_null()) return out;
  if (!logs->is_object()) return InvalidArgumentError("spec.logs: must be an object");
  for (const auto& [name, field] :
       {std::pair{"tailLines", &out.tail_lines}, std::pair{"limitBytes", &out.limit_bytes}}) {
    const auto it = logs->find(name);
    if (it == logs->end() || it->is_null()) continue;
    if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
      return InvalidArgumentError(std::string("spec.logs.") + name +
                                  ": must be a positive integer, not " + it->dump());
    }
    *field = it->get<std::int64_t>();
  }
  if (const auto it = logs->find("since"); it != logs->end() && !it->is_null()) {
    if (!it->is_string()) {
      return InvalidArgumentError(
          "spec.logs.since: must be a duration string such as \"1h\", not " + it->dump());
    }
    auto since = base::ParseDuration(it->get<std::string>());
    if (!since.ok()) return since.status().WithContext("spec.logs.since");
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*since);
    if (seconds <= std::chrono::seconds::zero()) {
      return InvalidArgumentError("spec.logs.since: " + it->get<std::string>() +
                                  " is not a duration of at least one second; ask for e.g. 1h");
    }
    out.since = seconds;
  }
  if (const auto it = logs->find("previous"); it != logs->end() && !it->is_null()) {
    if (!it->is_boolean()) {
      return InvalidArgumentError("spec.logs.previous: must be true or false, not " + it->dump());
    }
    out.previous = it->get<bool>();
  }
  return out;
}

StatusOr<BudgetSpec> ParseBudgetSpec(const nlohmann::json* budget) {
  BudgetSpec out;
  if (budget == nullptr || budget->is_null()) return out;
  if (!budget->is_object()) return InvalidArgumentError("spec.budget: must be an object");
  // A positive duration string, whole in `unit`.
  const auto duration = [&](const char* name, std::chrono::nanoseconds unit,
                            const char* example) -> StatusOr<std::optional<std::int64_t>> {
    const std::string path = std::string("spec.budget.") + name;
    const auto it = budget->find(name);
    if (it == budget->end() || it->is_null()) return std::optional<std::int64_t>();
    if (!it->is_string()) {
      return InvalidArgumentError(path + ": must be a duration string such as \"" + example +
                                  "\", not " + it->dump());
    }
    const std::string text = it->get<std::string>();
    auto parsed = base::ParseDuration(text);
    if (!parsed.ok()) return parsed.status().WithContext(path);
    if (*parsed <= std::chrono::nanoseconds::zero() || *parsed % unit != unit.zero()) {
      return InvalidArgumentError(path + ": " + text + " is not a positive whole number of " +
                                  (unit == std::chrono::seconds(1) ? "seconds" : "milliseconds") +
                                  "; ask for e.g. " + example);
    }
    return std::optional<std::int64_t>(*parsed / unit);
  };
  auto cpu = duration("cpu", std::chrono::milliseconds(1), "2s");
  if (!cpu.ok()) return cpu.status();
  if (*cpu) out.cpu = std::chrono::milliseconds(**cpu);
  auto wall = duration("wall", std::chrono::seconds(1), "30s");
  if (!wall.ok()) return wall.status();
  if (*wall) out.wall = std::chrono::seconds(**wall);
  if (const auto it = budget->find("memoryBytes"); it != budget->end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
      return InvalidArgumentError("spec.budget.memoryBytes: must be a positive integer, not " +
                                  it->dump());
    }
    out.memory_bytes = it->get<std::int64_t>();
  }
  return out;
}

nlohmann::json BudgetSummaryToJson(const BudgetSummary& budget) {
  return {{"cpuMillis", budget.cpu_millis},
          {"memoryBytes", budget.memory_bytes},
          {"wallMillis", budget.wall_millis}};
}

nlohmann::json RedactionSummaryToJson(const RedactionSummary& redaction) {
  return {{"envRedacted", redaction.env_redacted},
          {"textRedacted", redaction.text_redacted},
          {"droppedFields", redaction.dropped_fields}};
}

nlohmann::json OverheadSummaryToJson(const OverheadSummary& overhead) {
  json out = {{"targetFreezeMicros", overhead.target_freeze_micros},
              {"toolCpuMillis", overhead.tool_cpu_millis},
              {"toolMaxRssKiB", overhead.tool_max_rss_kib},
              {"wallMillis", overhead.wall_millis}};
  if (overhead.budget) out["budget"] = BudgetSummaryToJson(*overhead.budget);
  if (!overhead.budget_reached.empty()) out["budgetReached"] = overhead.budget_reached;
  return out;
}

nlohmann::json StatusToJson(const DebugSessionStatus& status) {
  json out = json::object();
  if (status.phase) out["phase"] = PhaseName(*status.phase);
  if (!status.message.empty()) out["message"] = status.message;
  if (status.observed_generation != 0) out["observedGeneration"] = status.observed_generation;
  if (status.expires_at) out["expiresAt"] = base::FormatRfc3339(*status.expires_at);
  if (!status.ephemeral_container.empty()) out["ephemeralContainer"] = status.ephemeral_container;
  if (!status.conditions.empty()) {
    json conditions = json::array();
    for (const auto& c : status.conditions) {
      json condition = {{"type", c.type},
                        {"status", c.status},
                        {"reason", c.reason},
                        {"message", c.message},
                        {"lastTransitionTime", base::FormatRfc3339(c.last_transition_time)}};
      if (c.observed_generation != 0) condition["observedGeneration"] = c.observed_generation;
      conditions.push_back(std::move(condition));
    }
    out["conditions"] = conditions;
  }
  if (status.snapshot) {
    out["snapshot"] = {{"name", status.snapshot->name},
                       {"sha256", status.snapshot->sha256},
                       {"bytes", status.snapshot->bytes},
                       {"sections", status.snapshot->sections},
                       {"degraded", status.snapshot->degraded}};
  }
  if (status.redaction) out["redaction"] = RedactionSummaryToJson(*status.redaction);
  if (status.audit) {
    out["audit"] = {{"records", status.audit->records}, {"head", status.audit->head}};
  }
  if (status.overhead) out["overhead"] = OverheadSummaryToJson(*status.overhead);
  return out;
}

}  // namespace ephemera::api
