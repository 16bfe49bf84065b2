#include "cli/commands/session_run.h"

#include <algorithm>
#include <ostream>
#include <stop_token>

#include "api/debug_session.h"
#include "base/json_access.h"
#include "cli/commands/cluster.h"
#include "cli/commands/progress.h"
#include "cli/commands/session_view.h"
#include "cli/identity/identity_file.h"
#include "kube/object/resource.h"

namespace ephemera::commands {
namespace {

using command_line::ExitCode;
using nlohmann::json;

// Most sessions finish within seconds: poll often at first (steps are shown to a tenth of a
// second), then back off so a slow session costs the API server little.
constexpr std::chrono::milliseconds kFastPollInterval{100};
constexpr std::chrono::milliseconds kSlowPollInterval{500};
constexpr std::chrono::seconds kFastPollingFor{10};
constexpr const char* kSessionsResource = "debugsessions.ephemera.dev";

// Fails early, with a clear message, when the pod or the container does not exist. A user who
// may not read the pod gets no early check: the controller decides with its own access review.
CommandOutcome CheckTarget(Cluster& cluster, const command_line::SnapshotOptions& options) {
  auto pod = cluster.Client().Get(kube::PodsResource(), {cluster.NamespaceName(), options.pod});
  if (!pod.ok()) {
    if (pod.status().code() == StatusCode::kPermissionDenied) return CommandOutcome::Success();
    if (pod.status().code() == StatusCode::kNotFound) {
      return CommandOutcome::Failure(
          ExitCode::kNotFound,
          "pod " + options.pod + " not found in namespace " + cluster.NamespaceName());
    }
    return ExplainApiFailure(pod.status(), cluster.Request("get", "pods", options.pod));
  }
  if (options.container.empty()) return CommandOutcome::Success();
  std::vector<std::string> names;
  const json::json_pointer containers_at("/spec/containers");
  if (pod->contains(containers_at) && pod->at(containers_at).is_array()) {
    for (const json& container : pod->at(containers_at)) {
      if (container.is_object()) names.push_back(container.value("name", ""));
    }
  }
  if (std::find(names.begin(), names.end(), options.container) != names.end()) {
    return CommandOutcome::Success();
  }
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  return CommandOutcome::Failure(
      ExitCode::kNotFound,
      "pod " + options.pod + " has no container " + options.container + " (it has: " + list + ")");
}

// The TTL the user gave, or the one admission filled in from the cluster policy's defaultTtl.
std::string TtlShown(const command_line::SnapshotOptions& options, const json& created) {
  if (!options.ttl.empty()) return options.ttl;
  const std::string filled = base::StringAt(created, "/spec/ttl");
  return filled.empty() ? "the cluster's default" : filled + ", the cluster's default";
}

}  // namespace

OutcomeOr<CompletedSession> RunSessionToCompletion(const command_line::GlobalOptions& global,
                                                   const command_line::SnapshotOptions& options,
                                                   Io& io) {
  auto cluster = OpenCluster(global, io);
  if (!cluster.HasValue()) return cluster.Outcome();
  Cluster& c = **cluster;

  const std::string identity_path = identity::IdentityPath(io.getenv);
  auto ensured = identity::EnsureIdentity(identity_path, io.clock.Now());
  if (!ensured.ok()) {
    return CommandOutcome::Failure(ExitCode::kIdentity, ensured.status().message());
  }
  if (ensured->created) {
    io.err << "Created your age identity at " << identity_path << " (recipient "
           << ensured->identity.Recipient() << ")\n";
  }

  CommandOutcome target = CheckTarget(c, options);
  if (!target.Succeeded()) return target;

  const json request = NewDebugSession(options, c.NamespaceName(), ensured->identity.Recipient());
  auto created = c.Client().Create(kube::DebugSessionsResource(), c.NamespaceName(), request);
  if (!created.ok()) {
    return ExplainApiFailure(created.status(),
                             c.Request("create", kSessionsResource, options.name));
  }
  const std::string name = created->value("metadata", json::object()).value("name", "");
  const auto started = io.clock.SteadyNow();
  io.err << "Created DebugSession " << name << " in namespace " << c.NamespaceName() << " for pod "
         << options.pod << " (ttl " << TtlShown(options, *created) << ", profile "
         << options.profile << ")\n";

  SessionProgress seen;  // nothing yet
  json session = *created;
  bool hinted = false;
  std::chrono::milliseconds last_line{0};  // elapsed when a line was last printed
  while (true) {
    const SessionProgress now = ReadProgress(session);
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(io.clock.SteadyNow() - started);
    std::vector<std::string> lines = ProgressLines(seen, now, elapsed);
    if (std::string beat = HeartbeatLine(now, elapsed, elapsed - last_line);
        lines.empty() && !beat.empty()) {
      lines.push_back(std::move(beat));
    }
    if (!lines.empty()) last_line = elapsed;
    for (const std::string& line : lines) io.err << line << "\n";
    io.err.flush();
    seen = now;
    if (IsFinished(now)) break;
    if (!hinted) {
      if (std::string hint = StallHint(now, elapsed); !hint.empty()) {
        io.err << hint << "\n";
        hinted = true;
      }
    }
    if (elapsed >= options.timeout) {
      std::string message = "session " + name + " did not finish within ";
      message += FormatElapsed(options.timeout);
      message += " (phase ";
      message += now.phase.empty() ? std::string(api::PhaseName(api::Phase::kPending)) : now.phase;
      message += "); it goes on: see 'kubectl ephemera get " + name;
      message += "', then 'kubectl ephemera fetch " + name + "'";
      return CommandOutcome::Failure(ExitCode::kTimedOut, message);
    }
    io.clock.SleepFor(elapsed < kFastPollingFor ? kFastPollInterval : kSlowPollInterval,
                      std::stop_token());
    auto fresh = c.Client().Get(kube::DebugSessionsResource(), {c.NamespaceName(), name});
    if (fresh.ok()) {
      session = std::move(*fresh);
    } else if (!IsRetryable(fresh.status())) {
      return ExplainApiFailure(fresh.status(), c.Request("get", kSessionsResource, name));
    }
  }

  CommandOutcome fetchable = CheckFetchable(session);
  if (!fetchable.Succeeded()) return fetchable;
  return CompletedSession{std::move(*cluster), std::move(session), std::move(ensured->identity)};
}

}  // namespace ephemera::commands
