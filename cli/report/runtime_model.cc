// The report model of a process's language-level stacks (report_model.h): the Go dump's grouping
// ("512 goroutines: chan receive, 14 min"), jstack's lock lines and the runtime's deadlocks.
#include <algorithm>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "cli/report/report_model.h"

namespace ephemera::report {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Go: a function of package main, or of a module (its import path's first element has a dot).
bool IsGoApplication(std::string_view function) {
  if (StartsWith(function, "main.")) return true;
  const std::size_t slash = function.find('/');
  const std::size_t dot = function.find('.');
  return slash != std::string_view::npos && dot < slash;
}

bool IsApplication(std::string_view language, const api::SnapshotSourceFrame& frame) {
  if (language == "go") return IsGoApplication(frame.function);
  if (language == "java") {
    for (std::string_view library : {"java.", "javax.", "jdk.", "sun.", "com.sun."}) {
      if (StartsWith(frame.function, library)) return false;
    }
    return true;
  }
  if (language == "python") return frame.file.find("/lib/python") == std::string::npos;
  return true;
}

// "go1.22.5", "Python 3.11.2", "Java 17.0.15+6".
std::string VersionLabel(const api::SnapshotRuntime& runtime) {
  if (runtime.language == "go" && StartsWith(runtime.version, "go")) return runtime.version;
  const std::string name = LanguageName(runtime.language);
  return runtime.version.empty() ? name : name + " " + runtime.version;
}

// How the stacks were taken and what it cost the target: "memory read, target not stopped".
std::string MethodLabel(const api::SnapshotRuntime& runtime) {
  const std::int64_t freeze = runtime.freeze_micros.value_or(0);
  if (runtime.method == "memory") {
    return freeze > 0 ? "memory read, target stopped " + FormatMicros(freeze)
                      : "memory read, target not stopped";
  }
  if (runtime.method == "attach") {
    std::string label = runtime.language == "java" ? "JVM attach" : "attach";
    if (runtime.freeze_micros.has_value() && freeze >= 0) {
      label += ", target paused " + FormatMicros(freeze);
    }
    return label;
  }
  return runtime.method.empty() ? "method unknown" : runtime.method;
}

std::string MemberLabel(const api::SnapshotRuntimeMember& member) {
  std::string label = member.name.empty() ? member.id : "\"" + member.name + "\"";
  if (label.empty()) label = "?";
  if (member.tid.has_value()) label += " [tid " + std::to_string(*member.tid) + "]";
  return label;
}

RuntimeGroupModel BuildGroup(std::string_view language, const api::SnapshotRuntimeGroup& group) {
  RuntimeGroupModel out;
  out.count = group.count;
  std::vector<std::string> details;
  if (!group.state.empty()) details.push_back(group.state);
  if (std::string wait = WaitText(group); !wait.empty()) details.push_back(wait);
  out.heading = RuntimeMembers(language, group.count);
  if (!details.empty()) out.heading += ": " + Join(details, ", ");
  for (const api::SnapshotRuntimeMember& member : group.members) {
    out.members.push_back(MemberLabel(member));
  }
  out.members_left_out =
      std::max<std::int64_t>(group.count - static_cast<std::int64_t>(group.members.size()), 0);
  for (const api::SnapshotSourceFrame& frame : group.frames) {
    RuntimeFrameModel model{
        frame.function.empty() ? "??" : frame.function, FrameLocation(frame), {}};
    for (const api::SnapshotLockNote& lock : frame.locks) model.locks.push_back(LockText(lock));
    out.frames.push_back(std::move(model));
  }
  out.frames_truncated = group.frames_truncated;
  return out;
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

std::string LanguageName(std::string_view language) {
  if (language == "go") return "Go";
  if (language == "python") return "Python";
  if (language == "java") return "Java";
  return language.empty() ? "runtime" : std::string(language);
}

std::string RuntimeMembers(std::string_view language, std::int64_t count) {
  const auto n = static_cast<std::size_t>(std::max<std::int64_t>(count, 0));
  return language == "go" ? Plural(n, "goroutine", "goroutines") : Plural(n, "thread", "threads");
}

std::int64_t RuntimeTotal(const api::SnapshotRuntime& runtime) {
  if (runtime.count.has_value() && *runtime.count >= 0) return *runtime.count;
  std::int64_t total = 0;
  for (const api::SnapshotRuntimeGroup& group : runtime.groups) {
    const std::int64_t count = std::max<std::int64_t>(group.count, 0);
    total = count > std::numeric_limits<std::int64_t>::max() - total
                ? std::numeric_limits<std::int64_t>::max()
                : total + count;
  }
  return total;
}

std::string WaitText(const api::SnapshotRuntimeGroup& group) {
  if (!group.min_wait_seconds.has_value() || !group.max_wait_seconds.has_value()) return "";
  const std::string shortest = FormatAge(std::chrono::seconds(*group.min_wait_seconds));
  const std::string longest = FormatAge(std::chrono::seconds(*group.max_wait_seconds));
  return shortest == longest ? shortest : shortest + " to " + longest;
}

std::string FrameLocation(const api::SnapshotSourceFrame& frame, bool base_name) {
  std::string file = frame.file;
  if (base_name) {
    if (const std::size_t slash = file.rfind('/'); slash != std::string::npos) {
      file = file.substr(slash + 1);
    }
  }
  if (file.empty()) return "";
  return frame.line.has_value() ? file + ":" + std::to_string(*frame.line) : file;
}

std::string DeadlockedThreads(const api::SnapshotDeadlock& deadlock) {
  if (deadlock.members.empty()) return "threads not named";
  std::vector<std::string> names;
  names.reserve(deadlock.members.size());
  for (const std::string& name : deadlock.members) names.push_back("\"" + name + "\"");
  return Join(names, ", ");
}

std::string LockText(const api::SnapshotLockNote& lock) {
  std::string text = "- " + (lock.action.empty() ? std::string("?") : lock.action) + " <" +
                     (lock.id.empty() ? std::string("?") : lock.id) + ">";
  if (!lock.class_name.empty()) text += " (a " + lock.class_name + ")";
  return text;
}

std::size_t ApplicationFrameIndex(std::string_view language,
                                  const std::vector<api::SnapshotSourceFrame>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (IsApplication(language, frames[i])) return i;
  }
  // A Go module path without a dot: at least not the scheduler's frames.
  for (std::size_t i = 0; language == "go" && i < frames.size(); ++i) {
    if (!StartsWith(frames[i].function, "runtime.")) return i;
  }
  return 0;
}

RuntimeModel BuildRuntime(const api::SnapshotRuntime& runtime) {
  RuntimeModel out;
  out.language = LanguageName(runtime.language);
  out.title = VersionLabel(runtime) + " (" + MethodLabel(runtime) +
              "): " + RuntimeMembers(runtime.language, RuntimeTotal(runtime));
  for (const api::SnapshotDeadlock& deadlock : runtime.deadlocks) {
    out.deadlocks.push_back({out.language + " deadlock: " + DeadlockedThreads(deadlock),
                             SplitLines(deadlock.description)});
  }
  for (const api::SnapshotRuntimeGroup& group : runtime.groups) {
    out.groups.push_back(BuildGroup(runtime.language, group));
  }
  out.groups_omitted = runtime.groups_omitted;
  return out;
}

}  // namespace ephemera::report
