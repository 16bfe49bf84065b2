#include "cli/commands/session_run.h"

#include <algorithm>
#include <optional>
#include <ostream>
#include <stop_token>
#include <string>
#include <utility>

#include "api/debug_session.h"
#include "base/clock.h"
#include "base/json_access.h"
#include "base/status.h"
#include "cli/commands/cluster.h"
#include "cli/commands/progress.h"
#include "cli/commands/session_view.h"
#include "cli/identity/identity_file.h"
#include "kube/client/kube_client.h"
#include "kube/object/resource.h"

namespace ephemera::commands {
namespace {

using command_line::ExitCode;
using nlohmann::json;

// How long one wait for a change may last: the progress shows a heartbeat and the stall hint
// within this of their due time. A watch's timeoutSeconds is whole seconds.
constexpr std::chrono::seconds kLongestWait{2};
// Reading the session again when watching it is not possible (a role without watch on
// debugsessions, or a failed watch).
constexpr std::chrono::milliseconds kPollInterval{500};
constexpr const char* kSessionsResource = "debugsessions.ephemera.dev";

// The session, followed as it changes: a watch on it alone (fieldSelector metadata.name) from
// the resourceVersion last seen, which the first change ends, so each step is shown as soon as
// the controller writes it. A user whose role does not include watch gets a read every
// kPollInterval instead; a watch that fails for a passing reason is followed by one read.
class SessionFollower {
 public:
  SessionFollower(kube::KubeClient& client, std::string namespace_name, std::string name,
                  base::Clock& clock)
      : client_(client),
        namespace_(std::move(namespace_name)),
        name_(std::move(name)),
        clock_(clock) {}

  // The session once it changed, or nullopt when kLongestWait passed without a change; an error
  // only when it cannot be followed at all (deleted: kNotFound).
  StatusOr<std::optional<json>> WaitForChange(const json& current) {
    bool pause = !watching_;  // before reading: a read is not a wait, as a watch is
    if (watching_) {
      std::optional<json> changed;
      bool deleted = false;
      std::stop_source stop;
      kube::WatchOptions options;
      options.resource_version = base::StringAt(current, "/metadata/resourceVersion");
      options.field_selector = "metadata.name=" + name_;
      options.timeout = kLongestWait;
      const kube::WatchResult result = client_.Watch(
          kube::DebugSessionsResource(), namespace_, options,
          [&](const kube::WatchEvent& event) {
            if (event.type == kube::WatchEventType::kAdded ||
                event.type == kube::WatchEventType::kModified) {
              changed = event.object;
              stop.request_stop();
            } else if (event.type == kube::WatchEventType::kDeleted) {
              deleted = true;
              stop.request_stop();
            }
          },
          stop.get_token());
      if (deleted) return NotFoundError("session " + name_ + " was deleted while it ran");
      if (changed) return changed;
      switch (result.end) {
        case kube::WatchEnd::kClosed:
        case kube::WatchEnd::kStopped:
          return std::optional<json>();
        case kube::WatchEnd::kGone:  // the version seen is too old: read the newest
          break;
        case kube::WatchEnd::kError:
          if (result.error.code() == StatusCode::kPermissionDenied) {
            watching_ = false;  // a role without watch: read from now on
          } else if (!IsRetryable(result.error)) {
            return result.error;
          }
          pause = true;
          break;
      }
    }
    if (pause) clock_.SleepFor(kPollInterval, std::stop_token());
    auto fresh = client_.Get(kube::DebugSessionsResource(), {namespace_, name_});
    if (fresh.ok()) return std::optional<json>(std::move(*fresh));
    if (IsRetryable(fresh.status())) return std::optional<json>();
    return fresh.status();
  }

 private:
  kube::KubeClient& client_;
  const std::string namespace_;
  const std::string name_;
  base::Clock& clock_;
  bool watching_ = true;
};

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
  SessionFollower follower(c.Client(), c.NamespaceName(), name, io.clock);
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
    auto changed = follower.WaitForChange(session);
    if (!changed.ok()) {
      if (changed.status().code() == StatusCode::kNotFound) {
        return CommandOutcome::Failure(ExitCode::kNotFound, changed.status().message());
      }
      return ExplainApiFailure(changed.status(), c.Request("watch", kSessionsResource, name));
    }
    if (changed->has_value()) session = std::move(**changed);
  }

  CommandOutcome fetchable = CheckFetchable(session);
  if (!fetchable.Succeeded()) return fetchable;
  return CompletedSession{std::move(*cluster), std::move(session), std::move(ensured->identity)};
}

}  // namespace ephemera::commands
