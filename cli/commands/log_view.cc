#include "cli/commands/log_view.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include "api/snapshot_document.h"
#include "base/json_access.h"
#include "base/rfc3339.h"
#include "cli/report/printable.h"

namespace ephemera::commands {
namespace {

using command_line::ExitCode;
using nlohmann::json;
using report::Printable;

namespace field = api::snapshot_field;
namespace lf = api::log_field;

// Previous before current: the order in which the lines were written.
int Rank(const json& instance) {
  const std::string name = base::StringField(instance, lf::kInstance);
  if (name == lf::kPrevious) return 0;
  if (name == lf::kCurrent) return 1;
  return 2;
}

std::string InstanceName(const json& instance) {
  std::string name = base::StringField(instance, lf::kInstance);
  return Printable(name.empty() ? "unnamed" : name) + " instance";
}

// "exited 137, signal 9, OOMKilled, at 2026-12-06T17:57:00Z", or "" without a termination.
std::string Termination(const json& instance) {
  const json* termination = base::ObjectField(instance, lf::kTermination);
  if (termination == nullptr) return "";
  std::vector<std::string> parts;
  if (auto code = base::IntField(*termination, lf::kExitCode)) {
    parts.push_back("exited " + std::to_string(*code));
  }
  if (auto signal = base::IntField(*termination, lf::kSignal)) {
    parts.push_back("signal " + std::to_string(*signal));
  }
  if (std::string reason = base::StringField(*termination, lf::kReason); !reason.empty()) {
    parts.push_back(Printable(reason));
  }
  if (std::string at = base::StringField(*termination, lf::kFinishedAt); !at.empty()) {
    parts.push_back("at " + Printable(at));
  }
  if (parts.empty()) return "terminated";
  if (parts.front().rfind("exited ", 0) != 0) parts.front() = "terminated, " + parts.front();
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : ", ") + part;
  return text;
}

// The line without the kubelet's timestamp and the space after it; unchanged when it does not
// start with one.
std::string_view WithoutTimestamp(std::string_view line) {
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return line;
  if (!base::ParseRfc3339(line.substr(0, space)).ok()) return line;
  return line.substr(space + 1);
}

// The reason `degraded` gives for the logs section, or "".
std::string DegradedReason(const json& document) {
  for (const json& entry : base::ArrayField(document, field::kDegraded)) {
    if (base::StringField(entry, field::kSection) == field::kLogs) {
      return base::StringField(entry, field::kReason);
    }
  }
  return "";
}

CommandOutcome NoLogsSection(const json& document) {
  const std::string reason = DegradedReason(document);
  if (!reason.empty()) {
    return CommandOutcome::Failure(ExitCode::kFailed,
                                   "the snapshot holds no log: " + Printable(reason));
  }
  return CommandOutcome::Failure(
      ExitCode::kFailed,
      "the snapshot has no logs section: the controller did not pull the log (is "
      "ephemera-controller older than this kubectl-ephemera?)");
}

}  // namespace

std::string InstanceHeader(const json& instance) {
  std::string details;
  if (auto restarts = base::IntField(instance, lf::kRestartCount)) {
    details = "restart count " + std::to_string(*restarts);
  }
  const std::string error = base::StringField(instance, lf::kError);
  if (!error.empty()) {
    return "== " + InstanceName(instance) + (details.empty() ? "" : " (" + details + ")") +
           ": not read: " + Printable(error) + " ==";
  }
  if (std::string termination = Termination(instance); !termination.empty()) {
    details += (details.empty() ? "" : "; ") + termination;
  }
  return "== " + InstanceName(instance) + (details.empty() ? "" : " (" + details + ")") + " ==";
}

CommandOutcome WriteLogs(const json& document, const LogViewOptions& options, std::ostream& out,
                         std::ostream& err) {
  const json* logs = base::ObjectField(document, field::kLogs);
  if (logs == nullptr) return NoLogsSection(document);
  std::vector<const json*> instances;
  for (const json& instance : base::ArrayField(*logs, lf::kInstances)) {
    if (instance.is_object()) instances.push_back(&instance);
  }
  std::stable_sort(instances.begin(), instances.end(),
                   [](const json* a, const json* b) { return Rank(*a) < Rank(*b); });
  const std::optional<std::int64_t> limit_bytes =
      base::IntField(base::ObjectFieldOrEmpty(*logs, lf::kLimits), "limitBytes");

  std::size_t read = 0;
  std::string errors;
  for (const json* instance : instances) {
    out.flush();
    err << InstanceHeader(*instance) << "\n";
    err.flush();
    if (const std::string error = base::StringField(*instance, lf::kError); !error.empty()) {
      errors += (errors.empty() ? "" : "; ") + InstanceName(*instance) + ": " + Printable(error);
      continue;
    }
    ++read;
    std::size_t printed = 0;
    for (const json& line : base::ArrayField(*instance, lf::kLines)) {
      if (!line.is_string()) continue;
      const std::string& text = line.get_ref<const std::string&>();
      out << Printable(options.timestamps ? std::string_view(text) : WithoutTimestamp(text))
          << "\n";
      ++printed;
    }
    out.flush();
    if (printed == 0) err << "(no lines)\n";
    if (instance->value(std::string(lf::kTruncated), false)) {
      err << "(cut at the byte limit"
          << (limit_bytes ? " of " + std::to_string(*limit_bytes) + " bytes" : std::string())
          << ": --limit-bytes reads more, --tail or --since fewer)\n";
    }
    if (auto dropped = base::IntField(*instance, lf::kDroppedLines); dropped && *dropped > 0) {
      err << "(" << *dropped << (*dropped == 1 ? " line" : " lines")
          << " left out: not text, longer than 16 KiB, or not redactable)\n";
    }
    err.flush();
  }
  if (read > 0) return CommandOutcome::Success();
  if (instances.empty()) {
    return CommandOutcome::Failure(ExitCode::kFailed, "the logs section lists no instance");
  }
  return CommandOutcome::Failure(ExitCode::kFailed, "no log could be read (" + errors + ")");
}

CommandOutcome WriteLogsJson(const json& document, std::ostream& out) {
  const json* logs = base::ObjectField(document, field::kLogs);
  if (logs == nullptr) return NoLogsSection(document);
  out << logs->dump(2, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace) << "\n";
  out.flush();
  return CommandOutcome::Success();
}

}  // namespace ephemera::commands
