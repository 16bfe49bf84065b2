#include "debugpod/snapshot/output_cap.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ephemera::snapshot {
namespace {

// A droppable section: its name in "degraded" and how to remove it from one process entry.
struct Droppable {
  std::string_view section;
  std::string_view key;  // top-level key of the process entry; "stack" is per thread
};

constexpr Droppable kDropOrder[] = {
    {"maps", "maps"},     {"fds", "fds"},       {"env", "env"},      {"sockets", "sockets"},
    {"limits", "limits"}, {"cgroup", "cgroup"}, {"stacks", "stack"}, {"threads", "threads"},
};

// The parts of the top-level evidence object, in the order they are dropped, with the section
// each belongs to.
constexpr std::pair<std::string_view, std::string_view> kEvidenceDropOrder[] = {
    {"network", "sockets"}, {"pressure", "cgroup"}, {"memory", "cgroup"}};

std::string Dump(const Json& document) {
  return document.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

size_t SizeOf(const Json& value) { return Dump(value).size(); }

// Removes the section from the process entry; returns the bytes it took (0 if absent).
size_t Remove(Json& process, const Droppable& d) {
  if (d.key == "stack") {
    if (!process.contains("threads")) return 0;
    size_t removed = 0;
    for (Json& thread : process["threads"]) {
      if (thread.contains("stack")) {
        removed += SizeOf(thread["stack"]) + 9;  // ,"stack":
        thread.erase("stack");
      }
    }
    return removed;
  }
  if (!process.contains(d.key)) return 0;
  size_t removed = SizeOf(process[std::string(d.key)]) + d.key.size() + 4;
  process.erase(std::string(d.key));
  if (d.key == "fds") process.erase("fdCount");
  if (d.key == "threads") process.erase("blockedThreads");
  return removed;
}

size_t Measure(const Json& process, const Droppable& d) {
  if (d.key == "stack") {
    size_t total = 0;
    if (process.contains("threads")) {
      for (const Json& thread : process["threads"]) {
        if (thread.contains("stack")) total += SizeOf(thread["stack"]);
      }
    }
    return total;
  }
  return process.contains(d.key) ? SizeOf(process[std::string(d.key)]) : 0;
}

std::string CapReason(size_t max_bytes) {
  return "output cap: dropped to fit --max-output-bytes " + std::to_string(max_bytes);
}

}  // namespace

std::string FitToOutputCap(Json& document, size_t max_bytes) {
  std::string text = Dump(document);
  if (text.size() <= max_bytes) return text;
  const std::string reason = CapReason(max_bytes);
  Json& processes = document["processes"];
  Json& degraded = document["degraded"];
  auto degrade = [&](std::string_view section, const Json& pid) {
    degraded.push_back({{"section", section}, {"pid", pid}, {"reason", reason}});
  };

  // Estimated size, refreshed by a real dump whenever the estimate says we fit.
  size_t estimate = text.size();
  for (const Droppable& d : kDropOrder) {
    std::vector<size_t> order(processes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::vector<size_t> sizes(processes.size());
    for (size_t i = 0; i < sizes.size(); ++i) sizes[i] = Measure(processes[i], d);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return sizes[a] > sizes[b]; });
    for (size_t i : order) {
      if (sizes[i] == 0) continue;
      size_t removed = Remove(processes[i], d);
      degrade(d.section, processes[i]["pid"]);
      estimate = estimate - std::min(estimate, removed) + reason.size() + 64;
      if (estimate <= max_bytes) {
        text = Dump(document);
        if (text.size() <= max_bytes) return text;
        estimate = text.size();
      }
    }
  }
  // Whole processes, except the main one (the first entry), last first.
  estimate = text.size();
  while (processes.size() > 1) {
    size_t removed = SizeOf(processes.back()) + 1;
    Json pid = processes.back()["pid"];
    processes.erase(processes.size() - 1);
    degrade("process", pid);
    estimate = estimate - std::min(estimate, removed) + reason.size() + 64;
    if (estimate <= max_bytes || processes.size() == 1) {
      text = Dump(document);
      if (text.size() <= max_bytes) return text;
      estimate = text.size();
    }
  }
  document["processTree"] = Json::array();
  text = Dump(document);
  if (text.size() <= max_bytes) return text;
  // The evidence last of what was captured: a few kilobytes that tell the most.
  if (document.contains("evidence")) {
    Json& evidence = document["evidence"];
    for (const auto& [part, section] : kEvidenceDropOrder) {
      if (!evidence.contains(part)) continue;
      evidence.erase(std::string(part));
      degraded.push_back(
          {{"section", section}, {"reason", reason + " (evidence." + std::string(part) + ")"}});
      text = Dump(document);
      if (text.size() <= max_bytes) return text;
    }
    document.erase("evidence");
    text = Dump(document);
    if (text.size() <= max_bytes) return text;
  }
  // Left: one bare process entry and a degraded list too long to carry. Keep its head.
  size_t total = degraded.size();
  while (degraded.size() > 1 && Dump(document).size() + 160 > max_bytes) {
    size_t keep = degraded.size() / 2;
    Json head = Json::array();
    for (size_t i = 0; i < keep; ++i) head.push_back(degraded[i]);
    degraded = std::move(head);
  }
  degraded.push_back({{"section", "*"},
                      {"reason", "output cap: " + std::to_string(total - degraded.size()) +
                                     " further degraded entries left out"}});
  return Dump(document);
}

}  // namespace ephemera::snapshot
