#include "debugpod/runtimes/runtime_stacks.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace ephemera::runtimes {
namespace {

auto LockKey(const LockNote& l) { return std::tie(l.action, l.class_name, l.id); }

bool FramesLess(const std::vector<SourceFrame>& a, const std::vector<SourceFrame>& b) {
  return std::lexicographical_compare(
      a.begin(), a.end(), b.begin(), b.end(), [](const SourceFrame& x, const SourceFrame& y) {
        if (std::tie(x.function, x.file, x.line) != std::tie(y.function, y.file, y.line)) {
          return std::tie(x.function, x.file, x.line) < std::tie(y.function, y.file, y.line);
        }
        return std::lexicographical_compare(
            x.locks.begin(), x.locks.end(), y.locks.begin(), y.locks.end(),
            [](const LockNote& p, const LockNote& q) { return LockKey(p) < LockKey(q); });
      });
}

// Orders stacks by what makes them the same: state, frames, whether they were cut.
struct SameStack {
  bool operator()(const RuntimeStack* a, const RuntimeStack* b) const {
    if (a->state != b->state) return a->state < b->state;
    if (a->frames_truncated != b->frames_truncated) {
      return a->frames_truncated < b->frames_truncated;
    }
    return FramesLess(a->frames, b->frames);
  }
};

}  // namespace

std::vector<StackGroup> GroupStacks(const RuntimeStacks& stacks, size_t max_members) {
  // Group index by stack, and each group's first position (for a stable order among equals).
  std::map<const RuntimeStack*, size_t, SameStack> index;
  std::vector<StackGroup> groups;
  std::vector<size_t> first_seen;
  for (size_t i = 0; i < stacks.stacks.size(); ++i) {
    const RuntimeStack& s = stacks.stacks[i];
    auto [it, inserted] = index.try_emplace(&s, groups.size());
    if (inserted) {
      StackGroup g;
      g.state = s.state;
      g.frames = std::span<const SourceFrame>(s.frames);
      g.frames_truncated = s.frames_truncated;
      groups.push_back(std::move(g));
      first_seen.push_back(i);
    }
    StackGroup& g = groups[it->second];
    ++g.count;
    if (g.members.size() < max_members) g.members.push_back(&s);
    if (s.wait_seconds) {
      g.min_wait_seconds = std::min(g.min_wait_seconds.value_or(*s.wait_seconds), *s.wait_seconds);
      g.max_wait_seconds = std::max(g.max_wait_seconds.value_or(*s.wait_seconds), *s.wait_seconds);
    }
  }
  std::vector<size_t> order(groups.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (groups[a].count != groups[b].count) return groups[a].count > groups[b].count;
    return first_seen[a] < first_seen[b];
  });
  std::vector<StackGroup> sorted;
  sorted.reserve(groups.size());
  for (size_t i : order) sorted.push_back(std::move(groups[i]));
  return sorted;
}

std::optional<std::string> RuntimeLimits::StopReason() const {
  if (std::chrono::steady_clock::now() >= deadline) return std::string("deadline");
  if (stop_early && stop_early()) return std::string("budget reached");
  return std::nullopt;
}

}  // namespace ephemera::runtimes
