#include "cli/commands/session_view.h"

#include <algorithm>
#include <optional>
#include <sstream>
#include <utility>

#include "api/debug_session.h"
#include "base/json_access.h"
#include "base/rfc3339.h"
#include "cli/report/printable.h"

namespace ephemera::commands {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxSessionName = 63;
constexpr std::size_t kGeneratedSuffix = 5;

using base::StringAt;

std::optional<TimePoint> TimeAt(const json& object, std::string_view pointer) {
  const std::string text = StringAt(object, pointer);
  if (text.empty()) return std::nullopt;
  auto parsed = base::ParseRfc3339(text);
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

std::string Target(const json& session) {
  std::string target = StringAt(session, "/spec/target/pod");
  const std::string container = StringAt(session, "/spec/target/container");
  if (!container.empty()) target += "/" + container;
  return target;
}

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

std::string Age(const json& session, TimePoint now) {
  auto created = TimeAt(session, "/metadata/creationTimestamp");
  if (!created) return "-";
  return FormatAge(std::chrono::duration_cast<std::chrono::seconds>(now - *created));
}

}  // namespace

std::string GenerateNamePrefix(std::string_view pod) {
  std::string prefix(pod.substr(0, kMaxSessionName - kGeneratedSuffix - 1));
  while (!prefix.empty() && (prefix.back() == '-' || prefix.back() == '.')) prefix.pop_back();
  if (prefix.empty()) prefix = "session";
  return prefix + "-";
}

json NewDebugSession(const command_line::SnapshotOptions& options, std::string_view namespace_name,
                     std::string_view recipient) {
  json metadata = {{"namespace", namespace_name},
                   {"labels", {{"app.kubernetes.io/created-by", "kubectl-ephemera"}}}};
  if (options.name.empty()) {
    metadata["generateName"] = GenerateNamePrefix(options.pod);
  } else {
    metadata["name"] = options.name;
  }
  json target = {{"pod", options.pod}};
  if (!options.container.empty()) target["container"] = options.container;
  json spec = {{"target", target},
               {"reason", options.reason},
               {"profile", options.profile},
               {"recipients", json::array({recipient})}};
  // Only when the user gave one: otherwise the cluster policy's defaultTtl applies (a fixed
  // default here would also be refused wherever the policy's maxTtl is shorter).
  if (!options.ttl.empty()) spec["ttl"] = options.ttl;
  if (!options.capture.empty()) spec["capture"] = options.capture;
  if (!options.pii.empty()) spec["redaction"] = {{"pii", options.pii}};
  if (options.logs.HasAny()) {
    // Only what the user gave: the server fills in the defaults and applies the policy's ceilings.
    json logs = json::object();
    if (options.logs.tail_lines) logs["tailLines"] = *options.logs.tail_lines;
    if (options.logs.limit_bytes) logs["limitBytes"] = *options.logs.limit_bytes;
    if (!options.logs.since.empty()) logs["since"] = options.logs.since;
    if (options.logs.previous) logs["previous"] = *options.logs.previous;
    spec["logs"] = std::move(logs);
  }
  return {{"apiVersion", "ephemera.dev/v1alpha1"},
          {"kind", "DebugSession"},
          {"metadata", metadata},
          {"spec", spec}};
}

std::string FormatAge(std::chrono::seconds age) {
  long long s = std::max<long long>(age.count(), 0);
  const auto text = [](long long a, const char* ua, long long b, const char* ub) {
    return std::to_string(a) + ua + (b > 0 ? std::to_string(b) + ub : "");
  };
  constexpr long long kMinute = 60;
  constexpr long long kHour = 3600;
  constexpr long long kDay = 86400;
  if (s < 2 * kMinute) return std::to_string(s) + "s";
  if (s < 10 * kMinute) return text(s / kMinute, "m", s % kMinute, "s");
  if (s < 3 * kHour) return std::to_string(s / kMinute) + "m";
  if (s < 8 * kHour) return text(s / kHour, "h", (s % kHour) / kMinute, "m");
  if (s < 2 * kDay) return std::to_string(s / kHour) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string FormatExpiresIn(const json& session, TimePoint now) {
  auto expires = TimeAt(session, "/status/expiresAt");
  if (!expires) return "-";
  if (*expires <= now ||
      api::ParsePhase(StringAt(session, "/status/phase")) == api::Phase::kExpired) {
    return "expired";
  }
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(*expires - now);
  const long long s = left.count();
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return FormatAge(left);
}

std::string FormatSessionTable(const std::vector<json>& sessions, TimePoint now,
                               const SessionTableOptions& options) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "PHASE", "TARGET", "REQUESTER", "AGE", "EXPIRES-IN"});
  if (options.all_namespaces) rows.back().insert(rows.back().begin(), "NAMESPACE");
  if (options.wide) {
    rows.back().insert(rows.back().end(), {"PROFILE", "EPHEMERAL-CONTAINER", "REASON"});
  }
  for (const json& session : sessions) {
    std::vector<std::string>& row = rows.emplace_back(std::vector<std::string>{
        StringAt(session, "/metadata/name"), OrDash(StringAt(session, "/status/phase")),
        OrDash(Target(session)), OrDash(StringAt(session, "/spec/requestedBy/username")),
        Age(session, now), FormatExpiresIn(session, now)});
    if (options.all_namespaces) row.insert(row.begin(), StringAt(session, "/metadata/namespace"));
    if (options.wide) {
      // Another user's sentence: its control characters are shown as escapes, so that they can
      // neither break the table nor drive the terminal.
      const std::string reason = report::Printable(StringAt(session, "/spec/reason"));
      row.insert(row.end(),
                 {OrDash(StringAt(session, "/spec/profile")),
                  OrDash(StringAt(session, "/status/ephemeralContainer")), OrDash(reason)});
    }
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    out += line + "\n";
  }
  return out;
}

json ForPrinting(json object) {
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object()) {
    object["metadata"].erase("managedFields");
  }
  return object;
}

std::string FormatSessionDetails(const json& session, TimePoint now) {
  std::ostringstream out;
  auto field = [&out](std::string_view label, const std::string& value) {
    if (value.empty()) return;
    out << label << std::string(13 - std::min<std::size_t>(label.size(), 12), ' ') << value << "\n";
  };
  const std::string phase = StringAt(session, "/status/phase");
  const std::string message = StringAt(session, "/status/message");
  field("Name:", StringAt(session, "/metadata/name"));
  field("Namespace:", StringAt(session, "/metadata/namespace"));
  field("Phase:", OrDash(phase) + (message.empty() ? "" : " (" + message + ")"));
  std::string target = "pod " + StringAt(session, "/spec/target/pod");
  const std::string container = StringAt(session, "/spec/target/container");
  if (!container.empty()) target += ", container " + container;
  field("Target:", target);
  field("Requester:", OrDash(StringAt(session, "/spec/requestedBy/username")));
  field("Reason:", report::Printable(StringAt(session, "/spec/reason")));
  field("Profile:", StringAt(session, "/spec/profile"));
  field("TTL:", StringAt(session, "/spec/ttl"));
  const std::string created = StringAt(session, "/metadata/creationTimestamp");
  if (!created.empty()) field("Created:", created + " (" + Age(session, now) + " ago)");
  const std::string expires_at = StringAt(session, "/status/expiresAt");
  const std::string expires_in = FormatExpiresIn(session, now);
  if (!expires_at.empty()) {
    field("Expires in:", expires_in == "expired" ? "expired (at " + expires_at + ")"
                                                 : expires_in + " (at " + expires_at + ")");
  } else {
    field("Expires in:", "-");
  }
  field("Container:", StringAt(session, "/status/ephemeralContainer"));

  const json::json_pointer conditions_at("/status/conditions");
  if (session.contains(conditions_at) && session.at(conditions_at).is_array() &&
      !session.at(conditions_at).empty()) {
    out << "Conditions:\n";
    for (const json& c : session.at(conditions_at)) {
      if (!c.is_object()) continue;
      out << "  " << c.value("type", "?") << "=" << c.value("status", "?");
      const std::string reason = c.value("reason", "");
      const std::string text = c.value("message", "");
      if (!reason.empty()) out << "  " << reason;
      if (!text.empty()) out << ": " << text;
      out << "\n";
    }
  }
  const std::string sha = StringAt(session, "/status/snapshot/sha256");
  if (!sha.empty()) {
    const json::json_pointer bytes_at("/status/snapshot/bytes");
    std::string bytes;
    if (session.contains(bytes_at) && session.at(bytes_at).is_number_integer()) {
      bytes = ", " + std::to_string(session.at(bytes_at).get<long long>()) + " bytes";
    }
    field("Snapshot:", "sha256:" + sha + bytes + " (DebugSnapshot " +
                           OrDash(StringAt(session, "/status/snapshot/name")) + ")");
  }
  const std::string head = StringAt(session, "/status/audit/head");
  if (!head.empty()) {
    const json::json_pointer records_at("/status/audit/records");
    std::string records;
    if (session.contains(records_at) && session.at(records_at).is_number_integer()) {
      records = " (" + std::to_string(session.at(records_at).get<long long>()) + " records)";
    }
    field("Audit head:", head + records);
  }
  return out.str();
}

CommandOutcome CheckFetchable(const json& session) {
  using command_line::ExitCode;
  const std::string name = StringAt(session, "/metadata/name");
  const std::string phase = StringAt(session, "/status/phase");
  const std::string message = StringAt(session, "/status/message");
  const std::string why = message.empty() ? "" : ": " + message;
  switch (api::ParsePhase(phase).value_or(api::Phase::kPending)) {
    case api::Phase::kCompleted:
      return CommandOutcome::Success();
    case api::Phase::kDenied:
      return CommandOutcome::Failure(ExitCode::kDenied, "session " + name + " was denied" + why);
    case api::Phase::kFailed:
      return CommandOutcome::Failure(ExitCode::kSessionFailed, "session " + name + " failed" + why);
    case api::Phase::kExpired: {
      const std::string at = StringAt(session, "/status/expiresAt");
      return CommandOutcome::Failure(
          ExitCode::kExpired, "session " + name + " expired" + (at.empty() ? "" : " at " + at) +
                                  ": its snapshot was wiped then, so there is nothing to fetch "
                                  "(take a new one with 'kubectl ephemera snapshot')");
    }
    case api::Phase::kPending:
    case api::Phase::kInjecting:
    case api::Phase::kCapturing:
      break;
  }
  return CommandOutcome::Failure(
      ExitCode::kFailed,
      "session " + name + " is " +
          (phase.empty() ? std::string(api::PhaseName(api::Phase::kPending)) : phase) +
          ", not Completed yet; wait for it ('kubectl ephemera get " + name + "')");
}

std::string WrongIdentityMessage(const std::vector<std::string>& snapshot_recipients,
                                 const std::string& identity_recipient,
                                 const std::string& identity_path) {
  std::string to;
  for (const std::string& recipient : snapshot_recipients) {
    to += (to.empty() ? "" : ", ") + recipient;
  }
  if (to.empty()) to = "other recipients";
  return "this snapshot is encrypted to " + to + ", your identity is " + identity_recipient + " (" +
         identity_path + "): fetch it with the identity it was made for, or take a new snapshot";
}

}  // namespace ephemera::commands
