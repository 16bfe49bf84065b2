#include "cli/commands/progress.h"

#include <algorithm>
#include <cstdio>

#include "api/debug_session.h"
#include "base/json_access.h"

namespace ephemera::commands {
namespace {

using nlohmann::json;

constexpr std::chrono::seconds kStallAfter{10};
constexpr std::chrono::seconds kHeartbeatEvery{10};

using base::StringAt;

// The steps of a session that goes well, in order; terminal failures (and a phase this CLI does
// not know) rank separately.
int StepRank(const std::string& phase) {
  switch (api::ParsePhase(phase).value_or(api::Phase::kFailed)) {
    case api::Phase::kPending:
      return 0;
    case api::Phase::kInjecting:
      return 1;
    case api::Phase::kCapturing:
      return 2;
    case api::Phase::kCompleted:
      return 3;
    case api::Phase::kFailed:
    case api::Phase::kDenied:
    case api::Phase::kExpired:
      return -1;
  }
  return -1;
}

// Failed, Denied or Expired: the session ended without a snapshot.
bool EndedBadly(const std::string& phase) {
  const auto parsed = api::ParsePhase(phase);
  return parsed && api::IsTerminal(*parsed) && *parsed != api::Phase::kCompleted;
}

std::string Stamp(std::chrono::milliseconds elapsed) { return "[" + FormatElapsed(elapsed) + "] "; }

}  // namespace

SessionProgress ReadProgress(const json& session) {
  SessionProgress progress;
  progress.phase = StringAt(session, "/status/phase");
  progress.message = StringAt(session, "/status/message");
  progress.pod = StringAt(session, "/spec/target/pod");
  progress.container = StringAt(session, "/spec/target/container");
  progress.ephemeral_container = StringAt(session, "/status/ephemeralContainer");
  const json::json_pointer conditions_at("/status/conditions");
  if (session.contains(conditions_at) && session.at(conditions_at).is_array()) {
    for (const json& condition : session.at(conditions_at)) {
      if (condition.is_object() && condition.value("type", "") == "Authorized" &&
          condition.value("status", "") == "True") {
        progress.authorized = true;
      }
    }
  }
  return progress;
}

bool IsFinished(const SessionProgress& progress) {
  const auto phase = api::ParsePhase(progress.phase);
  return phase && api::IsTerminal(*phase);
}

std::vector<std::string> ProgressLines(const SessionProgress& before, const SessionProgress& after,
                                       std::chrono::milliseconds elapsed) {
  std::vector<std::string> lines;
  const std::string stamp = Stamp(elapsed);
  // Authorization is implied by any step past Pending, even if we never saw the condition.
  const bool authorized_now = after.authorized || StepRank(after.phase) >= 1;
  const bool authorized_before = before.authorized || StepRank(before.phase) >= 1;
  if (authorized_now && !authorized_before) lines.push_back(stamp + "Authorized");

  const int from = StepRank(before.phase);
  const int to = StepRank(after.phase);
  for (int step = std::max(from, 0) + 1; step <= to; ++step) {
    if (step == 1) {
      std::string line = stamp + "Injecting ephemeral container into pod " + after.pod;
      if (!after.container.empty()) line += " (container " + after.container + ")";
      line += " …";
      lines.push_back(line);
    } else if (step == 2) {
      lines.push_back(stamp + (after.ephemeral_container.empty()
                                   ? std::string("Capturing …")
                                   : "Capturing in " + after.ephemeral_container + " …"));
    } else if (step == 3) {
      lines.push_back("Completed in " + FormatElapsed(elapsed));
    }
  }
  if (after.phase != before.phase) {
    const std::string why = after.message.empty() ? "" : ": " + after.message;
    if (EndedBadly(after.phase)) {
      lines.push_back(after.phase + " after " + FormatElapsed(elapsed) + why);
    }
  }
  return lines;
}

std::string StallHint(const SessionProgress& progress, std::chrono::milliseconds elapsed) {
  if (!progress.phase.empty() || elapsed < kStallAfter) return "";
  return Stamp(elapsed) +
         "Still waiting: no controller has picked the session up yet (is ephemera-controller "
         "running in this cluster?)";
}

std::string HeartbeatLine(const SessionProgress& progress, std::chrono::milliseconds elapsed,
                          std::chrono::milliseconds quiet_for) {
  if (progress.phase.empty() || IsFinished(progress) || quiet_for < kHeartbeatEvery) return "";
  std::string doing;
  if (progress.phase == "Capturing") {
    doing = "Still capturing in " + (progress.ephemeral_container.empty()
                                         ? std::string("the snapshot container")
                                         : progress.ephemeral_container);
  } else if (progress.phase == "Injecting") {
    doing = "Still waiting for the kubelet to start the snapshot container in pod " + progress.pod;
  } else if (progress.phase == "Pending") {
    doing = "Still waiting for the controller to authorize the session";
  } else {
    doing = "Still waiting (phase " + progress.phase + ")";
  }
  return Stamp(elapsed) + doing + " …";
}

std::string FormatElapsed(std::chrono::milliseconds elapsed) {
  const long long ms = elapsed.count() < 0 ? 0 : elapsed.count();
  char text[32];
  if (ms < 60'000) {
    std::snprintf(text, sizeof text, "%lld.%llds", ms / 1000, (ms % 1000) / 100);
  } else {
    std::snprintf(text, sizeof text, "%lldm%02llds", ms / 60'000, (ms % 60'000) / 1000);
  }
  return text;
}

}  // namespace ephemera::commands
