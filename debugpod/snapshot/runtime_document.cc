#include "debugpod/snapshot/runtime_document.h"

#include <algorithm>
#include <span>
#include <vector>

#include "api/snapshot_document.h"

namespace ephemera::snapshot {
namespace {

namespace rf = api::runtime_field;

// Sets out[key] to the redacted text; leaves the key out when the redactor failed.
void PutRedacted(Json& out, std::string_view key, std::string_view text, const std::string& path,
                 const RedactText& redact) {
  if (std::optional<std::string> value = redact(text, path)) out[key] = std::move(*value);
}

Json FramesDocument(std::span<const runtimes::SourceFrame> frames, const std::string& path,
                    const RedactText& redact) {
  Json out = Json::array();
  for (const runtimes::SourceFrame& f : frames) {
    Json frame = Json::object();
    PutRedacted(frame, rf::kFunction, f.function, path + ".function", redact);
    if (!f.file.empty()) PutRedacted(frame, rf::kFile, f.file, path + ".file", redact);
    if (f.line > 0) frame[rf::kLine] = f.line;
    if (!f.locks.empty()) {
      Json locks = Json::array();
      for (const runtimes::LockNote& l : f.locks) {
        Json lock = Json::object();
        PutRedacted(lock, rf::kAction, l.action, path + ".locks.action", redact);
        PutRedacted(lock, rf::kClass, l.class_name, path + ".locks.class", redact);
        PutRedacted(lock, rf::kId, l.id, path + ".locks.id", redact);
        locks.push_back(std::move(lock));
      }
      frame[rf::kLocks] = std::move(locks);
    }
    out.push_back(std::move(frame));
  }
  return out;
}

}  // namespace

Json RuntimeDocument(const runtimes::RuntimeStacks& stacks, const std::string& path,
                     const RedactText& redact) {
  Json out = Json::object();
  out[rf::kLanguage] = stacks.language;
  PutRedacted(out, rf::kVersion, stacks.version, path + ".version", redact);
  out[rf::kMethod] = stacks.method;
  out[rf::kFreezeMicros] = stacks.freeze.count();
  out[rf::kCount] = std::max(stacks.total, stacks.stacks.size());

  std::vector<runtimes::StackGroup> groups =
      runtimes::GroupStacks(stacks, api::kMaxRuntimeGroupMembers);
  size_t listed = std::min(groups.size(), api::kMaxRuntimeGroups);
  Json groups_out = Json::array();
  for (size_t i = 0; i < listed; ++i) {
    const runtimes::StackGroup& g = groups[i];
    std::string group_path = path + ".groups[" + std::to_string(i) + "]";
    Json group = Json::object();
    group[rf::kCount] = g.count;
    PutRedacted(group, rf::kState, g.state, group_path + ".state", redact);
    if (g.min_wait_seconds && g.max_wait_seconds) {
      group[rf::kWaitSeconds] = {{rf::kMin, *g.min_wait_seconds}, {rf::kMax, *g.max_wait_seconds}};
    }
    Json members = Json::array();
    for (const runtimes::RuntimeStack* m : g.members) {
      Json member = Json::object();
      PutRedacted(member, rf::kId, m->id, group_path + ".members.id", redact);
      if (!m->name.empty()) {
        PutRedacted(member, rf::kName, m->name, group_path + ".members.name", redact);
      }
      if (m->tid) member[rf::kTid] = *m->tid;
      members.push_back(std::move(member));
    }
    group[rf::kMembers] = std::move(members);
    group[rf::kFrames] = FramesDocument(g.frames, group_path + ".frames", redact);
    group[rf::kFramesTruncated] = g.frames_truncated;
    groups_out.push_back(std::move(group));
  }
  out[rf::kGroups] = std::move(groups_out);
  out[rf::kGroupsOmitted] = groups.size() - listed;

  Json deadlocks = Json::array();
  for (size_t i = 0; i < stacks.deadlocks.size(); ++i) {
    const runtimes::Deadlock& d = stacks.deadlocks[i];
    std::string deadlock_path = path + ".deadlocks[" + std::to_string(i) + "]";
    Json deadlock = Json::object();
    Json members = Json::array();
    for (const std::string& m : d.members) {
      if (auto name = redact(m, deadlock_path + ".members")) members.push_back(std::move(*name));
    }
    deadlock[rf::kMembers] = std::move(members);
    PutRedacted(deadlock, rf::kDescription, d.description, deadlock_path + ".description", redact);
    deadlocks.push_back(std::move(deadlock));
  }
  out[rf::kDeadlocks] = std::move(deadlocks);
  return out;
}

}  // namespace ephemera::snapshot
