#include "controller/session/log_pull.h"

#include <algorithm>
#include <utility>

#include "api/snapshot_document.h"
#include "base/duration.h"
#include "base/secret_bytes.h"

namespace ephemera::session {
namespace {

namespace field = api::snapshot_field;

// Wipes every string inside `value` (the controller-only section, valid or not).
void WipeStrings(Document& value) {
  if (value.is_string()) {
    base::WipeString(value.get_ref<std::string&>());
  } else if (value.is_structured()) {
    for (Document& child : value) WipeStrings(child);
  }
}

Status ControllerOnlyError(const std::string& what) {
  return InvalidArgumentError("the snapshot's " + std::string(field::kControllerOnly) + " " + what +
                              "; the snapshot tool did not write it, so the snapshot is not used");
}

// Whether `line` is text a person can read: no NUL byte (binary output), valid UTF-8 or not.
bool IsText(std::string_view line) { return line.find('\0') == std::string_view::npos; }

Document TerminationJson(const TerminationView& t) {
  Document out = Document::object();
  out["exitCode"] = t.exit_code;
  if (t.signal) out["signal"] = *t.signal;
  if (!t.reason.empty()) out["reason"] = t.reason;
  if (!t.started_at.empty()) out["startedAt"] = t.started_at;
  if (!t.finished_at.empty()) out["finishedAt"] = t.finished_at;
  return out;
}

void AddSection(Document& document) {
  Document& sections = document[field::kSections];
  if (!sections.is_array()) sections = Document::array();
  for (const Document& name : sections) {
    if (name.is_string() && name.get_ref<const std::string&>() == api::kLogsSection) return;
  }
  sections.push_back(api::kLogsSection);
}

void AddDegraded(Document& document, std::string_view reason) {
  Document& degraded = document[field::kDegraded];
  if (!degraded.is_array()) degraded = Document::array();
  degraded.push_back({{field::kSection, api::kLogsSection}, {field::kReason, reason}});
}

}  // namespace

LogLimits EffectiveLogLimits(const api::LogsSpec& spec, const LogPolicy& policy) {
  return {spec.tail_lines.value_or(policy.default_tail_lines),
          spec.limit_bytes.value_or(policy.default_limit_bytes), spec.since, spec.previous};
}

std::string LogsProblem(const api::LogsSpec& spec, const LogPolicy& policy) {
  if (spec.tail_lines && *spec.tail_lines > policy.max_tail_lines) {
    return "spec.logs.tailLines: " + std::to_string(*spec.tail_lines) +
           " exceeds the cluster's maximum of " + std::to_string(policy.max_tail_lines) +
           "; ask for " + std::to_string(policy.max_tail_lines) + " or fewer lines";
  }
  if (spec.limit_bytes && *spec.limit_bytes > policy.max_limit_bytes) {
    return "spec.logs.limitBytes: " + std::to_string(*spec.limit_bytes) +
           " exceeds the cluster's maximum of " + std::to_string(policy.max_limit_bytes) +
           " bytes per instance; ask for " + std::to_string(policy.max_limit_bytes) + " or less";
  }
  if (spec.since && *spec.since > policy.max_since) {
    return "spec.logs.since: " + base::FormatDuration(*spec.since) +
           " reaches further back than the cluster's maximum of " +
           base::FormatDuration(policy.max_since) + "; ask for " +
           base::FormatDuration(policy.max_since) + " or less";
  }
  return "";
}

ValueKeys::~ValueKeys() {
  for (std::string& value : values) base::WipeString(value);
}

StatusOr<ValueKeys> TakeControllerOnly(Document& document) {
  ValueKeys keys;
  if (!document.is_object()) return keys;
  document.erase(std::string(api::kLogsSection));
  const auto it = document.find(field::kControllerOnly);
  if (it == document.end()) return keys;
  Document section = std::move(*it);
  document.erase(it);
  keys.present = true;
  Status problem = OkStatus();
  if (!section.is_object()) {
    problem = ControllerOnlyError("is not an object");
  } else if (const auto values = section.find(field::kValueKeys);
             values == section.end() || !values->is_array()) {
    problem = ControllerOnlyError("has no valueKeys array");
  } else if (values->size() > api::kMaxValueKeys) {
    problem =
        ControllerOnlyError("has more than " + std::to_string(api::kMaxValueKeys) + " valueKeys");
  } else {
    keys.values.reserve(values->size());  // no reallocation leaves unwiped copies behind
    for (Document& value : *values) {
      if (!value.is_string() ||
          value.get_ref<const std::string&>().size() > api::kMaxValueKeyBytes) {
        problem = ControllerOnlyError("has a valueKeys entry that is not a string of at most " +
                                      std::to_string(api::kMaxValueKeyBytes) + " bytes");
        break;
      }
      keys.values.push_back(std::move(value.get_ref<std::string&>()));
    }
    const auto unread = section.find(field::kEnvironsUnread);
    if (problem.ok() && unread != section.end()) {
      if (!unread->is_number_integer() || unread->get<std::int64_t>() < 0) {
        problem = ControllerOnlyError("has an environsUnread that is not a non-negative integer");
      } else {
        keys.environs_unread = unread->get<std::int64_t>();
      }
    }
  }
  WipeStrings(section);
  if (!problem.ok()) return problem;
  return keys;
}

std::string ValueKeysProblem(const ValueKeys& keys) {
  if (!keys.present) {
    return "the snapshot tool did not hand over the environment values it hides (an older tool, "
           "or its watchdog ended the capture), so they could not be scrubbed from the log; the "
           "log was not read";
  }
  if (keys.environs_unread > 0) {
    return "the snapshot tool could not read the environment of " +
           std::to_string(keys.environs_unread) +
           " target process(es), so values only value-keyed redaction would hide could not be "
           "scrubbed from the log; the log was not read (see the other degraded entries for why)";
  }
  return "";
}

StatusOr<redact::Redactor> LogRedactor(const api::DebugSessionSpec& spec, const Policy& policy,
                                       const PodView& pod, const ValueKeys& keys) {
  redact::RedactionPolicy redaction;
  redaction.secret_env = pod.secret_env;
  redaction.extra_patterns = spec.extra_patterns;
  redaction.pii = EffectivePii(spec, policy);
  auto redactor = redact::Redactor::Create(std::move(redaction));
  if (!redactor.ok()) return redactor.status().WithContext("the log's redaction policy");
  return redactor->WithSecretValues(keys.values);
}

Document BuildLogInstance(const LogInstanceRead& read, const LogLimits& limits,
                          const redact::Redactor& redactor, redact::RedactionReport& report,
                          LogInstanceSummary& summary) {
  summary = LogInstanceSummary{};
  summary.instance = read.instance;
  Document out = Document::object();
  out["instance"] = read.instance;
  out["restartCount"] = read.restart_count;
  Document lines = Document::array();
  if (read.text.ok()) {
    const std::string& text = *read.text;
    summary.bytes = static_cast<std::int64_t>(text.size());
    summary.truncated = limits.limit_bytes > 0 && summary.bytes >= limits.limit_bytes;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      const bool complete = end != std::string::npos;
      if (!complete) end = text.size();
      std::string_view line(text.data() + start, end - start);
      start = end + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      // The read stopped at limitBytes: the last line is cut, and a cut line can hide a secret's
      // tail from the redactor.
      if (!complete && summary.truncated) {
        ++summary.dropped_lines;
        continue;
      }
      if (line.size() > kMaxLogLineBytes || !IsText(line)) {
        ++summary.dropped_lines;
        continue;
      }
      auto redacted = redactor.RedactText(line, report);
      if (!redacted.ok()) {
        ++summary.dropped_lines;
        continue;
      }
      lines.push_back(std::move(*redacted));
    }
  } else {
    summary.error = read.text.status().message();
  }
  summary.lines = static_cast<std::int64_t>(lines.size());
  out["lines"] = std::move(lines);
  out["lineCount"] = summary.lines;
  out["bytes"] = summary.bytes;
  out["truncated"] = summary.truncated;
  out["droppedLines"] = summary.dropped_lines;
  if (read.termination) out["termination"] = TerminationJson(*read.termination);
  if (!summary.error.empty()) out["error"] = summary.error;
  return out;
}

void AddLogsSection(Document& document, std::string_view container, const LogLimits& limits,
                    Document instances, const redact::RedactionReport& report) {
  Document limits_json = {{"tailLines", limits.tail_lines}, {"limitBytes", limits.limit_bytes}};
  if (limits.since) limits_json["sinceSeconds"] = limits.since->count();
  for (const Document& instance : instances) {
    if (instance.contains("error")) {
      AddDegraded(document, instance["instance"].get<std::string>() +
                                " instance: " + instance["error"].get<std::string>());
    }
  }
  document[std::string(api::kLogsSection)] = {{"container", container},
                                              {"limits", std::move(limits_json)},
                                              {"instances", std::move(instances)}};
  AddSection(document);
  Document& redaction = document[field::kRedaction];
  if (!redaction.is_object()) redaction = Document::object();
  Document& patterns = redaction[field::kPatternsMatched];
  if (!patterns.is_object()) patterns = Document::object();
  for (const auto& [rule, count] : report.patterns_matched) {
    const std::int64_t before = patterns.contains(rule) && patterns[rule].is_number_integer()
                                    ? patterns[rule].get<std::int64_t>()
                                    : 0;
    patterns[rule] = before + count;
  }
  if (!report.dropped_fields.empty()) {
    Document& dropped = redaction[field::kDroppedFields];
    if (!dropped.is_array()) dropped = Document::array();
    for (const std::string& path : report.dropped_fields) dropped.push_back(path);
  }
}

void AddLogsNotRead(Document& document, std::string_view reason) {
  AddDegraded(document, reason);
  AddSection(document);
}

}  // namespace ephemera::session
