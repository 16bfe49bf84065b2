// The log pull of a session that captures `logs` (docs/decisions/log-pull.md), in its pure parts:
// the limits a session reads within, the controller-only section the snapshot tool hands over, and
// the `logs` section made of the text the API server returned.
//
// Everything here reads input the target controls: the tool's document (the tool runs inside the
// target pod) and the target container's log. Both are bounded and type-checked; a log line that
// is not text, too long, or that the redactor fails on is dropped and counted, never copied.
//
// Pure: values in, values out. Thread safety: the functions share no state.
#ifndef EPHEMERA_CONTROLLER_SESSION_LOG_PULL_H_
#define EPHEMERA_CONTROLLER_SESSION_LOG_PULL_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/debug_session.h"
#include "base/status.h"
#include "controller/session/pod_view.h"
#include "controller/session/policy.h"
#include "redact/redactor.h"

namespace ephemera::session {

// The document as the controller edits it: keys keep the tool's order.
using Document = nlohmann::ordered_json;

// A line longer than this is dropped (the kubelet splits longer lines into 16 KiB pieces anyway).
inline constexpr std::size_t kMaxLogLineBytes = std::size_t{16} * 1024;

// What a session reads of each instance of the target container's log.
struct LogLimits {
  std::int64_t tail_lines = 0;
  std::int64_t limit_bytes = 0;
  std::optional<std::chrono::seconds> since;
  bool previous = true;
};

// The session's limits: its own, else the policy's defaults (the ceilings are checked apart, by
// LogsProblem).
LogLimits EffectiveLogLimits(const api::LogsSpec& spec, const LogPolicy& policy);

// What in `spec` the policy's ceilings refuse, naming the field and what to ask for; "" when it is
// within them. Admission and the planner both refuse with it.
std::string LogsProblem(const api::LogsSpec& spec, const LogPolicy& policy);

// The values the tool hid (controllerOnly.valueKeys). Wiped when destroyed: they are secrets.
struct ValueKeys {
  ValueKeys() = default;
  ValueKeys(const ValueKeys&) = delete;
  ValueKeys& operator=(const ValueKeys&) = delete;
  ValueKeys(ValueKeys&&) = default;
  ValueKeys& operator=(ValueKeys&&) = default;
  ~ValueKeys();

  bool present = false;  // the tool wrote the section
  std::vector<std::string> values;
  std::int64_t environs_unread = 0;  // targets whose environment the tool could not read
};

// Removes controllerOnly, and a `logs` object the tool may have written (only the controller
// writes that section), from `document`, and returns the value keys. InvalidArgument, naming the
// field, when controllerOnly is not an object of at most api::kMaxValueKeys strings of at most
// api::kMaxValueKeyBytes each with a non-negative environsUnread: the snapshot then cannot be
// used. The section is removed whether or not it is valid, and its strings are wiped.
StatusOr<ValueKeys> TakeControllerOnly(Document& document);

// Why the log must not be read although the session asks for it, or "" when it may: the tool must
// have handed over the values it hid, from every target's environment, or the log could show a
// secret that only value-keyed redaction would catch (fail closed).
std::string ValueKeysProblem(const ValueKeys& keys);

// The redactor for the log: the session's extra patterns and PII mode, the pod's Secret-bound
// variable names, and value-keyed scrubbing of `keys`. InvalidArgument when the session's
// patterns are refused (admission checks them first).
StatusOr<redact::Redactor> LogRedactor(const api::DebugSessionSpec& spec, const Policy& policy,
                                       const PodView& pod, const ValueKeys& keys);

// One instance as read from pods/log.
struct LogInstanceRead {
  std::string instance;  // "current" or "previous"
  std::int64_t restart_count = 0;
  std::optional<TerminationView> termination;
  // The text the API server returned, or why the instance could not be read (its message goes
  // into the document, so it must not quote the log).
  StatusOr<std::string> text = std::string();
};

// The counts of one instance, for its audit record.
struct LogInstanceSummary {
  std::string instance;
  std::int64_t lines = 0;
  std::int64_t bytes = 0;
  std::int64_t dropped_lines = 0;
  bool truncated = false;
  std::string error;  // "" when it was read
};

// The `logs` entry of one instance: its lines redacted by `redactor` (counts into `report`), with
// the counts and termination docs/decisions/log-pull.md specifies.
Document BuildLogInstance(const LogInstanceRead& read, const LogLimits& limits,
                          const redact::Redactor& redactor, redact::RedactionReport& report,
                          LogInstanceSummary& summary);

// Adds the `logs` section to `document`: sets logs (container, limits, instances), appends "logs"
// to sections, adds the rule counts of `report` to redaction.patternsMatched (and its dropped
// fields to droppedFields), and a degraded entry for every instance with an error.
void AddLogsSection(Document& document, std::string_view container, const LogLimits& limits,
                    Document instances, const redact::RedactionReport& report);

// Adds a degraded entry {"section": "logs", "reason": reason} and "logs" to sections: the log was
// asked for and not read.
void AddLogsNotRead(Document& document, std::string_view reason);

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_LOG_PULL_H_
